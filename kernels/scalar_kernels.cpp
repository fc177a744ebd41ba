// Scalar reference kernels: the simplest correct loops, written so a compiler can still vectorize the unit-stride
// inner loops. They are the oracle the SIMD variants are tested against and the fallback on any CPU.
#include <algorithm>
#include <cmath>

#include "kernels/kernels.h"

namespace animegan::kernels {
namespace {

void conv2d_scalar(const ConvShape& s, const float* input, const float* weight, const float* bias, float* output,
                   int oc_begin, int oc_end) {
    const int in_per_group = s.in_channels / s.groups;
    const int out_per_group = s.out_channels / s.groups;
    const size_t in_plane = size_t(s.in_height) * s.in_width;
    const size_t out_plane = size_t(s.out_height) * s.out_width;
    for (int oc = oc_begin; oc < oc_end; ++oc) {
        float* out = output + oc * out_plane;
        std::fill(out, out + out_plane, bias ? bias[oc] : 0.f);
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
                            for (int ox = 0; ox < s.out_width; ++ox) out_row[ox] += tap * in_row[ox * s.stride];
                        }
                    }
                }
            }
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

void scale_shift_leaky_relu_scalar(float* x, size_t plane_size, const float* scale, const float* shift,
                                   float negative_slope, int c_begin, int c_end) {
    for (int c = c_begin; c < c_end; ++c) {
        float* p = x + c * plane_size;
        const float a = scale[c], b = shift[c];
        for (size_t i = 0; i < plane_size; ++i) {
            const float v = p[i] * a + b;
            p[i] = v < 0.f ? v * negative_slope : v;
        }
    }
}

// Maps an output coordinate that may lie outside [0, n) back into the plane.
int source_index(int i, int n, PadMode mode) {
    if (i >= 0 && i < n) return i;
    switch (mode) {
        case PadMode::Reflect: return i < 0 ? -i : 2 * (n - 1) - i;
        case PadMode::Replicate: return i < 0 ? 0 : n - 1;
        case PadMode::Zero: break;
    }
    return -1;
}

void pad_scalar(const PadShape& s, const float* input, float* output, int c_begin, int c_end) {
    const int out_h = s.height + s.top + s.bottom, out_w = s.width + s.left + s.right;
    for (int c = c_begin; c < c_end; ++c) {
        const float* in = input + size_t(c) * s.height * s.width;
        float* out = output + size_t(c) * out_h * out_w;
        for (int oy = 0; oy < out_h; ++oy) {
            const int y = source_index(oy - s.top, s.height, s.mode);
            float* out_row = out + size_t(oy) * out_w;
            for (int ox = 0; ox < out_w; ++ox) {
                const int x = source_index(ox - s.left, s.width, s.mode);
                out_row[ox] = (y < 0 || x < 0) ? 0.f : in[size_t(y) * s.width + x];
            }
        }
    }
}

struct Taps {
    int lo, hi;
    float frac;
};

Taps resize_taps(int dst, int in_size, int out_size, ResizeMode mode) {
    float src = 0.f;
    switch (mode) {
        case ResizeMode::AlignCorners:
            src = out_size > 1 ? float(dst) * (float(in_size - 1) / float(out_size - 1)) : 0.f;
            break;
        case ResizeMode::HalfPixel:
            src = std::max((float(dst) + 0.5f) * (float(in_size) / float(out_size)) - 0.5f, 0.f);
            break;
        case ResizeMode::TfLegacy: src = float(dst) * (float(in_size) / float(out_size)); break;
    }
    const int lo = std::min(int(src), in_size - 1);
    return {lo, std::min(lo + 1, in_size - 1), src - float(lo)};
}

void resize_bilinear_scalar(const ResizeShape& s, const float* input, float* output, int c_begin, int c_end) {
    for (int c = c_begin; c < c_end; ++c) {
        const float* in = input + size_t(c) * s.in_height * s.in_width;
        float* out = output + size_t(c) * s.out_height * s.out_width;
        for (int oy = 0; oy < s.out_height; ++oy) {
            const Taps ty = resize_taps(oy, s.in_height, s.out_height, s.mode);
            const float* row_lo = in + size_t(ty.lo) * s.in_width;
            const float* row_hi = in + size_t(ty.hi) * s.in_width;
            for (int ox = 0; ox < s.out_width; ++ox) {
                const Taps tx = resize_taps(ox, s.in_width, s.out_width, s.mode);
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

void tanh_scalar(float* x, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) x[i] = std::tanh(x[i]);
}

}  // namespace

const KernelTable& scalar_kernels() {
    static const KernelTable table{"scalar",  conv2d_scalar, channel_moments_scalar, scale_shift_leaky_relu_scalar,
                                   pad_scalar, resize_bilinear_scalar, add_scalar, tanh_scalar};
    return table;
}

}  // namespace animegan::kernels
