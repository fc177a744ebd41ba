// Convolution that reads its input through a view: the stored tensor plus what still has to happen to it
// before the convolution sees it (a GroupNorm's per-channel affine and LeakyReLU whose statistics are known,
// a bilinear resize, and the padding). The convolution runs in bands of output rows; each band's input rows
// are gathered with all of that applied into a small buffer. So no normalized, resized or padded copy of an
// activation is ever stored: at 512x512 the 128-channel tensor after the last resize alone would be 128 MB.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "engine/runtime/ops.h"
#include "kernels/coordinates.h"

namespace animegan::ops {

// A stored activation and the per-channel transform still pending on it.
struct Activation {
    Tensor raw;                       // [C, H, W] as the last convolution wrote it
    std::vector<float> scale, shift;  // [C] pending y = x * scale + shift (empty: nothing pending)
    float negative_slope = 1.f;       // pending LeakyReLU after the affine (1 = none)

    bool pending() const { return !scale.empty(); }
};

struct ConvSpec {
    const float* weight;  // [out_channels, in_channels / groups, kernel, kernel]
    const float* bias;    // [out_channels] or null
    int out_channels, kernel, stride, groups;
    Padding pad;
    // Dense stride-1 3x3 and 7x7 layers: the weights transformed by the context's kernel table for its
    // conv_winograd, which then runs instead of conv2d; null: direct convolution.
    const float* winograd_weight = nullptr;
    // Dense 1x1 stride-1 layers: the weights packed by kernels::conv1x1_pack_weights for the table's
    // conv1x1, which then runs instead of conv2d; null: direct convolution.
    const float* conv1x1_weight = nullptr;
};

// conv(pad(resize(activation))) where the resize goes to (height, width); height/width equal to the stored
// size mean no resize. The result is bit-identical for any thread count.
Tensor conv2d_fused(Context& ctx, const Activation& input, int height, int width,
                    kernels::ResizeMode resize_mode, const ConvSpec& conv);

// The pieces conv2d_fused is made of, for the streaming executor (engine/runtime/streaming.h), which keeps
// only a window of each activation's rows.

// Where a gather reads stored values: row y of channel c starts at row(y) + c * channel_stride elements,
// float32 or float16 (IEEE binary16 bits). A whole tensor, or the rows a streaming pass holds.
struct StoredRows {
    int channels = 0, height = 0, width = 0;
    bool half = false;
    size_t channel_stride = 0;
    std::function<const void*(int y)> row;
};
StoredRows stored_rows(const Tensor& t);

// The per-channel transform still pending on stored values (see Activation); null scale: none.
struct PendingTransform {
    const float* scale = nullptr;
    const float* shift = nullptr;
    float negative_slope = 1.f;
};

// Row y of channel c of the stored values with the pending transform applied, into out (width floats).
void transform_stored_row(const kernels::KernelTable& kernels, const StoredRows& input,
                          const PendingTransform& pending, int c, int y, float* out);

// The geometry of conv(pad(resize(x))) for an x of stored_height x stored_width viewed at view_height x
// view_width: per padded row, the stored rows that feed it; checked once (throws Error when the convolution
// does not fit).
struct FusedConvView {
    int channels, stored_height, stored_width, view_height, view_width;
    int padded_height, padded_width, out_height, out_width;
    kernels::ResizeMode resize_mode;
    ConvSpec conv;
    std::vector<kernels::ResizeTaps> rows;

    FusedConvView(int channels, int stored_height, int stored_width, int view_height, int view_width,
                  kernels::ResizeMode resize_mode, const ConvSpec& conv);

    // Padded input rows of output rows [out_begin, out_end): first and count.
    std::pair<int, int> padded_rows(int out_begin, int out_end) const;
    // Stored rows [first, last) that output rows [out_begin, out_end) read; first == last when they read
    // only zero padding.
    std::pair<int, int> stored_rows(int out_begin, int out_end) const;
    // The kernel shape of output rows [out_begin, out_end) gathered as one band.
    kernels::ConvShape band_shape(int out_begin, int out_end) const;
};

// Padded view rows [first_row, first_row + count) of channels [c_begin, c_end) with the pending transform
// applied, into out ([channels][count][padded width], channel c at out + c * count * padded width); scratch
// is the calling thread's own and grows as needed.
void gather_view_rows(const kernels::KernelTable& kernels, const FusedConvView& view, const StoredRows& input,
                      const PendingTransform& pending, int first_row, int count, int c_begin, int c_end,
                      float* out, std::vector<float>& scratch);

// GroupNorm statistics of x folded with gamma/beta into the pending per-channel scale and shift.
void set_pending_group_norm(Context& ctx, Activation& x, int groups, const float* gamma, const float* beta,
                            float eps, float negative_slope);

// Applies the pending transform in place, leaving a plain tensor.
void materialize(Context& ctx, Activation& x);

}  // namespace animegan::ops
