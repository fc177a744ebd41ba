// The AnimeGANv2 generator of the public PyTorch port, as data: every layer with the names of its tensors in
// the weight file (the PyTorch state-dict names) and its hyper-parameters. The loader binds tensors by these
// names, the converter checks files against the same list, and generator.cpp runs the layers in this order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/ops.h"

namespace animegan::weights {
class GgufFile;
}

namespace animegan::model {

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

struct GeneratorLayout {
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

GeneratorLayout generator_layout(bool style_attention);

struct TensorSpec {
    std::string name;
    std::vector<int64_t> shape;  // PyTorch order
};

// "[32, 3, 7, 7]", for messages.
std::string shape_string(const std::vector<int64_t>& shape);

// The float32 data of the file's tensor spec.name, after checking that it exists with spec.shape: F32 tensors
// in place (the mapping is aligned), others converted once into storage appended to `converted`. Shared by
// the generator's and the face detector's loaders.
const float* bind_tensor(const weights::GgufFile& file, const TensorSpec& spec,
                         std::vector<std::vector<float>>& converted);

// Every tensor the layout needs, in execution order.
std::vector<TensorSpec> generator_tensor_specs(bool style_attention);

}  // namespace animegan::model
