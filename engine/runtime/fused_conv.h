// Convolution that reads its input through a view: the stored tensor plus what still has to happen to it
// before the convolution sees it (a GroupNorm's per-channel affine and LeakyReLU whose statistics are known,
// a bilinear resize, and the padding). The convolution runs in bands of output rows; each band's input rows
// are gathered with all of that applied into a small buffer. So no normalized, resized or padded copy of an
// activation is ever stored: at 512x512 the 128-channel tensor after the last resize alone would be 128 MB.
#pragma once

#include <vector>

#include "engine/runtime/ops.h"

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
};

// conv(pad(resize(activation))) where the resize goes to (height, width); height/width equal to the stored
// size mean no resize. The result is bit-identical for any thread count.
Tensor conv2d_fused(Context& ctx, const Activation& input, int height, int width,
                    kernels::ResizeMode resize_mode, const ConvSpec& conv);

// GroupNorm statistics of x folded with gamma/beta into the pending per-channel scale and shift.
void set_pending_group_norm(Context& ctx, Activation& x, int groups, const float* gamma, const float* beta,
                            float eps, float negative_slope);

// Applies the pending transform in place, leaving a plain tensor.
void materialize(Context& ctx, Activation& x);

}  // namespace animegan::ops
