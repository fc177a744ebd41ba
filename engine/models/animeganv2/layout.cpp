#include "engine/models/animeganv2/layout.h"

#include "animegan/error.h"

namespace animegan::animeganv2 {
namespace {

ops::Padding reflect(int top, int bottom, int left, int right) {
    return {top, bottom, left, right, kernels::PadMode::Reflect};
}

// ConvNormLReLU of the port: an nn.Sequential of (pad, conv, norm, activation), hence ".1" and ".2".
ConvLayer conv_norm_lrelu(const std::string& prefix, int in, int out, int kernel = 3, int stride = 1,
                          int groups = 1, bool bias = false) {
    ConvLayer l;
    l.name = prefix + ".1";
    l.norm = prefix + ".2";
    l.in = in, l.out = out, l.kernel = kernel, l.stride = stride, l.groups = groups;
    l.has_bias = bias;
    l.leaky_relu = true;
    // Stride-2 layers pad only right and bottom, (0, 1, 0, 1), like TF's "SAME" for even sizes.
    l.pad = stride == 2 ? reflect(0, 1, 0, 1) : reflect(kernel / 2, kernel / 2, kernel / 2, kernel / 2);
    return l;
}

InvertedResidual inverted_residual(const std::string& prefix, int in, int out) {
    const int bottleneck = in * 2;
    InvertedResidual r;
    r.expand = conv_norm_lrelu(prefix + ".layers.0", in, bottleneck, 1);
    r.depthwise = conv_norm_lrelu(prefix + ".layers.1", bottleneck, bottleneck, 3, 1, bottleneck, true);
    r.project.name = prefix + ".layers.2";
    r.project.norm = prefix + ".layers.3";
    r.project.in = bottleneck, r.project.out = out;
    r.residual = in == out;
    return r;
}

ChannelAttention channel_attention(const std::string& name, int channels) {
    ChannelAttention a;
    a.name = name;
    a.channels = channels;
    a.hidden = channels / 8;
    return a;
}

}  // namespace

Layout make_layout(bool style_attention) {
    Layout g;
    g.block_a = {conv_norm_lrelu("block_a.0", 3, 32, 7), conv_norm_lrelu("block_a.1", 32, 64, 3, 2),
                 conv_norm_lrelu("block_a.2", 64, 64)};
    g.block_b = {conv_norm_lrelu("block_b.0", 64, 128, 3, 2), conv_norm_lrelu("block_b.1", 128, 128)};
    g.block_c_in = conv_norm_lrelu("block_c.0", 128, 128);
    g.block_c_res = {inverted_residual("block_c.1", 128, 256), inverted_residual("block_c.2", 256, 256),
                     inverted_residual("block_c.3", 256, 256), inverted_residual("block_c.4", 256, 256)};
    g.block_c_out = conv_norm_lrelu("block_c.5", 256, 128);
    g.style_attention = style_attention;
    if (style_attention) {
        g.attn_c = channel_attention("attn_c", 128);
        g.attn_d = channel_attention("attn_d", 128);
    }
    g.block_d = {conv_norm_lrelu("block_d.0", 128, 128), conv_norm_lrelu("block_d.1", 128, 128)};
    g.block_e = {conv_norm_lrelu("block_e.0", 128, 64), conv_norm_lrelu("block_e.1", 64, 64),
                 conv_norm_lrelu("block_e.2", 64, 32, 7)};
    g.out_layer.name = "out_layer.0";
    g.out_layer.in = 32, g.out_layer.out = 3;
    return g;
}

std::vector<weights::TensorSpec> tensor_specs(const ConvLayer& l) {
    std::vector<weights::TensorSpec> specs = {
        {l.name + ".weight", {l.out, l.in / l.groups, l.kernel, l.kernel}}};
    if (l.has_bias) specs.push_back({l.name + ".bias", {l.out}});
    if (!l.norm.empty()) {
        specs.push_back({l.norm + ".weight", {l.out}});
        specs.push_back({l.norm + ".bias", {l.out}});
    }
    return specs;
}

std::vector<weights::TensorSpec> tensor_specs(const ChannelAttention& a) {
    return {{a.name + ".fc.0.weight", {a.hidden, a.channels}},
            {a.name + ".fc.0.bias", {a.hidden}},
            {a.name + ".fc.2.weight", {a.channels, a.hidden}},
            {a.name + ".fc.2.bias", {a.channels}}};
}

std::vector<weights::TensorSpec> tensor_specs(bool style_attention) {
    const Layout g = make_layout(style_attention);
    std::vector<weights::TensorSpec> specs;
    for_each_step(g, [&](const ConstStep& s) {
        const std::vector<weights::TensorSpec> step =
            s.conv ? tensor_specs(*s.conv) : tensor_specs(*s.attention);
        specs.insert(specs.end(), step.begin(), step.end());
    });
    return specs;
}

void check_hyper_params(const HyperParams& params, const std::string& label) {
    // Every normalized layer has a multiple of 32 channels, so a group count must divide 32.
    if (params.norm_groups < 0 || (params.norm_groups != 0 && 32 % params.norm_groups != 0)) {
        throw Error(label + ": norm_groups must be 0 (instance norm) or divide 32, got " +
                    std::to_string(params.norm_groups));
    }
    if (!(params.norm_eps > 0.f && params.norm_eps < 1.f)) {
        throw Error(label + ": norm_eps must be in (0, 1), got " + std::to_string(params.norm_eps));
    }
}

}  // namespace animegan::animeganv2
