// The ops only the face detectors use, against their definitions: TF SAME padding, the channel-padded
// residual add, bias + ReLU, the pool ops' output shapes, and PReLU (MTCNN). (Its 2x2 max-pool kernel is
// tested with the others in test_kernels.cpp.) In the "engine" suite: fast, and run under the sanitizers.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "animegan/error.h"
#include "engine/runtime/ops.h"
#include "kernels/kernels.h"
#include "tests/test_support.h"

using namespace animegan;

using animegan::testing::random_floats;

TEST_SUITE("engine") {
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
    const std::vector<float> xs = random_floats(x.size(), rng, -2.f, 2.f),
                             ys = random_floats(y.size(), rng, -2.f, 2.f);
    std::copy(xs.begin(), xs.end(), x.data());
    std::copy(ys.begin(), ys.end(), y.data());
    ops::add_channel_padded_in_place(ctx, y, x);
    for (size_t i = 0; i < y.size(); ++i) CHECK(y.data()[i] == (i < x.size() ? ys[i] + xs[i] : ys[i]));
    Tensor too_many(6, 5, 4);
    CHECK_THROWS_AS(ops::add_channel_padded_in_place(ctx, y, too_many), Error);

    const float bias[] = {0.5f, -1.f, 0.25f};
    ops::bias_leaky_relu_in_place(ctx, x, bias, 0.f);
    for (int c = 0; c < 3; ++c)
        for (size_t i = 0; i < x.plane_size(); ++i)
            CHECK(x.channel(c)[i] == std::max(xs[c * x.plane_size() + i] + bias[c], 0.f));

    const Tensor pooled = ops::max_pool_2x2(ctx, x);
    CHECK(pooled.channels() == 3);
    CHECK(pooled.height() == 3);
    CHECK(pooled.width() == 2);

    // The general pool op's output sizes (its kernel is tested in test_kernels.cpp), and SAME padding that
    // would fall before the plane, which its kernel does not do.
    const Tensor big(2, 22, 10);
    const Tensor same = ops::max_pool(ctx, big, 3, 2, true), valid = ops::max_pool(ctx, big, 3, 2, false);
    CHECK((same.height() == 11 && same.width() == 5 && valid.height() == 10 && valid.width() == 4));
    testing::check_error_mentions([&] { ops::max_pool(ctx, big, 3, 1, true); },
                                  "SAME padding before the plane");
    testing::check_error_mentions([&] { ops::max_pool(ctx, Tensor(2, 2, 9), 3, 2, false); },
                                  "smaller than the 3x3");
}

TEST_CASE("PReLU: bias, then one slope per channel on the negative part") {
    ThreadPool threads(2);
    BufferPool buffers;
    ops::Context ctx{threads, buffers, kernels::active_kernels()};
    std::mt19937 rng(6);
    Tensor x(5, 3, 7);
    const std::vector<float> xs = random_floats(x.size(), rng, -2.f, 2.f);
    std::copy(xs.begin(), xs.end(), x.data());
    const float bias[] = {0.5f, -1.f, 0.25f, 0.f, 2.f}, slopes[] = {0.25f, -0.5f, 1.5f, 0.f, 0.01f};
    ops::bias_prelu_in_place(ctx, x, bias, slopes);
    for (int c = 0; c < 5; ++c)
        for (size_t i = 0; i < x.plane_size(); ++i) {
            const float v = xs[c * x.plane_size() + i] + bias[c];
            CHECK(x.channel(c)[i] == (v < 0.f ? v * slopes[c] : v));
        }
}

}  // TEST_SUITE("engine")
