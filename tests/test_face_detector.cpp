// The BlazeFace detector end to end:
// - raw outputs against Arm NN's reference backend running the same TFLite file (tools/armnn_reference.py);
// - detections on the real photos of ../shared (one face per portrait, three in the group photo);
// - decoding (anchors, box and keypoint offsets, letterbox removal) on a synthetic model whose heads predict
//   fixed offsets, checkable by hand;
// - files for the wrong architecture or with broken tensors.
// The parts that need ../shared, Python with pyarmnn, or the short-range model skip with a printed reason.
#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "animegan/animegan.h"
#include "animegan/convert.h"
#include "animegan/face.h"
#include "engine/models/animeganv2/layout.h"
#include "engine/models/blazeface/importers.h"
#include "engine/models/blazeface/layout.h"
#include "tests/test_support.h"
#include "weights/gguf.h"

using namespace animegan;
namespace fs = std::filesystem;

namespace {

// Raw outputs may differ from Arm NN's by float32 rounding: 1e-4 of max(1, |value|) (logits reach several
// hundred on crowded photos, where 1e-4 absolute would be 1e-7 relative, below float32's 6e-8 per operation
// over 40 layers).
constexpr double kArmnnTolerance = 1e-4;

std::string front_tflite() {
    const std::string shared = testing::shared_dir();
    const std::string path = shared + "/models/face_detection_front.tflite";
    return !shared.empty() && fs::exists(path) ? path : std::string();
}

// face_detection_front.tflite converted once per run, into the build tree's scratch space.
const std::string& front_gguf() {
    static const std::string path = [] {
        const std::string out = testing::scratch_dir("face_front") + "/face_detection_front.gguf";
        const ConvertResult r = convert_to_gguf(front_tflite(), out);
        CHECK(r.architecture == "blazeface");
        CHECK(r.style == "BlazeFace front");
        CHECK(r.recognized);
        CHECK(r.tensor_count == blazeface::tensor_specs().size());
        return out;
    }();
    return path;
}

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

bool inside(const FaceDetection& f, int keypoint) {
    const float x = f.keypoints[keypoint][0], y = f.keypoints[keypoint][1];
    return x >= f.x0 && x <= f.x1 && y >= f.y0 && y <= f.y1;
}

// Detects faces in one photo, reports scores and time, checks the count and that both eyes lie in each box.
void check_photo(const FaceDetector& detector, const std::string& path, size_t expected_faces) {
    const Image image = load_image(path);
    const auto start = std::chrono::steady_clock::now();
    const std::vector<FaceDetection> faces = detector.detect(image);
    const double ms = ms_since(start);
    std::ostringstream scores;
    for (const FaceDetection& f : faces) scores << " " << f.score;
    MESSAGE(detector.name() << ", " << fs::path(path).filename().string() << " (" << image.width << "x"
                            << image.height << "): " << faces.size() << " face(s), scores" << scores.str()
                            << ", detect() " << ms << " ms");
    CHECK_MESSAGE(faces.size() == expected_faces, path);
    for (const FaceDetection& f : faces) {
        CHECK_MESSAGE((inside(f, kRightEye) && inside(f, kLeftEye)),
                      path << ": an eye lies outside its face box");
    }
}

// Every portrait_*.jpg has one face, group_three.jpg three, scene_car.jpg none.
void check_photos(const FaceDetector& detector) {
    const std::string images = testing::shared_dir() + "/images";
    std::set<std::string> portraits;  // sorted, for a stable report
    for (const auto& entry : fs::directory_iterator(images)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("portrait_", 0) == 0 && entry.path().extension() == ".jpg")
            portraits.insert(entry.path().string());
    }
    CHECK(!portraits.empty());
    for (const std::string& p : portraits) check_photo(detector, p, 1);
    check_photo(detector, images + "/group_three.jpg", 3);
    check_photo(detector, images + "/scene_car.jpg", 0);
}

// Writes a BlazeFace GGUF with every weight zero and the given biases, after `edit` had its say. With zero
// weights every activation is zero, so each head predicts its biases at every cell.
std::string write_synthetic(
    const std::string& path, const std::map<std::string, std::vector<float>>& biases,
    const std::function<void(weights::GgufWriter&, std::vector<weights::TensorSpec>&)>& edit = nullptr) {
    weights::GgufWriter w;
    w.set_string("general.architecture", "blazeface");
    w.set_string("general.name", "synthetic");
    w.set_u32("blazeface.input_size", 128);
    std::vector<weights::TensorSpec> specs = blazeface::tensor_specs();
    if (edit) edit(w, specs);
    for (const weights::TensorSpec& s : specs) {
        size_t n = 1;
        for (int64_t d : s.shape) n *= size_t(d);
        std::vector<float> values(n, 0.f);
        const auto it = biases.find(s.name);
        if (it != biases.end()) values = it->second;
        w.add_tensor(s.name, s.shape, values.data(), weights::GgufType::F32);
    }
    w.write(path);
    return path;
}

// Runs the detector and Arm NN (tools/armnn_reference.py, CpuRef) on the letterboxed photos and compares
// every raw output (regressors and logits) within kArmnnTolerance.
void check_against_armnn(const FaceDetector& detector, const std::string& tflite,
                         const std::string& scratch) {
    const std::string dir = testing::scratch_dir(scratch);
    const char* names[] = {"portrait_01", "portrait_04", "group_three", "crowd_party", "scene_car"};
    std::map<std::string, std::pair<std::vector<float>, std::vector<float>>> ours;
    std::string inputs;
    for (const char* name : names) {
        const Tensor input =
            FaceDetector::letterbox(load_image(testing::shared_dir() + "/images/" + name + ".jpg"));
        std::vector<uint8_t> nhwc(input.size() * sizeof(float));  // the TFLite input is [1, 128, 128, 3]
        float* f = reinterpret_cast<float*>(nhwc.data());
        for (int c = 0; c < 3; ++c)
            for (size_t i = 0; i < input.plane_size(); ++i) f[i * 3 + c] = input.channel(c)[i];
        testing::write_bytes(dir + "/" + name + ".f32", nhwc);
        inputs += " " + dir + "/" + name + ".f32";
        detector.run_raw(input, ours[name].first, ours[name].second);
    }
    const std::string command = "/usr/bin/python3 " ANIMEGAN_SOURCE_DIR "/tools/armnn_reference.py " +
                                tflite + inputs + " > " + dir + "/armnn.log 2>&1";
    REQUIRE_MESSAGE(testing::run_command(command) == 0,
                    "Arm NN reference failed: see " << dir << "/armnn.log");
    for (const char* name : names) {
        const std::vector<float> regressors = testing::read_f32_file(dir + "/" + name + ".regressors.f32");
        const std::vector<float> classificators =
            testing::read_f32_file(dir + "/" + name + ".classificators.f32");
        REQUIRE(regressors.size() == ours[name].first.size());
        REQUIRE(classificators.size() == ours[name].second.size());
        // {max abs difference, max of difference / max(1, |value|), largest |value|}
        auto compare = [](const std::vector<float>& want, const std::vector<float>& got) {
            double worst = 0, scaled = 0, largest = 0;
            for (size_t i = 0; i < want.size(); ++i) {
                const double d = std::abs(double(want[i]) - got[i]);
                worst = std::isnan(d) ? INFINITY : std::max(worst, d);
                scaled =
                    std::isnan(d) ? INFINITY : std::max(scaled, d / std::max(1.0, std::abs(double(want[i]))));
                largest = std::max(largest, std::abs(double(want[i])));
            }
            return std::array<double, 3>{worst, scaled, largest};
        };
        const auto reg = compare(regressors, ours[name].first),
                   cls = compare(classificators, ours[name].second);
        MESSAGE(detector.name() << ", " << std::string(name) << " vs Arm NN: regressors max abs diff "
                                << reg[0] << " (largest |value| " << reg[2] << "), logits " << cls[0]
                                << " (largest " << cls[2] << "), " << std::string(kernels_isa())
                                << " kernels");
        CHECK(reg[1] <= kArmnnTolerance);
        CHECK(cls[1] <= kArmnnTolerance);
    }
}

}  // namespace

TEST_SUITE("face") {

TEST_CASE("raw outputs match Arm NN (CpuRef) running face_detection_front.tflite") {
    ANIMEGAN_SKIP_IF(testing::shared_file_absent("models/face_detection_front.tflite"));
    ANIMEGAN_SKIP_IF(testing::armnn_unavailable_reason());
    check_against_armnn(FaceDetector::load(front_gguf()), front_tflite(), "face_armnn");
}

// Arm NN cannot parse the release's float16 constants; tools/tflite_rewrite.py widens them (exactly) into a
// float32 copy and drops the DEQUANTIZE operators. Our engine runs the original file, converted.
TEST_CASE("raw outputs of face_detection_short_range.tflite (npm) match Arm NN on its float32 copy") {
    ANIMEGAN_SKIP_IF(testing::npm_model_absent("face_detection_short_range.tflite"));
    ANIMEGAN_SKIP_IF(testing::shared_file_absent("images"));
    ANIMEGAN_SKIP_IF(testing::armnn_unavailable_reason());
    const std::string tflite = testing::npm_model("face_detection_short_range.tflite");
    const std::string dir = testing::scratch_dir("face_short_range_armnn");
    const ConvertResult r = convert_to_gguf(tflite, dir + "/short_range.gguf");
    CHECK(r.style == "BlazeFace short range");
    const std::string widened = dir + "/short_range_f32.tflite";
    REQUIRE(testing::run_command("/usr/bin/python3 " ANIMEGAN_SOURCE_DIR
                                 "/tools/tflite_rewrite.py widen-f16 " +
                                 tflite + " " + widened + " > " + dir + "/rewrite.log 2>&1") == 0);
    check_against_armnn(FaceDetector::load(dir + "/short_range.gguf"), widened, "face_short_range_armnn_run");
}

TEST_CASE("front model: one face per portrait with the eyes in the box, three in the group photo") {
    ANIMEGAN_SKIP_IF(testing::shared_file_absent("models/face_detection_front.tflite"));
    check_photos(FaceDetector::load(front_gguf()));

    // The work is split by channel, so the thread count cannot change a single bit.
    const Tensor input =
        FaceDetector::letterbox(load_image(testing::shared_dir() + "/images/group_three.jpg"));
    std::vector<float> reg1, cls1, reg3, cls3;
    FaceDetector::load(front_gguf(), 1).run_raw(input, reg1, cls1);
    FaceDetector::load(front_gguf(), 3).run_raw(input, reg3, cls3);
    CHECK(reg1 == reg3);
    CHECK(cls1 == cls3);
}

TEST_CASE(
    "front model: small faces in a large photo are found in tiles, where the whole-photo pass loses them") {
    ANIMEGAN_SKIP_IF(testing::shared_file_absent("models/face_detection_front.tflite"));
    const FaceDetector detector = FaceDetector::load(front_gguf());
    // group_three.jpg (900x900) at a third of its size, its faces about 45 pixels wide, pasted into the
    // 1280x672 street photo: 4 pixels wide in the whole-photo pass's 128x128 input.
    const Image group = load_image(testing::shared_dir() + "/images/group_three.jpg");
    const std::vector<FaceDetection> expected = detector.detect(group);
    REQUIRE(expected.size() == 3);
    const Image small = resize_image(group, 300, 300);
    Image photo = load_image(testing::shared_dir() + "/images/scene_car.jpg");
    const int px = 700, py = 250;
    for (int y = 0; y < small.height; ++y) {
        std::copy_n(&small.pixels[size_t(y) * small.width * 3], size_t(small.width) * 3,
                    &photo.pixels[(size_t(py + y) * photo.width + px) * 3]);
    }
    FaceDetectorOptions whole;
    whole.tile_min_side = 0;
    const auto start = std::chrono::steady_clock::now();
    const std::vector<FaceDetection> tiled = detector.detect(photo);
    const double ms = ms_since(start);
    const size_t whole_found = detector.detect(photo, whole).size();
    MESSAGE("three 45-pixel faces in a 1280x672 photo: whole photo " << whole_found << ", tiled "
                                                                     << tiled.size() << " (" << ms << " ms)");
    CHECK(whole_found < 3);
    REQUIRE(tiled.size() == 3);
    // Each found where the group photo's own detection, scaled and moved, puts it: the tiles' boxes and
    // keypoints are mapped back into the photo.
    const double scale = 300.0 / 900.0;
    for (const FaceDetection& e : expected) {
        const double ex = px + scale * 0.5 * (e.x0 + e.x1), ey = py + scale * 0.5 * (e.y0 + e.y1);
        const double size = scale * (e.x1 - e.x0);
        const FaceDetection* match = nullptr;
        for (const FaceDetection& f : tiled) {
            if (std::hypot(0.5 * (f.x0 + f.x1) - ex, 0.5 * (f.y0 + f.y1) - ey) < 0.25 * size) match = &f;
        }
        REQUIRE_MESSAGE(match, "no detection near (" << ex << ", " << ey << ")");
        CHECK(std::abs((match->x1 - match->x0) - size) < 0.25 * size);
        for (int k : {kRightEye, kLeftEye, kMouthCenter}) {
            CHECK(std::hypot(match->keypoints[k][0] - (px + scale * e.keypoints[k][0]),
                             match->keypoints[k][1] - (py + scale * e.keypoints[k][1])) < 0.15 * size);
        }
    }

    // The group photo enlarged to 1280 pixels: in a tile, a shirt collar scores 0.99; confirmation drops it.
    CHECK(detector.detect(resize_image(group, 1280, 1280)).size() == 3);

    // Photos under twice tile_min_side are not tiled: the same detections as the whole-photo pass.
    const Image portrait = load_image(testing::shared_dir() + "/images/portrait_01.jpg");
    const std::vector<FaceDetection> a = detector.detect(portrait), b = detector.detect(portrait, whole);
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i)
        CHECK((a[i].x0 == b[i].x0 && a[i].y1 == b[i].y1 && a[i].score == b[i].score));
}

TEST_CASE("short-range model (npm @mediapipe/face_detection): the photos of ../shared") {
    ANIMEGAN_SKIP_IF(testing::npm_model_absent("face_detection_short_range.tflite"));
    ANIMEGAN_SKIP_IF(testing::shared_file_absent("images"));
    const std::string gguf = testing::scratch_dir("face_short_range") + "/face_detection_short_range.gguf";
    const ConvertResult r = convert_to_gguf(testing::npm_model("face_detection_short_range.tflite"), gguf);
    CHECK(r.architecture == "blazeface");
    CHECK(r.recognized);
    check_photos(FaceDetector::load(gguf));
}

TEST_CASE("decoding: anchors of both heads, box and keypoint offsets, letterbox removal") {
    // head16 anchor 1 and head8 anchor 5 fire everywhere with a 5.12-pixel box on their anchor centre;
    // keypoint k sits (k, 0) input pixels off the centre for head16 and (0, k) for head8. Every other anchor
    // is off.
    std::vector<float> cls16 = {-10.f, 10.f}, cls8(6, -10.f), reg16(2 * 16, 0.f), reg8(6 * 16, 0.f);
    cls8[5] = 10.f;
    for (float* r : {&reg16[16], &reg8[5 * 16]}) r[2] = r[3] = 5.12f;
    for (int k = 0; k < 6; ++k) reg16[16 + 4 + 2 * k] = float(k), reg8[5 * 16 + 5 + 2 * k] = float(k);
    const std::string path = write_synthetic(testing::scratch_dir("face_decode") + "/synthetic.gguf",
                                             {{"head16.classifier.bias", cls16},
                                              {"head8.classifier.bias", cls8},
                                              {"head16.regressor.bias", reg16},
                                              {"head8.regressor.bias", reg8}});
    const FaceDetector detector = FaceDetector::load(path, 2);
    // 256x128 letterboxes to 128x64 at scale 1/2 with 32 black rows on top: input = (image / 2) + (0, 32).
    Image image;
    image.width = 256, image.height = 128;
    image.pixels.assign(size_t(256) * 128 * 3, 128);
    const std::vector<FaceDetection> faces = detector.detect(image);
    REQUIRE(faces.size() == 16 * 16 + 8 * 8);
    std::set<std::pair<int, int>> centres;
    int from_head8 = 0;
    for (const FaceDetection& f : faces) {
        CHECK(f.score == doctest::Approx(1.0 / (1.0 + std::exp(-10.0))));
        const double cx = (f.x0 + f.x1) / 4.0, cy = (f.y0 + f.y1) / 4.0 + 32.0;  // centre in input pixels
        CHECK((f.x1 - f.x0) / 2.0 == doctest::Approx(5.12).epsilon(1e-4));
        CHECK((f.y1 - f.y0) / 2.0 == doctest::Approx(5.12).epsilon(1e-4));
        // head16 centres are at 8i + 4 input pixels, head8 centres at 16i + 8.
        const bool head8 = std::fmod(cx, 8.0) < 1.0 || std::fmod(cx, 8.0) > 7.0;
        from_head8 += head8;
        const double stride = head8 ? 16.0 : 8.0;
        CHECK(std::abs(std::remainder(cx - stride / 2, stride)) < 1e-3);
        CHECK(std::abs(std::remainder(cy - stride / 2, stride)) < 1e-3);
        centres.insert({int(std::lround(cx * 2)), int(std::lround(cy * 2))});
        for (int k = 0; k < 6; ++k) {
            CHECK(f.keypoints[k][0] / 2.0 == doctest::Approx(cx + (head8 ? 0 : k)).epsilon(1e-4));
            CHECK(f.keypoints[k][1] / 2.0 + 32.0 == doctest::Approx(cy + (head8 ? k : 0)).epsilon(1e-4));
        }
    }
    CHECK(from_head8 == 8 * 8);
    CHECK(centres.size() == faces.size());

    FaceDetectorOptions strict;
    strict.min_score = 0.99999f;  // above sigmoid(10)
    CHECK(detector.detect(image, strict).empty());
}

TEST_CASE("the importer recognizes BlazeFace by its graph and says what differs in one that is not") {
    ANIMEGAN_SKIP_IF(testing::shared_file_absent("models/face_detection_front.tflite"));
    models::SourceFile source;
    source.path = front_tflite();
    source.bytes = testing::read_bytes(source.path);
    const weights::TfliteModel original =
        weights::parse_tflite(source.bytes.data(), source.bytes.size(), source.path);
    auto import = [&](const weights::TfliteModel& m, std::string& mismatch) {
        weights::GgufWriter out;
        ConvertResult result;
        return blazeface::import_tflite(m, source, {}, out, result, mismatch);
    };
    std::string mismatch;
    CHECK(import(original, mismatch));
    auto op_index = [&](const std::string& op, int nth) {
        for (size_t i = 0; i < original.operators.size(); ++i) {
            if (original.operators[i].op == op && nth-- == 0) return i;
        }
        FAIL("no such operator");
        return size_t(0);
    };
    struct Edit {
        const char* what;
        std::function<void(weights::TfliteModel&)> edit;
        const char* reason;
    };
    const Edit edits[] = {
        {"input size",
         [](auto& m) {
             m.tensors[m.inputs[0]].shape = {1, 192, 192, 3};
         },
         "input is [1, 192, 192, 3] FLOAT32"},
        {"stride", [&](auto& m) { m.operators[op_index("DEPTHWISE_CONV_2D", 2)].stride_h = 1; },
         "backbone.3: depthwise stride is 1, expected 2"},
        {"padding",
         [&](auto& m) {
             m.operators[op_index("PAD", 0)].inputs[1] = m.operators[op_index("PAD", 3)].inputs[1];
         },
         "backbone.2: PAD is not a zero channel padding from 24 to 28"},
        {"activation", [&](auto& m) { m.operators[op_index("RELU", 5)].op = "RELU6"; },
         "backbone.5: no RELU reads"},
        {"extra op", [&](auto& m) { m.operators.push_back(m.operators[op_index("RELU", 0)]); },
         "unexpected operator RELU"},
        {"head", [&](auto& m) { m.tensors[m.operators[op_index("CONV_2D", 17)].inputs[1]].shape[0] = 3; },
         "head16.classifier: no CONV_2D reads"},
    };
    for (const Edit& e : edits) {
        const std::string what = e.what;
        CAPTURE(what);
        weights::TfliteModel m = original;
        e.edit(m);
        mismatch.clear();
        CHECK_FALSE(import(m, mismatch));
        CHECK_MESSAGE(mismatch.find(e.reason) != std::string::npos, "mismatch was: " << mismatch);
    }
}

TEST_CASE("bad input: wrong architecture, broken tensors, wrong sizes") {
    const std::string dir = testing::scratch_dir("face_bad");
    const std::string blazeface = write_synthetic(dir + "/blazeface.gguf", {});
    testing::check_error_mentions([&] { Generator::load(blazeface); },
                                  "is 'blazeface', expected 'animeganv2'");

    weights::GgufWriter generator;
    generator.set_string("general.architecture", "animeganv2");
    for (const weights::TensorSpec& s : animeganv2::tensor_specs(false)) {
        size_t n = 1;
        for (int64_t d : s.shape) n *= size_t(d);
        const std::vector<float> zeros(n, 0.f);
        generator.add_tensor(s.name, s.shape, zeros.data(), weights::GgufType::F32);
    }
    generator.write(dir + "/generator.gguf");
    testing::check_error_mentions([&] { FaceDetector::load(dir + "/generator.gguf"); },
                                  "is 'animeganv2', expected 'blazeface'");

    testing::check_error_mentions(
        [&] {
            FaceDetector::load(
                write_synthetic(dir + "/missing.gguf", {}, [](auto&, auto& specs) { specs.pop_back(); }));
        },
        "missing tensor 'head8.regressor.bias'");
    testing::check_error_mentions(
        [&] {
            FaceDetector::load(
                write_synthetic(dir + "/shape.gguf", {}, [](auto&, auto& specs) { specs[2].shape[0] = 25; }));
        },
        "tensor 'backbone.1.depthwise.weight' has shape [25, 1, 3, 3], expected [24, 1, 3, 3]");
    testing::check_error_mentions(
        [&] {
            FaceDetector::load(write_synthetic(dir + "/extra.gguf", {}, [](auto&, auto& specs) {
                specs.push_back({"extra", {1}});
            }));
        },
        "unexpected tensor 'extra'");
    testing::check_error_mentions(
        [&] {
            FaceDetector::load(write_synthetic(
                dir + "/size.gguf", {}, [](auto& w, auto&) { w.set_u32("blazeface.input_size", 192); }));
        },
        "only the 128x128 model");

    const FaceDetector detector = FaceDetector::load(blazeface);
    std::vector<float> regressors, classificators;
    testing::check_error_mentions([&] { detector.run_raw(Tensor(3, 64, 64), regressors, classificators); },
                                  "must be [3, 128, 128]");
    testing::check_error_mentions([&] { detector.detect(Image{}); }, "empty image");
    FaceDetectorOptions tiny_tiles;
    tiny_tiles.tile_min_side = 100;
    testing::check_error_mentions([&] { detector.detect(Image{}, tiny_tiles); },
                                  "tile_min_side must be 0 or at least 128");

    if (!front_tflite().empty()) {
        ConvertOptions options;
        options.norm_eps = 1e-3f;
        testing::check_error_mentions([&] { convert_to_gguf(front_tflite(), dir + "/front.gguf", options); },
                                      "apply to AnimeGANv2 generators only");
    }
}

}  // TEST_SUITE("face")
