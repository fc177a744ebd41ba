// AArch64 Advanced SIMD (NEON) kernels. NEON is part of the AArch64 base architecture, so this table needs no
// run-time detection: kernels/CMakeLists.txt compiles this file on aarch64 only, with the default flags.
//
// The design mirrors avx2_kernels.cpp at 4 lanes. Every kernel computes each output element the same way
// whatever channel or element range it is given, so results do not depend on how the engine splits the work.
#include <arm_neon.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "kernels/isa_tables.h"
#include "kernels/kernels.h"
#include "kernels/winograd.h"

namespace animegan::kernels {
namespace {

constexpr int kLanes = 4;

// Loads and stores of a whole vector, and of the first n lanes of a partial last vector. NEON has no masked
// loads, so a partial vector goes through a small zeroed buffer: the missing lanes read as 0 and are not
// written, and nothing outside [p, p + n) is touched.
struct FullVector {
    float32x4_t load(const float* p) const { return vld1q_f32(p); }
    void store(float* p, float32x4_t v) const { vst1q_f32(p, v); }
};

struct PartialVector {
    size_t n;
    explicit PartialVector(size_t lanes) : n(lanes) {}
    float32x4_t load(const float* p) const {
        float buffer[kLanes] = {};
        std::memcpy(buffer, p, n * sizeof(float));
        return vld1q_f32(buffer);
    }
    void store(float* p, float32x4_t v) const {
        float buffer[kLanes];
        vst1q_f32(buffer, v);
        std::memcpy(p, buffer, n * sizeof(float));
    }
};

// Runs op(i, lanes) over [begin, end) in steps of 4, the last partial vector through a buffer, so every
// element goes through the same vector arithmetic.
template <typename Op>
inline void for_each_vector(size_t begin, size_t end, Op op) {
    size_t i = begin;
    for (; i + kLanes <= end; i += kLanes) op(i, FullVector{});
    if (i < end) op(i, PartialVector(end - i));
}

// ------------------------------------------------------------------------------------------------ conv2d
//
// Direct convolution, register-blocked as in the AVX2 kernels. With 32 vector registers the micro-kernel
// holds up to 6 output channels x 4 vectors of 4 consecutive output pixels of one row in 24 accumulators.
// For every input channel and tap it loads the 4 input vectors once and multiplies them by each channel's
// weight with a by-element FMA (vfmaq_n_f32 becomes fmla v.4s, v.4s, v.s[0] on a scalar load): 4 vector loads
// and 6 scalar loads per 24 FMAs, 24 independent chains to cover the FMA latency, and 29 of the 32 registers
// live, so nothing spills.
//
// As in the AVX2 kernels, the input rows a tile of output columns needs, for a chunk of the group's input
// channels, are copied into a contiguous 24 KiB stack buffer (it fits a 32 KiB L1, the smallest on current
// AArch64 cores), so far-apart input planes do not compete for the same L1 sets, and every output-channel
// block reuses it. Later chunks add to the partial sums stored in the output; float stores and loads are
// exact, so every output is always bias + the same FMA chain over (input channel, ky, kx) in order.
//
// Stride 2: packing splits each row into its even and odd columns (vld2q does exactly that), so the taps
// become unit-stride loads. 1x1 stride-1 convolutions run as one row of height * width pixels. Stride-1
// depthwise convolutions read their rows in place: there is nothing to reuse.

constexpr int kPackFloats = 6144;  // packed input tile: 24 KiB
constexpr int kMaxBlock = 6;       // output channels per micro-kernel block
constexpr int kBlockVectors = 4;   // vectors of output pixels per micro-kernel block
constexpr int kTileColumns = 96;   // output columns per tile (at least; a multiple of the block width)

// One micro-kernel call's operands: an input tile and a block of output channels.
struct ConvTile {
    const float* in;  // input rows of the tile's first channel, at the tile's first column
    size_t row_stride, channel_stride;
    size_t odd_offset;  // stride 2: where each packed row's odd columns start
    int channels;
    const float* weight[kMaxBlock];  // each output channel's [channels][K][K] weights for this chunk
    float* out[kMaxBlock];           // each output channel's row, at the tile's first column
    float bias[kMaxBlock];
    bool accumulate;  // add to the partial sums in out (a later chunk) instead of the bias
};

// Output columns [x, x + 4 * NX) of OCB output channels, or only the first lanes of one vector with
// Lanes = PartialVector (the row's remainder). The tap loops are unrolled so that weight and input offsets
// are constants.
template <int K, int S, int OCB, int NX, typename Lanes = FullVector>
inline void conv_block(const ConvTile& t, int x, Lanes lanes = {}) {
    float32x4_t acc[OCB][NX];
    const float* weight[OCB];
#pragma GCC unroll 8
    for (int j = 0; j < OCB; ++j) {
        weight[j] = t.weight[j];
#pragma GCC unroll 8
        for (int v = 0; v < NX; ++v)
            acc[j][v] = t.accumulate ? lanes.load(t.out[j] + x + v * kLanes) : vdupq_n_f32(t.bias[j]);
    }
    const float* in = t.in + x;  // at stride 2, output x reads column x of the even or the odd half of a row
    for (int ic = 0; ic < t.channels; ++ic, in += t.channel_stride) {
#pragma GCC unroll 8
        for (int ky = 0; ky < K; ++ky) {
            const float* row = in + ky * t.row_stride;
            const int tap = (ic * K + ky) * K;
#pragma GCC unroll 8
            for (int kx = 0; kx < K; ++kx) {
                const float* src_at = row + kx % S * t.odd_offset + kx / S;
                float32x4_t src[NX];
#pragma GCC unroll 8
                for (int v = 0; v < NX; ++v) src[v] = lanes.load(src_at + v * kLanes);
#pragma GCC unroll 8
                for (int j = 0; j < OCB; ++j) {
                    const float w = weight[j][tap + kx];
#pragma GCC unroll 8
                    for (int v = 0; v < NX; ++v) acc[j][v] = vfmaq_n_f32(acc[j][v], src[v], w);
                }
            }
        }
    }
#pragma GCC unroll 8
    for (int j = 0; j < OCB; ++j)
#pragma GCC unroll 8
        for (int v = 0; v < NX; ++v) lanes.store(t.out[j] + x + v * kLanes, acc[j][v]);
}

// Output columns [x, n) of a tile: blocks of NX vectors, then of fewer, then a partial vector.
template <int K, int S, int OCB, int NX = kBlockVectors>
void conv_tile(const ConvTile& t, int x, int n) {
    for (; x + NX * kLanes <= n; x += NX * kLanes) conv_block<K, S, OCB, NX>(t, x);
    if constexpr (NX > 1) {
        conv_tile<K, S, OCB, NX - 1>(t, x, n);
    } else if (x < n) {
        conv_block<K, S, OCB, 1>(t, x, PartialVector(n - x));
    }
}

using TileFn = void (*)(const ConvTile&, int x, int n);

// conv_tile for blocks of 1 .. kMaxBlock output channels, indexed by block size - 1.
template <int K, int S, size_t... I>
constexpr std::array<TileFn, sizeof...(I)> tile_fns(std::index_sequence<I...>) {
    return {conv_tile<K, S, int(I) + 1>...};
}

// Tile geometry for a shape: output columns per tile and input channels per packed chunk, such that
// channels * K * ((columns - 1) * S + K) <= kPackFloats. Chunks are balanced in size; when one chunk holds
// every channel the tile widens to fill the buffer. Depends only on the kernel, stride and channel count, so
// a band of rows is tiled like the whole plane.
struct TileShape {
    int columns, channels;
};

TileShape tile_shape(int k, int stride, int channels) {
    const int floats_per_channel = k * ((kTileColumns - 1) * stride + k);
    const int max_chunk = kPackFloats / floats_per_channel;
    const int chunks = (channels + max_chunk - 1) / max_chunk;
    const int chunk = (channels + chunks - 1) / chunks;
    const int block_width = kBlockVectors * kLanes;
    const int fit_columns = ((kPackFloats / (k * chunk) - k) / stride + 1) / block_width * block_width;
    return {std::max(kTileColumns, fit_columns), chunk};
}

// Splits a row of n floats into its even then its odd elements, so stride-2 taps become unit-stride loads.
void deinterleave_row(const float* in, int n, float* out) {
    const int evens = (n + 1) / 2;
    int i = 0;
    for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
        const float32x4x2_t pair = vld2q_f32(in + i);
        vst1q_f32(out + i / 2, pair.val[0]);
        vst1q_f32(out + evens + i / 2, pair.val[1]);
    }
    for (; i < n; ++i) out[i % 2 * evens + i / 2] = in[i];
}

// Copies `rows` rows of `cols` floats for input channels [0, channels) into a contiguous tile; at stride 2
// each row is stored as its even then its odd columns. The rows are short pieces of many far-apart planes,
// too many streams for the hardware prefetcher, so this also prefetches the next tile's part of each row.
template <int S>
void pack_tile(const float* in, size_t in_plane, int in_width, int channels, int rows, int cols, float* out) {
    for (int c = 0; c < channels; ++c, in += in_plane) {
        for (int r = 0; r < rows; ++r, out += cols) {
            const float* row = in + size_t(r) * in_width;
            if constexpr (S == 1) {
                std::memcpy(out, row, cols * sizeof(float));
            } else {
                deinterleave_row(row, cols, out);
            }
            for (int i = cols; i < 2 * cols; i += 64 / sizeof(float)) __builtin_prefetch(row + i, 0, 3);
        }
    }
}

template <int K, int S>
void conv_direct(const ConvShape& s, const float* input, const float* weight, const float* bias,
                 float* output, int oc_begin, int oc_end) {
    static constexpr auto kTileFns = tile_fns<K, S>(std::make_index_sequence<kMaxBlock>());
    static_assert(K * ((kTileColumns - 1) * S + K) <= kPackFloats);
    const int in_per_group = s.in_channels / s.groups, out_per_group = s.out_channels / s.groups;
    const size_t in_plane = size_t(s.in_height) * s.in_width, out_plane = s.out_plane();
    const TileShape tiles = tile_shape(K, S, in_per_group);
    alignas(64) float packed[kPackFloats];

    for (int g = oc_begin / out_per_group; g * out_per_group < oc_end; ++g) {
        const int g_begin = std::max(oc_begin, g * out_per_group);
        const int g_end = std::min(oc_end, (g + 1) * out_per_group);
        const float* group_in = input + size_t(g) * in_per_group * in_plane;
        for (int oy = 0; oy < s.out_height; ++oy) {
            for (int x0 = 0; x0 < s.out_width; x0 += tiles.columns) {
                const int n = std::min(tiles.columns, s.out_width - x0), cols = (n - 1) * S + K;
                for (int c0 = 0; c0 < in_per_group; c0 += tiles.channels) {
                    const int chunk = std::min(tiles.channels, in_per_group - c0);
                    const float* tile_in =
                        group_in + c0 * in_plane + size_t(oy) * S * s.in_width + size_t(x0) * S;
                    ConvTile t{tile_in, size_t(s.in_width), in_plane, 0, chunk, {}, {}, {}, c0 > 0};
                    if (S > 1 || in_per_group > 1) {
                        pack_tile<S>(tile_in, in_plane, s.in_width, chunk, K, cols, packed);
                        t.in = packed, t.row_stride = cols, t.channel_stride = size_t(K) * cols;
                        t.odd_offset = (cols + 1) / 2;
                    }
                    // As few blocks as possible, of balanced sizes: 32 channels as 6+6+5+5+5+5, not 5x6+2.
                    const int count = g_end - g_begin, blocks = (count + kMaxBlock - 1) / kMaxBlock;
                    for (int b = 0, oc = g_begin; b < blocks; ++b) {
                        const int block = count / blocks + (b < count % blocks);
                        for (int j = 0; j < block; ++j, ++oc) {
                            t.weight[j] = weight + (size_t(oc) * in_per_group + c0) * K * K;
                            t.out[j] = output + oc * out_plane + size_t(oy) * s.out_width + x0;
                            t.bias[j] = bias ? bias[oc] : 0.f;
                        }
                        kTileFns[block - 1](t, 0, n);
                    }
                }
            }
        }
    }
}

void conv2d_neon(const ConvShape& s, const float* input, const float* weight, const float* bias,
                 float* output, int oc_begin, int oc_end) {
    const int k = s.kernel_h;
    if (s.kernel_w == k) {
        if (k == 1 && s.stride == 1) {
            const int pixels = s.out_height * s.out_width;
            const ConvShape flat{s.in_channels, 1, pixels, s.out_channels, 1, pixels, 1, 1, 1, s.groups, s.out_plane()};
            return conv_direct<1, 1>(flat, input, weight, bias, output, oc_begin, oc_end);
        }
        if (k == 3 && s.stride == 1)
            return conv_direct<3, 1>(s, input, weight, bias, output, oc_begin, oc_end);
        if (k == 3 && s.stride == 2)
            return conv_direct<3, 2>(s, input, weight, bias, output, oc_begin, oc_end);
        if (k == 7 && s.stride == 1)
            return conv_direct<7, 1>(s, input, weight, bias, output, oc_begin, oc_end);
    }
    // Other kernel sizes and strides are not in the network.
    scalar_kernels().conv2d(s, input, weight, bias, output, oc_begin, oc_end);
}

// ------------------------------------------------------------------------------------- elementwise ops

// Sums in double: each float converts exactly, and a product of two floats is exact in double, so only the
// additions round, at double precision.
void channel_moments_neon(const float* x, size_t plane_size, int c_begin, int c_end, double* sum,
                          double* sum_squares) {
    for (int c = c_begin; c < c_end; ++c) {
        const float* p = x + c * plane_size;
        float64x2_t s_lo = vdupq_n_f64(0), s_hi = s_lo, q_lo = s_lo, q_hi = s_lo;
        for_each_vector(0, plane_size, [&](size_t i, auto lanes) {
            const float32x4_t v = lanes.load(p + i);
            const float64x2_t lo = vcvt_f64_f32(vget_low_f32(v)), hi = vcvt_high_f64_f32(v);
            s_lo = vaddq_f64(s_lo, lo);
            s_hi = vaddq_f64(s_hi, hi);
            q_lo = vfmaq_f64(q_lo, lo, lo);
            q_hi = vfmaq_f64(q_hi, hi, hi);
        });
        sum[c] = vaddvq_f64(vaddq_f64(s_lo, s_hi));
        sum_squares[c] = vaddvq_f64(vaddq_f64(q_lo, q_hi));
    }
}

void scale_shift_leaky_relu_neon(const float* in, float* out, size_t plane_size, const float* scale,
                                 const float* shift, float negative_slope, int c_begin, int c_end) {
    for (int c = c_begin; c < c_end; ++c) {
        const float* src = in + c * plane_size;
        float* dst = out + c * plane_size;
        const float32x4_t b = vdupq_n_f32(shift[c]);
        const float a = scale[c];
        for_each_vector(0, plane_size, [&](size_t i, auto lanes) {
            const float32x4_t v = vfmaq_n_f32(b, lanes.load(src + i), a);
            lanes.store(dst + i, vbslq_f32(vcltzq_f32(v), vmulq_n_f32(v, negative_slope), v));
        });
    }
}

void add_neon(const float* a, const float* b, float* out, size_t begin, size_t end) {
    for_each_vector(begin, end, [&](size_t i, auto lanes) {
        lanes.store(out + i, vaddq_f32(lanes.load(a + i), lanes.load(b + i)));
    });
}

void lerp_neon(const float* a, const float* b, float t, float* out, size_t n) {
    for_each_vector(0, n, [&](size_t i, auto lanes) {
        const float32x4_t lo = lanes.load(a + i);
        lanes.store(out + i, vfmaq_n_f32(lo, vsubq_f32(lanes.load(b + i), lo), t));
    });
}

inline float32x4_t poly(float32x4_t x, float32x4_t acc, float c) {
    return vfmaq_f32(vdupq_n_f32(c), acc, x);
}

// exp(x) for x in [-87, 88] (Cephes expf, as in the AVX2 kernels): x = n ln2 + r with |r| <= ln2 / 2, ln2
// split in two parts so r is exact enough, a degree-7 polynomial for exp(r), and 2^n built in the exponent
// bits. About 1 ulp.
inline float32x4_t exp_ps(float32x4_t x) {
    const float32x4_t n = vrndnq_f32(vmulq_n_f32(x, 1.44269504088896341f));
    float32x4_t r = vfmsq_n_f32(x, n, 0.693359375f);
    r = vfmsq_n_f32(r, n, -2.12194440e-4f);
    float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
    p = poly(r, p, 1.3981999507e-3f);
    p = poly(r, p, 8.3334519073e-3f);
    p = poly(r, p, 4.1665795894e-2f);
    p = poly(r, p, 1.6666665459e-1f);
    p = poly(r, p, 5.0000001201e-1f);
    p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.f)), p, vmulq_f32(r, r));
    const int32x4_t two_n = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
    return vmulq_f32(p, vreinterpretq_f32_s32(two_n));
}

// tanh (Cephes tanhf): an odd polynomial below |x| = 0.625, 1 - 2 / (exp(2|x|) + 1) above, with the sign of x
// put back. exp's argument is capped at 88, where tanh is already 1 in float; vminq returns NaN for a NaN
// operand, so NaN passes through.
inline float32x4_t tanh_ps(float32x4_t x) {
    const float32x4_t one = vdupq_n_f32(1.f);
    const float32x4_t ax = vabsq_f32(x);
    const float32x4_t z = vmulq_f32(ax, ax);
    float32x4_t p = vdupq_n_f32(-5.70498872745e-3f);
    p = poly(z, p, 2.06390887954e-2f);
    p = poly(z, p, -5.37397155531e-2f);
    p = poly(z, p, 1.33314422036e-1f);
    p = poly(z, p, -3.33332819422e-1f);
    const float32x4_t small = vfmaq_f32(ax, vmulq_f32(p, z), ax);
    const float32x4_t e = exp_ps(vminq_f32(vdupq_n_f32(88.f), vaddq_f32(ax, ax)));
    const float32x4_t large = vsubq_f32(one, vdivq_f32(vdupq_n_f32(2.f), vaddq_f32(e, one)));
    const float32x4_t result = vbslq_f32(vcltq_f32(ax, vdupq_n_f32(0.625f)), small, large);
    const uint32x4_t sign_bit = vdupq_n_u32(0x80000000u);
    return vreinterpretq_f32_u32(
        vorrq_u32(vreinterpretq_u32_f32(result), vandq_u32(vreinterpretq_u32_f32(x), sign_bit)));
}

void tanh_neon(float* x, size_t begin, size_t end) {
    for_each_vector(begin, end,
                    [&](size_t i, auto lanes) { lanes.store(x + i, tanh_ps(lanes.load(x + i))); });
}

// ------------------------------------------------------------------------------------- Winograd conv3x3
//
// The vector operations of kernels/winograd.h at 4 lanes = 4 consecutive tiles. A tile's columns are 4 floats
// apart, which is exactly what the de-interleaving ld4 / st4 instructions handle.

struct NeonWinogradOps {
    using Vec = float32x4_t;
    static constexpr int kLanes = 4;
    static float32x4_t load(const float* p) { return vld1q_f32(p); }
    static void store(float* p, float32x4_t v) { vst1q_f32(p, v); }
    static float32x4_t broadcast(const float* p) { return vld1q_dup_f32(p); }
    static float32x4_t set1(float v) { return vdupq_n_f32(v); }
    static float32x4_t add(float32x4_t a, float32x4_t b) { return vaddq_f32(a, b); }
    static float32x4_t sub(float32x4_t a, float32x4_t b) { return vsubq_f32(a, b); }
    static float32x4_t mul(float32x4_t a, float32x4_t b) { return vmulq_f32(a, b); }
    static float32x4_t fmadd(float32x4_t a, float32x4_t b, float32x4_t c) { return vfmaq_f32(c, a, b); }

    static void load_tile_columns(const float* row, float32x4_t columns[6]) {
        const float32x4x4_t first = vld4q_f32(row);
        const float32x4x4_t next = vld4q_f32(row + 4);  // columns 4..5 are the next tile's 0..1
        for (int i = 0; i < 4; ++i) columns[i] = first.val[i];
        columns[4] = next.val[0];
        columns[5] = next.val[1];
    }

    static void store_tile_columns(float* row, const float32x4_t columns[4]) {
        vst4q_f32(row, float32x4x4_t{{columns[0], columns[1], columns[2], columns[3]}});
    }
};

}  // namespace

const KernelTable* neon_kernels() {
    // The generator pads and resizes inside its fused convolution input, and max pooling is tiny in BlazeFace,
    // so those three keep the scalar loops.
    static const KernelTable table{"neon",
                                   conv2d_neon,
                                   channel_moments_neon,
                                   scale_shift_leaky_relu_neon,
                                   scalar_kernels().pad,
                                   scalar_kernels().resize_bilinear,
                                   add_neon,
                                   lerp_neon,
                                   tanh_neon,
                                   scalar_kernels().max_pool_2x2,
                                   winograd_weight_floats,
                                   winograd_transform_weights,
                                   winograd_scratch_floats,
                                   conv3x3_winograd<NeonWinogradOps>};
    return &table;
}

}  // namespace animegan::kernels
