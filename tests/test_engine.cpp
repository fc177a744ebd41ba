// The runtime around the kernels: ops (group norm, channel attention) against naive definitions, thread-count
// independence, buffer reuse, and image conversions.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <random>

#include "animegan/animegan.h"
#include "engine/runtime/ops.h"
#include "tests/test_support.h"

using namespace animegan;

namespace {

Tensor random_tensor(int c, int h, int w, std::mt19937& rng, float scale = 1.f) {
    Tensor t(c, h, w);
    std::normal_distribution<float> dist(0.3f, scale);
    for (size_t i = 0; i < t.size(); ++i) t.data()[i] = dist(rng);
    return t;
}

std::vector<float> random_vector(size_t n, std::mt19937& rng, float lo, float hi) {
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

Tensor copy_of(const Tensor& t) {
    Tensor c(t.channels(), t.height(), t.width());
    std::copy(t.data(), t.data() + t.size(), c.data());
    return c;
}

}  // namespace

TEST_SUITE("engine") {

TEST_CASE("group_norm matches the definition for layer, group and instance norm") {
    std::mt19937 rng(3);
    ThreadPool threads(2);
    BufferPool buffers;
    ops::Context ctx{threads, buffers, kernels::scalar_kernels()};
    for (int groups : {1, 2, 8}) {
        const Tensor x = random_tensor(8, 9, 7, rng, 2.f);
        const auto gamma = random_vector(8, rng, 0.5f, 1.5f), beta = random_vector(8, rng, -0.5f, 0.5f);
        for (float slope : {0.2f, 1.f}) {
            Tensor y = copy_of(x);
            ops::group_norm(ctx, y, groups, gamma.data(), beta.data(), 1e-5f, slope);
            const int per = 8 / groups;
            const size_t n = size_t(per) * x.plane_size();
            for (int g = 0; g < groups; ++g) {
                double mean = 0, var = 0;
                for (size_t i = 0; i < n; ++i) mean += x.channel(g * per)[i];
                mean /= n;
                for (size_t i = 0; i < n; ++i) var += std::pow(x.channel(g * per)[i] - mean, 2);
                var /= n;
                for (int c = g * per; c < (g + 1) * per; ++c) {
                    for (size_t i = 0; i < x.plane_size(); ++i) {
                        double v = (x.channel(c)[i] - mean) / std::sqrt(var + 1e-5) * gamma[c] + beta[c];
                        if (v < 0) v *= slope;
                        REQUIRE(y.channel(c)[i] == doctest::Approx(v).epsilon(1e-5));
                    }
                }
            }
        }
    }
}

TEST_CASE("channel_attention matches squeeze-excitation") {
    std::mt19937 rng(4);
    ThreadPool threads(3);
    BufferPool buffers;
    ops::Context ctx{threads, buffers, kernels::active_kernels()};
    const int c = 16, hidden = 2;
    const Tensor x = random_tensor(c, 5, 6, rng);
    const auto w1 = random_vector(hidden * c, rng, -1, 1), b1 = random_vector(hidden, rng, -1, 1);
    const auto w2 = random_vector(c * hidden, rng, -1, 1), b2 = random_vector(c, rng, -1, 1);
    Tensor y = copy_of(x);
    ops::channel_attention(ctx, y, w1.data(), b1.data(), hidden, w2.data(), b2.data());
    std::vector<double> pooled(c), hid(hidden);
    for (int ch = 0; ch < c; ++ch) {
        for (size_t i = 0; i < x.plane_size(); ++i) pooled[ch] += x.channel(ch)[i];
        pooled[ch] /= x.plane_size();
    }
    for (int h = 0; h < hidden; ++h) {
        hid[h] = b1[h];
        for (int ch = 0; ch < c; ++ch) hid[h] += w1[h * c + ch] * pooled[ch];
        hid[h] = std::max(hid[h], 0.0);
    }
    for (int ch = 0; ch < c; ++ch) {
        double z = b2[ch];
        for (int h = 0; h < hidden; ++h) z += w2[ch * hidden + h] * hid[h];
        const double gate = 1 / (1 + std::exp(-z));
        for (size_t i = 0; i < x.plane_size(); ++i) {
            REQUIRE(y.channel(ch)[i] == doctest::Approx(x.channel(ch)[i] * gate).epsilon(1e-5));
        }
    }
}

TEST_CASE("ops give identical results for any thread count") {
    std::mt19937 rng(5);
    const Tensor x = random_tensor(12, 23, 19, rng);
    const auto w = random_vector(size_t(10) * 12 * 9, rng, -0.3f, 0.3f);
    const auto gamma = random_vector(10, rng, 0.5f, 1.5f), beta = random_vector(10, rng, -0.5f, 0.5f);
    auto run = [&](int n) {
        ThreadPool threads(n);
        BufferPool buffers;
        ops::Context ctx{threads, buffers, kernels::active_kernels()};
        Tensor y = ops::conv2d(ctx, ops::pad(ctx, x, {1, 1, 1, 1}), w.data(), nullptr, 10, 3, 3, 1, 1);
        ops::group_norm(ctx, y, 1, gamma.data(), beta.data(), 1e-5f, 0.2f);
        y = ops::resize_bilinear(ctx, y, 40, 31, kernels::ResizeMode::HalfPixel);
        ops::tanh_in_place(ctx, y);
        return y;
    };
    const Tensor one = run(1);
    for (int n : {2, 3, 7}) {
        const Tensor many = run(n);
        CHECK(std::equal(one.data(), one.data() + one.size(), many.data()));
    }
}

TEST_CASE("the thread pool runs every chunk and every task exactly once") {
    for (int n : {1, 2, 3, 7}) {
        ThreadPool threads(n);
        for (size_t count : {size_t(0), size_t(1), size_t(5), size_t(1000)}) {
            std::vector<std::atomic<int>> chunk_hits(count), task_hits(count);
            threads.parallel_for(count, [&](size_t begin, size_t end) {
                for (size_t i = begin; i < end; ++i) ++chunk_hits[i];
            });
            std::atomic<bool> thread_in_range{true};
            threads.parallel_tasks(count, [&](int thread, size_t task) {
                if (thread < 0 || thread >= n) thread_in_range = false;
                ++task_hits[task];
            });
            CHECK(thread_in_range);
            for (size_t i = 0; i < count; ++i) {
                CHECK(chunk_hits[i] == 1);
                CHECK(task_hits[i] == 1);
            }
        }
    }
}

TEST_CASE("the buffer pool reuses released buffers") {
    BufferPool pool;
    { Tensor a(4, 32, 32, pool); }
    { Tensor b(4, 32, 32, pool); }
    { Tensor c(2, 32, 32, pool); }
    CHECK(pool.peak_bytes_allocated() == 4 * 32 * 32 * sizeof(float));
    Tensor d(4, 32, 32, pool), e(4, 32, 32, pool);
    CHECK(pool.bytes_allocated() == 2 * 4 * 32 * 32 * sizeof(float));
}

TEST_CASE("the buffer pool builds large buffers from released ones instead of growing") {
    BufferPool pool;
    const size_t mb = size_t(1) << 20;
    {
        Tensor a(1, 1024, 8 * 1024, pool), b(1, 1024, 4 * 1024, pool);  // 32 MB and 16 MB
        std::fill(a.data(), a.data() + a.size(), 1.f);
        std::fill(b.data(), b.data() + b.size(), 2.f);
    }
    CHECK(pool.bytes_allocated() == 48 * mb);
    // 40 MB: the 32 MB buffer's pages and half of the 16 MB one's, moved into one range.
    Tensor c(1, 1024, 10 * 1024, pool);
    CHECK(pool.bytes_allocated() == 48 * mb);
    for (size_t i = 0; i < c.size(); ++i) c.data()[i] = float(i % 1000);
    bool intact = true;
    for (size_t i = 0; i < c.size(); ++i) intact = intact && c.data()[i] == float(i % 1000);
    CHECK(intact);
    // 16 MB: 8 MB are left, so 8 MB more; 64 MB then takes all that is released and 16 MB fresh.
    Tensor d(1, 1024, 4 * 1024, pool);
    CHECK(pool.bytes_allocated() == 56 * mb);
    c = Tensor(), d = Tensor();
    Tensor e(1, 1024, 16 * 1024, pool);
    CHECK(pool.bytes_allocated() == 64 * mb);
    CHECK(pool.peak_bytes_allocated() == 64 * mb);
}

TEST_CASE("ops reject shapes they cannot run") {
    ThreadPool threads(1);
    BufferPool buffers;
    ops::Context ctx{threads, buffers, kernels::scalar_kernels()};
    const Tensor x(2, 3, 3);
    CHECK_THROWS_AS(ops::pad(ctx, x, {3, 3, 3, 3}), Error);  // reflect needs pad < size
    const float w[2 * 2 * 5 * 5] = {};
    CHECK_THROWS_AS(ops::conv2d(ctx, x, w, nullptr, 2, 5, 5, 1, 1), Error);
    Tensor y(3, 3, 3);
    CHECK_THROWS_AS(ops::add_in_place(ctx, y, x), Error);
}

TEST_CASE("image conversions and files round-trip") {
    Image img;
    img.width = 5;
    img.height = 3;
    for (int i = 0; i < 45; ++i) img.pixels.push_back(uint8_t(i * 5));
    const Tensor t = image_to_tensor(img);
    CHECK(t.channels() == 3);
    CHECK(t.data()[0] == doctest::Approx(-1.f));
    CHECK(tensor_to_image(t).pixels == img.pixels);
    const std::string dir = testing::scratch_dir("images");
    save_image(dir + "/a.png", img);
    CHECK(load_image(dir + "/a.png").pixels == img.pixels);
    save_image(dir + "/a.bmp", img);
    CHECK(load_image(dir + "/a.bmp").pixels == img.pixels);
    save_image(dir + "/a.jpg", img);
    CHECK(load_image(dir + "/a.jpg").width == 5);
    CHECK_THROWS_AS(save_image(dir + "/a.gif", img), Error);

    Image flat;
    flat.width = 64;
    flat.height = 48;
    flat.pixels.assign(64 * 48 * 3, 200);
    const Image small = resize_image(flat, 13, 9);
    CHECK(small.width == 13);
    CHECK(small.height == 9);
    for (uint8_t p : small.pixels) REQUIRE(p == 200);  // a flat image stays flat at any scale
    const Image pair = side_by_side(flat, small);
    CHECK(pair.height == 48);
    CHECK(pair.width == 64 + 69);
}

}  // TEST_SUITE("engine")
