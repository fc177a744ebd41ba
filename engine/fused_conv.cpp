#include "engine/fused_conv.h"

#include <algorithm>

#include "animegan/error.h"
#include "kernels/coordinates.h"

namespace animegan::ops {
namespace {

// Output rows per band. Small enough that a band's gathered input (C x rows x padded width) stays a few MB,
// large enough that the rows re-read at band edges (kernel - stride of them) cost little.
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

// Writes padded rows of the view, every channel, into a band buffer. The pending affine and LeakyReLU are applied
// to stored values before they are interpolated, as the unfused network would (normalize, then resize, then pad).
// Rows are built with the vector kernels: a stored row is copied, transformed in place, resized horizontally and
// padded (its border columns are copies of view columns); a resized view row then blends two such rows.
class Gather {
public:
    Gather(const kernels::KernelTable& kernels, const Activation& input, int view_width, kernels::ResizeMode resize_mode,
           const std::vector<kernels::ResizeTaps>& rows, int padded_width, int left, kernels::PadMode pad_mode)
        : k_(kernels), input_(input), view_width_(view_width), resize_mode_(resize_mode), rows_(rows),
          padded_width_(padded_width), left_(left), pad_mode_(pad_mode) {}

    // Floats of per-thread scratch operator() needs.
    size_t scratch_floats() const { return 2 * size_t(padded_width_) + size_t(input_.raw.width()); }

    // Padded rows [first_row, first_row + count) of every channel into out ([C][count][padded width]).
    void operator()(int first_row, int count, float* out, float* scratch) const {
        const size_t padded_width = padded_width_;
        const bool resized_across = view_width_ != input_.raw.width();
        for (int c = 0; c < input_.raw.channels(); ++c) {
            // Resized views blend two prepared stored rows per view row; consecutive view rows share them, so
            // the last two stay cached. Fetching one never evicts `keep`, the other row of the pair.
            float* cached[2] = {scratch, scratch + padded_width};
            int cached_row[2] = {-1, -1};
            auto prepared = [&](int stored_row, int keep) -> const float* {
                for (int i = 0; i < 2; ++i)
                    if (cached_row[i] == stored_row) return cached[i];
                const int slot = cached_row[0] == keep ? 1 : cached_row[1] == keep ? 0 : cached_row[1] < cached_row[0];
                prepare_row(c, stored_row, cached[slot], scratch + 2 * padded_width);
                cached_row[slot] = stored_row;
                return cached[slot];
            };
            for (int r = 0; r < count; ++r) {
                const kernels::ResizeTaps ty = rows_[first_row + r];
                float* dst = out + (size_t(c) * count + r) * padded_width;
                if (ty.lo < 0) {
                    std::fill(dst, dst + padded_width, 0.f);
                } else if (ty.frac == 0.f && !resized_across) {
                    prepare_row(c, ty.lo, dst, scratch + 2 * padded_width);
                } else if (ty.frac == 0.f) {
                    std::copy_n(prepared(ty.lo, -1), padded_width, dst);
                } else {
                    const float* top = prepared(ty.lo, ty.hi);
                    k_.lerp(top, prepared(ty.hi, ty.lo), ty.frac, dst, padded_width);
                }
            }
        }
    }

private:
    // Stored row y of channel c with the pending transform applied, resized to the view's width and padded,
    // into out (padded width). resize_in (stored width) holds the transformed row when the width changes.
    void prepare_row(int c, int y, float* out, float* resize_in) const {
        const Tensor& raw = input_.raw;
        const int width = raw.width();
        const bool resized_across = view_width_ != width;
        float* view = out + left_;
        float* transformed = resized_across ? resize_in : view;
        std::copy_n(raw.channel(c) + size_t(y) * width, width, transformed);
        if (input_.pending()) {
            k_.scale_shift_leaky_relu(transformed, size_t(width), &input_.scale[c], &input_.shift[c],
                                      input_.negative_slope, 0, 1);
        }
        if (resized_across) {
            k_.resize_bilinear({1, width, 1, view_width_, resize_mode_}, transformed, view, 0, 1);
        }
        auto pad_column = [&](int x) {
            const int v = kernels::pad_source_index(x - left_, view_width_, pad_mode_);
            out[x] = v < 0 ? 0.f : view[v];
        };
        for (int x = 0; x < left_; ++x) pad_column(x);
        for (int x = left_ + view_width_; x < padded_width_; ++x) pad_column(x);
    }

    const kernels::KernelTable& k_;
    const Activation& input_;
    int view_width_;
    kernels::ResizeMode resize_mode_;
    const std::vector<kernels::ResizeTaps>& rows_;  // per padded row: the stored rows that feed it
    int padded_width_;
    int left_;
    kernels::PadMode pad_mode_;
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
    const Gather gather(ctx.kernels, input, width, resize_mode, rows, padded_w, p.left, p.mode);

    Tensor out(conv.out_channels, out_h, out_w, ctx.buffers);
    const int bands = (out_h + kBandRows - 1) / kBandRows;
    const int max_in_rows = (kBandRows - 1) * conv.stride + conv.kernel;
    struct Scratch {
        std::vector<float> band_in, gather;
    };
    std::vector<Scratch> scratch(size_t(ctx.threads.size()));  // per thread, sized on its first band
    ctx.threads.parallel_tasks(size_t(bands), [&](int thread, size_t band) {
        Scratch& mine = scratch[size_t(thread)];
        if (mine.band_in.empty()) {
            mine.band_in.resize(size_t(raw.channels()) * max_in_rows * padded_w);
            mine.gather.resize(gather.scratch_floats());
        }
        const int oy = int(band) * kBandRows, count = std::min(kBandRows, out_h - oy);
        const int in_rows = (count - 1) * conv.stride + conv.kernel;
        gather(oy * conv.stride, in_rows, mine.band_in.data(), mine.gather.data());
        // The band's rows go straight into their place in the output planes.
        const kernels::ConvShape shape{raw.channels(), in_rows,     padded_w,    conv.out_channels, count,
                                       out_w,          conv.kernel, conv.kernel, conv.stride,       conv.groups,
                                       out.plane_size()};
        ctx.kernels.conv2d(shape, mine.band_in.data(), conv.weight, conv.bias, out.channel(0) + size_t(oy) * out_w,
                           0, conv.out_channels);
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
