// The face pass: scene stylization, face detection, per-face aligned crops stylized at the face model's size,
// and Poisson blending of each face back into the stylized scene. Single-threaded outside the networks, so the
// result does not depend on the thread count.
#include "animegan/face_pass.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "engine/poisson.h"
#include "engine/warp.h"

namespace animegan {
namespace {

using facewarp::Affine;
using facewarp::Rect;

// The solver stops when a V-cycle moves no value by more than this (0..255 scale); with V-cycles shrinking the
// error several-fold each, what remains is well below one 8-bit step.
constexpr float kSolverTolerance = 0.1f;
// Largest crop cut from the photo: a face filling a huge photo gains nothing from more pixels than this before
// being resized to the face model's size.
constexpr int kMaxCropSide = 4096;

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

void check_options(const FacePassOptions& o) {
    if (o.face_size < kMinSide || o.face_size > 4096) {
        throw Error("face pass: face_size must be in [" + std::to_string(kMinSide) + ", 4096], got " + std::to_string(o.face_size));
    }
    if (!(o.crop_scale >= 1.2f && o.crop_scale <= 8.f)) throw Error("face pass: crop_scale must be in [1.2, 8]");
    if (o.min_face_px < 1) throw Error("face pass: min_face_px must be at least 1");
}

// Pixels of the crop cut from the photo: about the crop's extent in photo pixels, so cutting it is a rotation
// without scaling and every later resize (to the model's size and back) is done by resize_image's filters.
int crop_side(const FaceDetection& f, float crop_scale) {
    const double extent = crop_scale * std::max(f.x1 - f.x0, f.y1 - f.y0);
    return std::clamp(int(std::lround(extent)), kMinSide, kMaxCropSide);
}

float luma(const Image& image, int x, int y) {
    const uint8_t* p = &image.pixels[(size_t(y) * image.width + x) * 3];
    return 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
}

// Ratio of the mean luma gradient magnitude on the blend boundary (alpha near 0.5) to the mean of the bands just
// inside (alpha near 0.9) and just outside (near 0.1). Returns 1 when a band is empty (a face too small to
// measure) or the surroundings are flat.
double seam_metric(const Image& image, const std::vector<float>& alpha, const Rect& r) {
    double sum[3] = {0, 0, 0};
    long count[3] = {0, 0, 0};
    for (int j = 0; j < r.h; ++j) {
        const int y = r.y0 + j;
        if (y < 1 || y >= image.height - 1) continue;
        for (int i = 0; i < r.w; ++i) {
            const int x = r.x0 + i;
            if (x < 1 || x >= image.width - 1) continue;
            const float a = alpha[size_t(j) * r.w + i];
            const int band = a > 0.35f && a < 0.65f ? 0 : a > 0.8f && a < 0.97f ? 1 : a > 0.03f && a < 0.2f ? 2 : -1;
            if (band < 0) continue;
            const float gx = 0.5f * (luma(image, x + 1, y) - luma(image, x - 1, y));
            const float gy = 0.5f * (luma(image, x, y + 1) - luma(image, x, y - 1));
            sum[band] += std::sqrt(gx * gx + gy * gy);
            ++count[band];
        }
    }
    if (!count[0] || !count[1] || !count[2]) return 1.0;
    const double around = 0.5 * (sum[1] / count[1] + sum[2] / count[2]);
    return around > 1e-6 ? (sum[0] / count[0]) / around : 1.0;
}

// Blends the stylized crop (whose pixels map to the photo by crop_to_photo) into `result`: seamless cloning of
// the face's gradients inside the rounded mask with the current result as the boundary, then the correction
// faded out over the mask's feathered edge. Returns the seam metric.
double blend_face(Image& result, const Image& styled, const Affine& crop_to_photo) {
    const int side = styled.width;
    const float sigma = facewarp::feather_sigma(side);
    const Rect r = facewarp::mask_rect(crop_to_photo, side, sigma);
    const std::vector<uint8_t> mask = facewarp::blend_mask(crop_to_photo, side, r, result.width, result.height);
    const std::vector<float> alpha = facewarp::feather(mask, r.w, r.h, sigma);
    const std::vector<float> scene = facewarp::image_planes(result, r);
    const std::vector<float> source = facewarp::warp_back(styled, crop_to_photo, r, scene);
    poisson::Multigrid solver(mask, r.w, r.h);
    const size_t plane = size_t(r.w) * r.h;
    for (int c = 0; c < 3; ++c) {
        const float* s = scene.data() + c * plane;
        const std::vector<float> f = poisson::seamless_clone(s, source.data() + c * plane, mask, r.w, r.h, solver, kSolverTolerance);
        for (int j = 0; j < r.h; ++j) {
            const int y = r.y0 + j;
            if (y < 0 || y >= result.height) continue;
            for (int i = 0; i < r.w; ++i) {
                const int x = r.x0 + i;
                if (x < 0 || x >= result.width) continue;
                const size_t k = size_t(j) * r.w + i;
                const float v = s[k] + alpha[k] * (f[k] - s[k]);
                result.pixels[(size_t(y) * result.width + x) * 3 + c] = uint8_t(std::lround(std::clamp(v, 0.f, 255.f)));
            }
        }
    }
    return seam_metric(result, alpha, r);
}

}  // namespace

Image stylize_with_faces(const Generator& scene, const Generator* face_model, const FaceDetector& detector,
                         const Image& photo, const FacePassOptions& options, FacePassReport* report) {
    check_options(options);
    FacePassReport local;
    FacePassReport& rep = report ? *report : local;
    rep = FacePassReport();

    auto t = std::chrono::steady_clock::now();
    Image result = scene.stylize(photo);
    rep.scene_ms = ms_since(t);
    t = std::chrono::steady_clock::now();
    rep.faces = detector.detect(photo, options.detector);
    rep.detect_ms = ms_since(t);

    const Generator& face_generator = face_model ? *face_model : scene;
    for (size_t i = 0; i < rep.faces.size(); ++i) {
        const FaceDetection& face = rep.faces[i];
        if (std::min(face.x1 - face.x0, face.y1 - face.y0) < float(options.min_face_px)) continue;
        t = std::chrono::steady_clock::now();
        const int side = crop_side(face, options.crop_scale);
        const Affine crop_to_photo = facewarp::face_crop_transform(face, options.crop_scale, side);
        const Image crop = facewarp::warp_crop(photo, crop_to_photo, side);
        const Image styled = face_generator.stylize(resize_image(crop, options.face_size, options.face_size));
        const Image styled_crop = side == options.face_size ? styled : resize_image(styled, side, side);
        rep.face_stylize_ms.push_back(ms_since(t));
        t = std::chrono::steady_clock::now();
        rep.seam_metric.push_back(blend_face(result, styled_crop, crop_to_photo));
        rep.face_blend_ms.push_back(ms_since(t));
        rep.blended.push_back(int(i));
        rep.stylize_faces_ms += rep.face_stylize_ms.back();
        rep.blend_ms += rep.face_blend_ms.back();
    }
    return result;
}

}  // namespace animegan
