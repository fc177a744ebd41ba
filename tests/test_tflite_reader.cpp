// Tests of the TFLite flatbuffer reader: facts of the two real models in ../shared/models (skipped with a
// message when absent), schema features checked on synthetic files, and corrupted inputs that must end
// in animegan::Error or a successful parse, never in a crash (run under ASan/UBSan to make that count).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "animegan/error.h"
#include "weights/tflite_reader.h"

using animegan::Error;
using namespace animegan::weights;

namespace {

const std::string kModelDir = std::string(ANIMEGAN_SOURCE_DIR) + "/../shared/models/";
const char* const kFaceModel = "face_detection_front.tflite";
const char* const kHayaoModel = "animeganv2_hayao_256x256_integer_quant.tflite";

std::optional<std::vector<uint8_t>> load_model(const char* name) {
    std::ifstream in(kModelDir + name, std::ios::binary);
    if (!in) {
        MESSAGE("skipping: " << kModelDir << name << " is not available");
        return std::nullopt;
    }
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::map<std::string, int> op_counts(const TfliteModel& m) {
    std::map<std::string, int> counts;
    for (const auto& op : m.operators) ++counts[op.op];
    return counts;
}

int tensor_named(const TfliteModel& m, const std::string& name) {
    for (size_t i = 0; i < m.tensors.size(); ++i)
        if (m.tensors[i].name == name) return static_cast<int>(i);
    FAIL("no tensor named " << name);
    return -1;
}

// Parses `bytes` (each test passes an exactly sized heap copy, so ASan sees any over-read) and decodes
// the constant tensors. Returns whether the parse succeeded; animegan::Error is the only acceptable
// failure, anything else escapes and fails the test. Tensors without data and payloads over 16 KiB are
// skipped to keep hundreds of corrupted copies fast: they go through the same code as the rest, and the
// fuzz harness decodes everything.
bool parses_or_throws(const std::vector<uint8_t>& bytes) {
    try {
        const TfliteModel m = parse_tflite(bytes.data(), bytes.size(), "corrupt.tflite");
        for (size_t i = 0; i < m.tensors.size(); ++i) {
            const size_t payload = m.buffers.empty() ? 0 : m.buffers[m.tensors[i].buffer].second;
            if (payload == 0 || payload > 16384) continue;
            try {
                m.tensor_as_float(static_cast<int>(i));
            } catch (const Error&) {
            }
        }
        return true;
    } catch (const Error&) {
        return false;
    }
}

// Minimal flatbuffer writer, back to front like the real builder: every object is placed before the
// ones already written, so references (u32, relative to the referring field) always point forward.
// A Ref is an object's distance from the end of the buffer, which does not change as more is prepended.
class FlatWriter {
  public:
    using Ref = uint32_t;
    struct Field {
        int slot;
        std::vector<uint8_t> bytes;  // inline scalar, or empty for a reference
        Ref ref = 0;
    };

    template <class T>
    static Field scalar(int slot, T value) {
        std::vector<uint8_t> bytes(sizeof(T));
        std::memcpy(bytes.data(), &value, sizeof(T));
        return {slot, bytes, 0};
    }
    static Field ref(int slot, Ref target) { return {slot, {}, target}; }

    // A vector whose count field claims `count` elements, followed by `bytes` of element data.
    Ref raw_vector(uint32_t count, const void* data, size_t bytes) {
        std::vector<uint8_t> body(4 + bytes);
        std::memcpy(body.data(), &count, 4);
        if (bytes) std::memcpy(body.data() + 4, data, bytes);
        return prepend(body);
    }
    template <class T>
    Ref vec(const std::vector<T>& values) {
        return raw_vector(static_cast<uint32_t>(values.size()), values.data(), values.size() * sizeof(T));
    }
    Ref str(const std::string& s) {
        std::vector<uint8_t> chars(s.begin(), s.end());
        chars.push_back(0);
        return raw_vector(static_cast<uint32_t>(s.size()), chars.data(), chars.size());
    }
    Ref refs(const std::vector<Ref>& targets) {
        const Ref start = size() + 4 + 4 * static_cast<Ref>(targets.size());
        std::vector<uint32_t> words{static_cast<uint32_t>(targets.size())};
        for (size_t i = 0; i < targets.size(); ++i)
            words.push_back(start - 4 - 4 * static_cast<Ref>(i) - targets[i]);
        std::vector<uint8_t> body(words.size() * 4);
        std::memcpy(body.data(), words.data(), body.size());
        return prepend(body);
    }
    // A table and, right before it, its vtable.
    Ref table(const std::vector<Field>& fields) {
        int max_slot = -1;
        for (const auto& f : fields) max_slot = std::max(max_slot, f.slot);
        const uint16_t vtable_bytes = static_cast<uint16_t>(4 + 2 * (max_slot + 1));
        std::vector<uint16_t> slots(max_slot + 1, 0);
        std::vector<uint8_t> body(4);
        const int32_t soffset = vtable_bytes;  // the vtable directly precedes the table
        std::memcpy(body.data(), &soffset, 4);
        std::vector<std::pair<size_t, Ref>> patches;
        for (const auto& f : fields) {
            slots[f.slot] = static_cast<uint16_t>(body.size());
            if (f.bytes.empty()) {
                patches.emplace_back(body.size(), f.ref);
                body.resize(body.size() + 4);
            } else {
                body.insert(body.end(), f.bytes.begin(), f.bytes.end());
            }
        }
        const Ref table_ref = size() + static_cast<Ref>(body.size());
        for (const auto& [at, target] : patches) {
            const uint32_t offset = table_ref - static_cast<Ref>(at) - target;
            std::memcpy(body.data() + at, &offset, 4);
        }
        prepend(body);
        std::vector<uint8_t> vtable(vtable_bytes);
        const uint16_t table_bytes = static_cast<uint16_t>(body.size());
        std::memcpy(vtable.data(), &vtable_bytes, 2);
        std::memcpy(vtable.data() + 2, &table_bytes, 2);
        if (!slots.empty()) std::memcpy(vtable.data() + 4, slots.data(), 2 * slots.size());
        prepend(vtable);
        return table_ref;
    }
    std::vector<uint8_t> finish(Ref root, const char* identifier = "TFL3") {
        std::vector<uint8_t> header(8);
        const uint32_t offset = size() + 8 - root;
        std::memcpy(header.data(), &offset, 4);
        std::memcpy(header.data() + 4, identifier, 4);
        prepend(header);
        return buf_;
    }

  private:
    Ref size() const { return static_cast<Ref>(buf_.size()); }
    Ref prepend(const std::vector<uint8_t>& bytes) {
        buf_.insert(buf_.begin(), bytes.begin(), bytes.end());
        return size();
    }
    std::vector<uint8_t> buf_;
};

using F = FlatWriter;
constexpr uint64_t kExternalPlaceholder = 0x5a5a5a5a5a5a5a5aull;

// Knobs that turn the synthetic model into a broken one.
struct SynthKnobs {
    uint8_t conv_options_type = 1;  // Conv2DOptions
    uint32_t conv_opcode_index = 0;
    int32_t conv_input = 0;
    uint32_t f16_buffer = 1;
    uint32_t shape_claimed_count = 1;  // of tensor 0's shape vector (which holds one element)
    uint64_t external_extra = 0;       // added to the external buffer's size
    const char* identifier = "TFL3";
};

// A model exercising what the real files do not: operator codes above 127 and custom codes, external
// buffers, float16, per-channel quantization along a non-leading dimension, plain int32 and uint8.
std::vector<uint8_t> synth_model(const SynthKnobs& k = {}) {
    F w;
    // 1.0, -2.5, smallest subnormal 2^-24, largest finite 65504, -infinity, NaN
    const std::vector<uint16_t> f16 = {0x3c00, 0xc100, 0x0001, 0x7bff, 0xfc00, 0x7e00};
    const std::vector<int8_t> i8 = {2, 2, 2, -2, -2, -2};  // [2,3], channels along dim 1
    const std::vector<int32_t> i32 = {7, -9};
    const std::vector<uint8_t> u8 = {128, 138};
    auto data_buffer = [&](const void* data, size_t bytes) {
        return w.table({F::ref(0, w.raw_vector(static_cast<uint32_t>(bytes), data, bytes))});
    };
    const std::vector<F::Ref> buffers = {
        w.table({}),
        data_buffer(f16.data(), 12),
        data_buffer(i8.data(), 6),
        data_buffer(i32.data(), 8),
        data_buffer(u8.data(), 2),
        w.table(
            {F::scalar<uint64_t>(1, kExternalPlaceholder), F::scalar<uint64_t>(2, 12 + k.external_extra)}),
    };
    auto quant = [&](const std::vector<float>& scale, const std::vector<int64_t>& zero, int dim) {
        return w.table({F::ref(2, w.vec(scale)), F::ref(3, w.vec(zero)), F::scalar<int32_t>(6, dim)});
    };
    auto tensor = [&](const std::string& name, F::Ref shape, int8_t type, uint32_t buffer,
                      std::optional<F::Ref> q) {
        std::vector<F::Field> fields = {F::ref(0, shape), F::scalar<int8_t>(1, type),
                                        F::scalar<uint32_t>(2, buffer), F::ref(3, w.str(name))};
        if (q) fields.push_back(F::ref(4, *q));
        return w.table(fields);
    };
    const int32_t six = 6;
    const std::vector<F::Ref> tensors = {
        tensor("half", w.raw_vector(k.shape_claimed_count, &six, 4), 1, k.f16_buffer, std::nullopt),
        tensor("per_channel", w.vec(std::vector<int32_t>{2, 3}), 9, 2,
               quant({0.5f, 1.f, 2.f}, {0, 1, -1}, 1)),
        tensor("ints", w.vec(std::vector<int32_t>{2}), 2, 3, std::nullopt),
        tensor("bytes", w.vec(std::vector<int32_t>{2}), 3, 4, quant({0.1f}, {128}, 0)),
        tensor("external", w.vec(std::vector<int32_t>{3}), 0, 5, std::nullopt),
        tensor("too_short", w.vec(std::vector<int32_t>{4}), 0, 5, std::nullopt),
    };
    const std::vector<F::Ref> codes = {
        w.table({F::scalar<int8_t>(0, 3)}),                                // CONV_2D, old field only
        w.table({F::scalar<int8_t>(0, 127), F::scalar<int32_t>(3, 150)}),  // GELU, new field
        w.table({F::scalar<int8_t>(0, 32), F::ref(1, w.str("MyOp"))}),     // custom
        w.table({F::scalar<int32_t>(3, 300)}),                             // unknown builtin
    };
    const F::Ref conv_options =
        w.table({F::scalar<int8_t>(0, 1), F::scalar<int32_t>(1, 2), F::scalar<int32_t>(2, 3),
                 F::scalar<int8_t>(3, 3)});  // VALID, stride 2x3, RELU6
    auto op = [&](uint32_t code, std::vector<int32_t> in, std::vector<F::Field> extra) {
        std::vector<F::Field> fields = {F::scalar<uint32_t>(0, code), F::ref(1, w.vec(in)),
                                        F::ref(2, w.vec(std::vector<int32_t>{4}))};
        fields.insert(fields.end(), extra.begin(), extra.end());
        return w.table(fields);
    };
    const std::vector<F::Ref> ops = {
        op(k.conv_opcode_index, {k.conv_input, 1, -1},
           {F::scalar<uint8_t>(3, k.conv_options_type), F::ref(4, conv_options)}),
        op(1, {0}, {}),
        op(2, {0}, {}),
        op(3, {-1, 2}, {}),
    };
    const F::Ref graph = w.table({F::ref(0, w.refs(tensors)), F::ref(1, w.vec(std::vector<int32_t>{0})),
                                  F::ref(2, w.vec(std::vector<int32_t>{4})), F::ref(3, w.refs(ops))});
    const F::Ref model =
        w.table({F::scalar<uint32_t>(0, 3), F::ref(1, w.refs(codes)), F::ref(2, w.refs({graph})),
                 F::ref(3, w.str("synthetic")), F::ref(4, w.refs(buffers))});
    std::vector<uint8_t> file = w.finish(model, k.identifier);

    // The external buffer goes after the flatbuffer; patch its now-known offset into the placeholder.
    const uint64_t external_at = file.size();
    const std::vector<float> external = {0.25f, -4.f, 1e6f};
    file.resize(file.size() + 12);
    std::memcpy(file.data() + external_at, external.data(), 12);
    uint64_t placeholder = kExternalPlaceholder;
    auto at = std::search(file.begin(), file.end(), reinterpret_cast<uint8_t*>(&placeholder),
                          reinterpret_cast<uint8_t*>(&placeholder) + 8);
    REQUIRE(at != file.end());
    std::memcpy(&*at, &external_at, 8);
    return file;
}

void check_throws_error(const std::vector<uint8_t>& bytes, const char* expected_fragment) {
    try {
        parse_tflite(bytes.data(), bytes.size(), "synthetic.tflite");
        FAIL("parse_tflite accepted a broken file");
    } catch (const Error& e) {
        const std::string what = e.what();
        CHECK(what.find("synthetic.tflite") != std::string::npos);
        CHECK_MESSAGE(what.find(expected_fragment) != std::string::npos, what);
    }
}

}  // namespace

TEST_SUITE("tflite") {
TEST_CASE("BlazeFace front model: graph structure and options") {
    const auto bytes = load_model(kFaceModel);
    if (!bytes) return;
    const TfliteModel m = parse_tflite(bytes->data(), bytes->size(), kFaceModel);
    CHECK(m.version == 3);
    CHECK(m.tensors.size() == 176);
    CHECK(m.buffers.size() == 88);

    REQUIRE(m.inputs.size() == 1);
    const TfliteTensor& input = m.tensors[m.inputs[0]];
    CHECK(input.name == "input");
    CHECK(input.shape == std::vector<int32_t>{1, 128, 128, 3});
    CHECK(input.type == TfliteType::Float32);
    REQUIRE(m.outputs.size() == 2);
    CHECK(m.tensors[m.outputs[0]].name == "regressors");
    CHECK(m.tensors[m.outputs[0]].shape == std::vector<int32_t>{1, 896, 16});
    CHECK(m.tensors[m.outputs[1]].name == "classificators");
    CHECK(m.tensors[m.outputs[1]].shape == std::vector<int32_t>{1, 896, 1});

    const auto counts = op_counts(m);
    CHECK(m.operators.size() == 90);
    CHECK(counts.at("CONV_2D") == 21);
    CHECK(counts.at("DEPTHWISE_CONV_2D") == 16);
    CHECK(counts.at("MAX_POOL_2D") == 3);
    CHECK(counts.at("PAD") == 11);
    CHECK(counts.at("RELU") == 17);
    CHECK(counts.at("ADD") == 16);
    CHECK(counts.at("RESHAPE") == 4);
    CHECK(counts.at("CONCATENATION") == 2);

    // First op: 5x5 stride-2 SAME convolution on the input, 24 filters, float weights and bias.
    const TfliteOperator& first = m.operators[0];
    CHECK(first.op == "CONV_2D");
    CHECK(first.inputs[0] == m.inputs[0]);
    CHECK(first.stride_w == 2);
    CHECK(first.stride_h == 2);
    CHECK(first.padding == TfliteOperator::Padding::Same);
    CHECK(first.fused_activation == "NONE");
    const TfliteTensor& kernel = m.tensors[first.inputs[1]];
    CHECK(kernel.name == "conv2d/Kernel");
    CHECK(kernel.shape == std::vector<int32_t>{24, 5, 5, 3});
    const std::vector<float> weights = m.tensor_as_float(first.inputs[1]);
    CHECK(weights.size() == 24 * 5 * 5 * 3);
    CHECK(std::all_of(weights.begin(), weights.end(),
                      [](float v) { return std::isfinite(v) && std::fabs(v) < 100; }));

    int depthwise_stride2 = 0;
    for (const auto& op : m.operators) {
        if (op.op == "DEPTHWISE_CONV_2D") {
            CHECK(m.tensors[op.inputs[1]].shape[0] == 1);
            depthwise_stride2 += op.stride_w == 2;
        }
        if (op.op == "MAX_POOL_2D") {
            CHECK(op.filter_w == 2);
            CHECK(op.filter_h == 2);
            CHECK(op.stride_w == 2);
        }
        if (op.op == "CONCATENATION") CHECK(op.axis == 1);
    }
    CHECK(depthwise_stride2 == 3);
}

TEST_CASE("AnimeGANv2 Hayao int8 model: graph structure, quantization and options") {
    const auto bytes = load_model(kHayaoModel);
    if (!bytes) return;
    const TfliteModel m = parse_tflite(bytes->data(), bytes->size(), kHayaoModel);
    CHECK(m.description == "MLIR Converted.");
    CHECK(m.tensors.size() == 520);
    CHECK(m.operators.size() == 429);

    const auto counts = op_counts(m);
    const std::map<std::string, int> expected = {{"ADD", 51},
                                                 {"CONV_2D", 21},
                                                 {"DEPTHWISE_CONV_2D", 4},
                                                 {"DEQUANTIZE", 73},
                                                 {"LEAKY_RELU", 20},
                                                 {"MEAN", 48},
                                                 {"MIRROR_PAD", 16},
                                                 {"MUL", 72},
                                                 {"QUANTIZE", 49},
                                                 {"RESIZE_BILINEAR", 2},
                                                 {"RSQRT", 24},
                                                 {"SQUARED_DIFFERENCE", 24},
                                                 {"SUB", 24},
                                                 {"TANH", 1}};
    CHECK(counts == expected);

    // Float input and output, int8 inside: QUANTIZE first, DEQUANTIZE last.
    REQUIRE(m.inputs.size() == 1);
    REQUIRE(m.outputs.size() == 1);
    const TfliteTensor& input = m.tensors[m.inputs[0]];
    CHECK(input.name == "input");
    CHECK(input.shape == std::vector<int32_t>{1, 256, 256, 3});
    CHECK(input.type == TfliteType::Float32);
    CHECK(m.tensors[m.outputs[0]].name == "generator/G_MODEL/out_layer/Tanh");
    CHECK(m.tensors[m.outputs[0]].shape == std::vector<int32_t>{1, 256, 256, 3});
    CHECK(m.operators.front().op == "QUANTIZE");
    CHECK(m.operators.back().op == "DEQUANTIZE");
    const TfliteTensor& tanh_out = m.tensors[m.operators.back().inputs[0]];
    CHECK(tanh_out.type == TfliteType::Int8);
    CHECK(tanh_out.quant.scale == std::vector<float>{1.f / 128});

    // The first conv by its TF name: 7x7, 32 per-channel int8 scales along dimension 0.
    const int conv = tensor_named(m, "generator/G_MODEL/A/Conv/Conv2D");
    const TfliteTensor& conv_w = m.tensors[conv];
    CHECK(conv_w.shape == std::vector<int32_t>{32, 7, 7, 3});
    CHECK(conv_w.type == TfliteType::Int8);
    CHECK(conv_w.quant.scale.size() == 32);
    CHECK(conv_w.quant.quantized_dimension == 0);
    const std::vector<float> conv_f = m.tensor_as_float(conv);
    CHECK(conv_f.size() == 32 * 7 * 7 * 3);
    const auto [q_bytes, q_size] = m.buffers[conv_w.buffer];
    REQUIRE(q_size == conv_f.size());
    // Element 147 is the first of output channel 1: it must use scale[1].
    CHECK(conv_f[147] == doctest::Approx(conv_w.quant.scale[1] * static_cast<int8_t>(q_bytes[147])));

    int convs = 0;
    for (const auto& op : m.operators) {
        if (op.op != "CONV_2D" && op.op != "DEPTHWISE_CONV_2D") continue;
        ++convs;
        const TfliteTensor& w = m.tensors[op.inputs[1]];
        CHECK(w.type == TfliteType::Int8);
        CHECK(w.quant.zero_point == std::vector<int64_t>(w.quant.scale.size(), 0));
        CHECK(op.padding == TfliteOperator::Padding::Valid);  // padding is explicit MIRROR_PAD
        CHECK(op.fused_activation == "NONE");
        CHECK(m.tensors[op.inputs[2]].type == TfliteType::Int32);
        if (op.op == "CONV_2D") {
            CHECK(w.quant.quantized_dimension == 0);
            CHECK(w.quant.scale.size() == static_cast<size_t>(w.shape[0]));
            CHECK(w.name.find("generator/G_MODEL/") == 0);
            CHECK(w.name.find("/Conv2D") != std::string::npos);
        } else {
            CHECK(w.quant.quantized_dimension == 3);
            CHECK(w.quant.scale.size() == static_cast<size_t>(w.shape[3]));
            CHECK(w.shape[0] == 1);
            CHECK(op.depth_multiplier == 1);
        }
    }
    CHECK(convs == 25);

    for (const auto& op : m.operators) {
        if (op.op == "RESIZE_BILINEAR") {
            CHECK_FALSE(op.align_corners);
            CHECK_FALSE(op.half_pixel_centers);
        }
        if (op.op == "MIRROR_PAD") CHECK(op.mirror_pad_mode == "REFLECT");
        if (op.op == "LEAKY_RELU") CHECK(op.alpha == doctest::Approx(0.2f));
        if (op.op == "MEAN") {
            CHECK(op.keep_dims);
            CHECK(m.tensor_as_float(op.inputs[1]) == std::vector<float>{1, 2, 3});  // over H, W and C
        }
    }

    // LayerNorm constants: per-tensor int8 gamma/beta, and the 1e-12 variance epsilon.
    const int gamma = tensor_named(m, "generator/G_MODEL/A/LayerNorm/gamma");
    CHECK(m.tensors[gamma].shape == std::vector<int32_t>{32});
    CHECK(m.tensors[gamma].quant.scale.size() == 1);
    for (float g : m.tensor_as_float(gamma)) CHECK((g > 0.9f && g < 1.1f));
    const int epsilon = tensor_named(m, "generator/G_MODEL/E/LayerNorm_2/batchnorm/add/y");
    CHECK(m.tensors[epsilon].shape.empty());
    REQUIRE(m.tensor_as_float(epsilon).size() == 1);
    CHECK(m.tensor_as_float(epsilon)[0] == doctest::Approx(1e-12).epsilon(0.01));
    CHECK(m.tensor_as_float(tensor_named(m, "generator/G_MODEL/D/resize/size")) ==
          std::vector<float>{128, 128});
    CHECK(m.tensor_as_float(tensor_named(m, "generator/G_MODEL/E/resize/size")) ==
          std::vector<float>{256, 256});

    // Every constant decodes; activations have no data and throw.
    for (size_t i = 0; i < m.tensors.size(); ++i) {
        if (m.buffers[m.tensors[i].buffer].second) CHECK_NOTHROW(m.tensor_as_float(static_cast<int>(i)));
    }
    CHECK_THROWS_AS(m.tensor_as_float(m.inputs[0]), Error);
    CHECK_THROWS_AS(m.tensor_as_float(-1), Error);
    CHECK_THROWS_AS(m.tensor_as_float(static_cast<int>(m.tensors.size())), Error);
}

TEST_CASE("synthetic model: operator codes, options, external buffers and dequantization") {
    const std::vector<uint8_t> file = synth_model();
    const TfliteModel m = parse_tflite(file.data(), file.size(), "synthetic.tflite");
    CHECK(m.version == 3);
    CHECK(m.description == "synthetic");
    REQUIRE(m.operators.size() == 4);
    CHECK(m.operators[0].op == "CONV_2D");
    CHECK(m.operators[1].op == "GELU");
    CHECK(m.operators[2].op == "CUSTOM:MyOp");
    CHECK(m.operators[3].op == "BUILTIN_300");
    CHECK(m.operators[3].inputs == std::vector<int32_t>{-1, 2});

    const TfliteOperator& conv = m.operators[0];
    CHECK(conv.padding == TfliteOperator::Padding::Valid);
    CHECK(conv.stride_w == 2);
    CHECK(conv.stride_h == 3);
    CHECK(conv.dilation_w == 1);  // absent field: schema default
    CHECK(conv.dilation_h == 1);
    CHECK(conv.fused_activation == "RELU6");

    const std::vector<float> half = m.tensor_as_float(0);
    REQUIRE(half.size() == 6);
    CHECK(half[0] == 1.f);
    CHECK(half[1] == -2.5f);
    CHECK(half[2] == std::ldexp(1.f, -24));
    CHECK(half[3] == 65504.f);
    CHECK(half[4] == -INFINITY);
    CHECK(std::isnan(half[5]));
    // Per-channel along dim 1 (scales 0.5, 1, 2; zero points 0, 1, -1) of [[2,2,2],[-2,-2,-2]].
    CHECK(m.tensor_as_float(1) == std::vector<float>{1.f, 1.f, 6.f, -1.f, -3.f, -2.f});
    CHECK(m.tensor_as_float(2) == std::vector<float>{7.f, -9.f});
    const std::vector<float> bytes = m.tensor_as_float(3);
    REQUIRE(bytes.size() == 2);
    CHECK(bytes[0] == doctest::Approx(0.f));
    CHECK(bytes[1] == doctest::Approx(1.f));
    CHECK(m.buffers[5].first == file.data() + file.size() - 12);  // external buffer, offset from file start
    CHECK(m.tensor_as_float(4) == std::vector<float>{0.25f, -4.f, 1e6f});
    CHECK_THROWS_WITH_AS(m.tensor_as_float(5), doctest::Contains("does not match shape"), Error);
}

TEST_CASE("synthetic model: structural errors are reported, not crashed on") {
    SynthKnobs k;
    k.conv_options_type = 17;  // ReshapeOptions on a CONV_2D
    check_throws_error(synth_model(k), "option table type 17");
    k = {};
    k.conv_opcode_index = 4;
    check_throws_error(synth_model(k), "opcode_index 4 is out of range");
    k = {};
    k.conv_input = 6;
    check_throws_error(synth_model(k), "input tensor 6 is out of range");
    k = {};
    k.f16_buffer = 6;
    check_throws_error(synth_model(k), "buffer 6 is out of range");
    k = {};
    k.shape_claimed_count = 0x7fffffff;
    check_throws_error(synth_model(k), "runs past the end");
    k = {};
    k.external_extra = 1;
    check_throws_error(synth_model(k), "external buffer");
    k = {};
    k.identifier = "TFL2";
    check_throws_error(synth_model(k), "file identifier");

    const std::vector<uint8_t> empty;
    CHECK_THROWS_AS(parse_tflite(empty.data(), empty.size(), "empty"), Error);
    CHECK_THROWS_AS(parse_tflite(nullptr, 0, "null"), Error);
    const std::vector<uint8_t> header_only = {8, 0, 0, 0, 'T', 'F', 'L', '3'};
    CHECK_THROWS_AS(parse_tflite(header_only.data(), header_only.size(), "header"), Error);
}

TEST_CASE("tables shared many times over cannot make the reader allocate without bound") {
    // 200k tensors that all point at one tensor with a 4096-entry shape: 800 KB of file, 3 GB decoded.
    F w;
    const F::Ref shape = w.vec(std::vector<int32_t>(4096, 1));
    const F::Ref tensor = w.table({F::ref(0, shape), F::ref(3, w.str("t"))});
    const F::Ref graph = w.table({F::ref(0, w.refs(std::vector<F::Ref>(200000, tensor)))});
    const F::Ref model = w.table({F::ref(2, w.refs({graph}))});
    const std::vector<uint8_t> file = w.finish(model);
    CHECK_THROWS_WITH_AS(parse_tflite(file.data(), file.size(), "bomb"), doctest::Contains("shared tables"),
                         Error);
}

TEST_CASE("corrupted real files: truncation, huge lengths and byte flips never crash") {
    for (const std::string name : {kFaceModel, kHayaoModel}) {
        const auto original = load_model(name.c_str());
        if (!original) continue;
        CAPTURE(name);
        const TfliteModel model = parse_tflite(original->data(), original->size(), name);
        std::mt19937 rng(20240607);

        // Truncations: every length up to 256 bytes, then seeded random lengths. The model needs
        // every byte of its flatbuffer, so none of these may parse.
        std::vector<size_t> cuts;
        for (size_t n = 0; n < 256; ++n) cuts.push_back(n);
        for (int i = 0; i < 40; ++i) cuts.push_back(rng() % original->size());
        for (size_t cut : cuts) {
            const std::vector<uint8_t> truncated(original->begin(), original->begin() + cut);
            CHECK_FALSE(parses_or_throws(truncated));
        }

        // Metadata positions: bytes outside every buffer payload, where flips hit the structure.
        std::vector<uint8_t> in_payload(original->size(), 0);
        for (const auto& [bytes, size] : model.buffers)
            if (bytes) std::fill_n(in_payload.begin() + (bytes - original->data()), size, 1);
        std::vector<size_t> structure;
        for (size_t i = 0; i < original->size(); ++i)
            if (!in_payload[i]) structure.push_back(i);

        // Huge counts/offsets written over structure words; then random flips of 1 to 8 bytes.
        int parsed = 0, rejected = 0;
        for (int i = 0; i < 100; ++i) {
            std::vector<uint8_t> bad = *original;
            const size_t at = structure[rng() % structure.size()] & ~size_t{3};
            const uint32_t huge = 0xfffffff0u - static_cast<uint32_t>(rng() % 4096);
            std::memcpy(bad.data() + at, &huge, 4);
            (parses_or_throws(bad) ? parsed : rejected)++;
        }
        for (int i = 0; i < 100; ++i) {
            std::vector<uint8_t> bad = *original;
            const int flips = 1 + static_cast<int>(rng() % 8);
            for (int f = 0; f < flips; ++f)
                bad[structure[rng() % structure.size()]] ^= static_cast<uint8_t>(1 + rng() % 255);
            (parses_or_throws(bad) ? parsed : rejected)++;
        }
        MESSAGE(name << ": " << structure.size() << " structure bytes; of 200 corruptions " << parsed
                     << " still parsed, " << rejected << " were rejected with animegan::Error");
        CHECK(rejected > 0);
    }
}

}  // TEST_SUITE("tflite")
