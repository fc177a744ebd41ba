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

#include "kernels/direct_conv.h"
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

// ------------------------------------------------------------------------------ convolutions (direct,
// Winograd)
//
// The vector operations the convolution templates of kernels/direct_conv.h and kernels/winograd.h are written
// in. Direct convolution: 4 vectors of 4 pixels per micro-kernel block, so 6 x 4 accumulators, 4 vector and 6
// broadcast loads per 24 FMAs, and 29 of the 32 registers live. Winograd: 4 lanes = 4 consecutive tiles; a
// tile's columns are 4 floats apart, which is exactly what the de-interleaving ld4 / st4 instructions handle.

struct NeonOps {
    using Vec = float32x4_t;
    static constexpr int kLanes = 4;
    static constexpr int kBlockVectors = 4;
    using FullVector = animegan::kernels::FullVector;
    using PartialVector = animegan::kernels::PartialVector;
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

    // Splits a row of n floats into its even then its odd elements, so stride-2 taps become unit-stride
    // loads.
    static void deinterleave_row(const float* in, int n, float* out) {
        const int evens = (n + 1) / 2;
        int i = 0;
        for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
            const float32x4x2_t pair = vld2q_f32(in + i);
            vst1q_f32(out + i / 2, pair.val[0]);
            vst1q_f32(out + evens + i / 2, pair.val[1]);
        }
        for (; i < n; ++i) out[i % 2 * evens + i / 2] = in[i];
    }

    static void prefetch(const float* p) { __builtin_prefetch(p, 0, 3); }

    // row[2t] = lane t of even, row[2t + 1] = lane t of odd.
    static void store_interleaved2(float* row, float32x4_t even, float32x4_t odd) {
        vst2q_f32(row, float32x4x2_t{{even, odd}});
    }
};

}  // namespace

const KernelTable* neon_kernels() {
    // The generator pads and resizes inside its fused convolution input, and max pooling is tiny in
    // BlazeFace, so those three keep the scalar loops.
    static const KernelTable table{"neon",
                                   direct_conv2d<NeonOps>,
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
                                   conv_winograd<NeonOps>};
    return &table;
}

}  // namespace animegan::kernels
