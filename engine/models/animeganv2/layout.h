// The AnimeGANv2 generator of the public PyTorch port, as data: every layer with the names of its tensors in
// the weight file (the PyTorch state-dict names) and its hyper-parameters, written once. for_each_step walks
// it in execution order, and that one walk gives the tensor list (loader and converters), the binding, the
// forward pass (generator.cpp) and the TFLite importer's matching.
#pragma once

#include <string>
#include <type_traits>
#include <vector>

#include "animegan/animegan.h"
#include "engine/runtime/ops.h"
#include "weights/tensor_binder.h"

namespace animegan::animeganv2 {

// pad -> conv -> [GroupNorm -> [LeakyReLU(0.2)]]
struct ConvLayer {
    std::string name;  // state-dict prefix of the conv, e.g. "block_a.0.1"
    int in = 0, out = 0, kernel = 1, stride = 1, groups = 1;
    ops::Padding pad;
    bool has_bias = false;  // only the depthwise convs carry a bias
    std::string norm;       // state-dict prefix of the GroupNorm, empty for the output conv
    bool leaky_relu = false;

    // Bound at load time, pointing into the weight file (or a converted copy).
    const float* weight = nullptr;  // [out, in / groups, kernel, kernel]
    const float* bias = nullptr;    // [out] or null
    const float* gamma = nullptr;   // [out]
    const float* beta = nullptr;    // [out]
    // Dense stride-1 3x3 and 7x7 layers: the weights transformed once for the kernel table's Winograd
    // convolution.
    const float* winograd_weight = nullptr;
    // Dense 1x1 layers: the weights packed once for the kernel table's conv1x1.
    const float* conv1x1_weight = nullptr;
};

// 1x1 expand (x2) -> depthwise 3x3 -> 1x1 project, residual add when in == out.
struct InvertedResidual {
    ConvLayer expand, depthwise, project;
    bool residual = false;
};

// Squeeze-excitation ("style attention"): mean over H,W -> Linear(C, C/8) -> ReLU -> Linear(C/8, C) ->
// sigmoid.
struct ChannelAttention {
    std::string name;  // e.g. "attn_c"; tensors "<name>.fc.0.weight" etc.
    int channels = 0, hidden = 0;
    const float* fc1_weight = nullptr;  // [hidden, channels]
    const float* fc1_bias = nullptr;    // [hidden]
    const float* fc2_weight = nullptr;  // [channels, hidden]
    const float* fc2_bias = nullptr;    // [channels]
};

struct Layout {
    std::vector<ConvLayer> block_a;             // 3 -> 32 (7x7), -> 64 (s2), -> 64;  full res, then 1/2
    std::vector<ConvLayer> block_b;             // 64 -> 128 (s2), -> 128;             1/4
    ConvLayer block_c_in;                       // 128 -> 128;                         1/4
    std::vector<InvertedResidual> block_c_res;  // 128 -> 256, then 256 -> 256 x3;     1/4
    ConvLayer block_c_out;                      // 256 -> 128;                         1/4
    bool style_attention = false;
    ChannelAttention attn_c, attn_d;  // only with style_attention
    std::vector<ConvLayer> block_d;   // 128 -> 128 x2, after resizing to 1/2
    std::vector<ConvLayer> block_e;   // 128 -> 64, -> 64, -> 32 (7x7), after resizing to full res
    ConvLayer out_layer;              // 32 -> 3 (1x1), then tanh
};

Layout make_layout(bool style_attention);

// One step of the network in execution order: a convolution (with what surrounds it) or an attention block.
template <class Conv, class Attention>
struct StepOf {
    Conv* conv = nullptr;  // exactly one of conv and attention is set
    Attention* attention = nullptr;
    enum class Resize { None, ToHalf, ToFull } resize = Resize::None;  // the conv reads its input resized
    bool block_input = false;     // expand conv of an inverted residual block: its input is the block's input
    bool residual_after = false;  // project conv of a block with in == out: the block's input is added after
    const char* stage_end = nullptr;  // name of the stage (block) this step completes, for timing
};
using Step = StepOf<ConvLayer, ChannelAttention>;
using ConstStep = StepOf<const ConvLayer, const ChannelAttention>;

// Calls fn(step) for every step of the network in execution order; ToHalf resizes to block A's output size,
// ToFull to the input's.
template <class L, class Fn>
void for_each_step(L& g, Fn&& fn) {
    constexpr bool kConst = std::is_const_v<L>;
    using S = std::conditional_t<kConst, ConstStep, Step>;
    auto conv = [&](auto& layer, typename S::Resize resize = S::Resize::None,
                    const char* stage_end = nullptr) {
        S s;
        s.conv = &layer, s.resize = resize, s.stage_end = stage_end;
        fn(s);
    };
    auto attention = [&](auto& a, const char* stage_end) {
        S s;
        s.attention = &a, s.stage_end = stage_end;
        fn(s);
    };
    auto convs = [&](auto& layers, typename S::Resize first_resize, const char* stage_end) {
        for (size_t i = 0; i < layers.size(); ++i) {
            conv(layers[i], i == 0 ? first_resize : S::Resize::None,
                 i + 1 == layers.size() ? stage_end : nullptr);
        }
    };
    convs(g.block_a, S::Resize::None, "block_a");  // [64, H/2, W/2]
    convs(g.block_b, S::Resize::None, "block_b");  // [128, H/4, W/4]
    conv(g.block_c_in);
    for (auto& r : g.block_c_res) {
        S expand;
        expand.conv = &r.expand, expand.block_input = true;
        fn(expand);
        conv(r.depthwise);
        S project;
        project.conv = &r.project, project.residual_after = r.residual;
        fn(project);
    }
    conv(g.block_c_out, S::Resize::None, g.style_attention ? nullptr : "block_c");  // [128, H/4, W/4]
    if (g.style_attention) attention(g.attn_c, "block_c");
    convs(g.block_d, S::Resize::ToHalf, g.style_attention ? nullptr : "block_d");  // [128, H/2, W/2]
    if (g.style_attention) attention(g.attn_d, "block_d");
    convs(g.block_e, S::Resize::ToFull, "block_e");   // [32, H, W]
    conv(g.out_layer, S::Resize::None, "out_layer");  // [3, H, W], then tanh
}

// The tensors of a conv layer or attention block, as the state dict names and shapes them.
std::vector<weights::TensorSpec> tensor_specs(const ConvLayer& l);
std::vector<weights::TensorSpec> tensor_specs(const ChannelAttention& a);

// Every tensor the network needs, in execution order.
std::vector<weights::TensorSpec> tensor_specs(bool style_attention);

// What the weights cannot say and the file's metadata does (animeganv2.* keys).
struct HyperParams {
    Upsample upsample = Upsample::AlignCorners;
    float norm_eps = 1e-5f;
    int norm_groups = 1;  // 0 = instance norm
    bool style_attention = false;
};

// Throws Error (prefixed by `label`) for hyper-parameters the network cannot run with.
void check_hyper_params(const HyperParams& params, const std::string& label);

}  // namespace animegan::animeganv2
