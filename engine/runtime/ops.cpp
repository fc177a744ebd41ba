#include "engine/runtime/ops.h"

#include <cmath>
#include <string>
#include <vector>

#include "animegan/error.h"

namespace animegan::ops {
namespace {

void require(bool ok, const std::string& what) {
    if (!ok) throw Error(what);
}

std::string shape_of(const Tensor& x) {
    return "[" + std::to_string(x.channels()) + ", " + std::to_string(x.height()) + ", " +
           std::to_string(x.width()) + "]";
}

// Per-channel work, split across threads by channel.
template <typename Fn>
void for_channels(Context& ctx, int channels, Fn&& fn) {
    ctx.threads.parallel_for(size_t(channels), [&](size_t begin, size_t end) { fn(int(begin), int(end)); });
}

// What a norm or an attention measures of x: moments over whole planes, or as the context's sample pass says.
Moments statistics_moments(Context& ctx, const Tensor& x, bool attention) {
    const int channels = x.channels();
    auto whole = [&] {
        Moments m;
        m.sum.assign(size_t(channels), 0.0);
        m.sum_squares.assign(size_t(channels), 0.0);
        for_channels(ctx, channels, [&](int begin, int end) {
            ctx.kernels.channel_moments(x.data(), x.plane_size(), begin, end, m.sum.data(),
                                        m.sum_squares.data());
        });
        m.count = double(x.plane_size());
        return m;
    };
    const SamplePass* sp = ctx.sample_pass;
    if (!sp) return whole();
    if (sp->rectangles.empty()) {  // whole planes, reported
        Moments used = whole();
        if (sp->on_moments)
            sp->on_moments(attention, attention ? ctx.attention_index : ctx.norm_index, used, used);
        return used;
    }
    Moments region;
    region.sum.assign(size_t(channels), 0.0);
    region.sum_squares.assign(size_t(channels), 0.0);
    const double sy = double(sp->height) / x.height(), sx = double(sp->width) / x.width();
    struct Span {
        int y0, y1, x0, x1;
    };
    std::vector<Span> spans;
    for (const auto& r : sp->rectangles) {
        const Span s{std::max(0, int(std::ceil((r[1] + sp->border) / sy))),
                     std::min(x.height(), int((r[3] - sp->border) / sy)),
                     std::max(0, int(std::ceil((r[0] + sp->border) / sx))),
                     std::min(x.width(), int((r[2] - sp->border) / sx))};
        if (s.y1 <= s.y0 || s.x1 <= s.x0) continue;
        spans.push_back(s);
        region.count += double(s.y1 - s.y0) * (s.x1 - s.x0);
    }
    for_channels(ctx, channels, [&](int begin, int end) {
        for (int c = begin; c < end; ++c) {
            for (const Span& s : spans) {
                for (int y = s.y0; y < s.y1; ++y) {
                    double sum = 0, squares = 0;
                    ctx.kernels.channel_moments(x.channel(c) + size_t(y) * x.width() + s.x0,
                                                size_t(s.x1 - s.x0), 0, 1, &sum, &squares);
                    region.sum[size_t(c)] += sum;
                    region.sum_squares[size_t(c)] += squares;
                }
            }
        }
    });
    Moments used = sp->normalize_over_rectangles ? region : whole();
    if (sp->on_moments)
        sp->on_moments(attention, attention ? ctx.attention_index : ctx.norm_index, used, region);
    return used;
}

}  // namespace

Tensor pad(Context& ctx, const Tensor& x, const Padding& p) {
    require(p.top >= 0 && p.bottom >= 0 && p.left >= 0 && p.right >= 0, "pad: negative padding");
    if (p.mode == kernels::PadMode::Reflect) {
        require(std::max(p.top, p.bottom) < x.height() && std::max(p.left, p.right) < x.width(),
                "pad: reflect padding must be smaller than the input " + shape_of(x));
    }
    Tensor out(x.channels(), x.height() + p.top + p.bottom, x.width() + p.left + p.right, ctx.buffers);
    const kernels::PadShape shape{x.height(), x.width(), p.top, p.bottom, p.left, p.right, p.mode};
    for_channels(ctx, x.channels(),
                 [&](int begin, int end) { ctx.kernels.pad(shape, x.data(), out.data(), begin, end); });
    return out;
}

Tensor conv2d(Context& ctx, const Tensor& x, const float* weight, const float* bias, int out_channels,
              int kernel_h, int kernel_w, int stride, int groups) {
    require(groups >= 1 && x.channels() % groups == 0 && out_channels % groups == 0,
            "conv2d: channels not divisible by groups");
    require(stride >= 1 && x.height() >= kernel_h && x.width() >= kernel_w,
            "conv2d: input " + shape_of(x) + " smaller than the " + std::to_string(kernel_h) + "x" +
                std::to_string(kernel_w) + " kernel");
    const kernels::ConvShape shape{x.channels(),
                                   x.height(),
                                   x.width(),
                                   out_channels,
                                   (x.height() - kernel_h) / stride + 1,
                                   (x.width() - kernel_w) / stride + 1,
                                   kernel_h,
                                   kernel_w,
                                   stride,
                                   groups};
    Tensor out(out_channels, shape.out_height, shape.out_width, ctx.buffers);
    for_channels(ctx, out_channels, [&](int begin, int end) {
        ctx.kernels.conv2d(shape, x.data(), weight, bias, out.data(), begin, end);
    });
    return out;
}

void group_norm_scale_shift(Context& ctx, const Tensor& x, int groups, const float* gamma, const float* beta,
                            float eps, std::vector<float>& scale, std::vector<float>& shift) {
    require(groups >= 1 && x.channels() % groups == 0, "group_norm: channels not divisible by groups");
    const Moments m = statistics_moments(ctx, x, false);
    group_norm_fold(ctx, m.sum, m.sum_squares, m.count, groups, gamma, beta, eps, scale, shift);
}

void group_norm_fold(Context& ctx, const std::vector<double>& sum, const std::vector<double>& sum_squares,
                     double count_per_channel, int groups, const float* gamma, const float* beta, float eps,
                     std::vector<float>& scale, std::vector<float>& shift) {
    const int channels = int(sum.size());
    require(groups >= 1 && channels % groups == 0, "group_norm: channels not divisible by groups");
    // Fold the normalization and the affine transform into one scale and shift per channel. Channel sums are
    // combined in channel order, so the statistics do not depend on the thread count.
    scale.resize(channels);
    shift.resize(channels);
    const int per_group = channels / groups;
    const double count = double(per_group) * count_per_channel;
    std::vector<double> mean(groups), variance(groups);
    for (int g = 0; g < groups; ++g) {
        double s = 0, sq = 0;
        for (int c = g * per_group; c < (g + 1) * per_group; ++c) {
            s += sum[c];
            sq += sum_squares[c];
        }
        mean[g] = s / count;
        variance[g] = std::max(sq / count - mean[g] * mean[g], 0.0);
    }
    if (ctx.on_norm_statistics && *ctx.on_norm_statistics) {
        (*ctx.on_norm_statistics)(ctx.norm_index, mean, variance);
        require(int(mean.size()) == groups && int(variance.size()) == groups,
                "norm statistics hook changed the number of groups");
    }
    ++ctx.norm_index;
    for (int g = 0; g < groups; ++g) {
        const double inv_std = 1.0 / std::sqrt(variance[g] + eps);
        for (int c = g * per_group; c < (g + 1) * per_group; ++c) {
            scale[c] = float(gamma[c] * inv_std);
            shift[c] = float(beta[c] - mean[g] * gamma[c] * inv_std);
        }
    }
}

void group_norm(Context& ctx, Tensor& x, int groups, const float* gamma, const float* beta, float eps,
                float negative_slope) {
    const int channels = x.channels();
    std::vector<float> scale, shift;
    group_norm_scale_shift(ctx, x, groups, gamma, beta, eps, scale, shift);
    for_channels(ctx, channels, [&](int begin, int end) {
        ctx.kernels.scale_shift_leaky_relu(x.data(), x.data(), x.plane_size(), scale.data(), shift.data(),
                                           negative_slope, begin, end);
    });
}

Tensor resize_bilinear(Context& ctx, const Tensor& x, int out_height, int out_width,
                       kernels::ResizeMode mode) {
    require(out_height >= 1 && out_width >= 1 && !x.empty(), "resize: empty input or output");
    Tensor out(x.channels(), out_height, out_width, ctx.buffers);
    const kernels::ResizeShape shape{x.height(), x.width(), out_height, out_width, mode};
    for_channels(ctx, x.channels(), [&](int begin, int end) {
        ctx.kernels.resize_bilinear(shape, x.data(), out.data(), begin, end);
    });
    return out;
}

void add_in_place(Context& ctx, Tensor& x, const Tensor& y) {
    require(x.channels() == y.channels() && x.height() == y.height() && x.width() == y.width(),
            "add: shapes differ: " + shape_of(x) + " vs " + shape_of(y));
    ctx.threads.parallel_for(x.size(), [&](size_t begin, size_t end) {
        ctx.kernels.add(x.data(), y.data(), x.data(), begin, end);
    });
}

void tanh_in_place(Context& ctx, Tensor& x) {
    ctx.threads.parallel_for(x.size(),
                             [&](size_t begin, size_t end) { ctx.kernels.tanh(x.data(), begin, end); });
}

void channel_attention(Context& ctx, Tensor& x, const float* fc1_weight, const float* fc1_bias, int hidden,
                       const float* fc2_weight, const float* fc2_bias) {
    const int channels = x.channels();
    const Moments m = statistics_moments(ctx, x, true);
    ++ctx.attention_index;
    const std::vector<float> gate =
        channel_attention_gate(m.sum, m.count, fc1_weight, fc1_bias, hidden, fc2_weight, fc2_bias);
    const std::vector<float> zero(channels, 0.f);
    for_channels(ctx, channels, [&](int begin, int end) {
        ctx.kernels.scale_shift_leaky_relu(x.data(), x.data(), x.plane_size(), gate.data(), zero.data(), 1.f,
                                           begin, end);
    });
}

std::vector<float> channel_attention_gate(const std::vector<double>& sum, double count,
                                          const float* fc1_weight, const float* fc1_bias, int hidden,
                                          const float* fc2_weight, const float* fc2_bias) {
    const int channels = int(sum.size());
    // The two fully connected layers are C x C/8 multiply-adds: too small to be worth a kernel or threads.
    std::vector<float> hidden_act(hidden);
    for (int h = 0; h < hidden; ++h) {
        double acc = fc1_bias[h];
        for (int c = 0; c < channels; ++c)
            acc += double(fc1_weight[size_t(h) * channels + c]) * (sum[c] / count);
        hidden_act[h] = float(std::max(acc, 0.0));
    }
    std::vector<float> gate(channels);
    for (int c = 0; c < channels; ++c) {
        double acc = fc2_bias[c];
        for (int h = 0; h < hidden; ++h) acc += double(fc2_weight[size_t(c) * hidden + h]) * hidden_act[h];
        gate[c] = float(1.0 / (1.0 + std::exp(-acc)));
    }
    return gate;
}

Padding tf_same_padding(int height, int width, int kernel, int stride) {
    require(kernel >= 1 && stride >= 1, "tf_same_padding: bad kernel or stride");
    auto total = [&](int size) {
        return std::max(((size + stride - 1) / stride - 1) * stride + kernel - size, 0);
    };
    const int pad_h = total(height), pad_w = total(width);
    return {pad_h / 2, pad_h - pad_h / 2, pad_w / 2, pad_w - pad_w / 2, kernels::PadMode::Zero};
}

Tensor max_pool_2x2(Context& ctx, const Tensor& x) {
    require(!x.empty(), "max_pool_2x2: empty input");
    Tensor out(x.channels(), (x.height() + 1) / 2, (x.width() + 1) / 2, ctx.buffers);
    for_channels(ctx, x.channels(), [&](int begin, int end) {
        ctx.kernels.max_pool_2x2(x.height(), x.width(), x.data(), out.data(), begin, end);
    });
    return out;
}

Tensor max_pool(Context& ctx, const Tensor& x, int kernel, int stride, bool same) {
    require(kernel >= 1 && stride >= 1 && !x.empty(), "max_pool: bad kernel, stride or empty input");
    require(same || (x.height() >= kernel && x.width() >= kernel),
            "max_pool: input " + shape_of(x) + " smaller than the " + std::to_string(kernel) + "x" +
                std::to_string(kernel) + " window");
    kernels::PoolShape shape{x.height(), x.width(), 0, 0, kernel, stride};
    if (same) {
        // The kernel clips windows at the bottom and right only: SAME padding must fall there.
        const Padding p = tf_same_padding(x.height(), x.width(), kernel, stride);
        require(p.top == 0 && p.left == 0, "max_pool: SAME padding before the plane is not supported (" +
                                               std::to_string(kernel) + "x" + std::to_string(kernel) +
                                               " stride " + std::to_string(stride) + " on " + shape_of(x) +
                                               ")");
        shape.out_height = (x.height() + stride - 1) / stride;
        shape.out_width = (x.width() + stride - 1) / stride;
    } else {
        shape.out_height = (x.height() - kernel) / stride + 1;
        shape.out_width = (x.width() - kernel) / stride + 1;
    }
    Tensor out(x.channels(), shape.out_height, shape.out_width, ctx.buffers);
    for_channels(ctx, x.channels(),
                 [&](int begin, int end) { ctx.kernels.max_pool(shape, x.data(), out.data(), begin, end); });
    return out;
}

void add_channel_padded_in_place(Context& ctx, Tensor& y, const Tensor& x) {
    require(y.channels() >= x.channels() && y.height() == x.height() && y.width() == x.width(),
            "add_channel_padded: cannot pad " + shape_of(x) + " to " + shape_of(y));
    // Planes are contiguous, so x's channels are exactly the first x.size() elements of y.
    ctx.threads.parallel_for(x.size(), [&](size_t begin, size_t end) {
        ctx.kernels.add(y.data(), x.data(), y.data(), begin, end);
    });
}

void bias_leaky_relu_in_place(Context& ctx, Tensor& x, const float* bias, float negative_slope) {
    // x * 1 + b rounds once, like x + b, with or without a fused multiply-add.
    const std::vector<float> one(x.channels(), 1.f), zero(bias ? 0 : x.channels(), 0.f);
    const float* shift = bias ? bias : zero.data();
    for_channels(ctx, x.channels(), [&](int begin, int end) {
        ctx.kernels.scale_shift_leaky_relu(x.data(), x.data(), x.plane_size(), one.data(), shift,
                                           negative_slope, begin, end);
    });
}

void bias_prelu_in_place(Context& ctx, Tensor& x, const float* bias, const float* slopes) {
    const std::vector<float> one(x.channels(), 1.f), zero(bias ? 0 : x.channels(), 0.f);
    const float* shift = bias ? bias : zero.data();
    // The leaky-ReLU kernel takes one slope per call, so it runs channel by channel: a plane is a call's work
    // anyway, and on the 1x1 maps of MTCNN's dense layers these are a few hundred cheap calls.
    for_channels(ctx, x.channels(), [&](int begin, int end) {
        for (int c = begin; c < end; ++c) {
            ctx.kernels.scale_shift_leaky_relu(x.data(), x.data(), x.plane_size(), one.data(), shift,
                                               slopes[c], c, c + 1);
        }
    });
}

}  // namespace animegan::ops
