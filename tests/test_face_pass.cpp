// The face pass:
// - the Poisson solver on problems with known solutions (constant offset, linear and quadratic sources) and
// its
//   discrete residual;
// - the crop transform and its inverse (eyes level, a pattern put back where it came from), the feathered
// mask;
// - end to end on the photos of ../shared with random-weight generators (no PyTorch needed) and the BlazeFace
//   front model: identical output for 1 and 2 threads, no faces, tiny faces, faces at the border, overlapping
//   faces, and the seam metric on real portraits.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <random>

#include "animegan/animegan.h"
#include "animegan/convert.h"
#include "animegan/face.h"
#include "animegan/face_pass.h"
#include "engine/face/poisson.h"
#include "engine/face/warp.h"
#include "engine/models/animeganv2/layout.h"
#include "tests/test_support.h"
#include "weights/gguf.h"

using namespace animegan;
namespace fs = std::filesystem;

namespace {

// A w x h mask: 1 inside the axis-aligned ellipse filling most of the grid, 0 elsewhere (and on the border).
std::vector<uint8_t> ellipse_mask(int w, int h) {
    std::vector<uint8_t> mask(size_t(w) * h, 0);
    const double cx = 0.5 * (w - 1), cy = 0.5 * (h - 1), rx = 0.4 * w, ry = 0.4 * h;
    for (int y = 1; y < h - 1; ++y) {
        for (int x = 1; x < w - 1; ++x)
            mask[size_t(y) * w + x] = std::pow((x - cx) / rx, 2) + std::pow((y - cy) / ry, 2) <= 1;
    }
    return mask;
}

std::vector<uint8_t> interior_mask(int w, int h) {
    std::vector<uint8_t> mask(size_t(w) * h, 0);
    for (int y = 1; y < h - 1; ++y) std::fill_n(&mask[size_t(y) * w + 1], w - 2, 1);
    return mask;
}

// Clones source into a scene that equals `expected` outside the mask and is noise inside; the result must be
// `expected` inside the mask (it is the discrete harmonic/Poisson solution there) and the scene outside. The
// three channels get different noise and expected + c * (a linear function), which adds the same harmonic
// term to the solution: each channel must get its own answer.
double clone_error(int w, int h, const std::vector<uint8_t>& mask,
                   const std::function<double(int, int)>& source,
                   const std::function<double(int, int)>& expected) {
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> noise(0.f, 255.f);
    auto want = [&](int x, int y, int c) { return expected(x, y) + c * (5.0 + 0.3 * x - 0.2 * y); };
    const size_t n = size_t(w) * h;
    std::vector<float> s(n * 3), g(n * 3);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            const size_t i = size_t(y) * w + x;
            for (int c = 0; c < 3; ++c) {
                g[3 * i + c] = float(source(x, y));
                s[3 * i + c] = mask[i] ? noise(rng) : float(want(x, y, c));
            }
        }
    }
    poisson::Multigrid solver(mask, w, h);
    const std::vector<float> f = poisson::seamless_clone(s, g, mask, w, h, solver, 1e-4f);
    double err = 0;
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            for (int c = 0; c < 3; ++c)
                err = std::max(err, std::fabs(f[(size_t(y) * w + x) * 3 + c] - want(x, y, c)));
        }
    }
    return err;
}

// A smooth colour pattern, so bilinear resampling is nearly exact on it.
Image pattern(int w, int h) {
    Image im;
    im.width = w, im.height = h;
    im.pixels.resize(size_t(w) * h * 3);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            uint8_t* p = &im.pixels[(size_t(y) * w + x) * 3];
            p[0] = uint8_t(127 + 100 * std::sin(x / 9.0) * std::cos(y / 11.0));
            p[1] = uint8_t(127 + 100 * std::sin((x + y) / 13.0));
            p[2] = uint8_t(40 + x * 150 / w);
        }
    }
    return im;
}

// A face with a box of `size` at (cx, cy) and the eyes on a line tilted by `degrees`.
FaceDetection tilted_face(float cx, float cy, float size, double degrees) {
    FaceDetection f{};
    f.x0 = cx - size / 2, f.x1 = cx + size / 2, f.y0 = cy - size / 2, f.y1 = cy + size / 2;
    f.score = 0.9f;
    const double a = degrees * M_PI / 180, r = 0.2 * size;
    f.keypoints[kRightEye][0] = float(cx - r * std::cos(a)),
    f.keypoints[kRightEye][1] = float(cy - 0.1f * size - r * std::sin(a));
    f.keypoints[kLeftEye][0] = float(cx + r * std::cos(a)),
    f.keypoints[kLeftEye][1] = float(cy - 0.1f * size + r * std::sin(a));
    return f;
}

// A generator GGUF with seeded random weights: meaningless pictures, but the real architecture and cost.
std::string random_generator(const std::string& path, unsigned seed) {
    weights::GgufWriter w;
    w.set_string("general.architecture", "animeganv2");
    w.set_string("animeganv2.upsample_mode", "align_corners");
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-0.3f, 0.3f);
    for (const weights::TensorSpec& s : animeganv2::tensor_specs(false)) {
        size_t n = 1;
        for (int64_t d : s.shape) n *= size_t(d);
        std::vector<float> values(n);
        for (float& v : values) v = dist(rng);
        w.add_tensor(s.name, s.shape, values.data(), weights::GgufType::F32);
    }
    w.write(path);
    return path;
}

// ../shared's front-camera BlazeFace converted once per run; "" when ../shared is absent.
const std::string& front_detector() {
    static const std::string path = [] {
        const std::string tflite = testing::shared_dir() + "/models/face_detection_front.tflite";
        if (testing::shared_dir().empty() || !fs::exists(tflite)) return std::string();
        const std::string out = testing::scratch_dir("face_pass_detector") + "/front.gguf";
        convert_to_gguf(tflite, out);
        return out;
    }();
    return path;
}

// A shared photo scaled so its longer side is at most max_side.
Image shared_photo(const std::string& name, int max_side) {
    Image im = load_image(testing::shared_dir() + "/images/" + name);
    const double scale = double(max_side) / std::max(im.width, im.height);
    if (scale >= 1) return im;
    return resize_image(im, int(std::lround(im.width * scale)), int(std::lround(im.height * scale)));
}

Image sub_image(const Image& im, int x0, int y0, int w, int h) {
    Image out;
    out.width = w, out.height = h;
    for (int y = y0; y < y0 + h; ++y) {
        const uint8_t* row = &im.pixels[(size_t(y) * im.width + x0) * 3];
        out.pixels.insert(out.pixels.end(), row, row + size_t(w) * 3);
    }
    return out;
}

}  // namespace

TEST_SUITE("face_pass") {

TEST_CASE("Poisson: a constant-offset source leaves the background unchanged") {
    const int w = 97, h = 81;
    const std::vector<uint8_t> mask = ellipse_mask(w, h);
    auto background = [](int x, int y, int c) {
        return 120 + 60 * std::sin(x / (5.0 + c)) * std::cos(y / 7.0);
    };
    std::vector<float> s(size_t(w) * h * 3), g(s.size());
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            for (int c = 0; c < 3; ++c) {
                const size_t i = (size_t(y) * w + x) * 3 + c;
                s[i] = float(background(x, y, c)), g[i] = s[i] + 40.f - 30.f * c;
            }
        }
    }
    poisson::Multigrid solver(mask, w, h);
    const std::vector<float> f = poisson::seamless_clone(s, g, mask, w, h, solver, 1e-4f);
    double err = 0;
    for (size_t i = 0; i < f.size(); ++i) err = std::max(err, double(std::fabs(f[i] - s[i])));
    CHECK(err < 1e-3);
}

TEST_CASE(
    "Poisson: linear and quadratic sources give the known solution, on odd, even and irregular regions") {
    auto linear_source = [](int x, int y) { return 2.0 * x + y; };
    auto other_linear = [](int x, int y) { return 30 + 0.5 * x - 0.8 * y; };  // harmonic: the solution itself
    auto quadratic = [](int x, int y) {
        return 0.02 * ((x - 30) * (x - 30) + (y - 20) * (y - 20));
    };  // Laplacian 0.08
    auto quadratic_plus = [&](int x, int y) { return quadratic(x, y) + other_linear(x, y); };
    for (auto [w, h] : {std::pair{65, 49}, std::pair{70, 53}, std::pair{129, 97}}) {
        CAPTURE(w);
        CAPTURE(h);
        for (const std::vector<uint8_t>& mask : {interior_mask(w, h), ellipse_mask(w, h)}) {
            CHECK(clone_error(w, h, mask, linear_source, other_linear) < 0.01);
            CHECK(clone_error(w, h, mask, quadratic, quadratic_plus) < 0.01);
        }
    }
}

TEST_CASE("Poisson: the discrete residual is small for a random right-hand side") {
    const int w = 101, h = 90;
    const std::vector<uint8_t> mask = ellipse_mask(w, h);
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> dist(-10.f, 10.f);
    std::vector<float> rhs(size_t(w) * h * 3, 0.f), e;
    for (size_t i = 0; i < rhs.size(); ++i) rhs[i] = mask[i / 3] ? dist(rng) : 0.f;
    poisson::Multigrid solver(mask, w, h);
    const int iterations = solver.solve(rhs, e, 1e-4f);
    double worst = 0;
    for (int y = 1; y < h - 1; ++y) {
        for (int x = 1; x < w - 1; ++x) {
            for (int c = 0; c < 3; ++c) {
                const size_t i = (size_t(y) * w + x) * 3 + c, up = size_t(w) * 3;
                if (!mask[i / 3]) {
                    REQUIRE(e[i] == 0.f);
                    continue;
                }
                worst = std::max(worst, double(std::fabs(e[i - 3] + e[i + 3] + e[i - up] + e[i + up] -
                                                         4 * e[i] - rhs[i])));
            }
        }
    }
    MESSAGE("iterations: " << iterations << ", max residual " << worst << " (rhs up to 10)");
    CHECK(iterations < 20);
    CHECK(worst < 1e-2);
}

TEST_CASE("the crop levels the eyes, and warping back puts a pattern where it came from") {
    const Image photo = pattern(220, 180);
    const FaceDetection face = tilted_face(110, 90, 70, 25);
    const int side = 126;
    const facewarp::Affine t = facewarp::face_crop_transform(face, 1.8f, side);
    double u0, v0, u1, v1;
    t.inverse().apply(face.keypoints[kRightEye][0] - 0.5, face.keypoints[kRightEye][1] - 0.5, u0, v0);
    t.inverse().apply(face.keypoints[kLeftEye][0] - 0.5, face.keypoints[kLeftEye][1] - 0.5, u1, v1);
    CHECK(std::fabs(v0 - v1) < 1e-6);
    CHECK(u0 < u1);

    const Image crop = facewarp::warp_crop(photo, t, side);
    const facewarp::Rect r = facewarp::mask_rect(t, side, facewarp::feather_sigma(side));
    const std::vector<float> scene = facewarp::image_pixels(photo, r);
    const std::vector<float> back =
        facewarp::warp_back(crop, t, r, std::vector<float>(scene.size(), -1000.f));
    const std::vector<uint8_t> mask = facewarp::blend_mask(t, side, r, photo.width, photo.height);
    double err = 0;
    size_t inside = 0;
    for (size_t i = 0; i < mask.size(); ++i) {
        if (!mask[i]) continue;
        ++inside;
        for (int c = 0; c < 3; ++c)
            err = std::max(err, double(std::fabs(back[3 * i + c] - scene[3 * i + c])));
    }
    MESSAGE("round trip through a 25-degree crop: max error " << err << " levels over " << inside
                                                              << " pixels");
    CHECK(inside > 3000);
    CHECK(err < 4.0);  // two bilinear resamplings of a smooth pattern, plus rounding the crop to 8 bits
}

TEST_CASE("the feathered mask falls monotonically from the centre outward") {
    const FaceDetection face = tilted_face(100, 100, 60, 0);
    const int side = 108;
    const facewarp::Affine t = facewarp::face_crop_transform(face, 1.8f, side);
    const float sigma = facewarp::feather_sigma(side);
    const facewarp::Rect r = facewarp::mask_rect(t, side, sigma);
    const std::vector<float> alpha =
        facewarp::feather(facewarp::blend_mask(t, side, r, 400, 400), r.w, r.h, sigma);
    const int cx = 100 - r.x0, cy = 100 - r.y0;  // the box centre, a pixel centre here by construction
    CHECK(alpha[size_t(cy) * r.w + cx] > 0.99f);
    for (auto [dx, dy] :
         {std::pair{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {1, 1}, {-1, 1}, {1, -1}, {-1, -1}, {2, 1}, {-1, 2}}) {
        float previous = 2.f;
        for (int k = 0;; ++k) {
            const int x = cx + k * dx, y = cy + k * dy;
            if (x < 0 || y < 0 || x >= r.w || y >= r.h) break;
            const float a = alpha[size_t(y) * r.w + x];
            CHECK_MESSAGE(a <= previous + 1e-6f, "ray (" << dx << ", " << dy << ") step " << k);
            previous = a;
        }
        CHECK(previous < 1e-3f);
    }
}

TEST_CASE("end to end: threads, no faces, tiny faces, border and overlapping faces, seam metric") {
    ANIMEGAN_SKIP_IF(testing::shared_file_absent("models/face_detection_front.tflite"));
    const std::string dir = testing::scratch_dir("face_pass");
    const std::string scene_path = random_generator(dir + "/scene.gguf", 1);
    const std::string face_path = random_generator(dir + "/face.gguf", 2);
    const Generator scene1 = Generator::load(scene_path, 1), scene2 = Generator::load(scene_path, 2);
    const Generator face2 = Generator::load(face_path, 2);
    const FaceDetector det1 = FaceDetector::load(front_detector(), 1),
                       det2 = FaceDetector::load(front_detector(), 2);
    FacePassOptions options;
    options.face_size = 96;  // the pass is the same at 512; small sizes keep the test fast

    const Image portrait = shared_photo("portrait_01.jpg", 160);
    const Image portrait_scene = scene1.stylize(portrait);
    FacePassReport report;
    const Image one = stylize_with_faces(scene1, nullptr, det1, portrait, options, &report);
    const Image two = stylize_with_faces(scene2, nullptr, det2, portrait, options);
    REQUIRE(report.blended.size() == 1);
    CHECK(one.pixels == two.pixels);
    CHECK(one.pixels != portrait_scene.pixels);
    MESSAGE("portrait_01 at " << portrait.width << "x" << portrait.height << ": seam metric "
                              << report.seam_metric[0] << ", blend " << report.face_blend_ms[0] << " ms");
    // A seam is an edge along the boundary band, which is about two feather sigmas wide: a step of height H
    // there adds about H / (2.5 sigma) to the gradient. Below 2 the boundary is no sharper than twice the
    // texture next to it (a hard paste of a differently styled face scores far higher), i.e. it is not an
    // outlier.
    CHECK(report.seam_metric[0] < 2.0);
    CHECK(stylize_with_faces(scene1, &face2, det1, portrait, options).pixels ==
          stylize_with_faces(scene2, &face2, det2, portrait, options).pixels);

    // The side a face is stylized at: 1.5 times its crop within [128, face_size] without a budget; within the
    // default budget (3/4 of the photo's pixels) less, but never below the crop's own resolution.
    FacePassOptions sized;
    sized.style_budget = 0.f;
    stylize_with_faces(scene1, nullptr, det1, portrait, sized, &report);
    REQUIRE(report.style_side.size() == 1);
    const FaceDetection& pf = report.faces[0];
    const int crop = int(std::lround(1.8 * std::sqrt(double(pf.x1 - pf.x0) * (pf.y1 - pf.y0))));
    CHECK(report.style_side[0] == std::clamp(int(std::lround(1.5 * crop)), 128, 512));
    sized.style_budget = 0.75f;
    stylize_with_faces(scene1, nullptr, det1, portrait, sized, &report);
    const double budget = 0.75 * portrait.width * portrait.height;
    CHECK(report.style_side[0] >= crop);
    CHECK((double(report.style_side[0]) * report.style_side[0] <= budget || report.style_side[0] == crop));
    sized.style_budget = 0.01f;
    stylize_with_faces(scene1, nullptr, det1, portrait, sized, &report);
    CHECK(report.style_side[0] == crop);

    options.min_face_px = 10000;  // every face counts as tiny
    CHECK(stylize_with_faces(scene1, nullptr, det1, portrait, options, &report).pixels ==
          portrait_scene.pixels);
    CHECK((report.faces.size() == 1 && report.blended.empty() && report.style_side == std::vector<int>{0}));
    options.min_face_px = 24;

    const Image flat = sub_image(pattern(120, 90), 0, 0, 120, 90);
    CHECK(stylize_with_faces(scene1, nullptr, det1, flat, options, &report).pixels ==
          scene1.stylize(flat).pixels);
    CHECK(report.faces.empty());

    // The face cut by the left edge: the blend region reaches past the photo.
    const FaceDetection f = det1.detect(portrait)[0];
    const int cut = int(f.x0 + 0.2f * (f.x1 - f.x0));
    const Image edge = sub_image(portrait, cut, 0, portrait.width - cut, portrait.height);
    const Image edge_out = stylize_with_faces(scene1, nullptr, det1, edge, options, &report);
    CHECK(edge_out.width == edge.width);
    MESSAGE("face cut by the edge: " << report.blended.size() << " blended"
                                     << (report.blended.empty()
                                             ? ""
                                             : ", seam " + std::to_string(report.seam_metric[0])));

    // Three faces with crops wide enough that their blend regions overlap.
    options.crop_scale = 3.f;
    const Image group = shared_photo("group_three.jpg", 240);
    const Image g1 = stylize_with_faces(scene1, nullptr, det1, group, options, &report);
    CHECK(report.blended.size() == 3);
    for (double s : report.seam_metric) CHECK(std::isfinite(s));
    CHECK(g1.pixels == stylize_with_faces(scene2, nullptr, det2, group, options).pixels);
}

TEST_CASE(
    "on a photo too large for memory: faces found at full resolution, blended into the streamed scene") {
    ANIMEGAN_SKIP_IF(testing::shared_file_absent("models/face_detection_front.tflite"));
    const std::string dir = testing::scratch_dir("face_pass_streaming");
    const Generator scene = Generator::load(random_generator(dir + "/scene.gguf", 3), 2);
    const FaceDetector detector = FaceDetector::load(front_detector(), 2);
    const Image group = shared_photo("group_three.jpg", 480);
    FacePassOptions options;
    options.face_size = 96;
    FacePassReport whole, streamed;
    const Image at_once = stylize_with_faces(scene, nullptr, detector, group, options, &whole);
    // The scene no longer fits at once: it streams, with exact statistics.
    options.run.memory_limit = scene.plan(group.width, group.height).minimum_bytes;
    REQUIRE(scene.plan(group.width, group.height, options.run).mode == RunPlan::Mode::StreamingExact);
    const Image in_bands = stylize_with_faces(scene, nullptr, detector, group, options, &streamed);
    REQUIRE(streamed.blended.size() == 3);
    CHECK(streamed.blended == whole.blended);
    int worst = 0;
    for (size_t i = 0; i < at_once.pixels.size(); ++i)
        worst = std::max(worst, std::abs(int(at_once.pixels[i]) - int(in_bands.pixels[i])));
    MESSAGE("group_three at " << group.width << "x" << group.height
                              << ": streamed face pass differs by at most " << worst << " levels");
    CHECK(worst <= 2);
}

}  // TEST_SUITE("face_pass")
