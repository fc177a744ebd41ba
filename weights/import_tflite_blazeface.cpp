// Recognizes MediaPipe's BlazeFace detector (128x128 "front" or "short range") in a TFLite graph by following
// its data flow from the input, block by block, against engine/blazeface_layout.h, and writes its weights
// under our names in our layouts. Float16 weights behind DEQUANTIZE ops (the short-range release) are read
// from the DEQUANTIZE's constant input.
#include <algorithm>
#include <functional>

#include "engine/blazeface_layout.h"
#include "weights/importers.h"

namespace animegan::weights {
namespace {

using model::BlazeBlockSpec;
using model::BlazeHeadSpec;

struct KnownModel {
    const char* git_blob_id;
    const char* style;
};

// `git hash-object` of the released files: the front-camera model of MediaPipe's early releases, and the one
// in the npm package @mediapipe/face_detection 0.4.1657300184.
constexpr KnownModel kKnownModels[] = {
    {"419e1a8a1009db640c4fb84bb83cc3440b07c04e", "BlazeFace front"},  // face_detection_front.tflite
    {"659bce89647e80ad94bf8be7620e1bc19422d2a8",
     "BlazeFace short range"},  // face_detection_short_range.tflite
};

// Thrown while walking the graph when it is not BlazeFace; becomes the recognizer's `mismatch`.
struct NotBlazeFace {
    std::string reason;
};

std::string shape_text(const std::vector<int32_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
    return s + "]";
}

// Walks the graph: finds the operator that consumes a tensor, marks it used, and reads constant operands.
class GraphWalker {
  public:
    explicit GraphWalker(const TfliteModel& model) : m_(model), used_(model.operators.size(), false) {}

    const TfliteModel& model() const { return m_; }

    // The first not yet used `op` reading `tensor` that satisfies `accept`.
    const TfliteOperator& consumer(int tensor, const std::string& op, const std::string& where,
                                   const std::function<bool(const TfliteOperator&)>& accept = nullptr) {
        for (size_t i = 0; i < m_.operators.size(); ++i) {
            const TfliteOperator& o = m_.operators[i];
            if (used_[i] || o.op != op || o.outputs.size() != 1) continue;
            if (std::find(o.inputs.begin(), o.inputs.end(), tensor) == o.inputs.end()) continue;
            if (accept && !accept(o)) continue;
            used_[i] = true;
            return o;
        }
        throw NotBlazeFace{where + ": no " + op + " reads '" + name(tensor) + "'"};
    }

    // The constant behind an operand: the tensor itself when it holds data, else the input of the DEQUANTIZE
    // that produces it (which is then used up).
    int constant(int tensor, const std::string& where) {
        if (has_data(tensor)) return tensor;
        for (size_t i = 0; i < m_.operators.size(); ++i) {
            const TfliteOperator& o = m_.operators[i];
            if (o.op == "DEQUANTIZE" && o.outputs.size() == 1 && o.outputs[0] == tensor &&
                o.inputs.size() == 1 && has_data(o.inputs[0])) {
                used_[i] = true;
                return o.inputs[0];
            }
        }
        throw NotBlazeFace{where + ": '" + name(tensor) + "' is not a constant"};
    }

    const std::vector<int32_t>& shape(int tensor) const {
        static const std::vector<int32_t> absent;  // for -1, an optional input left out
        return tensor >= 0 && size_t(tensor) < m_.tensors.size() ? m_.tensors[tensor].shape : absent;
    }
    std::string name(int tensor) const {
        return tensor >= 0 && size_t(tensor) < m_.tensors.size() ? m_.tensors[tensor].name : "?";
    }

    // The first operator the walk did not reach, or null when it reached them all.
    const TfliteOperator* unused() const {
        for (size_t i = 0; i < used_.size(); ++i) {
            if (!used_[i]) return &m_.operators[i];
        }
        return nullptr;
    }

  private:
    bool has_data(int tensor) const {
        if (tensor < 0 || size_t(tensor) >= m_.tensors.size()) return false;
        const int b = m_.tensors[tensor].buffer;
        return b > 0 && size_t(b) < m_.buffers.size() && m_.buffers[b].first != nullptr;
    }

    const TfliteModel& m_;
    std::vector<bool> used_;
};

void expect(bool ok, const std::string& what) {
    if (!ok) throw NotBlazeFace{what};
}

// Reads a convolution's weight and bias (inputs 1 and 2) into our layouts: CONV_2D's [O, KH, KW, I] becomes
// [O, I, KH, KW]; DEPTHWISE_CONV_2D's [1, KH, KW, C] becomes [C, 1, KH, KW].
void take_conv(GraphWalker& g, const TfliteOperator& op, const std::string& name, int out, int in, int kernel,
               TensorMap& tensors) {
    expect(op.inputs.size() == 3, name + ": " + op.op + " without a bias");
    const bool depthwise = op.op == "DEPTHWISE_CONV_2D";
    const int w = g.constant(op.inputs[1], name), b = g.constant(op.inputs[2], name);
    const std::vector<int32_t> want = depthwise ? std::vector<int32_t>{1, kernel, kernel, out}
                                                : std::vector<int32_t>{out, kernel, kernel, in};
    expect(g.shape(w) == want, name + ": weight '" + g.name(w) + "' is " + shape_text(g.shape(w)) +
                                   ", expected " + shape_text(want));
    expect(g.shape(b) == std::vector<int32_t>{out},
           name + ": bias '" + g.name(b) + "' is " + shape_text(g.shape(b)));
    expect(op.dilation_h == 1 && op.dilation_w == 1 && op.fused_activation == "NONE" &&
               (!depthwise || op.depth_multiplier == 1),
           name + ": dilation, fused activation or depth multiplier differs");
    // A 1x1 stride-1 convolution pads nothing under either padding mode; larger ones must be SAME.
    expect(kernel == 1 || op.padding == TfliteOperator::Padding::Same, name + ": padding is not SAME");

    const std::vector<float> src = g.model().tensor_as_float(w);
    const int in_per_group = depthwise ? 1 : in;
    FloatTensor& weight = tensors[name + ".weight"];
    weight.shape = {out, in_per_group, kernel, kernel};
    weight.data.resize(src.size());
    for (int o = 0; o < out; ++o)
        for (int i = 0; i < in_per_group; ++i)
            for (int ky = 0; ky < kernel; ++ky)
                for (int kx = 0; kx < kernel; ++kx) {
                    const size_t from = depthwise ? (size_t(ky) * kernel + kx) * out + o
                                                  : ((size_t(o) * kernel + ky) * kernel + kx) * in + i;
                    weight.data[((size_t(o) * in_per_group + i) * kernel + ky) * kernel + kx] = src[from];
                }
    tensors[name + ".bias"] = {{out}, g.model().tensor_as_float(b)};
}

// One BlazeBlock starting at activation x; returns the block's output activation.
int walk_block(GraphWalker& g, int x, int index, const BlazeBlockSpec& b, TensorMap& tensors) {
    const std::string name = model::blaze_block_name(index);
    const TfliteOperator& dw = g.consumer(x, "DEPTHWISE_CONV_2D", name);
    expect(dw.stride_h == b.stride && dw.stride_w == b.stride, name + ": depthwise stride is " +
                                                                   std::to_string(dw.stride_h) +
                                                                   ", expected " + std::to_string(b.stride));
    take_conv(g, dw, name + ".depthwise", b.in, b.in, model::kBlazeDepthwiseKernel, tensors);
    const TfliteOperator& pw = g.consumer(dw.outputs[0], "CONV_2D", name);
    expect(pw.stride_h == 1 && pw.stride_w == 1, name + ": pointwise conv has a stride");
    take_conv(g, pw, name + ".pointwise", b.out, b.in, 1, tensors);

    int residual = x;
    if (b.stride == 2) {
        const TfliteOperator& pool = g.consumer(x, "MAX_POOL_2D", name);
        expect(pool.filter_h == 2 && pool.filter_w == 2 && pool.stride_h == 2 && pool.stride_w == 2 &&
                   pool.fused_activation == "NONE",
               name + ": the residual's max-pool is not 2x2 stride 2");
        residual = pool.outputs[0];
    }
    if (b.out > b.in) {
        const TfliteOperator& pad = g.consumer(residual, "PAD", name);
        expect(pad.inputs.size() == 2, name + ": PAD without paddings");
        const std::vector<float> p = g.model().tensor_as_float(g.constant(pad.inputs[1], name));
        const std::vector<float> want = {0, 0, 0, 0, 0, 0, 0, float(b.out - b.in)};
        expect(p == want, name + ": PAD is not a zero channel padding from " + std::to_string(b.in) + " to " +
                              std::to_string(b.out));
        residual = pad.outputs[0];
    }
    const int conv_out = pw.outputs[0];
    const TfliteOperator& add = g.consumer(conv_out, "ADD", name);
    const bool joins = add.inputs.size() == 2 && (add.inputs[0] == residual || add.inputs[1] == residual);
    expect(joins && add.fused_activation == "NONE",
           name + ": ADD does not join the residual and the pointwise conv");
    return g.consumer(add.outputs[0], "RELU", name).outputs[0];
}

// A head's two 1x1 convs on `feature` and their RESHAPEs to [1, anchors, values]; returns {classifier,
// regressor} reshaped tensors.
std::pair<int, int> walk_head(GraphWalker& g, int feature, const BlazeHeadSpec& h, TensorMap& tensors) {
    const int anchors = h.grid * h.grid * h.anchors;
    int reshaped[2];
    for (int k = 0; k < 2; ++k) {
        const int values = k == 0 ? 1 : model::kBlazeCoords;
        const std::string name = std::string(h.name) + (k == 0 ? ".classifier" : ".regressor");
        const TfliteOperator& conv = g.consumer(feature, "CONV_2D", name, [&](const TfliteOperator& o) {
            return o.inputs.size() >= 2 && !g.shape(o.inputs[1]).empty() &&
                   g.shape(o.inputs[1])[0] == h.anchors * values;
        });
        expect(conv.stride_h == 1 && conv.stride_w == 1, name + ": conv has a stride");
        take_conv(g, conv, name, h.anchors * values, h.channels, 1, tensors);
        const TfliteOperator& reshape = g.consumer(conv.outputs[0], "RESHAPE", name);
        expect(g.shape(reshape.outputs[0]) == std::vector<int32_t>{1, anchors, values},
               name + ": RESHAPE gives " + shape_text(g.shape(reshape.outputs[0])));
        reshaped[k] = reshape.outputs[0];
    }
    return {reshaped[0], reshaped[1]};
}

// The graph output CONCATENATION of the heads' reshaped tensors, in head order along the anchor axis.
void walk_concat(GraphWalker& g, const std::vector<int>& parts, int output, const std::string& what) {
    const TfliteOperator& concat = g.consumer(parts[0], "CONCATENATION", what);
    expect(std::vector<int>(concat.inputs.begin(), concat.inputs.end()) == parts &&
               (concat.axis == 1 || concat.axis == -2) && concat.outputs[0] == output &&
               concat.fused_activation == "NONE",
           what + ": not the concatenation of the heads along the anchors");
}

int find_output(const TfliteModel& m, const std::vector<int32_t>& shape) {
    for (int t : m.outputs) {
        if (m.tensors.at(size_t(t)).shape == shape) return t;
    }
    throw NotBlazeFace{"no graph output of shape " + shape_text(shape)};
}

// Follows the whole graph; fills `tensors` (our names and layouts) or throws NotBlazeFace.
void walk_graph(const TfliteModel& m, TensorMap& tensors) {
    const int size = model::kBlazeInputSize;
    expect(m.inputs.size() == 1 && m.outputs.size() == 2,
           "the graph does not have one input and two outputs");
    const int input = m.inputs[0];
    expect(m.tensors.at(size_t(input)).shape == std::vector<int32_t>{1, size, size, 3} &&
               m.tensors[input].type == TfliteType::Float32,
           "input is " + shape_text(m.tensors[input].shape) + " " + tflite_type_name(m.tensors[input].type) +
               ", expected [1,128,128,3] FLOAT32 (only the 128x128 short-range/front model is supported)");
    const int regressors = find_output(m, {1, model::kBlazeAnchorCount, model::kBlazeCoords});
    const int classificators = find_output(m, {1, model::kBlazeAnchorCount, 1});

    GraphWalker g(m);
    const TfliteOperator& stem = g.consumer(input, "CONV_2D", "backbone.0");
    expect(stem.stride_h == 2 && stem.stride_w == 2, "backbone.0: the first conv does not have stride 2");
    take_conv(g, stem, "backbone.0.conv", model::kBlazeStemChannels, 3, model::kBlazeStemKernel, tensors);
    int x = g.consumer(stem.outputs[0], "RELU", "backbone.0").outputs[0];
    std::vector<int> block_outputs = {x};
    for (int i = 0; i < model::kBlazeBlockCount; ++i) {
        x = walk_block(g, x, i + 1, model::kBlazeBlocks[i], tensors);
        block_outputs.push_back(x);
    }
    std::vector<int> classifiers, regressors_parts;
    for (const BlazeHeadSpec& h : model::kBlazeHeads) {
        const auto [cls, reg] = walk_head(g, block_outputs[h.block], h, tensors);
        classifiers.push_back(cls);
        regressors_parts.push_back(reg);
    }
    walk_concat(g, classifiers, classificators, "classificators");
    walk_concat(g, regressors_parts, regressors, "regressors");
    if (const TfliteOperator* extra = g.unused()) throw NotBlazeFace{"unexpected operator " + extra->op};
}

}  // namespace

bool import_tflite_blazeface(const TfliteModel& model, const SourceFile& source,
                             const ConvertOptions& options, GgufWriter& out, ConvertResult& result,
                             std::string& mismatch) {
    TensorMap tensors;
    try {
        walk_graph(model, tensors);
    } catch (const NotBlazeFace& e) {
        mismatch = e.reason;
        return false;
    }
    if (options.upsample || options.norm_eps || options.norm_groups) {
        throw Error(source.path +
                    ": is a BlazeFace face detector; --upsample, --norm-eps and --norm-groups apply "
                    "to AnimeGANv2 generators only");
    }
    result.architecture = "blazeface";
    result.style = file_stem(source.path);
    for (const KnownModel& k : kKnownModels) {
        if (source.git_blob_id == k.git_blob_id) {
            result.recognized = true;
            result.style = k.style;
        }
    }
    if (!options.style.empty()) result.style = options.style;

    // The anchor and decoding constants of MediaPipe's face_detection_short_range graph
    // (SsdAnchorsCalculator, TensorsToDetectionsCalculator); the front model's graph uses the same ones.
    out.set_u32("blazeface.input_size", model::kBlazeInputSize);
    out.set_f32("blazeface.anchor_offset", 0.5f);
    out.set_f32("blazeface.box_scale", float(model::kBlazeInputSize));
    out.set_f32("blazeface.score_clip", 100.f);
    const std::vector<model::TensorSpec> specs = model::blazeface_tensor_specs();
    for (const model::TensorSpec& spec : specs) {
        const FloatTensor& t = tensors.at(spec.name);
        if (t.shape != spec.shape) {
            throw Error(source.path + ": tensor '" + spec.name + "' came out as " +
                        model::shape_string(t.shape));
        }
        const bool half = options.f16 && t.shape.size() > 1;
        out.add_tensor(spec.name, t.shape, t.data.data(), half ? GgufType::F16 : GgufType::F32);
    }
    if (tensors.size() != specs.size())
        throw Error(source.path + ": BlazeFace importer produced extra tensors");
    result.tensor_count = specs.size();
    return true;
}

}  // namespace animegan::weights
