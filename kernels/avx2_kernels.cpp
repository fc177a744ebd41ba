// AVX2 + FMA kernels. Only this file is compiled with -mavx2 -mfma; dispatch.cpp calls avx2_kernels()
// only after CPUID and XGETBV confirm the CPU and OS support it, so the rest of the library runs anywhere.
//
// Every kernel computes each output element the same way whatever channel or element range it is given, so
// results do not depend on how the engine splits the work across threads.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "kernels/conv1x1.h"
#include "kernels/coordinates.h"
#include "kernels/direct_conv.h"
#include "kernels/float16.h"
#include "kernels/isa_tables.h"
#include "kernels/kernels.h"
#include "kernels/vector_math.h"
#include "kernels/winograd.h"

namespace animegan::kernels {
namespace {

constexpr int kLanes = 8;

// Loads and stores of a whole vector, and of the first n lanes of a partial last vector (the masked-off lanes
// read as 0 and are not written).
struct FullVector {
    __m256 load(const float* p) const { return _mm256_loadu_ps(p); }
    void store(float* p, __m256 v) const { _mm256_storeu_ps(p, v); }
};

struct PartialVector {
    __m256i mask;
    explicit PartialVector(size_t n) {
        alignas(32) static const int32_t ones_then_zeros[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                                0,  0,  0,  0,  0,  0,  0,  0};
        mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ones_then_zeros + kLanes - n));
    }
    __m256 load(const float* p) const { return _mm256_maskload_ps(p, mask); }
    void store(float* p, __m256 v) const { _mm256_maskstore_ps(p, mask, v); }
};

// Runs op(i, lanes) over [begin, end) in steps of 8, the last partial vector through a mask, so every element
// goes through the same vector arithmetic.
template <typename Op>
inline void for_each_vector(size_t begin, size_t end, Op op) {
    size_t i = begin;
    for (; i + kLanes <= end; i += kLanes) op(i, FullVector{});
    if (i < end) op(i, PartialVector(end - i));
}

// ----------------------------------------------------------------------------------- vector operations
//
// The vector operations the templates of kernels/direct_conv.h, kernels/winograd.h and kernels/vector_math.h
// are written in. Direct convolution: 2 vectors of 8 pixels per micro-kernel block (direct_conv.h explains
// the blocking). Winograd: 8 lanes = 8 consecutive tiles. A tile's columns are 4 floats apart, so the column
// loads and stores de-interleave with in-lane 4x4 transposes: each 256-bit register pairs tile t in its low
// half with tile t + 4 in its high half, so the transposed halves come out in tile order.

struct Avx2Ops {
    using Vec = __m256;
    static constexpr int kLanes = 8;
    static constexpr int kBlockVectors = 2;
    static constexpr int kDepthwiseRows = 4;
    using FullVector = animegan::kernels::FullVector;
    using PartialVector = animegan::kernels::PartialVector;
    static __m256 load(const float* p) { return _mm256_loadu_ps(p); }
    static void store(float* p, __m256 v) { _mm256_storeu_ps(p, v); }
    // A non-temporal store (p 32-byte aligned): past the caches, without reading the line first.
    static void stream(float* p, __m256 v) { _mm256_stream_ps(p, v); }
    static __m256 broadcast(const float* p) { return _mm256_broadcast_ss(p); }
    static __m256 set1(float v) { return _mm256_set1_ps(v); }
    static __m256 add(__m256 a, __m256 b) { return _mm256_add_ps(a, b); }
    static __m256 sub(__m256 a, __m256 b) { return _mm256_sub_ps(a, b); }
    static __m256 mul(__m256 a, __m256 b) { return _mm256_mul_ps(a, b); }
    static __m256 fmadd(__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); }
    static __m256 fnmadd(__m256 a, __m256 b, __m256 c) { return _mm256_fnmadd_ps(a, b, c); }
    static __m256 div(__m256 a, __m256 b) { return _mm256_div_ps(a, b); }
    static __m256 round(__m256 v) {
        return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    }
    static __m256 min(__m256 a, __m256 b) { return _mm256_min_ps(a, b); }  // b if either is NaN
    static __m256 abs(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.f), v); }
    static __m256 with_sign_of(__m256 magnitude, __m256 x) {
        return _mm256_or_ps(magnitude, _mm256_and_ps(x, _mm256_set1_ps(-0.f)));
    }
    static __m256 select_below(__m256 x, __m256 limit, __m256 below, __m256 otherwise) {
        return _mm256_blendv_ps(otherwise, below, _mm256_cmp_ps(x, limit, _CMP_LT_OQ));
    }
    static __m256 times_pow2(__m256 p, __m256 n) {
        const __m256i biased = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
        return _mm256_mul_ps(p, _mm256_castsi256_ps(_mm256_slli_epi32(biased, 23)));
    }

    // Element i of each of r[0..3] into r[i], within each 128-bit half.
    static void transpose_halves(__m256 r[4]) {
        const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
        const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
        r[0] = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
        r[1] = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
        r[2] = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
        r[3] = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    }

    static void load_tile_columns(const float* row, __m256 columns[6]) {
        // quads[i]: columns 0..3 of tile i (low half) and of tile i + 4 (high half); quads[4] holds columns
        // 0..1 of tiles 4 and 8, which are columns 4..5 of tiles 3 and 7.
        __m256 quads[5];
        for (int i = 0; i < 5; ++i) quads[i] = _mm256_loadu2_m128(row + 16 + 4 * i, row + 4 * i);
        const __m256 u12 = _mm256_unpacklo_ps(quads[1], quads[2]),
                     u34 = _mm256_unpacklo_ps(quads[3], quads[4]);
        columns[4] = _mm256_shuffle_ps(u12, u34, _MM_SHUFFLE(1, 0, 1, 0));
        columns[5] = _mm256_shuffle_ps(u12, u34, _MM_SHUFFLE(3, 2, 3, 2));
        transpose_halves(quads);
        std::copy(quads, quads + 4, columns);
    }

    // kStream: non-temporal stores (row 16-byte aligned), which write past the caches without reading the
    // lines first.
    template <bool kStream>
    static void store_tile_columns(float* row, const __m256 columns[4]) {
        __m256 tiles[4] = {columns[0], columns[1], columns[2], columns[3]};
        transpose_halves(tiles);  // tiles[i]: tile i's 4 columns (low half), tile i + 4's (high half)
        for (int i = 0; i < 4; ++i) {
            if constexpr (kStream) {
                _mm_stream_ps(row + 4 * i, _mm256_castps256_ps128(tiles[i]));
                _mm_stream_ps(row + 16 + 4 * i, _mm256_extractf128_ps(tiles[i], 1));
            } else {
                _mm256_storeu2_m128(row + 16 + 4 * i, row + 4 * i, tiles[i]);
            }
        }
    }

    // Splits a row of n floats into its even then its odd elements: stride-2 taps become unit-stride loads.
    static void deinterleave_row(const float* in, int n, float* out) {
        const int evens = (n + 1) / 2;
        int i = 0;
        for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
            const __m256 a = _mm256_loadu_ps(in + i), b = _mm256_loadu_ps(in + i + kLanes);
            // Per 128-bit half: a0 a2 b0 b2 | a4 a6 b4 b6, then order the 64-bit pairs 0 2 1 3 (the odd
            // ones likewise).
            const __m256 even = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
            const __m256 odd = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
            const int order = _MM_SHUFFLE(3, 1, 2, 0);
            _mm256_storeu_ps(out + i / 2,
                             _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), order)));
            _mm256_storeu_ps(out + evens + i / 2,
                             _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(odd), order)));
        }
        for (; i < n; ++i) out[i % 2 * evens + i / 2] = in[i];
    }

    static void prefetch(const float* p) { _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0); }

    // row[2t] = lane t of even, row[2t + 1] = lane t of odd: the unpacks interleave within 128-bit halves,
    // the permutes put the halves in order.
    // kStream as for store_tile_columns (row 32-byte aligned).
    template <bool kStream>
    static void store_interleaved2(float* row, __m256 even, __m256 odd) {
        const __m256 low = _mm256_unpacklo_ps(even, odd), high = _mm256_unpackhi_ps(even, odd);
        const __m256 first = _mm256_permute2f128_ps(low, high, 0x20),
                     second = _mm256_permute2f128_ps(low, high, 0x31);
        if constexpr (kStream) {
            _mm256_stream_ps(row, first);
            _mm256_stream_ps(row + kLanes, second);
        } else {
            _mm256_storeu_ps(row, first);
            _mm256_storeu_ps(row + kLanes, second);
        }
    }

    // Orders the non-temporal stores before whatever the caller's thread stores next (the thread pool's
    // completion flag): other threads then read their values.
    static void fence_streamed_stores() { _mm_sfence(); }
};

// ------------------------------------------------------------------------------------- elementwise ops

// Sums in double: each float converts exactly, and a product of two floats is exact in double, so only the
// additions round, at double precision.
void channel_moments_avx2(const float* x, size_t plane_size, int c_begin, int c_end, double* sum,
                          double* sum_squares) {
    for (int c = c_begin; c < c_end; ++c) {
        const float* p = x + c * plane_size;
        __m256d s_lo = _mm256_setzero_pd(), s_hi = s_lo, q_lo = s_lo, q_hi = s_lo;
        for_each_vector(0, plane_size, [&](size_t i, auto lanes) {
            const __m256 v = lanes.load(p + i);
            const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
            const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
            s_lo = _mm256_add_pd(s_lo, lo);
            s_hi = _mm256_add_pd(s_hi, hi);
            q_lo = _mm256_fmadd_pd(lo, lo, q_lo);
            q_hi = _mm256_fmadd_pd(hi, hi, q_hi);
        });
        alignas(32) double s[4], q[4];
        _mm256_store_pd(s, _mm256_add_pd(s_lo, s_hi));
        _mm256_store_pd(q, _mm256_add_pd(q_lo, q_hi));
        sum[c] = (s[0] + s[1]) + (s[2] + s[3]);
        sum_squares[c] = (q[0] + q[1]) + (q[2] + q[3]);
    }
}

void scale_shift_leaky_relu_avx2(const float* in, float* out, size_t plane_size, const float* scale,
                                 const float* shift, float negative_slope, int c_begin, int c_end) {
    const __m256 slope = _mm256_set1_ps(negative_slope);
    for (int c = c_begin; c < c_end; ++c) {
        const float* src = in + c * plane_size;
        float* dst = out + c * plane_size;
        const __m256 a = _mm256_set1_ps(scale[c]), b = _mm256_set1_ps(shift[c]);
        for_each_vector(0, plane_size, [&](size_t i, auto lanes) {
            const __m256 v = _mm256_fmadd_ps(lanes.load(src + i), a, b);
            // blendv picks by the sign bit: v * slope where v is negative.
            lanes.store(dst + i, _mm256_blendv_ps(v, _mm256_mul_ps(v, slope), v));
        });
    }
}

// F16C converts 8 values per instruction, rounding to nearest even like the reference; the tail goes through
// the reference itself.
void float_to_half_avx2(const float* in, uint16_t* out, size_t n) {
    size_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT));
    }
    for (; i < n; ++i) out[i] = float_to_half(in[i]);
}

void half_scale_shift_leaky_relu_avx2(const uint16_t* in, float* out, size_t n, float scale, float shift,
                                      float negative_slope) {
    const __m256 a = _mm256_set1_ps(scale), b = _mm256_set1_ps(shift), slope = _mm256_set1_ps(negative_slope);
    auto transform = [&](__m256 x) {
        const __m256 v = _mm256_fmadd_ps(x, a, b);
        return _mm256_blendv_ps(v, _mm256_mul_ps(v, slope), v);
    };
    size_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        const __m256 x = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i)));
        _mm256_storeu_ps(out + i, transform(x));
    }
    if (i < n) {  // the same vector arithmetic on the last few, through a zero-padded copy
        alignas(16) uint16_t tail[kLanes] = {};
        std::copy(in + i, in + n, tail);
        PartialVector(n - i).store(
            out + i, transform(_mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(tail)))));
    }
}

void add_avx2(const float* a, const float* b, float* out, size_t begin, size_t end) {
    for_each_vector(begin, end, [&](size_t i, auto lanes) {
        lanes.store(out + i, _mm256_add_ps(lanes.load(a + i), lanes.load(b + i)));
    });
}

void lerp_avx2(const float* a, const float* b, float t, float* out, size_t n) {
    const __m256 weight = _mm256_set1_ps(t);
    for_each_vector(0, n, [&](size_t i, auto lanes) {
        const __m256 lo = lanes.load(a + i);
        lanes.store(out + i, _mm256_fmadd_ps(_mm256_sub_ps(lanes.load(b + i), lo), weight, lo));
    });
}

void tanh_avx2(float* x, size_t begin, size_t end) {
    for_each_vector(begin, end,
                    [&](size_t i, auto lanes) { lanes.store(x + i, tanh_ps<Avx2Ops>(lanes.load(x + i))); });
}

// ---------------------------------------------------------------------------------------- pad, resize

// Interior rows are one memcpy each (the library's vector copy); only the few border columns go element by
// element.
void pad_avx2(const PadShape& s, const float* input, float* output, int c_begin, int c_end) {
    const int out_h = s.height + s.top + s.bottom, out_w = s.width + s.left + s.right;
    for (int c = c_begin; c < c_end; ++c) {
        const float* in = input + size_t(c) * s.height * s.width;
        float* out = output + size_t(c) * out_h * out_w;
        for (int oy = 0; oy < out_h; ++oy, out += out_w) {
            const int y = pad_source_index(oy - s.top, s.height, s.mode);
            if (y < 0) {
                std::fill(out, out + out_w, 0.f);
                continue;
            }
            const float* in_row = in + size_t(y) * s.width;
            auto border = [&](int ox) {
                const int x = pad_source_index(ox - s.left, s.width, s.mode);
                out[ox] = x < 0 ? 0.f : in_row[x];
            };
            for (int ox = 0; ox < s.left; ++ox) border(ox);
            std::memcpy(out + s.left, in_row, s.width * sizeof(float));
            for (int ox = s.left + s.width; ox < out_w; ++ox) border(ox);
        }
    }
}

// Lanes src[idx[0..7]] for indices below 16, from two loads and two in-register permutes (bit 3 of an index,
// moved to the sign bit, picks the upper vector).
inline __m256 select16(__m256 low, __m256 high, __m256i idx) {
    return _mm256_blendv_ps(_mm256_permutevar8x32_ps(low, idx), _mm256_permutevar8x32_ps(high, idx),
                            _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28)));
}

// Lanes src[idx[0..7]] for any indices. Eight scalar loads: vgatherdps takes ~20 cycles on this AMD core.
inline __m256 gather8(const float* src, const int32_t* idx) {
    return _mm256_setr_ps(src[idx[0]], src[idx[1]], src[idx[2]], src[idx[3]], src[idx[4]], src[idx[5]],
                          src[idx[6]], src[idx[7]]);
}

// Output columns go in chunks whose column taps are computed once and reused for every row of every channel.
// Each output row first blends its two source rows vertically over the chunk's span of input columns (unit
// stride, full vectors), then interpolates horizontally between the blended columns that each output's taps
// pick. A vector of 8 outputs whose taps lie within 16 columns of its first one (any upsampling, downsampling
// by up to 2x) picks them with permutes; wider ones load them one by one.
constexpr int kResizeColumns = 256;  // output columns per chunk
constexpr int kResizeSpan = 1024;    // input columns per chunk

void resize_bilinear_avx2(const ResizeShape& s, const float* input, float* output, int c_begin, int c_end) {
    constexpr int kGroups = kResizeColumns / kLanes;
    alignas(32) int32_t lo[kResizeColumns], hi[kResizeColumns];  // relative to the vector's base column
    alignas(32) float frac[kResizeColumns];
    int32_t base[kGroups];  // each vector's first tap, relative to the chunk's first input column
    bool near[kGroups];     // whether the vector's taps are all below base + 16
    alignas(32) float blended[kResizeSpan + 2 * kLanes] = {};  // slack for select16's loads past the span
    for (int x0 = 0, n = 0; x0 < s.out_width; x0 += n) {
        const int first = resize_taps(x0, s.in_width, s.out_width, s.mode).lo;
        for (n = 0; n < kResizeColumns && x0 + n < s.out_width; ++n) {
            const ResizeTaps t = resize_taps(x0 + n, s.in_width, s.out_width, s.mode);
            if (t.hi - first >= kResizeSpan) break;  // only when shrinking by more than 4x
            lo[n] = t.lo - first, hi[n] = t.hi - first, frac[n] = t.frac;
        }
        const int span = hi[n - 1] + 1;
        for (int i = n; i % kLanes; ++i) lo[i] = lo[n - 1], hi[i] = hi[n - 1], frac[i] = 0.f;  // unused lanes
        for (int g = 0; g * kLanes < n; ++g) {
            base[g] = lo[g * kLanes];
            for (int i = g * kLanes; i < (g + 1) * kLanes; ++i) lo[i] -= base[g], hi[i] -= base[g];
            near[g] = hi[(g + 1) * kLanes - 1] < 2 * kLanes;  // taps grow with the column
        }
        for (int c = c_begin; c < c_end; ++c) {
            const float* in = input + size_t(c) * s.in_height * s.in_width + first;
            float* out = output + size_t(c) * s.out_height * s.out_width + x0;
            for (int oy = 0; oy < s.out_height; ++oy, out += s.out_width) {
                const ResizeTaps ty = resize_taps(oy, s.in_height, s.out_height, s.mode);
                const float* row_lo = in + size_t(ty.lo) * s.in_width;
                const float* row_hi = in + size_t(ty.hi) * s.in_width;
                const __m256 fy = _mm256_set1_ps(ty.frac);
                for_each_vector(0, span, [&](size_t i, auto lanes) {
                    const __m256 top = lanes.load(row_lo + i);
                    lanes.store(blended + i,
                                _mm256_fmadd_ps(_mm256_sub_ps(lanes.load(row_hi + i), top), fy, top));
                });
                for_each_vector(0, n, [&](size_t i, auto lanes) {
                    const float* src = blended + base[i / kLanes];
                    __m256 left, right;
                    if (near[i / kLanes]) {
                        const __m256 low = _mm256_loadu_ps(src), high = _mm256_loadu_ps(src + kLanes);
                        left =
                            select16(low, high, _mm256_load_si256(reinterpret_cast<const __m256i*>(lo + i)));
                        right =
                            select16(low, high, _mm256_load_si256(reinterpret_cast<const __m256i*>(hi + i)));
                    } else {
                        left = gather8(src, lo + i), right = gather8(src, hi + i);
                    }
                    lanes.store(out + i,
                                _mm256_fmadd_ps(_mm256_sub_ps(right, left), _mm256_load_ps(frac + i), left));
                });
            }
        }
    }
}

}  // namespace

const KernelTable* avx2_kernels() {
    static const KernelTable table = [] {
        KernelTable t = scalar_kernels();  // max_pool_2x2 stays scalar: memory-bound and tiny in BlazeFace
        t.isa = "avx2";
        t.conv2d = direct_conv2d<Avx2Ops>;
        t.channel_moments = channel_moments_avx2;
        t.scale_shift_leaky_relu = scale_shift_leaky_relu_avx2;
        t.pad = pad_avx2;
        t.resize_bilinear = resize_bilinear_avx2;
        t.add = add_avx2;
        t.lerp = lerp_avx2;
        t.tanh = tanh_avx2;
        t.conv_winograd = conv_winograd<Avx2Ops>;
        t.conv1x1 = conv1x1_packed<Avx2Ops>;
        t.float_to_half = float_to_half_avx2;
        t.half_scale_shift_leaky_relu = half_scale_shift_leaky_relu_avx2;
        return t;
    }();
    return &table;
}

}  // namespace animegan::kernels
