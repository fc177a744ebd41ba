// One function per operation: checks shapes, allocates the output from the pool, and runs the active kernel
// table's routine split across the thread pool. The networks (engine/models/*) are written in these calls and
// the fused convolution (fused_conv.h), which most of their layers go through.
#pragma once

#include <array>
#include <functional>
#include <vector>

#include "animegan/animegan.h"  // NormStatisticsHook
#include "animegan/tensor.h"
#include "engine/runtime/thread_pool.h"
#include "kernels/kernels.h"

namespace animegan::ops {

// Floats a kernel writes before it reads them. Growing neither copies nor zero-fills (a std::vector would
// do both, and fault every page of the copy); large buffers get the tensor allocator's huge pages.
class Scratch {
  public:
    float* reserve(size_t count) {
        if (count > storage_.size()) {
            storage_ = Tensor();  // the old buffer goes before the new one comes
            storage_ = Tensor(1, 1, int(count));
        }
        return storage_.data();
    }

  private:
    Tensor storage_;
};

// One thread's buffers for the fused convolution (fused_conv.cpp). They live as long as the Context, so the
// convolutions of a pass reuse them instead of allocating and page-faulting megabytes each time.
struct ConvScratch {
    Scratch band_in, winograd;
    std::vector<float> gather;
};

// Per-channel sums and sums of squares of `count` values each: what a norm or an attention measures.
struct Moments {
    std::vector<double> sum, sum_squares;
    double count = 0;
};

// A pass over samples of a photo (fast mode): besides (or instead of) whole planes, each norm and attention
// measures over rectangles of the input (x0, y0, x1, y1 in input pixels, `border` pixels left out along their
// edges; a layer of height h sees them scaled by h / height; none: whole planes), and a callback sees both
// and may replace what the layer then uses.
struct SamplePass {
    int height = 0, width = 0;
    std::vector<std::array<int, 4>> rectangles;
    int border = 0;
    bool normalize_over_rectangles = false;  // else over whole planes, the rectangles' moments only reported
    // attention: false for a norm (index in norm order), true for an attention (index in attention order).
    std::function<void(bool attention, int index, Moments& used, const Moments& rectangles)> on_moments;
};

struct Context {
    ThreadPool& threads;
    BufferPool& buffers;
    const kernels::KernelTable& kernels;
    std::vector<ConvScratch> conv_scratch = {};  // one per thread, grown on demand
    // The caller's RunOptions::on_norm_statistics (may be null or empty), and the index of the next norm.
    const NormStatisticsHook* on_norm_statistics = nullptr;
    int norm_index = 0;
    int attention_index = 0;
    // Null: statistics over whole planes.
    const SamplePass* sample_pass = nullptr;
};

struct Padding {
    int top = 0, bottom = 0, left = 0, right = 0;
    kernels::PadMode mode = kernels::PadMode::Reflect;
    bool any() const { return top | bottom | left | right; }
};

Tensor pad(Context& ctx, const Tensor& x, const Padding& padding);

// Convolution without implicit padding. weight: [out, in / groups, kernel_h, kernel_w]; bias: [out] or null.
Tensor conv2d(Context& ctx, const Tensor& x, const float* weight, const float* bias, int out_channels,
              int kernel_h, int kernel_w, int stride, int groups);

// GroupNorm over `groups` groups of channels (1 = LayerNorm over C,H,W; channels = InstanceNorm), affine with
// gamma/beta [C], then LeakyReLU with negative_slope (1 = none). In place.
void group_norm(Context& ctx, Tensor& x, int groups, const float* gamma, const float* beta, float eps,
                float negative_slope);

// The statistics half of group_norm: the per-channel scale and shift that normalize x and apply gamma/beta.
void group_norm_scale_shift(Context& ctx, const Tensor& x, int groups, const float* gamma, const float* beta,
                            float eps, std::vector<float>& scale, std::vector<float>& shift);

// The same from per-channel sums and sums of squares of `count` values each (the streaming executor adds them
// up over bands of rows): per-group mean and variance, the context's statistics hook, then scale and shift.
void group_norm_fold(Context& ctx, const std::vector<double>& sum, const std::vector<double>& sum_squares,
                     double count, int groups, const float* gamma, const float* beta, float eps,
                     std::vector<float>& scale, std::vector<float>& shift);

Tensor resize_bilinear(Context& ctx, const Tensor& x, int out_height, int out_width,
                       kernels::ResizeMode mode);

void add_in_place(Context& ctx, Tensor& x, const Tensor& y);

void tanh_in_place(Context& ctx, Tensor& x);

// Squeeze-excitation: y = sigmoid(fc2(relu(fc1(mean over H,W of x)))); x[c] *= y[c]. In place.
// fc1_weight: [hidden, C], fc1_bias: [hidden], fc2_weight: [C, hidden], fc2_bias: [C].
void channel_attention(Context& ctx, Tensor& x, const float* fc1_weight, const float* fc1_bias, int hidden,
                       const float* fc2_weight, const float* fc2_bias);

// Its gate y from per-channel sums of `count` values each.
std::vector<float> channel_attention_gate(const std::vector<double>& sum, double count,
                                          const float* fc1_weight, const float* fc1_bias, int hidden,
                                          const float* fc2_weight, const float* fc2_bias);

// TensorFlow's SAME padding for a kernel x kernel window at `stride` on a height x width input, with zeros:
// the output is ceil(size / stride) and any odd padding goes to the bottom/right.
Padding tf_same_padding(int height, int width, int kernel, int stride);

// 2x2 max-pool with stride 2; output [C, ceil(H / 2), ceil(W / 2)] (TF SAME: windows clipped at odd edges).
Tensor max_pool_2x2(Context& ctx, const Tensor& x);

// kernel x kernel max pooling at `stride`: with `same`, TF SAME padding (output ceil(size / stride), windows
// cut by the bottom / right edge; Error when the padding would fall before the plane, as for odd windows at
// stride 1); else VALID (output (size - kernel) / stride + 1).
Tensor max_pool(Context& ctx, const Tensor& x, int kernel, int stride, bool same);

// y += x with x zero-padded along channels up to y's count: y[c] += x[c] for c < x.channels(). In place.
// This is TF's channel PAD followed by ADD, without materializing the zeros.
void add_channel_padded_in_place(Context& ctx, Tensor& y, const Tensor& x);

// x[c] += bias[c] (bias may be null: no bias), then LeakyReLU with negative_slope (0 = ReLU, 1 = none). In
// place. After a conv2d without bias this adds the bias after the sum, in TensorFlow's order.
void bias_leaky_relu_in_place(Context& ctx, Tensor& x, const float* bias, float negative_slope);

// The same with one slope per channel (PReLU): x[c] += bias[c], then x[c] *= slopes[c] where negative. In
// place.
void bias_prelu_in_place(Context& ctx, Tensor& x, const float* bias, const float* slopes);

}  // namespace animegan::ops
