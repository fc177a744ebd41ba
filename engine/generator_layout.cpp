#include "engine/generator_layout.h"

#include "animegan/error.h"
#include "weights/gguf.h"

namespace animegan::model {
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

void add_conv_specs(const ConvLayer& l, std::vector<TensorSpec>& specs) {
    specs.push_back({l.name + ".weight", {l.out, l.in / l.groups, l.kernel, l.kernel}});
    if (l.has_bias) specs.push_back({l.name + ".bias", {l.out}});
    if (!l.norm.empty()) {
        specs.push_back({l.norm + ".weight", {l.out}});
        specs.push_back({l.norm + ".bias", {l.out}});
    }
}

void add_attention_specs(const ChannelAttention& a, std::vector<TensorSpec>& specs) {
    specs.push_back({a.name + ".fc.0.weight", {a.hidden, a.channels}});
    specs.push_back({a.name + ".fc.0.bias", {a.hidden}});
    specs.push_back({a.name + ".fc.2.weight", {a.channels, a.hidden}});
    specs.push_back({a.name + ".fc.2.bias", {a.channels}});
}

}  // namespace

std::string shape_string(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

const float* bind_tensor(const weights::GgufFile& file, const TensorSpec& spec,
                         std::vector<std::vector<float>>& converted) {
    const weights::GgufTensor* t = file.find(spec.name);
    if (!t) throw Error(file.path() + ": missing tensor '" + spec.name + "'");
    if (t->shape != spec.shape) {
        throw Error(file.path() + ": tensor '" + spec.name + "' has shape " + shape_string(t->shape) +
                    ", expected " + shape_string(spec.shape));
    }
    if (t->type == weights::GgufType::F32) return reinterpret_cast<const float*>(t->data);
    converted.push_back(t->to_f32());
    return converted.back().data();
}

GeneratorLayout generator_layout(bool style_attention) {
    GeneratorLayout g;
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

std::vector<TensorSpec> generator_tensor_specs(bool style_attention) {
    const GeneratorLayout g = generator_layout(style_attention);
    std::vector<TensorSpec> specs;
    for (const ConvLayer& l : g.block_a) add_conv_specs(l, specs);
    for (const ConvLayer& l : g.block_b) add_conv_specs(l, specs);
    add_conv_specs(g.block_c_in, specs);
    for (const InvertedResidual& r : g.block_c_res) {
        add_conv_specs(r.expand, specs);
        add_conv_specs(r.depthwise, specs);
        add_conv_specs(r.project, specs);
    }
    add_conv_specs(g.block_c_out, specs);
    if (style_attention) add_attention_specs(g.attn_c, specs);
    for (const ConvLayer& l : g.block_d) add_conv_specs(l, specs);
    if (style_attention) add_attention_specs(g.attn_d, specs);
    for (const ConvLayer& l : g.block_e) add_conv_specs(l, specs);
    add_conv_specs(g.out_layer, specs);
    return specs;
}

}  // namespace animegan::model
