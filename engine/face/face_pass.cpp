// The face pass: scene stylization, face detection, per-face aligned crops stylized at the face model's size,
// and Poisson blending of each face back into the stylized scene. Single-threaded outside the networks, so
// the result does not depend on the thread count.
#include "animegan/face_pass.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "engine/face/face_blend.h"
#include "engine/face/warp.h"

namespace animegan {
namespace {

using facewarp::Affine;

// Largest crop cut from the photo: a face filling a huge photo gains nothing from more pixels than this
// before being resized to the face model's size.
constexpr int kMaxCropSide = 4096;

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

void check_options(const FacePassOptions& o) {
    if (o.face_size < kMinSide || o.face_size > 4096) {
        throw Error("face pass: face_size must be in [" + std::to_string(kMinSide) + ", 4096], got " +
                    std::to_string(o.face_size));
    }
    if (!(o.crop_scale >= 1.2f && o.crop_scale <= 8.f))
        throw Error("face pass: crop_scale must be in [1.2, 8]");
    if (o.min_face_px < 1) throw Error("face pass: min_face_px must be at least 1");
}

// Pixels of the crop cut from the photo: about the crop's extent in photo pixels, so cutting it is a rotation
// without scaling and every later resize (to the model's size and back) is done by resize_image's filters.
int crop_side(const FaceDetection& f, float crop_scale) {
    const double extent = crop_scale * std::max(f.x1 - f.x0, f.y1 - f.y0);
    return std::clamp(int(std::lround(extent)), kMinSide, kMaxCropSide);
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
        rep.seam_metric.push_back(faceblend::blend_face(result, styled_crop, crop_to_photo));
        rep.face_blend_ms.push_back(ms_since(t));
        rep.blended.push_back(int(i));
        rep.stylize_faces_ms += rep.face_stylize_ms.back();
        rep.blend_ms += rep.face_blend_ms.back();
    }
    return result;
}

}  // namespace animegan
