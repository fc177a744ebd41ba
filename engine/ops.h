// One function per operation: checks shapes, allocates the output from the pool, and runs the active kernel
// table's routine split across the thread pool. The model code (generator.cpp) is a sequence of these calls.
#pragma once

#include "animegan/tensor.h"
#include "engine/thread_pool.h"
#include "kernels/kernels.h"

namespace animegan::ops {

struct Context {
    ThreadPool& threads;
    BufferPool& buffers;
    const kernels::KernelTable& kernels;
};

struct Padding {
    int top = 0, bottom = 0, left = 0, right = 0;
    kernels::PadMode mode = kernels::PadMode::Reflect;
    bool any() const { return top | bottom | left | right; }
};

Tensor pad(Context& ctx, const Tensor& x, const Padding& padding);

// Convolution without implicit padding. weight: [out, in / groups, kernel_h, kernel_w]; bias: [out] or null.
Tensor conv2d(Context& ctx, const Tensor& x, const float* weight, const float* bias, int out_channels, int kernel_h,
              int kernel_w, int stride, int groups);

// GroupNorm over `groups` groups of channels (1 = LayerNorm over C,H,W; channels = InstanceNorm), affine with
// gamma/beta [C], then LeakyReLU with negative_slope (1 = none). In place.
void group_norm(Context& ctx, Tensor& x, int groups, const float* gamma, const float* beta, float eps,
                float negative_slope);

Tensor resize_bilinear(Context& ctx, const Tensor& x, int out_height, int out_width, kernels::ResizeMode mode);

void add_in_place(Context& ctx, Tensor& x, const Tensor& y);

void tanh_in_place(Context& ctx, Tensor& x);

// Squeeze-excitation: y = sigmoid(fc2(relu(fc1(mean over H,W of x)))); x[c] *= y[c]. In place.
// fc1_weight: [hidden, C], fc1_bias: [hidden], fc2_weight: [C, hidden], fc2_bias: [C].
void channel_attention(Context& ctx, Tensor& x, const float* fc1_weight, const float* fc1_bias, int hidden,
                       const float* fc2_weight, const float* fc2_bias);

}  // namespace animegan::ops
