// Every kernel table this CPU can run (scalar, and the SIMD ones) against naive loops written from the
// definitions, over a grid of shapes chosen to hit edges: odd sizes, one channel, stride 2, depthwise and
// grouped convolutions, every pad mode with asymmetric padding, up- and downsampling. The window kernels
// (convolutions, Winograd, pooling) go through tests/test_support.h's ConvTester.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "kernels/float16.h"
#include "kernels/kernels.h"
#include "kernels/streamed_output.h"
#include "tests/test_support.h"

using namespace animegan::kernels;
using animegan::testing::ConvTester;
using animegan::testing::ConvTestShape;
using animegan::testing::ErrorBound;
using animegan::testing::random_floats;

namespace {

std::vector<const KernelTable*> all_tables() {
    const KernelTable* tables[8];
    const int n = available_kernel_tables(tables, 8);
    return std::vector<const KernelTable*>(tables, tables + n);
}

// |got - want| <= atol + rtol * |want| everywhere; reports the first failure.
void check_close(const std::vector<float>& got, const std::vector<double>& want, double atol, double rtol,
                 const std::string& what) {
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) {
        if (!(std::abs(got[i] - want[i]) <= atol + rtol * std::abs(want[i]))) {
            FAIL_CHECK(what << ": element " << i << " is " << got[i] << ", expected " << want[i]);
            return;
        }
    }
}

// A direct convolution's rounding error: each output is bias + a chain of float multiply-adds, so it grows
// with the number of terms; 1e-4 + 1e-5 |want| covers the largest shapes here (1568 terms, outputs up to ~10)
// with room to spare.
constexpr ErrorBound kConvBound{1e-4, 1e-5};

double check_conv2d(const KernelTable& t, const ConvTestShape& shape, std::mt19937& rng) {
    const ConvTester tester(shape, rng);
    const ConvShape s = shape.conv_shape();
    return tester.check(
        std::string(t.isa) + " conv2d",
        [&](int begin, int end, float* out) {
            t.conv2d(s, tester.input().data(), tester.weight().data(), tester.bias(), out, begin, end);
        },
        kConvBound);
}

}  // namespace

TEST_SUITE("kernels") {
TEST_CASE("the scalar table is always available and first, and every table fills every slot") {
    const auto tables = all_tables();
    REQUIRE(!tables.empty());
    CHECK(std::string(tables[0]->isa) == "scalar");
    MESSAGE("kernel tables on this CPU: " << [&] {
        std::string s;
        for (auto* t : tables) s += std::string(t->isa) + " ";
        return s;
    }());
    for (const KernelTable* t : tables) {
        CAPTURE(t->isa);
        CHECK(bool(t->conv2d));
        CHECK(bool(t->channel_moments));
        CHECK(bool(t->scale_shift_leaky_relu));
        CHECK(bool(t->pad));
        CHECK(bool(t->resize_bilinear));
        CHECK(bool(t->add));
        CHECK(bool(t->lerp));
        CHECK(bool(t->tanh));
        CHECK(bool(t->max_pool_2x2));
        CHECK(bool(t->conv_winograd));
        CHECK(bool(t->conv1x1));
        CHECK(bool(t->max_pool));
        CHECK(bool(t->float_to_half));
        CHECK(bool(t->half_scale_shift_leaky_relu));
    }
}

TEST_CASE("conv2d matches the naive definition on edge shapes") {
    struct Case {
        int in_c, out_c, h, w, k, stride, groups;
        bool bias;
    };
    const Case cases[] = {
        {1, 1, 1, 1, 1, 1, 1, false},    {3, 5, 13, 11, 3, 1, 1, false},  {3, 32, 20, 17, 7, 1, 1, false},
        {8, 16, 9, 10, 3, 2, 1, false},  {7, 9, 15, 16, 3, 2, 1, true},   {16, 16, 11, 13, 3, 1, 16, true},
        {12, 12, 8, 9, 3, 2, 12, true},  {8, 12, 10, 7, 3, 1, 4, false},  {32, 3, 9, 9, 1, 1, 1, false},
        {17, 33, 5, 37, 1, 1, 1, true},  {5, 7, 19, 23, 7, 2, 1, false},  {64, 24, 6, 6, 3, 1, 1, false},
        {2, 70, 12, 41, 3, 1, 1, true},  {40, 40, 17, 3, 3, 1, 40, true}, {3, 8, 7, 7, 7, 1, 1, false},
        {8, 16, 21, 37, 3, 2, 1, true},  {6, 7, 5, 33, 3, 2, 1, false},   {5, 9, 7, 17, 3, 2, 1, false},
        {40, 20, 9, 35, 3, 2, 1, false}, {64, 24, 6, 20, 3, 1, 1, true},  {32, 10, 9, 30, 7, 1, 1, false},
        {130, 13, 3, 5, 1, 1, 1, true},  {8, 12, 10, 12, 3, 1, 4, true},  {8, 12, 4, 5, 1, 1, 2, false},
        {24, 7, 3, 230, 3, 1, 1, false}, {24, 7, 4, 167, 3, 1, 1, true},  {12, 12, 8, 21, 3, 2, 12, true},
        {3, 13, 2, 10, 3, 1, 1, false},  {3, 4, 3, 24, 3, 1, 1, false},   {16, 16, 5, 130, 3, 1, 16, false},
        {2, 4, 4, 4, 2, 2, 1, true},     {3, 6, 6, 9, 4, 1, 1, false},   // even kernels: the scalar loops
        {48, 64, 4, 4, 2, 1, 1, true},   {5, 7, 9, 33, 2, 1, 1, false},  // but MTCNN's 2x2: direct
        {64, 128, 3, 3, 3, 1, 1, true},  // MTCNN's fully connected layer as a convolution over a 3x3 map
        {4, 4, 11, 12, 9, 1, 1, true},   {6, 6, 13, 11, 3, 3, 2, false},  // 9x9, stride 3: likewise
        {5, 5, 11, 701, 3, 2, 5, true},  // depthwise at stride 2 over two tiles of columns
    };
    std::mt19937 rng(1234);
    for (const KernelTable* t : all_tables()) {
        for (size_t i = 0; i < std::size(cases); ++i) {
            const Case& c = cases[i];
            // Every other case writes its planes 3 floats apart.
            check_conv2d(*t, {c.in_c, c.out_c, c.h, c.w, c.k, c.stride, c.groups, c.bias, i % 2 == 1}, rng);
        }
    }
}

TEST_CASE("conv2d: every odd kernel up to 7x7 at stride 1 and 2, dense, grouped and depthwise") {
    // Channel counts that are no multiple of the vector width (8 on AVX2, 4 on NEON) nor of the output
    // channel block (6); output widths that leave a partial vector; at stride 2 an input one column wider
    // than the outputs read, as after TF SAME padding of an odd side.
    struct Channels {
        int in, out, groups;
    };
    const Channels channel_cases[] = {{3, 24, 1}, {7, 9, 1}, {17, 13, 1}, {8, 12, 4}, {13, 13, 13}};
    std::mt19937 rng(555);
    for (const KernelTable* t : all_tables()) {
        double worst = 0;
        for (int k = 1; k <= 7; k += 2) {
            for (int stride = 1; stride <= 2; ++stride) {
                for (size_t i = 0; i < std::size(channel_cases); ++i) {
                    const Channels& c = channel_cases[i];
                    const int out_h = 3 + int(i), out_w = 21 + 4 * int(i);
                    const int in_h = (out_h - 1) * stride + k, in_w = (out_w - 1) * stride + k + stride - 1;
                    worst = std::max(worst, check_conv2d(*t,
                                                         {c.in, c.out, in_h, in_w, k, stride, c.groups,
                                                          i % 2 == 0, (k + stride + int(i)) % 2 == 1},
                                                         rng));
                }
            }
        }
        // BlazeFace's stem: 5x5 stride 2, 3 -> 24 channels, its 128x128 input padded TF SAME to 131x131.
        worst = std::max(worst, check_conv2d(*t, {3, 24, 131, 131, 5, 2, 1, true, false}, rng));
        MESSAGE(std::string(t->isa) << " conv2d over odd kernels: max abs error " << worst);
    }
}

TEST_CASE("conv1x1 with packed weights matches the naive definition, whatever the split") {
    // Channel counts around the weight panels (6 rows) and the depth chunks (256 input channels: 257 and 513
    // make two and three chunks of partial sums); pixel counts around the 16-pixel blocks (one pixel, 16, 17,
    // odd ones); the output channel range split inside panels (ConvTester).
    struct Case {
        int in_c, out_c, h, w;
        bool bias;
    };
    const Case cases[] = {
        {1, 1, 1, 1, false},     {3, 5, 4, 4, true},     {32, 3, 9, 9, false},   {17, 33, 5, 37, true},
        {6, 6, 1, 17, false},    {8, 7, 2, 8, true},     {64, 13, 3, 31, false}, {130, 12, 7, 5, true},
        {256, 20, 3, 16, true},  {257, 9, 5, 7, false},  {300, 40, 2, 33, true}, {513, 7, 3, 11, false},
        {128, 24, 16, 16, true}, {2, 70, 1, 100, false},
    };
    std::mt19937 rng(2024);
    for (const KernelTable* t : all_tables()) {
        double worst = 0;
        for (size_t i = 0; i < std::size(cases); ++i) {
            const Case& c = cases[i];
            const ConvTester tester({c.in_c, c.out_c, c.h, c.w, 1, 1, 1, c.bias, i % 2 == 1}, rng);
            std::vector<float> packed(conv1x1_weight_floats(c.out_c, c.in_c), NAN);
            conv1x1_pack_weights(tester.weight().data(), c.out_c, c.in_c, packed.data());
            const ConvShape s = tester.shape().conv_shape();
            worst = std::max(worst, tester.check(
                                        std::string(t->isa) + " conv1x1",
                                        [&](int begin, int end, float* out) {
                                            t->conv1x1(s, tester.input().data(), packed.data(), tester.bias(),
                                                       out, begin, end);
                                        },
                                        kConvBound));
            // Bands of rows, as the engine runs them, give the same bits as the whole plane.
            if (c.h < 2) continue;
            const size_t plane = size_t(c.h) * c.w, out_size = c.out_c * plane;
            ConvShape dense = s;
            dense.out_plane_stride = 0;
            std::vector<float> whole(out_size, NAN), bands(out_size, NAN);
            t->conv1x1(dense, tester.input().data(), packed.data(), tester.bias(), whole.data(), 0, c.out_c);
            for (int y0 = 0, rows = 1; y0 < c.h; y0 += rows, ++rows) {
                ConvShape band = dense;
                band.in_height = band.out_height = std::min(rows, c.h - y0);
                band.in_plane_stride = band.out_plane_stride = plane;
                t->conv1x1(band, tester.input().data() + y0 * c.w, packed.data(), tester.bias(),
                           bands.data() + y0 * c.w, 0, c.out_c);
            }
            CHECK_MESSAGE(std::memcmp(whole.data(), bands.data(), out_size * sizeof(float)) == 0,
                          t->isa << " conv1x1 " << tester.shape().text() << ": bands differ from the whole");
        }
        MESSAGE(std::string(t->isa) << " conv1x1: max abs error " << worst);
    }
}

TEST_CASE("conv_winograd matches the naive definition for 3x3 and 7x7 kernels") {
    // Output sizes cut tiles (4x4 or 2x2) and tile blocks (16 to 64 tiles) at the right and bottom edges;
    // channel counts cut output blocks (6) and micro-kernel lanes; the channel range is split at points
    // inside blocks.
    struct Case {
        int kernel, in_c, out_c, out_h, out_w;
        bool bias;
    };
    const Case cases[] = {
        {3, 1, 1, 1, 1, false},     {3, 3, 5, 3, 5, true},     {3, 1, 6, 4, 4, false},
        {3, 8, 7, 5, 9, true},      {3, 17, 13, 7, 37, false}, {3, 2, 12, 16, 130, true},
        {3, 64, 64, 8, 129, false}, {3, 130, 9, 6, 23, true},  {3, 5, 70, 9, 131, false},
        {3, 32, 1, 13, 67, true},   {3, 7, 3, 2, 257, false},  {3, 128, 20, 4, 64, true},
        {7, 1, 1, 1, 1, false},     {7, 3, 32, 5, 9, true},    {7, 64, 32, 16, 70, false},
        {7, 9, 7, 3, 131, true},    {7, 17, 13, 2, 33, false}, {7, 64, 3, 7, 16, true},
    };
    std::mt19937 rng(4321);
    for (const KernelTable* t : all_tables()) {
        double worst[8] = {};  // per kernel size
        for (size_t i = 0; i < std::size(cases); ++i) {
            const Case& c = cases[i];
            const int k = c.kernel;
            const ConvTester tester(
                {c.in_c, c.out_c, c.out_h + k - 1, c.out_w + k - 1, k, 1, 1, c.bias, i % 2 == 1}, rng);
            const ConvShape s = tester.shape().conv_shape();
            std::vector<float> transformed(winograd_weight_floats(k, c.out_c, c.in_c), NAN);
            winograd_transform_weights(k, tester.weight().data(), c.out_c, c.in_c, transformed.data());
            std::vector<float> scratch(winograd_scratch_floats(s), NAN);
            // The transforms scale values up before and after the sum over channels, so the rounding
            // error grows with the number of terms: measured up to 4.3e-6 per input channel for F(4x4,
            // 3x3) (5.4e-4 at 128 channels, whose outputs reach about 10) and 7.1e-6 for F(2x2, 7x7)
            // (4.5e-4 at 64 channels); a few channels give relatively more (4e-5 at 3). The bounds allow
            // about 2x that.
            const double bound = (k == 3 ? 9e-6 : 1.5e-5) * std::max(c.in_c, 8);
            const double error =
                tester.check(std::string(t->isa) + " winograd",
                             [&](int begin, int end, float* out) {
                                 t->conv_winograd(s, tester.input().data(), transformed.data(), tester.bias(),
                                                  out, begin, end, scratch.data());
                             },
                             {bound, 0});
            worst[k] = std::max(worst[k], error);
        }
        MESSAGE(std::string(t->isa) << " winograd: max abs error " << worst[3] << " (3x3), " << worst[7]
                                    << " (7x7)");
    }
}

TEST_CASE("max_pool_2x2 matches its definition, odd sides included") {
    // On an odd side the last window is cut by the edge (TF SAME pooling): the max of the taps inside.
    const int sizes[][3] = {{1, 1, 1}, {3, 2, 2}, {2, 5, 7}, {4, 8, 6}, {5, 1, 9}, {2, 9, 1}, {7, 33, 17}};
    std::mt19937 rng(3);
    for (const KernelTable* t : all_tables()) {
        for (const auto& size : sizes) {
            const int channels = size[0], height = size[1], width = size[2];
            const ConvTester tester({channels, channels, height, width, 2, 2, channels, false, false, true},
                                    rng);
            tester.check(std::string(t->isa) + " max_pool_2x2",
                         [&](int begin, int end, float* out) {
                             t->max_pool_2x2(height, width, tester.input().data(), out, begin, end);
                         },
                         {0, 0});
        }
    }
}

TEST_CASE("max_pool matches its definition: MTCNN's 2x2 and 3x3 stride-2 windows, cut at the edge or VALID") {
    // {channels, height, width, kernel, stride}: R-Net's and O-Net's pools (SAME on 22 and 46, VALID on 9 and
    // 21), P-Net's 2x2 on odd sides, a row longer than the kernel's 2048-float column chunk, stride 1.
    const int cases[][5] = {{28, 22, 22, 3, 2}, {48, 9, 9, 3, 2},   {32, 46, 46, 3, 2}, {64, 21, 21, 3, 2},
                            {10, 21, 17, 2, 2}, {3, 5, 4099, 3, 2}, {2, 7, 6, 3, 1},    {4, 1, 1, 3, 2}};
    std::mt19937 rng(4);
    for (const KernelTable* t : all_tables()) {
        for (const auto& c : cases) {
            const int channels = c[0], height = c[1], width = c[2], kernel = c[3], stride = c[4];
            const ConvTester tester(
                {channels, channels, height, width, kernel, stride, channels, false, false, true}, rng);
            const PoolShape shape{height, width, tester.shape().out_height(), tester.shape().out_width(),
                                  kernel, stride};
            tester.check(std::string(t->isa) + " max_pool",
                         [&](int begin, int end, float* out) {
                             t->max_pool(shape, tester.input().data(), out, begin, end);
                         },
                         {0, 0});
        }
    }
}

TEST_CASE("pad matches the definition for every mode, asymmetric") {
    std::mt19937 rng(7);
    const PadMode modes[] = {PadMode::Reflect, PadMode::Zero, PadMode::Replicate};
    struct Case {
        int c, h, w, top, bottom, left, right;
    };
    const Case cases[] = {{1, 1, 1, 0, 0, 0, 0},
                          {2, 5, 4, 0, 1, 0, 1},
                          {3, 9, 8, 3, 3, 3, 3},
                          {1, 4, 7, 1, 2, 3, 0},
                          {4, 2, 2, 1, 1, 1, 1}};
    for (const KernelTable* t : all_tables()) {
        for (PadMode mode : modes) {
            for (const Case& c : cases) {
                if (mode == PadMode::Reflect &&
                    (std::max(c.top, c.bottom) >= c.h || std::max(c.left, c.right) >= c.w))
                    continue;
                const auto in = random_floats(size_t(c.c) * c.h * c.w, rng);
                const int oh = c.h + c.top + c.bottom, ow = c.w + c.left + c.right;
                std::vector<float> out(size_t(c.c) * oh * ow, NAN);
                t->pad({c.h, c.w, c.top, c.bottom, c.left, c.right, mode}, in.data(), out.data(), 0, c.c);
                std::vector<double> want(out.size());
                auto map = [&](int i, int n) {
                    if (i >= 0 && i < n) return i;
                    if (mode == PadMode::Zero) return -1;
                    if (mode == PadMode::Replicate) return i < 0 ? 0 : n - 1;
                    return i < 0 ? -i : 2 * n - 2 - i;  // reflect without repeating the edge
                };
                for (int ch = 0; ch < c.c; ++ch)
                    for (int y = 0; y < oh; ++y)
                        for (int x = 0; x < ow; ++x) {
                            const int sy = map(y - c.top, c.h), sx = map(x - c.left, c.w);
                            want[(size_t(ch) * oh + y) * ow + x] =
                                (sy < 0 || sx < 0) ? 0.0 : in[(size_t(ch) * c.h + sy) * c.w + sx];
                        }
                check_close(out, want, 0, 0, std::string(t->isa) + " pad mode " + std::to_string(int(mode)));
            }
        }
    }
}

TEST_CASE("resize_bilinear matches the three coordinate conventions") {
    std::mt19937 rng(99);
    struct Case {
        int c, ih, iw, oh, ow;
    };
    const Case cases[] = {{1, 1, 1, 3, 5},    {2, 4, 6, 8, 12},    {3, 5, 7, 10, 13},    {1, 9, 8, 4, 3},
                          {2, 3, 3, 1, 1},    {1, 16, 16, 16, 16}, {3, 48, 63, 95, 125}, {2, 5, 100, 3, 12},
                          {1, 2, 2048, 2, 2}, {2, 7, 9, 13, 300}};
    for (const KernelTable* t : all_tables()) {
        for (ResizeMode mode : {ResizeMode::AlignCorners, ResizeMode::HalfPixel, ResizeMode::TfLegacy}) {
            for (const Case& c : cases) {
                const auto in = random_floats(size_t(c.c) * c.ih * c.iw, rng);
                std::vector<float> out(size_t(c.c) * c.oh * c.ow, NAN);
                t->resize_bilinear({c.ih, c.iw, c.oh, c.ow, mode}, in.data(), out.data(), 0, c.c);
                auto src = [&](int d, int in_n, int out_n) {
                    double s = 0;
                    if (mode == ResizeMode::AlignCorners)
                        s = out_n > 1 ? d * double(in_n - 1) / (out_n - 1) : 0.0;
                    if (mode == ResizeMode::HalfPixel) s = std::max((d + 0.5) * in_n / out_n - 0.5, 0.0);
                    if (mode == ResizeMode::TfLegacy) s = d * double(in_n) / out_n;
                    return std::min(s, double(in_n - 1));
                };
                std::vector<double> want(out.size());
                for (int ch = 0; ch < c.c; ++ch)
                    for (int y = 0; y < c.oh; ++y)
                        for (int x = 0; x < c.ow; ++x) {
                            const double sy = src(y, c.ih, c.oh), sx = src(x, c.iw, c.ow);
                            const int y0 = int(sy), x0 = int(sx);
                            const int y1 = std::min(y0 + 1, c.ih - 1), x1 = std::min(x0 + 1, c.iw - 1);
                            const double fy = sy - y0, fx = sx - x0;
                            auto at = [&](int yy, int xx) {
                                return double(in[(size_t(ch) * c.ih + yy) * c.iw + xx]);
                            };
                            want[(size_t(ch) * c.oh + y) * c.ow + x] =
                                (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) +
                                fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
                        }
                check_close(out, want, 1e-5, 0,
                            std::string(t->isa) + " resize mode " + std::to_string(int(mode)) + " " +
                                std::to_string(c.ih) + "x" + std::to_string(c.iw) + "->" +
                                std::to_string(c.oh) + "x" + std::to_string(c.ow));
            }
        }
    }
}

TEST_CASE("channel moments, scale-shift-LeakyReLU, add, lerp and tanh") {
    std::mt19937 rng(5);
    for (const KernelTable* t : all_tables()) {
        for (size_t plane : {size_t(1), size_t(7), size_t(64), size_t(1000), size_t(4099)}) {
            const int channels = 5;
            const auto x = random_floats(plane * channels, rng, -3.f, 3.f);
            std::vector<double> sum(channels), sq(channels);
            t->channel_moments(x.data(), plane, 0, channels, sum.data(), sq.data());
            for (int c = 0; c < channels; ++c) {
                double s = 0, q = 0;
                for (size_t i = 0; i < plane; ++i)
                    s += x[c * plane + i], q += double(x[c * plane + i]) * x[c * plane + i];
                CHECK(sum[c] == doctest::Approx(s).epsilon(1e-9));
                CHECK(sq[c] == doctest::Approx(q).epsilon(1e-9));
            }
            const auto scale = random_floats(channels, rng), shift = random_floats(channels, rng);
            for (float slope : {0.2f, 1.f}) {
                // In place, and out of place into a buffer one longer whose last element must stay
                // untouched.
                std::vector<float> y = x, z(x.size() + 1, NAN);
                t->scale_shift_leaky_relu(y.data(), y.data(), plane, scale.data(), shift.data(), slope, 0,
                                          channels);
                t->scale_shift_leaky_relu(x.data(), z.data(), plane, scale.data(), shift.data(), slope, 0,
                                          channels);
                CHECK(std::isnan(z.back()));
                z.pop_back();
                CHECK(z == y);
                std::vector<double> want(y.size());
                for (size_t i = 0; i < y.size(); ++i) {
                    const double v = double(x[i]) * scale[i / plane] + shift[i / plane];
                    want[i] = v < 0 ? v * slope : v;
                }
                check_close(y, want, 1e-6, 1e-6, std::string(t->isa) + " scale_shift_leaky_relu");
            }
            const auto b = random_floats(x.size(), rng);
            std::vector<float> sum_out(x.size(), NAN), lerp_out(x.size() + 1, NAN), th = x;
            t->add(x.data(), b.data(), sum_out.data(), 0, x.size());
            t->lerp(x.data(), b.data(), 0.3f, lerp_out.data(), x.size());
            CHECK(std::isnan(lerp_out.back()));  // nothing written past n
            lerp_out.pop_back();
            t->tanh(th.data(), 0, th.size());
            std::vector<double> want_sum(x.size()), want_lerp(x.size()), want_tanh(x.size());
            for (size_t i = 0; i < x.size(); ++i) {
                want_sum[i] = double(x[i]) + b[i];
                want_lerp[i] = double(x[i]) + (double(b[i]) - x[i]) * 0.3f;
                want_tanh[i] = std::tanh(double(x[i]));
            }
            check_close(sum_out, want_sum, 1e-6, 0, std::string(t->isa) + " add");
            check_close(lerp_out, want_lerp, 1e-6, 0, std::string(t->isa) + " lerp");
            check_close(th, want_tanh, 2e-6, 0, std::string(t->isa) + " tanh");
        }
    }
}

TEST_CASE("a strided input reads like a dense one: direct and Winograd convolutions") {
    // The streaming executor convolves a few rows of a gathered band on their own: in_plane_stride is the
    // band's plane, and the planes' gaps (NaN here) must never be read.
    struct Case {
        int kernel, stride, groups, in_c, out_c, in_h, in_w;
    };
    const Case cases[] = {{1, 1, 1, 16, 12, 3, 37},
                          {3, 1, 1, 8, 13, 6, 29},
                          {3, 2, 1, 5, 7, 7, 31},
                          {3, 1, 12, 12, 12, 6, 21},
                          {7, 1, 1, 9, 5, 10, 23}};
    std::mt19937 rng(99);
    for (const KernelTable* t : all_tables()) {
        for (const Case& c : cases) {
            const int out_h = (c.in_h - c.kernel) / c.stride + 1, out_w = (c.in_w - c.kernel) / c.stride + 1;
            const ConvShape dense{c.in_c, c.in_h,   c.in_w,   c.out_c,  out_h,
                                  out_w,  c.kernel, c.kernel, c.stride, c.groups};
            const size_t plane = size_t(c.in_h) * c.in_w, gap = 5;
            const auto in = random_floats(c.in_c * plane, rng);
            std::vector<float> strided(c.in_c * (plane + gap), NAN);
            for (int ch = 0; ch < c.in_c; ++ch)
                std::copy_n(in.data() + ch * plane, plane, strided.data() + ch * (plane + gap));
            ConvShape sparse = dense;
            sparse.in_plane_stride = plane + gap;
            const auto w = random_floats(size_t(c.out_c) * c.in_c / c.groups * c.kernel * c.kernel, rng);
            const size_t out_size = size_t(c.out_c) * out_h * out_w;
            std::vector<float> want(out_size, NAN), got(out_size, NAN);
            t->conv2d(dense, in.data(), w.data(), nullptr, want.data(), 0, c.out_c);
            t->conv2d(sparse, strided.data(), w.data(), nullptr, got.data(), 0, c.out_c);
            CHECK_MESSAGE(got == want, t->isa << " conv2d k" << c.kernel << " s" << c.stride);
            if (c.kernel == 1) {
                std::vector<float> packed(conv1x1_weight_floats(c.out_c, c.in_c));
                conv1x1_pack_weights(w.data(), c.out_c, c.in_c, packed.data());
                t->conv1x1(dense, in.data(), packed.data(), nullptr, want.data(), 0, c.out_c);
                t->conv1x1(sparse, strided.data(), packed.data(), nullptr, got.data(), 0, c.out_c);
                CHECK_MESSAGE(got == want, t->isa << " conv1x1");
            }
            if (c.stride == 1 && c.groups == 1 && c.kernel != 1) {
                std::vector<float> u(winograd_weight_floats(c.kernel, c.out_c, c.in_c));
                winograd_transform_weights(c.kernel, w.data(), c.out_c, c.in_c, u.data());
                std::vector<float> scratch(winograd_scratch_floats(dense));
                t->conv_winograd(dense, in.data(), u.data(), nullptr, want.data(), 0, c.out_c,
                                 scratch.data());
                t->conv_winograd(sparse, strided.data(), u.data(), nullptr, got.data(), 0, c.out_c,
                                 scratch.data());
                CHECK_MESSAGE(got == want, t->isa << " winograd k" << c.kernel);
            }
        }
    }
}

TEST_CASE("outputs too large to cache go past the caches, and equal the cached ones") {
    // Each convolution runs twice: into dense planes, and into planes 4 MiB apart, which makes the output
    // larger than streamed_output.h's threshold, so its whole-vector stores are non-temporal where the ISA
    // has them (vectors cut by the right edge of a Winograd row still take plain stores).
    struct Case {
        int kernel, in_c, out_c, out_h, out_w;
        bool depthwise;
    };
    const Case cases[] = {{3, 5, 7, 9, 40, false}, {7, 6, 5, 5, 24, false}, {3, 6, 6, 11, 48, true}};
    std::mt19937 rng(77);
    for (const KernelTable* t : all_tables()) {
        for (const Case& c : cases) {
            const int in_h = c.out_h + c.kernel - 1, in_w = c.out_w + c.kernel - 1;
            const int groups = c.depthwise ? c.in_c : 1;
            const ConvShape dense{c.in_c,  in_h,     in_w,     c.out_c, c.out_h,
                                  c.out_w, c.kernel, c.kernel, 1,       groups};
            ConvShape spread = dense;
            spread.out_plane_stride = size_t(1) << 20;
            const auto in = random_floats(size_t(c.in_c) * in_h * in_w, rng);
            const auto w = random_floats(size_t(c.out_c) * c.in_c / groups * c.kernel * c.kernel, rng);
            const auto bias = random_floats(size_t(c.out_c), rng);
            std::vector<float> u, scratch;
            if (!c.depthwise) {
                u.resize(winograd_weight_floats(c.kernel, c.out_c, c.in_c));
                winograd_transform_weights(c.kernel, w.data(), c.out_c, c.in_c, u.data());
                scratch.resize(winograd_scratch_floats(dense));
            }
            auto run = [&](const ConvShape& s, float* out) {
                if (c.depthwise) {
                    t->conv2d(s, in.data(), w.data(), bias.data(), out, 0, c.out_c);
                } else {
                    t->conv_winograd(s, in.data(), u.data(), bias.data(), out, 0, c.out_c, scratch.data());
                }
            };
            const size_t plane = size_t(c.out_h) * c.out_w;
            std::vector<float> want(c.out_c * plane, NAN), buffer(c.out_c * spread.out_plane_stride + 8, NAN);
            float* got = buffer.data() + (32 - reinterpret_cast<uintptr_t>(buffer.data()) % 32) % 32 / 4;
            REQUIRE(!conv_streams_output(dense, want.data()));
            REQUIRE(conv_streams_output(spread, got));
            run(dense, want.data());
            run(spread, got);
            for (int oc = 0; oc < c.out_c; ++oc) {
                CHECK_MESSAGE(std::equal(want.begin() + oc * plane, want.begin() + (oc + 1) * plane,
                                         got + oc * spread.out_plane_stride),
                              t->isa << (c.depthwise ? " depthwise" : " winograd") << " k" << c.kernel
                                     << " channel " << oc);
            }
        }
    }
}

TEST_CASE("float16 storage converts like the reference, to the bit, in every table") {
    // Ties, both overflow sides of 65504, subnormals and their rounding to zero, infinities, NaN, signed
    // zeros, then random values over the whole half range; lengths cut vectors anywhere.
    std::vector<float> values = {0.f,      -0.f,       1.f,      -2.f,         1.f / 3.f,      65504.f,
                                 65519.f,  65520.f,    -65520.f, 1e-7f,        0x1p-25f,       0x1.8p-25f,
                                 0x1p-24f, 0x1.8p-24f, 0x1p-14f, 0x1.ffcp-15f, 1.f + 0x1p-11f, 1.f + 0x3p-11f,
                                 INFINITY, -INFINITY,  NAN,      1e9f,         -3.5e-6f};
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> exponent(-26.f, 16.f), sign(-1.f, 1.f);
    while (values.size() < 1003) values.push_back(std::copysign(std::exp2(exponent(rng)), sign(rng)));
    for (const KernelTable* t : all_tables()) {
        for (size_t n : {size_t(1), size_t(7), size_t(8), size_t(9), values.size()}) {
            std::vector<uint16_t> got(n + 1, 0xabcd);
            t->float_to_half(values.data(), got.data(), n);
            CHECK(got[n] == 0xabcd);  // nothing written past n
            for (size_t i = 0; i < n; ++i) {
                if (got[i] != float_to_half(values[i])) {
                    FAIL_CHECK(t->isa << " float_to_half(" << values[i] << ") = " << got[i] << ", expected "
                                      << float_to_half(values[i]));
                    break;
                }
            }
            // Reading them back: a plain widening is exact, and with an affine and LeakyReLU it computes what
            // scale_shift_leaky_relu computes on the widened values, to the bit.
            got.pop_back();
            std::vector<float> widened(n + 1, NAN), transformed(n), want(n);
            t->half_scale_shift_leaky_relu(got.data(), widened.data(), n, 1.f, 0.f, 1.f);
            CHECK(std::isnan(widened[n]));
            widened.pop_back();
            for (size_t i = 0; i < n; ++i) {
                const float exact = half_to_float(got[i]);
                if (!(widened[i] == exact || (std::isnan(exact) && std::isnan(widened[i])))) {
                    FAIL_CHECK(t->isa << " widening " << got[i] << " gave " << widened[i]);
                    break;
                }
                if (!std::isfinite(widened[i])) widened[i] = 0.f, got[i] = 0;
            }
            const float scale = 0.7f, shift = -0.3f;
            t->half_scale_shift_leaky_relu(got.data(), transformed.data(), n, scale, shift, 0.2f);
            t->scale_shift_leaky_relu(widened.data(), want.data(), n, &scale, &shift, 0.2f, 0, 1);
            CHECK_MESSAGE(transformed == want, t->isa << " half_scale_shift_leaky_relu, n = " << n);
        }
    }
}

}  // TEST_SUITE("kernels")
