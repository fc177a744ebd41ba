// The kernels and ops only the face detector uses, against their definitions: the 2x2 max-pool on every kernel
// table (even and odd sides, where TF's SAME padding clips the last window), TF SAME padding, and the
// channel-padded residual add.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "animegan/error.h"
#include "engine/runtime/ops.h"
#include "kernels/kernels.h"

using namespace animegan;

namespace {

std::vector<float> random_floats(size_t n, std::mt19937& rng) {
    std::uniform_real_distribution<float> dist(-2.f, 2.f);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

// The pool as TF defines it: the max over the window's taps that fall inside the plane.
float naive_pool(const std::vector<float>& in, int c, int height, int width, int oy, int ox) {
    float best = -INFINITY;
    for (int y = 2 * oy; y < std::min(2 * oy + 2, height); ++y)
        for (int x = 2 * ox; x < std::min(2 * ox + 2, width); ++x) best = std::max(best, in[(size_t(c) * height + y) * width + x]);
    return best;
}

}  // namespace

TEST_SUITE("face") {

TEST_CASE("max_pool_2x2 on every kernel table matches its definition, odd sides included") {
    const kernels::KernelTable* tables[8];
    const int count = kernels::available_kernel_tables(tables, 8);
    std::mt19937 rng(3);
    const int sizes[][3] = {{1, 1, 1}, {3, 2, 2}, {2, 5, 7}, {4, 8, 6}, {5, 1, 9}, {2, 9, 1}, {7, 33, 17}};
    for (int t = 0; t < count; ++t) {
        CAPTURE(tables[t]->isa);
        REQUIRE(bool(tables[t]->max_pool_2x2));
        for (const auto& s : sizes) {
            const int channels = s[0], height = s[1], width = s[2];
            CAPTURE(channels);
            CAPTURE(height);
            CAPTURE(width);
            const int out_h = (height + 1) / 2, out_w = (width + 1) / 2;
            const std::vector<float> in = random_floats(size_t(channels) * height * width, rng);
            std::vector<float> out(size_t(channels) * out_h * out_w, NAN);
            // Two calls over split channel ranges, as the thread pool makes them.
            tables[t]->max_pool_2x2(height, width, in.data(), out.data(), 0, channels / 2);
            tables[t]->max_pool_2x2(height, width, in.data(), out.data(), channels / 2, channels);
            for (int c = 0; c < channels; ++c)
                for (int y = 0; y < out_h; ++y)
                    for (int x = 0; x < out_w; ++x) {
                        REQUIRE(out[(size_t(c) * out_h + y) * out_w + x] == naive_pool(in, c, height, width, y, x));
                    }
        }
    }
}

TEST_CASE("TF SAME padding: output ceil(size / stride), odd padding at the bottom/right") {
    struct Case {
        int size, kernel, stride, before, after;
    };
    // pad_total = max((ceil(size / stride) - 1) * stride + kernel - size, 0), split floor / ceil.
    const Case cases[] = {{128, 5, 2, 1, 2}, {64, 3, 2, 0, 1}, {64, 3, 1, 1, 1}, {7, 3, 2, 1, 1},
                          {16, 1, 1, 0, 0},  {5, 4, 1, 1, 2},  {8, 2, 2, 0, 0},  {1, 3, 2, 1, 1}};
    for (const Case& c : cases) {
        CAPTURE(c.size);
        CAPTURE(c.kernel);
        CAPTURE(c.stride);
        const ops::Padding p = ops::tf_same_padding(c.size, c.size + 1, c.kernel, c.stride);
        CHECK(p.top == c.before);
        CHECK(p.bottom == c.after);
        CHECK(p.mode == kernels::PadMode::Zero);
        const int out = (c.size + p.top + p.bottom - c.kernel) / c.stride + 1;
        CHECK(out == (c.size + c.stride - 1) / c.stride);
    }
}

TEST_CASE("ops: channel-padded residual add, bias + ReLU, and the pool op") {
    ThreadPool threads(3);
    BufferPool buffers;
    ops::Context ctx{threads, buffers, kernels::active_kernels()};
    std::mt19937 rng(5);
    Tensor x(3, 5, 4), y(5, 5, 4);
    const std::vector<float> xs = random_floats(x.size(), rng), ys = random_floats(y.size(), rng);
    std::copy(xs.begin(), xs.end(), x.data());
    std::copy(ys.begin(), ys.end(), y.data());
    ops::add_channel_padded_in_place(ctx, y, x);
    for (size_t i = 0; i < y.size(); ++i) CHECK(y.data()[i] == (i < x.size() ? ys[i] + xs[i] : ys[i]));
    Tensor too_many(6, 5, 4);
    CHECK_THROWS_AS(ops::add_channel_padded_in_place(ctx, y, too_many), Error);

    const float bias[] = {0.5f, -1.f, 0.25f};
    ops::bias_leaky_relu_in_place(ctx, x, bias, 0.f);
    for (int c = 0; c < 3; ++c)
        for (size_t i = 0; i < x.plane_size(); ++i) CHECK(x.channel(c)[i] == std::max(xs[c * x.plane_size() + i] + bias[c], 0.f));

    const Tensor pooled = ops::max_pool_2x2(ctx, x);
    CHECK(pooled.channels() == 3);
    CHECK(pooled.height() == 3);
    CHECK(pooled.width() == 2);
}

}  // TEST_SUITE
