#include "engine/fused_conv.h"

#include <algorithm>

#include "animegan/error.h"
#include "kernels/coordinates.h"

namespace animegan::ops {
namespace {

// Output rows per band. Small enough that a band's gathered input (C x rows x padded width) stays a few MB,
// large enough that the rows re-read at band edges (kernel - stride of them) cost little. A multiple of the
// Winograd tile side (4), so only the last band can end in partial tiles.
constexpr int kBandRows = 16;

// For each row (or column) of the padded, resized view: which stored rows feed it. lo < 0 means zero padding.
std::vector<kernels::ResizeTaps> view_taps(int padded_size, int before, int view_size, int stored_size,
                                           kernels::ResizeMode resize_mode, kernels::PadMode pad_mode) {
    std::vector<kernels::ResizeTaps> taps(padded_size);
    for (int p = 0; p < padded_size; ++p) {
        const int v = kernels::pad_source_index(p - before, view_size, pad_mode);
        if (v < 0) {
            taps[p] = {-1, -1, 0.f};
        } else if (view_size == stored_size) {
            taps[p] = {v, v, 0.f};
        } else {
            taps[p] = kernels::resize_taps(v, stored_size, view_size, resize_mode);
        }
    }
    return taps;
}

struct Gather {
    const Activation& input;
    const std::vector<kernels::ResizeTaps>& rows;  // per padded row
    const std::vector<kernels::ResizeTaps>& cols;  // per padded column

    // Writes padded rows [first_row, first_row + count) of every channel into out ([C][count][cols]), with the
    // pending affine and LeakyReLU applied to stored values before they are interpolated, as the unfused
    // network would (normalize, then resize, then pad).
    void operator()(int first_row, int count, float* out) const {
        const Tensor& raw = input.raw;
        const int width = raw.width(), padded_width = int(cols.size());
        const bool pending = input.pending();
        const float slope = input.negative_slope;
        for (int c = 0; c < raw.channels(); ++c) {
            const float* plane = raw.channel(c);
            const float a = pending ? input.scale[c] : 1.f, b = pending ? input.shift[c] : 0.f;
            auto act = [&](float v) {
                v = v * a + b;
                return v < 0.f ? v * slope : v;
            };
            for (int r = 0; r < count; ++r) {
                const kernels::ResizeTaps ty = rows[first_row + r];
                float* dst = out + (size_t(c) * count + r) * padded_width;
                if (ty.lo < 0) {
                    std::fill(dst, dst + padded_width, 0.f);
                    continue;
                }
                const float* top = plane + size_t(ty.lo) * width;
                const float* bottom = plane + size_t(ty.hi) * width;
                for (int x = 0; x < padded_width; ++x) {
                    const kernels::ResizeTaps tx = cols[x];
                    if (tx.lo < 0) {
                        dst[x] = 0.f;
                    } else if (tx.frac == 0.f && ty.frac == 0.f) {
                        dst[x] = act(top[tx.lo]);
                    } else {
                        const float t0 = act(top[tx.lo]), t1 = act(top[tx.hi]);
                        const float b0 = act(bottom[tx.lo]), b1 = act(bottom[tx.hi]);
                        const float upper = t0 + (t1 - t0) * tx.frac, lower = b0 + (b1 - b0) * tx.frac;
                        dst[x] = upper + (lower - upper) * ty.frac;
                    }
                }
            }
        }
    }
};

}  // namespace

Tensor conv2d_fused(Context& ctx, const Activation& input, int height, int width, kernels::ResizeMode resize_mode,
                    const ConvSpec& conv) {
    const Tensor& raw = input.raw;
    const Padding& p = conv.pad;
    if (p.mode == kernels::PadMode::Reflect && (std::max(p.top, p.bottom) >= height || std::max(p.left, p.right) >= width)) {
        throw Error("conv: reflect padding " + std::to_string(std::max({p.top, p.bottom, p.left, p.right})) +
                    " needs a larger input than " + std::to_string(height) + "x" + std::to_string(width));
    }
    const int padded_h = height + p.top + p.bottom, padded_w = width + p.left + p.right;
    if (padded_h < conv.kernel || padded_w < conv.kernel || raw.channels() % conv.groups != 0 ||
        conv.out_channels % conv.groups != 0) {
        throw Error("conv: input [" + std::to_string(raw.channels()) + ", " + std::to_string(height) + ", " +
                    std::to_string(width) + "] does not fit a " + std::to_string(conv.kernel) + "x" +
                    std::to_string(conv.kernel) + " convolution in " + std::to_string(conv.groups) + " groups");
    }
    const int out_h = (padded_h - conv.kernel) / conv.stride + 1, out_w = (padded_w - conv.kernel) / conv.stride + 1;
    const auto rows = view_taps(padded_h, p.top, height, raw.height(), resize_mode, p.mode);
    const auto cols = view_taps(padded_w, p.left, width, raw.width(), resize_mode, p.mode);
    const Gather gather{input, rows, cols};

    Tensor out(conv.out_channels, out_h, out_w, ctx.buffers);
    const int bands = (out_h + kBandRows - 1) / kBandRows;
    const bool winograd = conv.winograd_weight && ctx.kernels.conv3x3_winograd && conv.kernel == 3 &&
                          conv.stride == 1 && conv.groups == 1;
    ctx.threads.parallel_for(size_t(bands), [&](size_t band_begin, size_t band_end) {
        const int max_in_rows = (kBandRows - 1) * conv.stride + conv.kernel;
        std::vector<float> band_in(size_t(raw.channels()) * max_in_rows * padded_w);
        std::vector<float> scratch;
        if (winograd) {
            const kernels::ConvShape widest{
                raw.channels(), max_in_rows, padded_w, conv.out_channels, kBandRows, out_w, 3, 3, 1, 1};
            scratch.resize(ctx.kernels.winograd_scratch_floats(widest));
        }
        for (size_t band = band_begin; band < band_end; ++band) {
            const int oy = int(band) * kBandRows, count = std::min(kBandRows, out_h - oy);
            const int in_rows = (count - 1) * conv.stride + conv.kernel;
            gather(oy * conv.stride, in_rows, band_in.data());
            // The band's rows go straight into their place in the output planes.
            const kernels::ConvShape shape{raw.channels(), in_rows,     padded_w,    conv.out_channels, count,
                                           out_w,          conv.kernel, conv.kernel, conv.stride,       conv.groups,
                                           out.plane_size()};
            float* band_out = out.channel(0) + size_t(oy) * out_w;
            if (winograd) {
                ctx.kernels.conv3x3_winograd(shape, band_in.data(), conv.winograd_weight, conv.bias, band_out,
                                             0, conv.out_channels, scratch.data());
            } else {
                ctx.kernels.conv2d(shape, band_in.data(), conv.weight, conv.bias, band_out, 0,
                                   conv.out_channels);
            }
        }
    });
    return out;
}

void set_pending_group_norm(Context& ctx, Activation& x, int groups, const float* gamma, const float* beta,
                            float eps, float negative_slope) {
    group_norm_scale_shift(ctx, x.raw, groups, gamma, beta, eps, x.scale, x.shift);
    x.negative_slope = negative_slope;
}

void materialize(Context& ctx, Activation& x) {
    if (!x.pending()) return;
    ctx.threads.parallel_for(size_t(x.raw.channels()), [&](size_t begin, size_t end) {
        ctx.kernels.scale_shift_leaky_relu(x.raw.data(), x.raw.plane_size(), x.scale.data(), x.shift.data(),
                                           x.negative_slope, int(begin), int(end));
    });
    x.scale.clear();
    x.shift.clear();
    x.negative_slope = 1.f;
}

}  // namespace animegan::ops
