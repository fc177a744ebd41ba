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

// Writes padded rows of the view, for a range of channels, into a band buffer. The pending affine and
// LeakyReLU are applied to stored values before they are interpolated, as the unfused network would
// (normalize, then resize, then pad). Rows are built with the vector kernels. Without a resize, a view row is
// a stored row transformed into place. With one, the stored rows the band needs are transformed into one
// block per channel and resized across at once (so the resize's per-call set-up is paid once per block, not
// per row), and each view row blends two of them. Border columns are then copies of the view columns they
// mirror.
class Gather {
  public:
    Gather(const kernels::KernelTable& kernels, const FusedConvView& view, const StoredRows& input,
           const PendingTransform& pending)
        : k_(kernels), view_(view), input_(input), pending_(pending) {}

    void operator()(int first_row, int count, int c_begin, int c_end, float* out,
                    std::vector<float>& scratch) const {
        const int width = input_.width, view_width = view_.view_width, padded_width = view_.padded_width;
        int first_stored = input_.height, last_stored = -1;
        bool resized = view_width != width;
        for (int r = first_row; r < first_row + count; ++r) {
            const kernels::ResizeTaps ty = view_.rows[r];
            if (ty.lo < 0) continue;
            first_stored = std::min(first_stored, std::min(ty.lo, ty.hi));
            last_stored = std::max(last_stored, std::max(ty.lo, ty.hi));
            resized = resized || ty.frac != 0.f;
        }
        const int block_rows = last_stored - first_stored + 1;
        if (resized) scratch.resize(size_t(block_rows) * (width + view_width));
        float* transformed = scratch.data();                       // [block_rows][width]
        float* across = transformed + size_t(block_rows) * width;  // [block_rows][view_width]
        for (int c = c_begin; c < c_end; ++c) {
            if (resized && block_rows > 0) {
                for (int y = first_stored; y <= last_stored; ++y)
                    transform(c, y, transformed + size_t(y - first_stored) * width);
                k_.resize_bilinear({block_rows, width, block_rows, view_width, view_.resize_mode},
                                   transformed, across, 0, 1);
            }
            for (int r = 0; r < count; ++r) {
                const kernels::ResizeTaps ty = view_.rows[first_row + r];
                float* dst = out + (size_t(c) * count + r) * padded_width;
                float* row = dst + view_.conv.pad.left;
                if (ty.lo < 0) {
                    std::fill(dst, dst + padded_width, 0.f);
                    continue;
                }
                if (!resized) {
                    transform(c, ty.lo, row);
                } else {
                    const float* top = across + size_t(ty.lo - first_stored) * view_width;
                    const float* bottom = across + size_t(ty.hi - first_stored) * view_width;
                    k_.lerp(top, bottom, ty.frac, row, size_t(view_width));
                }
                pad_borders(dst);
            }
        }
    }

  private:
    void transform(int c, int y, float* out) const { transform_stored_row(k_, input_, pending_, c, y, out); }

    // The padding columns of a row whose view columns are in place.
    void pad_borders(float* row) const {
        const int left = view_.conv.pad.left, view_width = view_.view_width;
        auto pad_column = [&](int x) {
            const int v = kernels::pad_source_index(x - left, view_width, view_.conv.pad.mode);
            row[x] = v < 0 ? 0.f : row[left + v];
        };
        for (int x = 0; x < left; ++x) pad_column(x);
        for (int x = left + view_width; x < view_.padded_width; ++x) pad_column(x);
    }

    const kernels::KernelTable& k_;
    const FusedConvView& view_;
    const StoredRows& input_;
    const PendingTransform& pending_;
};

}  // namespace

void transform_stored_row(const kernels::KernelTable& kernels, const StoredRows& input,
                          const PendingTransform& pending, int c, int y, float* out) {
    const size_t n = size_t(input.width);
    const void* row = input.row(y);
    if (input.half) {
        const uint16_t* in = static_cast<const uint16_t*>(row) + c * input.channel_stride;
        if (pending.scale) {
            kernels.half_scale_shift_leaky_relu(in, out, n, pending.scale[c], pending.shift[c],
                                                pending.negative_slope);
        } else {
            kernels.half_scale_shift_leaky_relu(in, out, n, 1.f, 0.f, 1.f);
        }
        return;
    }
    const float* in = static_cast<const float*>(row) + c * input.channel_stride;
    if (pending.scale) {
        kernels.scale_shift_leaky_relu(in, out, n, &pending.scale[c], &pending.shift[c],
                                       pending.negative_slope, 0, 1);
    } else {
        std::copy_n(in, n, out);
    }
}

StoredRows stored_rows(const Tensor& t) {
    StoredRows rows;
    rows.channels = t.channels(), rows.height = t.height(), rows.width = t.width();
    rows.channel_stride = t.plane_size();
    const float* data = t.data();
    const int width = t.width();
    rows.row = [data, width](int y) -> const void* { return data + size_t(y) * width; };
    return rows;
}

FusedConvView::FusedConvView(int channels_, int stored_height_, int stored_width_, int view_height_,
                             int view_width_, kernels::ResizeMode resize_mode_, const ConvSpec& conv_)
    : channels(channels_),
      stored_height(stored_height_),
      stored_width(stored_width_),
      view_height(view_height_),
      view_width(view_width_),
      resize_mode(resize_mode_),
      conv(conv_) {
    const Padding& p = conv.pad;
    if (p.mode == kernels::PadMode::Reflect &&
        (std::max(p.top, p.bottom) >= view_height || std::max(p.left, p.right) >= view_width)) {
        throw Error("conv: reflect padding " + std::to_string(std::max({p.top, p.bottom, p.left, p.right})) +
                    " needs a larger input than " + std::to_string(view_height) + "x" +
                    std::to_string(view_width));
    }
    padded_height = view_height + p.top + p.bottom, padded_width = view_width + p.left + p.right;
    if (padded_height < conv.kernel || padded_width < conv.kernel || channels % conv.groups != 0 ||
        conv.out_channels % conv.groups != 0) {
        throw Error("conv: input [" + std::to_string(channels) + ", " + std::to_string(view_height) + ", " +
                    std::to_string(view_width) + "] does not fit a " + std::to_string(conv.kernel) + "x" +
                    std::to_string(conv.kernel) + " convolution in " + std::to_string(conv.groups) +
                    " groups");
    }
    out_height = (padded_height - conv.kernel) / conv.stride + 1;
    out_width = (padded_width - conv.kernel) / conv.stride + 1;
    rows = view_taps(padded_height, p.top, view_height, stored_height, resize_mode, p.mode);
}

std::pair<int, int> FusedConvView::padded_rows(int out_begin, int out_end) const {
    return {out_begin * conv.stride, (out_end - out_begin - 1) * conv.stride + conv.kernel};
}

std::pair<int, int> FusedConvView::stored_rows(int out_begin, int out_end) const {
    const auto [first, count] = padded_rows(out_begin, out_end);
    int lo = stored_height, hi = -1;
    for (int r = first; r < first + count; ++r) {
        if (rows[r].lo < 0) continue;
        lo = std::min(lo, std::min(rows[r].lo, rows[r].hi));
        hi = std::max(hi, std::max(rows[r].lo, rows[r].hi));
    }
    return hi < lo ? std::pair<int, int>{0, 0} : std::pair<int, int>{lo, hi + 1};
}

kernels::ConvShape FusedConvView::band_shape(int out_begin, int out_end) const {
    const int in_rows = padded_rows(out_begin, out_end).second;
    return {channels,  in_rows,     padded_width, conv.out_channels, out_end - out_begin,
            out_width, conv.kernel, conv.kernel,  conv.stride,       conv.groups};
}

void gather_view_rows(const kernels::KernelTable& kernels, const FusedConvView& view, const StoredRows& input,
                      const PendingTransform& pending, int first_row, int count, int c_begin, int c_end,
                      float* out, std::vector<float>& scratch) {
    Gather(kernels, view, input, pending)(first_row, count, c_begin, c_end, out, scratch);
}

Tensor conv2d_fused(Context& ctx, const Activation& input, int height, int width,
                    kernels::ResizeMode resize_mode, const ConvSpec& conv) {
    const Tensor& raw = input.raw;
    const FusedConvView view(raw.channels(), raw.height(), raw.width(), height, width, resize_mode, conv);
    const StoredRows rows = stored_rows(raw);
    const PendingTransform pending{input.pending() ? input.scale.data() : nullptr,
                                   input.pending() ? input.shift.data() : nullptr, input.negative_slope};
    const Gather gather(ctx.kernels, view, rows, pending);
    const int out_h = view.out_height, out_w = view.out_width, padded_w = view.padded_width;

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
        float* band_in = mine.band_in.reserve(band_in_floats);
        float* winograd_scratch = winograd ? mine.winograd.reserve(winograd_floats) : nullptr;
        const int oy = int(band) * kBandRows, count = std::min(kBandRows, out_h - oy);
        const kernels::ConvShape shape = [&] {
            kernels::ConvShape s = view.band_shape(oy, oy + count);
            s.out_plane_stride = out.plane_size();
            return s;
        }();
        gather(oy * conv.stride, shape.in_height, 0, raw.channels(), band_in, mine.gather);
        // The band's rows go straight into their place in the output planes.
        float* band_out = out.channel(0) + size_t(oy) * out_w;
        if (winograd) {
            ctx.kernels.conv_winograd(shape, band_in, conv.winograd_weight, conv.bias, band_out, 0,
                                      conv.out_channels, winograd_scratch);
        } else if (conv.conv1x1_weight) {
            ctx.kernels.conv1x1(shape, band_in, conv.conv1x1_weight, conv.bias, band_out, 0,
                                conv.out_channels);
        } else {
            ctx.kernels.conv2d(shape, band_in, conv.weight, conv.bias, band_out, 0, conv.out_channels);
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
