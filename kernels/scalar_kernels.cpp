// Scalar reference kernels: the simplest correct loops, written so a compiler can still vectorize the
// unit-stride inner loops. They are the fallback on any CPU, and every SIMD table starts as a copy of this
// one.
#include <algorithm>
#include <cmath>

#include "kernels/conv1x1.h"
#include "kernels/coordinates.h"
#include "kernels/float16.h"
#include "kernels/kernels.h"
#include "kernels/winograd.h"

namespace animegan::kernels {
namespace {

void conv2d_scalar(const ConvShape& s, const float* input, const float* weight, const float* bias,
                   float* output, int oc_begin, int oc_end) {
    const int in_per_group = s.in_channels / s.groups;
    const int out_per_group = s.out_channels / s.groups;
    const size_t in_plane = s.in_plane();
    const size_t out_plane = s.out_plane();
    for (int oc = oc_begin; oc < oc_end; ++oc) {
        float* out = output + oc * out_plane;
        std::fill(out, out + size_t(s.out_height) * s.out_width, bias ? bias[oc] : 0.f);
        const int ic_first = (oc / out_per_group) * in_per_group;
        for (int i = 0; i < in_per_group; ++i) {
            const float* in = input + (ic_first + i) * in_plane;
            const float* w = weight + (size_t(oc) * in_per_group + i) * s.kernel_h * s.kernel_w;
            for (int ky = 0; ky < s.kernel_h; ++ky) {
                for (int kx = 0; kx < s.kernel_w; ++kx) {
                    const float tap = w[ky * s.kernel_w + kx];
                    for (int oy = 0; oy < s.out_height; ++oy) {
                        const float* in_row = in + size_t(oy * s.stride + ky) * s.in_width + kx;
                        float* out_row = out + size_t(oy) * s.out_width;
                        if (s.stride == 1) {
                            for (int ox = 0; ox < s.out_width; ++ox) out_row[ox] += tap * in_row[ox];
                        } else {
                            for (int ox = 0; ox < s.out_width; ++ox)
                                out_row[ox] += tap * in_row[ox * s.stride];
                        }
                    }
                }
            }
        }
    }
}

// out[oc] = bias[oc] + sum over k of W[oc][k] * in[k], k in order, W read from its packed panels.
void conv1x1_scalar(const ConvShape& s, const float* input, const float* packed_weight, const float* bias,
                    float* output, int oc_begin, int oc_end) {
    constexpr int P = kConv1x1PanelRows;
    const size_t pixels = size_t(s.out_height) * s.out_width;
    for (int oc = oc_begin; oc < oc_end; ++oc) {
        float* out = output + oc * s.out_plane();
        std::fill(out, out + pixels, bias ? bias[oc] : 0.f);
        const float* w = packed_weight + size_t(oc / P) * s.in_channels * P + oc % P;
        for (int k = 0; k < s.in_channels; ++k) {
            const float* in = input + k * s.in_plane();
            for (size_t p = 0; p < pixels; ++p) out[p] += w[k * P] * in[p];
        }
    }
}

void channel_moments_scalar(const float* x, size_t plane_size, int c_begin, int c_end, double* sum,
                            double* sum_squares) {
    for (int c = c_begin; c < c_end; ++c) {
        const float* p = x + c * plane_size;
        double s = 0, sq = 0;
        for (size_t i = 0; i < plane_size; ++i) {
            s += p[i];
            sq += double(p[i]) * p[i];
        }
        sum[c] = s;
        sum_squares[c] = sq;
    }
}

void scale_shift_leaky_relu_scalar(const float* in, float* out, size_t plane_size, const float* scale,
                                   const float* shift, float negative_slope, int c_begin, int c_end) {
    for (int c = c_begin; c < c_end; ++c) {
        const float* src = in + c * plane_size;
        float* dst = out + c * plane_size;
        const float a = scale[c], b = shift[c];
        for (size_t i = 0; i < plane_size; ++i) {
            const float v = src[i] * a + b;
            dst[i] = v < 0.f ? v * negative_slope : v;
        }
    }
}

void pad_scalar(const PadShape& s, const float* input, float* output, int c_begin, int c_end) {
    const int out_h = s.height + s.top + s.bottom, out_w = s.width + s.left + s.right;
    for (int c = c_begin; c < c_end; ++c) {
        const float* in = input + size_t(c) * s.height * s.width;
        float* out = output + size_t(c) * out_h * out_w;
        for (int oy = 0; oy < out_h; ++oy) {
            const int y = pad_source_index(oy - s.top, s.height, s.mode);
            float* out_row = out + size_t(oy) * out_w;
            for (int ox = 0; ox < out_w; ++ox) {
                const int x = pad_source_index(ox - s.left, s.width, s.mode);
                out_row[ox] = (y < 0 || x < 0) ? 0.f : in[size_t(y) * s.width + x];
            }
        }
    }
}

void resize_bilinear_scalar(const ResizeShape& s, const float* input, float* output, int c_begin, int c_end) {
    for (int c = c_begin; c < c_end; ++c) {
        const float* in = input + size_t(c) * s.in_height * s.in_width;
        float* out = output + size_t(c) * s.out_height * s.out_width;
        for (int oy = 0; oy < s.out_height; ++oy) {
            const ResizeTaps ty = resize_taps(oy, s.in_height, s.out_height, s.mode);
            const float* row_lo = in + size_t(ty.lo) * s.in_width;
            const float* row_hi = in + size_t(ty.hi) * s.in_width;
            for (int ox = 0; ox < s.out_width; ++ox) {
                const ResizeTaps tx = resize_taps(ox, s.in_width, s.out_width, s.mode);
                const float top = row_lo[tx.lo] + (row_lo[tx.hi] - row_lo[tx.lo]) * tx.frac;
                const float bottom = row_hi[tx.lo] + (row_hi[tx.hi] - row_hi[tx.lo]) * tx.frac;
                out[size_t(oy) * s.out_width + ox] = top + (bottom - top) * ty.frac;
            }
        }
    }
}

void add_scalar(const float* a, const float* b, float* out, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) out[i] = a[i] + b[i];
}

void lerp_scalar(const float* a, const float* b, float t, float* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = a[i] + (b[i] - a[i]) * t;
}

void tanh_scalar(float* x, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) x[i] = std::tanh(x[i]);
}

void max_pool_2x2_scalar(int height, int width, const float* input, float* output, int c_begin, int c_end) {
    const int out_h = (height + 1) / 2, out_w = (width + 1) / 2;
    for (int c = c_begin; c < c_end; ++c) {
        const float* in = input + size_t(c) * height * width;
        float* out = output + size_t(c) * out_h * out_w;
        for (int oy = 0; oy < out_h; ++oy) {
            const int y0 = 2 * oy, y1 = std::min(y0 + 1, height - 1);
            for (int ox = 0; ox < out_w; ++ox) {
                const int x0 = 2 * ox, x1 = std::min(x0 + 1, width - 1);
                const float* r0 = in + size_t(y0) * width;
                const float* r1 = in + size_t(y1) * width;
                out[size_t(oy) * out_w + ox] = std::max(std::max(r0[x0], r0[x1]), std::max(r1[x0], r1[x1]));
            }
        }
    }
}

// Separable: each output row first takes the maximum over its window's rows into a row buffer (a loop the
// compiler vectorizes), then each output the maximum over its columns of that buffer; in chunks of columns,
// as kernels do not allocate.
void max_pool_scalar(const PoolShape& s, const float* input, float* output, int c_begin, int c_end) {
    constexpr int kChunk = 2048;
    float rows[kChunk];
    const int chunk_out = (kChunk - s.kernel) / s.stride + 1;
    for (int c = c_begin; c < c_end; ++c) {
        const float* in = input + size_t(c) * s.in_height * s.in_width;
        float* out = output + size_t(c) * s.out_height * s.out_width;
        for (int oy = 0; oy < s.out_height; ++oy) {
            const int y0 = oy * s.stride, y1 = std::min(y0 + s.kernel, s.in_height);
            for (int ox0 = 0; ox0 < s.out_width; ox0 += chunk_out) {
                const int ox1 = std::min(ox0 + chunk_out, s.out_width);
                const int ix0 = ox0 * s.stride, ix1 = std::min((ox1 - 1) * s.stride + s.kernel, s.in_width);
                const int n = ix1 - ix0;
                std::copy_n(in + size_t(y0) * s.in_width + ix0, n, rows);
                for (int y = y0 + 1; y < y1; ++y) {
                    const float* row = in + size_t(y) * s.in_width + ix0;
                    for (int i = 0; i < n; ++i) rows[i] = rows[i] < row[i] ? row[i] : rows[i];
                }
                for (int ox = ox0; ox < ox1; ++ox) {
                    const int x0 = ox * s.stride - ix0,
                              x1 = std::min(ox * s.stride + s.kernel, s.in_width) - ix0;
                    float m = rows[x0];
                    for (int x = x0 + 1; x < x1; ++x) m = std::max(m, rows[x]);
                    out[size_t(oy) * s.out_width + ox] = m;
                }
            }
        }
    }
}

void float_to_half_scalar(const float* in, uint16_t* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = float_to_half(in[i]);
}

void half_scale_shift_leaky_relu_scalar(const uint16_t* in, float* out, size_t n, float scale, float shift,
                                        float negative_slope) {
    for (size_t i = 0; i < n; ++i) {
        const float v = half_to_float(in[i]) * scale + shift;
        out[i] = v < 0.f ? v * negative_slope : v;
    }
}

}  // namespace

const KernelTable& scalar_kernels() {
    static const KernelTable table = [] {
        KernelTable t{};  // value-initialized: a slot left out stays null, which the tests catch
        t.isa = "scalar";
        t.conv2d = conv2d_scalar;
        t.channel_moments = channel_moments_scalar;
        t.scale_shift_leaky_relu = scale_shift_leaky_relu_scalar;
        t.pad = pad_scalar;
        t.resize_bilinear = resize_bilinear_scalar;
        t.add = add_scalar;
        t.lerp = lerp_scalar;
        t.tanh = tanh_scalar;
        t.max_pool_2x2 = max_pool_2x2_scalar;
        t.conv_winograd = conv_winograd<ScalarWinogradOps>;
        t.conv1x1 = conv1x1_scalar;
        t.max_pool = max_pool_scalar;
        t.float_to_half = float_to_half_scalar;
        t.half_scale_shift_leaky_relu = half_scale_shift_leaky_relu_scalar;
        return t;
    }();
    return table;
}

}  // namespace animegan::kernels
