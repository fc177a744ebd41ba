// Maps the official AnimeGANv2 generator (TensorFlow release, converted to TFLite, float or int8-quantized)
// onto our GGUF. Tensor names in such files are unreliable (the converter hands a weight's name to a shared
// bias, merges names with ';'), so nothing is mapped by name: the importer walks the operators in execution
// order and matches the k-th CONV_2D / DEPTHWISE_CONV_2D to the k-th convolution of our layout, checking what
// surrounds it in the data flow: the MIRROR_PAD feeding it, the resize before blocks D and E, the LayerNorm
// spelled out after it (MEAN, SQUARED_DIFFERENCE, MEAN, ADD eps, RSQRT, MUL gamma, MUL, MUL, SUB beta, ADD),
// the LeakyReLU, the residual ADD, and that each layer's input is the previous layer's output. QUANTIZE and
// DEQUANTIZE are transparent. Every other operator must be accounted for. Names only appear in messages.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <set>

#include "engine/models/animeganv2/importers.h"
#include "weights/shape_string.h"
#include "weights/tflite_graph.h"

namespace animegan::animeganv2 {
namespace {

using weights::TfliteGraph;
using weights::TfliteOperator;
using Resize = ConstStep::Resize;

// The convolutions of the layout in execution order, with what surrounds each.
std::vector<ConstStep> conv_steps(const Layout& layout) {
    std::vector<ConstStep> steps;
    for_each_step(layout, [&](const ConstStep& s) {
        if (s.conv) steps.push_back(s);
    });
    return steps;
}

std::string dims(const std::vector<int32_t>& shape) {
    return weights::shape_string(shape);
}

// The constant input `slot` of an operator, which must hold `count` values.
std::vector<float> constant(const TfliteGraph& g, int op_index, size_t slot, size_t count) {
    const int t = g.input(op_index, slot);
    if (!g.is_constant(t)) g.fail(op_index, "input " + g.name(t) + " is not a constant");
    std::vector<float> v = g.constant(t);
    if (v.size() != count) {
        g.fail(op_index, "constant " + g.name(t) + " " + dims(g.shape(t)) + " has " +
                             std::to_string(v.size()) + " values, expected " + std::to_string(count));
    }
    return v;
}

// The one operator of `type` reading `tensor`, and `other` as its other input when other >= 0.
int only_user(const TfliteGraph& g, int tensor, const std::string& type, const std::string& what,
              int other = -1) {
    std::vector<int> found;
    for (int i : g.users(tensor)) {
        const TfliteOperator& o = g.op(i);
        if (o.op != type) continue;
        if (other >= 0 && !(o.inputs.size() == 2 && g.reads(i, tensor) && g.reads(i, other))) continue;
        found.push_back(i);
    }
    if (found.size() != 1) {
        g.fail(what + ": expected one " + type + " reading " + g.name(tensor) +
               (other >= 0 ? " and " + g.name(other) : "") + ", found " + std::to_string(found.size()));
    }
    return found[0];
}

// What the walk found besides the tensors: the graph-wide hyper-parameters, each checked to be the same
// everywhere.
struct Found {
    std::optional<float> eps;
    std::optional<Upsample> upsample;
    models::TensorMap tensors;
    std::set<int> weights_used;  // root tensors already mapped: a weight must belong to one layer only
};

void take_weight(TfliteGraph& g, Found& f, int op_index, size_t slot, const std::string& name,
                 models::FloatTensor t) {
    const int tensor = g.input(op_index, slot);
    if (!f.weights_used.insert(tensor).second)
        g.fail(op_index, name + ": " + g.name(tensor) + " is used twice");
    f.tensors[name] = std::move(t);
}

void check_axes(TfliteGraph& g, int mean) {
    const std::vector<float> axes = constant(g, mean, 1, 3);
    if (axes != std::vector<float>{1, 2, 3} || !g.op(mean).keep_dims) {
        g.fail(mean, "layer norm statistics must be over axes [1, 2, 3] with keep_dims");
    }
}

// x -> LayerNorm spelled out, as tf.contrib.layers.layer_norm writes it; returns its output, records
// gamma/beta under the layer's norm name.
int match_layer_norm(TfliteGraph& g, Found& f, int x, const ConvLayer& l) {
    const std::string what = l.norm + " (layer norm)";
    const int mean_op = only_user(g, x, "MEAN", what);
    check_axes(g, mean_op);
    const int mean = g.output(mean_op);
    const int sqd_op = only_user(g, mean, "SQUARED_DIFFERENCE", what, x);
    const int var_op = only_user(g, g.output(sqd_op), "MEAN", what);
    check_axes(g, var_op);
    const int add_eps = only_user(g, g.output(var_op), "ADD", what);
    const size_t eps_slot = g.input(add_eps, 0) == g.output(var_op) ? 1 : 0;
    const float eps = constant(g, add_eps, eps_slot, 1)[0];
    if (f.eps && *f.eps != eps) g.fail(add_eps, "epsilon differs from the other layer norms");
    f.eps = eps;
    const int rsqrt = only_user(g, g.output(add_eps), "RSQRT", what);
    const int mul_gamma = only_user(g, g.output(rsqrt), "MUL", what);
    const size_t gamma_slot = g.input(mul_gamma, 0) == g.output(rsqrt) ? 1 : 0;
    const int scale = g.output(mul_gamma);
    const int mul_x = only_user(g, scale, "MUL", what, x);
    const int mul_mean = only_user(g, scale, "MUL", what, mean);
    const int sub = only_user(g, g.output(mul_mean), "SUB", what);
    if (g.input(sub, 1) != g.output(mul_mean)) g.fail(sub, what + ": expected beta - mean * scale");
    const int add = only_user(g, g.output(sub), "ADD", what, g.output(mul_x));
    const size_t c = size_t(l.out);
    take_weight(g, f, mul_gamma, gamma_slot, l.norm + ".weight",
                {{l.out}, constant(g, mul_gamma, gamma_slot, c)});
    take_weight(g, f, sub, 0, l.norm + ".bias", {{l.out}, constant(g, sub, 0, c)});
    for (int i : {mean_op, sqd_op, var_op, add_eps, rsqrt, mul_gamma, mul_x, mul_mean, sub, add}) g.use(i);
    return g.output(add);
}

// Checks the conv operator itself against the layer and records its weights.
void match_conv(TfliteGraph& g, Found& f, int op_index, const ConvLayer& l) {
    const TfliteOperator& op = g.op(op_index);
    const bool depthwise = l.groups > 1;
    if (op.op != (depthwise ? "DEPTHWISE_CONV_2D" : "CONV_2D")) {
        g.fail(op_index, l.name + ": expected " + (depthwise ? "a depthwise" : "a regular") + " convolution");
    }
    const int filter = g.input(op_index, 1);
    const std::vector<int32_t> want = depthwise ? std::vector<int32_t>{1, l.kernel, l.kernel, l.out}
                                                : std::vector<int32_t>{l.out, l.kernel, l.kernel, l.in};
    if (g.shape(filter) != want) {
        g.fail(op_index, l.name + ": filter " + g.name(filter) + " has shape " + dims(g.shape(filter)) +
                             ", expected " + dims(want));
    }
    if (op.stride_h != l.stride || op.stride_w != l.stride || op.dilation_h != 1 || op.dilation_w != 1) {
        g.fail(op_index, l.name + ": stride " + std::to_string(op.stride_h) + "x" +
                             std::to_string(op.stride_w) + " (dilation " + std::to_string(op.dilation_h) +
                             "), expected stride " + std::to_string(l.stride) + " without dilation");
    }
    if ((op.padding != TfliteOperator::Padding::Valid && l.kernel > 1) || op.fused_activation != "NONE" ||
        (depthwise && op.depth_multiplier != 1)) {
        g.fail(op_index, l.name + ": expected VALID padding, no fused activation, depth multiplier 1");
    }
    const size_t weights = size_t(l.out) * (l.in / l.groups) * l.kernel * l.kernel;
    take_weight(g, f, op_index, 1, l.name + ".weight",
                {{l.out, l.in / l.groups, l.kernel, l.kernel},
                 weights::filter_to_oihw(constant(g, op_index, 1, weights), l.out, l.in / l.groups, l.kernel,
                                         depthwise)});

    const bool has_bias = op.inputs.size() > 2 && op.inputs[2] >= 0;
    if (l.has_bias) {
        if (!has_bias) g.fail(op_index, l.name + ": the depthwise convolution has no bias");
        take_weight(g, f, op_index, 2, l.name + ".bias", {{l.out}, constant(g, op_index, 2, size_t(l.out))});
    } else if (has_bias) {
        // Our regular convolutions have no bias: the TF release's are all zero; anything else we cannot run.
        for (float b : constant(g, op_index, 2, size_t(l.out)))
            if (b != 0.f)
                g.fail(op_index, l.name + ": bias " + g.name(g.input(op_index, 2)) + " is not zero");
    }
    g.use(op_index);
}

// Follows the conv's input back through MIRROR_PAD and RESIZE_BILINEAR; returns the layer input it reads.
int match_conv_input(TfliteGraph& g, Found& f, int op_index, const ConstStep& s,
                     const std::vector<int32_t>& resize_to) {
    const ConvLayer& l = *s.conv;
    int in = g.input(op_index, 0);
    int prod = g.producer(in);
    if (l.pad.any()) {
        if (prod < 0 || g.op(prod).op != "MIRROR_PAD" || g.op(prod).mirror_pad_mode != "REFLECT") {
            g.fail(op_index, l.name + ": expected a REFLECT MIRROR_PAD before it");
        }
        const std::vector<float> pads = constant(g, prod, 1, 8);
        const std::vector<float> want = {
            0, 0, float(l.pad.top), float(l.pad.bottom), float(l.pad.left), float(l.pad.right), 0, 0};
        if (pads != want) g.fail(prod, l.name + ": paddings differ from the layer's");
        g.use(prod);
        in = g.input(prod, 0);
        prod = g.producer(in);
    } else if (prod >= 0 && g.op(prod).op == "MIRROR_PAD") {
        g.fail(prod, l.name + ": unexpected padding before a 1x1 convolution");
    }
    if (s.resize != Resize::None) {
        if (prod < 0 || g.op(prod).op != "RESIZE_BILINEAR")
            g.fail(op_index, l.name + ": expected RESIZE_BILINEAR before it");
        const TfliteOperator& r = g.op(prod);
        const Upsample mode = r.half_pixel_centers ? Upsample::HalfPixel
                              : r.align_corners    ? Upsample::AlignCorners
                                                   : Upsample::TfLegacy;
        if (f.upsample && *f.upsample != mode) g.fail(prod, "the two resizes use different modes");
        f.upsample = mode;
        const std::vector<float> size = constant(g, prod, 1, 2);
        if (resize_to.size() != 4 || size[0] != float(resize_to[1]) || size[1] != float(resize_to[2])) {
            g.fail(prod, l.name + ": resize target differs from the encoder's size " + dims(resize_to));
        }
        g.use(prod);
        in = g.input(prod, 0);
    }
    return in;
}

bool contains_ci(const std::string& text, const std::string& word) {
    std::string lower = text;
    for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    return lower.find(word) != std::string::npos;
}

std::string style_name(const std::string& path) {
    const std::string file = models::base_name(path);
    for (const char* style : {"Hayao", "Shinkai", "Paprika"}) {
        std::string word = style;
        word[0] = char(std::tolower(static_cast<unsigned char>(word[0])));
        if (contains_ci(file, word)) return style;
    }
    return models::file_stem(path);
}

size_t count_ops(const weights::TfliteModel& m, std::initializer_list<const char*> types) {
    return size_t(std::count_if(m.operators.begin(), m.operators.end(), [&](const TfliteOperator& op) {
        return std::any_of(types.begin(), types.end(), [&](const char* t) { return op.op == t; });
    }));
}

// Cheap checks that tell the generator from other graphs; false with the first difference.
bool looks_like_generator(const weights::TfliteModel& m, const std::vector<ConstStep>& steps,
                          std::string& mismatch) {
    const size_t convs = count_ops(m, {"CONV_2D", "DEPTHWISE_CONV_2D"});
    const size_t want_dw = size_t(
        std::count_if(steps.begin(), steps.end(), [](const ConstStep& s) { return s.conv->groups > 1; }));
    const size_t dw = count_ops(m, {"DEPTHWISE_CONV_2D"}), resizes = count_ops(m, {"RESIZE_BILINEAR"});
    if (convs != steps.size()) {
        mismatch = std::to_string(steps.size()) + " convolutions expected, found " + std::to_string(convs);
    } else if (m.inputs.size() != 1 || m.outputs.size() != 1) {
        mismatch = "one input and one output expected, found " + std::to_string(m.inputs.size()) + " and " +
                   std::to_string(m.outputs.size());
    } else if (dw != want_dw) {
        mismatch = std::to_string(want_dw) + " depthwise convolutions expected, found " + std::to_string(dw);
    } else if (resizes != 2) {
        mismatch = "2 RESIZE_BILINEAR expected, found " + std::to_string(resizes);
    } else {
        const std::vector<int32_t>& in = m.tensors[m.inputs[0]].shape;
        if (in.size() != 4 || in[3] != 3)
            mismatch = "input of shape " + dims(in) + " is not an NHWC RGB image";
    }
    return mismatch.empty();
}

}  // namespace

bool import_tflite(const weights::TfliteModel& model, const models::SourceFile& source,
                   const ConvertOptions& options, weights::GgufWriter& out, ConvertResult& result,
                   std::string& mismatch) {
    const Layout layout = make_layout(false);
    const std::vector<ConstStep> steps = conv_steps(layout);
    if (!looks_like_generator(model, steps, mismatch)) return false;

    TfliteGraph g(model, source.path + ": AnimeGANv2 graph");
    Found f;
    std::vector<int> conv_ops;
    for (size_t i = 0; i < model.operators.size(); ++i)
        if (model.operators[i].op == "CONV_2D" || model.operators[i].op == "DEPTHWISE_CONV_2D")
            conv_ops.push_back(int(i));

    const int graph_input = g.root(model.inputs[0]);
    int current = graph_input;       // the output of the previous layer: the next layer's input
    int block_input = -1;            // input of the current inverted residual block
    std::vector<int32_t> half_size;  // shape of block A's output, the target of the first resize
    for (size_t k = 0; k < steps.size(); ++k) {
        const ConstStep& s = steps[k];
        const ConvLayer& l = *s.conv;
        const int op_index = conv_ops[k];
        match_conv(g, f, op_index, l);
        const std::vector<int32_t>& target = s.resize == Resize::ToHalf ? half_size : g.shape(graph_input);
        const int in = match_conv_input(g, f, op_index, s, target);
        if (in != current) {
            g.fail(op_index, l.name + ": reads " + g.name(in) + ", expected the previous layer's output " +
                                 g.name(current));
        }
        if (s.block_input) block_input = in;
        current = g.output(op_index);
        if (!l.norm.empty()) current = match_layer_norm(g, f, current, l);
        if (l.leaky_relu) {
            const int act = only_user(g, current, "LEAKY_RELU", l.name + " (activation)");
            if (std::abs(g.op(act).alpha - 0.2f) > 1e-6f)
                g.fail(act, l.name + ": LeakyReLU alpha must be 0.2");
            g.use(act);
            current = g.output(act);
        }
        if (s.residual_after) {
            const int add = only_user(g, current, "ADD", l.name + " (residual)", block_input);
            g.use(add);
            current = g.output(add);
        }
        if (&l == &layout.block_a.back()) half_size = g.shape(current);
    }
    const int tanh = only_user(g, current, "TANH", "out_layer (tanh)");
    g.use(tanh);
    if (g.output(tanh) != g.root(model.outputs[0])) g.fail(tanh, "its output is not the graph's output");
    if (const int extra = g.first_unused(); extra >= 0) g.fail(extra, "is not part of the generator");
    if (!f.eps || !f.upsample) g.fail("no layer norm or resize found");

    HyperParams params;
    params.upsample = options.upsample.value_or(*f.upsample);
    params.norm_eps = options.norm_eps.value_or(*f.eps);
    params.norm_groups = options.norm_groups.value_or(1);  // MEAN over axes [1, 2, 3]: layer norm
    params.style_attention = false;

    result.architecture = "animeganv2";
    result.style = options.style.empty() ? style_name(source.path) : options.style;
    result.recognized = false;  // no blob ids of released TFLite files are known
    result.style_attention = false;
    result.tensor_count = write_gguf(f.tensors, params, options.f16, source.path, out);
    return true;
}

}  // namespace animegan::animeganv2
