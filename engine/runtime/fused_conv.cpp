#include "engine/runtime/fused_conv.h"

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

// Writes padded rows of the view, every channel, into a band buffer. The pending affine and LeakyReLU are
// applied to stored values before they are interpolated, as the unfused network would (normalize, then
// resize, then pad). Rows are built with the vector kernels. Without a resize, a view row is a stored row
// transformed into place. With one, the stored rows the band needs are transformed and resized across as one
// block per channel (so the resize's per-call set-up is paid once per block, not per row), and each view row
// blends two of them. Border columns are then copies of the view columns they mirror.
class Gather {
  public:
    Gather(const kernels::KernelTable& kernels, const Activation& input, int view_width,
           kernels::ResizeMode resize_mode, const std::vector<kernels::ResizeTaps>& rows, int padded_width,
           int left, kernels::PadMode pad_mode)
        : k_(kernels),
          input_(input),
          view_width_(view_width),
          resize_mode_(resize_mode),
          rows_(rows),
          padded_width_(padded_width),
          left_(left),
          pad_mode_(pad_mode) {}

    // Padded rows [first_row, first_row + count) of every channel into out ([C][count][padded width]);
    // scratch is the calling thread's own and grows as needed.
    void operator()(int first_row, int count, float* out, std::vector<float>& scratch) const {
        const Tensor& raw = input_.raw;
        const int width = raw.width();
        int first_stored = raw.height(), last_stored = -1;
        bool resized = view_width_ != width;
        for (int r = first_row; r < first_row + count; ++r) {
            const kernels::ResizeTaps ty = rows_[r];
            if (ty.lo < 0) continue;
            first_stored = std::min(first_stored, std::min(ty.lo, ty.hi));
            last_stored = std::max(last_stored, std::max(ty.lo, ty.hi));
            resized = resized || ty.frac != 0.f;
        }
        const int block_rows = last_stored - first_stored + 1;
        if (resized) scratch.resize(size_t(block_rows) * (width + view_width_));
        float* transformed = scratch.data();                       // [block_rows][width]
        float* across = transformed + size_t(block_rows) * width;  // [block_rows][view_width]
        for (int c = 0; c < raw.channels(); ++c) {
            const float* plane = raw.channel(c);
            if (resized && block_rows > 0) {
                transform(c, plane + size_t(first_stored) * width, transformed, size_t(block_rows) * width);
                k_.resize_bilinear({block_rows, width, block_rows, view_width_, resize_mode_}, transformed,
                                   across, 0, 1);
            }
            for (int r = 0; r < count; ++r) {
                const kernels::ResizeTaps ty = rows_[first_row + r];
                float* dst = out + (size_t(c) * count + r) * padded_width_;
                float* view = dst + left_;
                if (ty.lo < 0) {
                    std::fill(dst, dst + padded_width_, 0.f);
                    continue;
                }
                if (!resized) {
                    transform(c, plane + size_t(ty.lo) * width, view, size_t(width));
                } else {
                    const float* top = across + size_t(ty.lo - first_stored) * view_width_;
                    const float* bottom = across + size_t(ty.hi - first_stored) * view_width_;
                    k_.lerp(top, bottom, ty.frac, view, size_t(view_width_));
                }
                pad_borders(dst);
            }
        }
    }

  private:
    // n stored values of channel c with the pending transform applied, in one pass.
    void transform(int c, const float* in, float* out, size_t n) const {
        if (input_.pending()) {
            k_.scale_shift_leaky_relu(in, out, n, &input_.scale[c], &input_.shift[c], input_.negative_slope,
                                      0, 1);
        } else {
            std::copy_n(in, n, out);
        }
    }

    // The padding columns of a row whose view columns are in place.
    void pad_borders(float* row) const {
        auto pad_column = [&](int x) {
            const int v = kernels::pad_source_index(x - left_, view_width_, pad_mode_);
            row[x] = v < 0 ? 0.f : row[left_ + v];
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

Tensor conv2d_fused(Context& ctx, const Activation& input, int height, int width,
                    kernels::ResizeMode resize_mode, const ConvSpec& conv) {
    const Tensor& raw = input.raw;
    const Padding& p = conv.pad;
    if (p.mode == kernels::PadMode::Reflect &&
        (std::max(p.top, p.bottom) >= height || std::max(p.left, p.right) >= width)) {
        throw Error("conv: reflect padding " + std::to_string(std::max({p.top, p.bottom, p.left, p.right})) +
                    " needs a larger input than " + std::to_string(height) + "x" + std::to_string(width));
    }
    const int padded_h = height + p.top + p.bottom, padded_w = width + p.left + p.right;
    if (padded_h < conv.kernel || padded_w < conv.kernel || raw.channels() % conv.groups != 0 ||
        conv.out_channels % conv.groups != 0) {
        throw Error("conv: input [" + std::to_string(raw.channels()) + ", " + std::to_string(height) + ", " +
                    std::to_string(width) + "] does not fit a " + std::to_string(conv.kernel) + "x" +
                    std::to_string(conv.kernel) + " convolution in " + std::to_string(conv.groups) +
                    " groups");
    }
    const int out_h = (padded_h - conv.kernel) / conv.stride + 1,
              out_w = (padded_w - conv.kernel) / conv.stride + 1;
    const auto rows = view_taps(padded_h, p.top, height, raw.height(), resize_mode, p.mode);
    const Gather gather(ctx.kernels, input, width, resize_mode, rows, padded_w, p.left, p.mode);

    Tensor out(conv.out_channels, out_h, out_w, ctx.buffers);
    const int bands = (out_h + kBandRows - 1) / kBandRows;
    const int max_in_rows = (kBandRows - 1) * conv.stride + conv.kernel;
    const bool winograd = conv.winograd_weight && ctx.kernels.conv_winograd;
    const size_t band_in_floats = size_t(raw.channels()) * max_in_rows * padded_w;
    const size_t winograd_floats =
        winograd ? kernels::winograd_scratch_floats({raw.channels(), max_in_rows, padded_w, conv.out_channels,
                                                     kBandRows, out_w, conv.kernel, conv.kernel, 1, 1})
                 : 0;
    ctx.conv_scratch.resize(std::max(ctx.conv_scratch.size(), size_t(ctx.threads.size())));
    ctx.threads.parallel_tasks(size_t(bands), [&](int thread, size_t band) {
        ConvScratch& mine = ctx.conv_scratch[size_t(thread)];
        if (mine.band_in.size() < band_in_floats) mine.band_in.resize(band_in_floats);
        if (mine.winograd.size() < winograd_floats) mine.winograd.resize(winograd_floats);
        const int oy = int(band) * kBandRows, count = std::min(kBandRows, out_h - oy);
        const int in_rows = (count - 1) * conv.stride + conv.kernel;
        gather(oy * conv.stride, in_rows, mine.band_in.data(), mine.gather);
        // The band's rows go straight into their place in the output planes.
        const kernels::ConvShape shape{raw.channels(), in_rows,     padded_w,        conv.out_channels,
                                       count,          out_w,       conv.kernel,     conv.kernel,
                                       conv.stride,    conv.groups, out.plane_size()};
        float* band_out = out.channel(0) + size_t(oy) * out_w;
        if (winograd) {
            ctx.kernels.conv_winograd(shape, mine.band_in.data(), conv.winograd_weight, conv.bias, band_out,
                                      0, conv.out_channels, mine.winograd.data());
        } else {
            ctx.kernels.conv2d(shape, mine.band_in.data(), conv.weight, conv.bias, band_out, 0,
                               conv.out_channels);
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
        ctx.kernels.scale_shift_leaky_relu(x.raw.data(), x.raw.data(), x.raw.plane_size(), x.scale.data(),
                                           x.shift.data(), x.negative_slope, int(begin), int(end));
    });
    x.scale.clear();
    x.shift.clear();
    x.negative_slope = 1.f;
}

}  // namespace animegan::ops
