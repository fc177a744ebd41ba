// The TFLite importer of the official AnimeGANv2 generator, on the real Hayao file in ../shared/models
// (skipped with a message where absent): the mapping found by walking the graph, the numerics of our engine
// on the converted weights against tools/torch_reference.py on the same GGUF, refusal of other graphs, and
// errors for graphs that look like the generator but differ in a detail.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "animegan/animegan.h"
#include "animegan/convert.h"
#include "engine/models/animeganv2/importers.h"
#include "tests/test_support.h"
#include "weights/gguf.h"
#include "weights/tflite_reader.h"

namespace {

using namespace animegan;
using namespace animegan::weights;

constexpr double kTorchTolerance = 1e-3;

const char* const kHayao = "models/animeganv2_hayao_256x256_integer_quant.tflite";

// Operators of one type, in execution order.
std::vector<const TfliteOperator*> ops_of(const TfliteModel& m, const std::string& type) {
    std::vector<const TfliteOperator*> found;
    for (const TfliteOperator& op : m.operators)
        if (op.op == type) found.push_back(&op);
    return found;
}

// A CONV_2D filter [O, KH, KW, I] of the source, transposed independently of the importer: [O, I, KH, KW].
std::vector<float> torch_order(const TfliteModel& m, int tensor) {
    const std::vector<int32_t>& s = m.tensors[tensor].shape;
    const std::vector<float> v = m.tensor_as_float(tensor);
    const int O = s[0], KH = s[1], KW = s[2], I = s[3];
    std::vector<float> out(v.size());
    for (int o = 0; o < O; ++o)
        for (int y = 0; y < KH; ++y)
            for (int x = 0; x < KW; ++x)
                for (int i = 0; i < I; ++i)
                    out[((o * I + i) * KH + y) * KW + x] = v[((o * KH + y) * KW + x) * I + i];
    return out;
}

void check_tensor(const GgufFile& gguf, const std::string& name, const std::vector<int64_t>& shape,
                  const std::vector<float>& want) {
    const GgufTensor* t = gguf.find(name);
    REQUIRE_MESSAGE(t != nullptr, name);
    CHECK(t->shape == shape);
    const std::vector<float> got = t->to_f32();
    REQUIRE(got.size() == want.size());
    CHECK_MESSAGE(got == want, name << " differs from the source tensor");
}

struct Source {
    std::vector<uint8_t> bytes;
    TfliteModel model;
};

Source parse_file(const std::string& path) {
    Source s;
    s.bytes = testing::read_bytes(path);
    s.model = parse_tflite(s.bytes.data(), s.bytes.size(), path);
    return s;
}

// Runs the importer on a (modified) model; returns the Error message, or "" when it succeeded.
std::string import_error(const TfliteModel& model, const std::string& path) {
    models::SourceFile source;
    source.path = path;
    GgufWriter writer;
    ConvertResult result;
    std::string mismatch;
    const std::string error = testing::error_message(
        [&] { animeganv2::import_tflite(model, source, {}, writer, result, mismatch); });
    if (!mismatch.empty()) return "refused: " + mismatch;
    return error == "<no error>" ? "" : error;
}

}  // namespace

TEST_SUITE("tflite_animegan") {

TEST_CASE("the Hayao TFLite file converts, mapped by structure") {
    ANIMEGAN_SKIP_IF(testing::shared_file_absent(kHayao));
    const std::string path = testing::shared_file(kHayao);
    const std::string gguf_path = testing::scratch_dir("tflite_animegan_convert") + "/hayao.gguf";
    const ConvertResult r = convert_to_gguf(path, gguf_path);
    CHECK(r.architecture == "animeganv2");
    CHECK(r.style == "Hayao");
    CHECK_FALSE(r.recognized);
    CHECK_FALSE(r.style_attention);
    CHECK(r.tensor_count == 77);  // 25 conv weights, 4 depthwise biases, 24 norms x (gamma, beta)

    const GgufFile gguf = GgufFile::open(gguf_path);
    CHECK(gguf.tensors().size() == 77);
    CHECK(gguf.get_string("general.architecture") == "animeganv2");
    CHECK(gguf.get_string("general.name") == "Hayao");
    CHECK(gguf.get_string("animeganv2.upsample_mode") == "tf_legacy");
    CHECK(gguf.get_f32("animeganv2.norm_eps").value_or(0) == doctest::Approx(1e-12).epsilon(1e-3));
    CHECK(gguf.get_u32("animeganv2.norm_groups") == 1u);
    CHECK(gguf.get_bool("animeganv2.style_attention") == false);

    // Spot checks against the source, located by position in the graph, not by name.
    const Source src = parse_file(path);
    const auto convs = ops_of(src.model, "CONV_2D");
    const auto dws = ops_of(src.model, "DEPTHWISE_CONV_2D");
    REQUIRE(convs.size() == 21);
    REQUIRE(dws.size() == 4);
    check_tensor(gguf, "block_a.0.1.weight", {32, 3, 7, 7}, torch_order(src.model, convs[0]->inputs[1]));
    check_tensor(gguf, "block_a.2.1.weight", {64, 64, 3, 3}, torch_order(src.model, convs[2]->inputs[1]));
    // CONV_2D #5 is block_c.0; then each inverted residual block has two: expand and project.
    check_tensor(gguf, "block_c.1.layers.0.1.weight", {256, 128, 1, 1},
                 torch_order(src.model, convs[6]->inputs[1]));
    check_tensor(gguf, "block_c.4.layers.2.weight", {256, 512, 1, 1},
                 torch_order(src.model, convs[13]->inputs[1]));
    check_tensor(gguf, "block_e.2.1.weight", {32, 64, 7, 7}, torch_order(src.model, convs[19]->inputs[1]));
    check_tensor(gguf, "out_layer.0.weight", {3, 32, 1, 1}, torch_order(src.model, convs[20]->inputs[1]));
    check_tensor(gguf, "block_c.2.layers.1.1.bias", {512}, src.model.tensor_as_float(dws[1]->inputs[2]));
    // Depthwise [1, 3, 3, C] -> [C, 1, 3, 3]: element (c, y, x) comes from (y * 3 + x) * C + c.
    {
        const std::vector<float> w = src.model.tensor_as_float(dws[3]->inputs[1]);
        const std::vector<float> got = gguf.find("block_c.4.layers.1.1.weight")->to_f32();
        REQUIRE(got.size() == w.size());
        for (int c : {0, 7, 311, 511})
            for (int k = 0; k < 9; ++k) CHECK(got[c * 9 + k] == w[k * 512 + c]);
    }
    // The first norm: gamma is the constant of the first MUL after the first RSQRT, beta the first SUB's.
    check_tensor(gguf, "block_a.0.2.weight", {32},
                 src.model.tensor_as_float(ops_of(src.model, "MUL")[0]->inputs[1]));
    check_tensor(gguf, "block_a.0.2.bias", {32},
                 src.model.tensor_as_float(ops_of(src.model, "SUB")[0]->inputs[0]));
}

TEST_CASE("our engine on the converted Hayao weights matches PyTorch on the same GGUF") {
    ANIMEGAN_SKIP_IF(testing::shared_file_absent(kHayao));
    ANIMEGAN_SKIP_IF(testing::shared_file_absent("images/portrait_01.jpg"));
    const std::string path = testing::shared_file(kHayao),
                      photo = testing::shared_file("images/portrait_01.jpg");
    ANIMEGAN_SKIP_IF(testing::torch_unavailable_reason());
    const std::string dir = testing::scratch_dir("tflite_animegan_numerics");
    convert_to_gguf(path, dir + "/hayao.gguf");
    const Tensor input = image_to_tensor(resize_image(load_image(photo), 256, 256));
    testing::write_bytes(dir + "/photo.f32",
                         std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(input.data()),
                                              reinterpret_cast<const uint8_t*>(input.data() + input.size())));
    const std::string command =
        std::string("/usr/bin/python3 ") + ANIMEGAN_SOURCE_DIR + "/tools/torch_reference.py --out " + dir +
        " --from-gguf " + dir + "/hayao.gguf --input-f32 " + dir +
        "/photo.f32 --height 256 --width 256 --threads 2 > " + dir + "/reference.log 2>&1";
    REQUIRE_MESSAGE(testing::run_command(command) == 0,
                    "reference script failed: see " << dir << "/reference.log");

    const Tensor output = Generator::load(dir + "/hayao.gguf").forward(input);
    const std::vector<float> want = testing::read_f32_file(dir + "/output.f32");
    const double diff = testing::max_abs_diff(output, want);
    MESSAGE("Hayao 256x256 portrait_01: max abs diff vs PyTorch "
            << diff << " (" << std::string(kernels_isa()) << " kernels)");
    CHECK(diff <= kTorchTolerance);
    // Not a constant picture: the output spreads over the range like a photo does.
    const auto [lo, hi] = std::minmax_element(want.begin(), want.end());
    CHECK(*hi - *lo > 0.5f);
}

TEST_CASE("other graphs are refused with the reason") {
    ANIMEGAN_SKIP_IF(testing::shared_file_absent("models/face_detection_front.tflite"));
    const std::string face = testing::shared_file("models/face_detection_front.tflite");
    const Source src = parse_file(face);
    CHECK(import_error(src.model, face) == "refused: 25 convolutions expected, found 37");
    // Through convert_to_gguf: BlazeFace's importer may take it; if nothing does, the AnimeGAN reason is
    // named.
    const std::string out = testing::scratch_dir("tflite_animegan_refuse") + "/face.gguf";
    try {
        const ConvertResult r = convert_to_gguf(face, out);
        CHECK(r.architecture != "animeganv2");
    } catch (const Error& e) {
        const std::string message = e.what();
        CHECK_MESSAGE(message.find("not the AnimeGANv2 generator (25 convolutions expected, found 37)") !=
                          std::string::npos,
                      message);
    }
}

TEST_CASE("a generator-like graph that differs in a detail is an error naming it") {
    ANIMEGAN_SKIP_IF(testing::shared_file_absent(kHayao));
    const std::string path = testing::shared_file(kHayao);
    const Source src = parse_file(path);
    REQUIRE(import_error(src.model, path).empty());
    auto op_index = [&](const std::string& type, size_t k) {
        size_t seen = 0;
        for (size_t i = 0; i < src.model.operators.size(); ++i)
            if (src.model.operators[i].op == type && seen++ == k) return i;
        FAIL("no " << type << " #" << k);
        return size_t(0);
    };
    auto expect_error = [&](TfliteModel m, const std::string& needle) {
        const std::string message = import_error(m, path);
        CHECK_MESSAGE(message.find(needle) != std::string::npos, "'" << needle << "' not in: " << message);
        CHECK(message.rfind("refused", 0) != 0);  // recognized, then an Error
    };
    SUBCASE("stride") {
        TfliteModel m = src.model;
        m.operators[op_index("CONV_2D", 1)].stride_h = 1;
        expect_error(m, "block_a.1.1: stride 1x2");
    }
    SUBCASE("two convolutions swapped") {
        TfliteModel m = src.model;
        std::swap(m.operators[op_index("CONV_2D", 3)].inputs[1],
                  m.operators[op_index("CONV_2D", 4)].inputs[1]);
        expect_error(m, "block_b.0.1: filter");
    }
    SUBCASE("a non-zero bias on a regular convolution") {
        TfliteModel m = src.model;
        // block_c.2's expand conv (512 outputs) given block_c.2's depthwise bias.
        m.operators[op_index("CONV_2D", 8)].inputs[2] =
            m.operators[op_index("DEPTHWISE_CONV_2D", 1)].inputs[2];
        expect_error(m, "block_c.2.layers.0.1: bias");
    }
    SUBCASE("missing activation") {
        TfliteModel m = src.model;
        m.operators[op_index("LEAKY_RELU", 5)].op = "RELU";
        expect_error(m, "block_c.0.1 (activation): expected one LEAKY_RELU");
    }
    SUBCASE("layer norm over the wrong axes") {
        TfliteModel m = src.model;
        m.operators[op_index("MEAN", 0)].keep_dims = false;
        expect_error(m, "axes [1, 2, 3]");
    }
    SUBCASE("resize with half-pixel centers in one place only") {
        TfliteModel m = src.model;
        m.operators[op_index("RESIZE_BILINEAR", 1)].half_pixel_centers = true;
        expect_error(m, "different modes");
    }
    SUBCASE("an extra operator") {
        TfliteModel m = src.model;
        TfliteTensor unused = m.tensors[m.inputs[0]];
        unused.name = "unused";
        m.tensors.push_back(unused);
        TfliteOperator extra;
        extra.op = "RELU";
        extra.inputs = {m.inputs[0]};
        extra.outputs = {int32_t(m.tensors.size() - 1)};
        m.operators.push_back(extra);
        expect_error(m, "RELU: is not part of the generator");
    }
}

}  // TEST_SUITE("tflite_animegan")
