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

#include "kernels/conv1x1.h"
#include "kernels/direct_conv.h"
#include "kernels/float16.h"
#include "kernels/isa_tables.h"
#include "kernels/kernels.h"
#include "kernels/vector_math.h"
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

// ----------------------------------------------------------------------------------- vector operations
//
// The vector operations the templates of kernels/direct_conv.h, kernels/winograd.h and kernels/vector_math.h
// are written in. Direct convolution: 4 vectors of 4 pixels per micro-kernel block, so 6 x 4 accumulators, 4
// vector and 6 broadcast loads per 24 FMAs, and 29 of the 32 registers live. Winograd: 4 lanes = 4
// consecutive tiles; a tile's columns are 4 floats apart, which is exactly what the de-interleaving ld4 / st4
// instructions handle.

struct NeonOps {
    using Vec = float32x4_t;
    static constexpr int kLanes = 4;
    static constexpr int kBlockVectors = 4;
    static constexpr int kDepthwiseRows = 8;
    using FullVector = animegan::kernels::FullVector;
    using PartialVector = animegan::kernels::PartialVector;
    static float32x4_t load(const float* p) { return vld1q_f32(p); }
    static void store(float* p, float32x4_t v) { vst1q_f32(p, v); }
    // Bypassing the caches (see Avx2Ops::stream) is not tried here: a plain store.
    static void stream(float* p, float32x4_t v) { vst1q_f32(p, v); }
    static float32x4_t broadcast(const float* p) { return vld1q_dup_f32(p); }
    static float32x4_t set1(float v) { return vdupq_n_f32(v); }
    static float32x4_t add(float32x4_t a, float32x4_t b) { return vaddq_f32(a, b); }
    static float32x4_t sub(float32x4_t a, float32x4_t b) { return vsubq_f32(a, b); }
    static float32x4_t mul(float32x4_t a, float32x4_t b) { return vmulq_f32(a, b); }
    static float32x4_t fmadd(float32x4_t a, float32x4_t b, float32x4_t c) { return vfmaq_f32(c, a, b); }
    static float32x4_t fnmadd(float32x4_t a, float32x4_t b, float32x4_t c) { return vfmsq_f32(c, a, b); }
    static float32x4_t div(float32x4_t a, float32x4_t b) { return vdivq_f32(a, b); }
    static float32x4_t round(float32x4_t v) { return vrndnq_f32(v); }
    static float32x4_t min(float32x4_t a, float32x4_t b) { return vminq_f32(a, b); }  // NaN if either is
    static float32x4_t abs(float32x4_t v) { return vabsq_f32(v); }
    static float32x4_t with_sign_of(float32x4_t magnitude, float32x4_t x) {
        const uint32x4_t sign = vandq_u32(vreinterpretq_u32_f32(x), vdupq_n_u32(0x80000000u));
        return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(magnitude), sign));
    }
    static float32x4_t select_below(float32x4_t x, float32x4_t limit, float32x4_t below,
                                    float32x4_t otherwise) {
        return vbslq_f32(vcltq_f32(x, limit), below, otherwise);
    }
    static float32x4_t times_pow2(float32x4_t p, float32x4_t n) {
        const int32x4_t biased = vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127));
        return vmulq_f32(p, vreinterpretq_f32_s32(vshlq_n_s32(biased, 23)));
    }

    static void load_tile_columns(const float* row, float32x4_t columns[6]) {
        const float32x4x4_t first = vld4q_f32(row);
        const float32x4x4_t next = vld4q_f32(row + 4);  // columns 4..5 are the next tile's 0..1
        for (int i = 0; i < 4; ++i) columns[i] = first.val[i];
        columns[4] = next.val[0];
        columns[5] = next.val[1];
    }

    // kStream (bypass the caches) is ignored: plain stores.
    template <bool kStream>
    static void store_tile_columns(float* row, const float32x4_t columns[4]) {
        vst4q_f32(row, float32x4x4_t{{columns[0], columns[1], columns[2], columns[3]}});
    }

    // Splits a row of n floats into its even then its odd elements: stride-2 taps become unit-stride loads.
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
    template <bool kStream>
    static void store_interleaved2(float* row, float32x4_t even, float32x4_t odd) {
        vst2q_f32(row, float32x4x2_t{{even, odd}});
    }
    static void fence_streamed_stores() {}
};

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

void tanh_neon(float* x, size_t begin, size_t end) {
    for_each_vector(begin, end,
                    [&](size_t i, auto lanes) { lanes.store(x + i, tanh_ps<NeonOps>(lanes.load(x + i))); });
}

// AArch64 converts natively (FCVTN / FCVTL), rounding to nearest even like the reference; the tail goes
// through the reference itself.
void float_to_half_neon(const float* in, uint16_t* out, size_t n) {
    size_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        vst1_u16(out + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(in + i))));
    for (; i < n; ++i) out[i] = float_to_half(in[i]);
}

void half_scale_shift_leaky_relu_neon(const uint16_t* in, float* out, size_t n, float scale, float shift,
                                      float negative_slope) {
    const float32x4_t b = vdupq_n_f32(shift);
    auto transform = [&](float32x4_t x) {
        const float32x4_t v = vfmaq_n_f32(b, x, scale);
        return vbslq_f32(vcltzq_f32(v), vmulq_n_f32(v, negative_slope), v);
    };
    size_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        vst1q_f32(out + i, transform(vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(in + i)))));
    if (i < n) {
        uint16_t tail[kLanes] = {};
        std::copy(in + i, in + n, tail);
        PartialVector(n - i).store(out + i, transform(vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(tail)))));
    }
}

}  // namespace

const KernelTable* neon_kernels() {
    static const KernelTable table = [] {
        // pad, resize_bilinear and max_pool_2x2 stay scalar: no NEON variant has been written. The fused
        // convolution's gather calls resize_bilinear for the generator's upsampled inputs (a row block at a
        // time), so that one would pay; pad serves only ops::pad, and max pooling is tiny in BlazeFace.
        KernelTable t = scalar_kernels();
        t.isa = "neon";
        t.conv2d = direct_conv2d<NeonOps>;
        t.channel_moments = channel_moments_neon;
        t.scale_shift_leaky_relu = scale_shift_leaky_relu_neon;
        t.add = add_neon;
        t.lerp = lerp_neon;
        t.tanh = tanh_neon;
        t.conv_winograd = conv_winograd<NeonOps>;
        t.conv1x1 = conv1x1_packed<NeonOps>;
        t.float_to_half = float_to_half_neon;
        t.half_scale_shift_leaky_relu = half_scale_shift_leaky_relu_neon;
        return t;
    }();
    return &table;
}

}  // namespace animegan::kernels
