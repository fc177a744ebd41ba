// Recognizes MediaPipe's BlazeFace detector (128x128 "front" or "short range") in a TFLite graph by following
// its data flow from the input, block by block, against layout.h, and writes its weights under our names in
// our layouts. Float16 weights behind DEQUANTIZE ops (the short-range release) are read through them
// (TfliteGraph).
#include <algorithm>
#include <functional>

#include "engine/models/blazeface/importers.h"
#include "engine/models/blazeface/layout.h"
#include "weights/shape_string.h"
#include "weights/tflite_graph.h"

namespace animegan::blazeface {
namespace {

using weights::TfliteGraph;
using weights::TfliteOperator;

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
    return weights::shape_string(shape);
}

void expect(bool ok, const std::string& what);

// Walks the graph from the input: finds the operator that consumes a tensor and marks it used, and reads
// constant operands. Anything unexpected means the graph is not BlazeFace (NotBlazeFace), not an error.
class GraphWalker {
  public:
    explicit GraphWalker(const TfliteGraph& graph) : g_(graph), used_(graph.op_count(), false) {}

    const weights::TfliteModel& model() const { return g_.model(); }

    // The first not yet used `op` reading `tensor` that satisfies `accept`.
    const TfliteOperator& consumer(int tensor, const std::string& op, const std::string& where,
                                   const std::function<bool(const TfliteOperator&)>& accept = nullptr) {
        for (int i : g_.users(tensor)) {
            const TfliteOperator& o = g_.op(i);
            if (used_[size_t(i)] || o.op != op || o.outputs.size() != 1) continue;
            if (accept && !accept(o)) continue;
            used_[size_t(i)] = true;
            return o;
        }
        throw NotBlazeFace{where + ": no " + op + " reads '" + name(tensor) + "'"};
    }

    // The float32 values of a constant operand (float16 ones behind a DEQUANTIZE are widened).
    std::vector<float> constant(int tensor, const std::string& where) const {
        expect(g_.is_constant(tensor), where + ": '" + name(tensor) + "' is not a constant");
        return g_.constant(tensor);
    }

    const std::vector<int32_t>& shape(int tensor) const {
        static const std::vector<int32_t> absent;  // for -1, an optional input left out
        return tensor >= 0 && size_t(tensor) < g_.model().tensors.size() ? g_.shape(tensor) : absent;
    }
    std::string name(int tensor) const {
        return tensor >= 0 && size_t(tensor) < g_.model().tensors.size()
                   ? g_.model().tensors[size_t(g_.root(tensor))].name
                   : "?";
    }

    // The first operator the walk did not reach (QUANTIZE/DEQUANTIZE aside), or null when it reached them
    // all.
    const TfliteOperator* unused() const {
        for (size_t i = 0; i < used_.size(); ++i) {
            if (!used_[i] && !g_.used(int(i))) return &g_.op(int(i));
        }
        return nullptr;
    }

  private:
    const TfliteGraph& g_;
    std::vector<bool> used_;
};

void expect(bool ok, const std::string& what) {
    if (!ok) throw NotBlazeFace{what};
}

// Reads a convolution's weight and bias (inputs 1 and 2) into our layouts: CONV_2D's [O, KH, KW, I] becomes
// [O, I, KH, KW]; DEPTHWISE_CONV_2D's [1, KH, KW, C] becomes [C, 1, KH, KW].
void take_conv(GraphWalker& g, const TfliteOperator& op, const std::string& name, int out, int in, int kernel,
               models::TensorMap& tensors) {
    expect(op.inputs.size() == 3, name + ": " + op.op + " without a bias");
    const bool depthwise = op.op == "DEPTHWISE_CONV_2D";
    const int w = op.inputs[1], b = op.inputs[2];
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

    const int in_per_group = depthwise ? 1 : in;
    tensors[name + ".weight"] = {
        {out, in_per_group, kernel, kernel},
        weights::filter_to_oihw(g.constant(w, name), out, in_per_group, kernel, depthwise)};
    tensors[name + ".bias"] = {{out}, g.constant(b, name)};
}

// One BlazeBlock starting at activation x; returns the block's output activation.
int walk_block(GraphWalker& g, int x, int index, const BlazeBlockSpec& b, models::TensorMap& tensors) {
    const std::string name = blaze_block_name(index);
    const TfliteOperator& dw = g.consumer(x, "DEPTHWISE_CONV_2D", name);
    expect(dw.stride_h == b.stride && dw.stride_w == b.stride, name + ": depthwise stride is " +
                                                                   std::to_string(dw.stride_h) +
                                                                   ", expected " + std::to_string(b.stride));
    take_conv(g, dw, name + ".depthwise", b.in, b.in, kBlazeDepthwiseKernel, tensors);
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
        const std::vector<float> p = g.constant(pad.inputs[1], name);
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
std::pair<int, int> walk_head(GraphWalker& g, int feature, const BlazeHeadSpec& h,
                              models::TensorMap& tensors) {
    const int anchors = h.grid * h.grid * h.anchors;
    int reshaped[2];
    for (int k = 0; k < 2; ++k) {
        const int values = k == 0 ? 1 : kBlazeCoords;
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

int find_output(const weights::TfliteModel& m, const std::vector<int32_t>& shape) {
    for (int t : m.outputs) {
        if (m.tensors.at(size_t(t)).shape == shape) return t;
    }
    throw NotBlazeFace{"no graph output of shape " + shape_text(shape)};
}

// Follows the whole graph; fills `tensors` (our names and layouts) or throws NotBlazeFace.
void walk_graph(const weights::TfliteModel& m, const std::string& label, models::TensorMap& tensors) {
    const int size = kBlazeInputSize;
    expect(m.inputs.size() == 1 && m.outputs.size() == 2,
           "the graph does not have one input and two outputs");
    const int input = m.inputs[0];
    expect(m.tensors.at(size_t(input)).shape == std::vector<int32_t>{1, size, size, 3} &&
               m.tensors[input].type == weights::TfliteType::Float32,
           "input is " + shape_text(m.tensors[input].shape) + " " +
               weights::tflite_type_name(m.tensors[input].type) +
               ", expected [1, 128, 128, 3] FLOAT32 (only the 128x128 short-range/front model is supported)");
    const int regressors = find_output(m, {1, kBlazeAnchorCount, kBlazeCoords});
    const int classificators = find_output(m, {1, kBlazeAnchorCount, 1});

    const TfliteGraph graph(m, label + ": BlazeFace graph");
    GraphWalker g(graph);
    const TfliteOperator& stem = g.consumer(input, "CONV_2D", "backbone.0");
    expect(stem.stride_h == 2 && stem.stride_w == 2, "backbone.0: the first conv does not have stride 2");
    take_conv(g, stem, "backbone.0.conv", kBlazeStemChannels, 3, kBlazeStemKernel, tensors);
    int x = g.consumer(stem.outputs[0], "RELU", "backbone.0").outputs[0];
    std::vector<int> block_outputs = {x};
    for (int i = 0; i < kBlazeBlockCount; ++i) {
        x = walk_block(g, x, i + 1, kBlazeBlocks[i], tensors);
        block_outputs.push_back(x);
    }
    std::vector<int> classifiers, regressors_parts;
    for (const BlazeHeadSpec& h : kBlazeHeads) {
        const auto [cls, reg] = walk_head(g, block_outputs[h.block], h, tensors);
        classifiers.push_back(cls);
        regressors_parts.push_back(reg);
    }
    walk_concat(g, classifiers, classificators, "classificators");
    walk_concat(g, regressors_parts, regressors, "regressors");
    if (const TfliteOperator* extra = g.unused()) throw NotBlazeFace{"unexpected operator " + extra->op};
}

}  // namespace

bool import_tflite(const weights::TfliteModel& model, const models::SourceFile& source,
                   const ConvertOptions& options, weights::GgufWriter& out, ConvertResult& result,
                   std::string& mismatch) {
    models::TensorMap tensors;
    try {
        walk_graph(model, source.path, tensors);
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
    result.style = models::file_stem(source.path);
    for (const KnownModel& k : kKnownModels) {
        if (source.git_blob_id == k.git_blob_id) {
            result.recognized = true;
            result.style = k.style;
        }
    }
    if (!options.style.empty()) result.style = options.style;

    // The anchor and decoding constants of MediaPipe's face_detection_short_range graph
    // (SsdAnchorsCalculator, TensorsToDetectionsCalculator); the front model's graph uses the same ones.
    out.set_u32("blazeface.input_size", kBlazeInputSize);
    out.set_f32("blazeface.anchor_offset", 0.5f);
    out.set_f32("blazeface.box_scale", float(kBlazeInputSize));
    out.set_f32("blazeface.score_clip", 100.f);
    const std::vector<weights::TensorSpec> specs = tensor_specs();
    for (const weights::TensorSpec& spec : specs) {
        const models::FloatTensor& t = tensors.at(spec.name);
        if (t.shape != spec.shape) {
            throw Error(source.path + ": tensor '" + spec.name + "' came out as " +
                        weights::shape_string(t.shape));
        }
        const bool half = options.f16 && t.shape.size() > 1;
        out.add_tensor(spec.name, t.shape, t.data.data(),
                       half ? weights::GgufType::F16 : weights::GgufType::F32);
    }
    if (tensors.size() != specs.size())
        throw Error(source.path + ": BlazeFace importer produced extra tensors");
    result.tensor_count = specs.size();
    return true;
}

}  // namespace animegan::blazeface
