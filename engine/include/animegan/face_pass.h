// The face pass ("face2paint"): scene models distort small faces, so each face is cut out level and large,
// stylized on its own (with a face model such as face_paint_512_v2, or the scene model), and blended back
// into the stylized photo with Poisson (seamless-clone) blending.
//
//   animegan::Generator scene = animegan::Generator::load("hayao.gguf");
//   animegan::Generator face = animegan::Generator::load("face_paint_512_v2.gguf");
//   animegan::FaceDetector detector = animegan::FaceDetector::load("face_detection_short_range.gguf");
//   animegan::Image photo = animegan::load_image("in.jpg");
//   animegan::Image out = animegan::stylize_with_faces(scene, &face, detector, photo);
//
// Every failure throws animegan::Error with a one-line reason.
#pragma once

#include <vector>

#include "animegan/animegan.h"
#include "animegan/face.h"

namespace animegan {

struct FacePassOptions {
    // Side of the square crop the face model runs on (>= kMinSide).
    int face_size = 512;
    // Crop side over the face box's longer side (>= 1.2 keeps the blend inside the crop).
    float crop_scale = 1.8f;
    // Faces whose box is narrower or shorter than this are left as the scene made them.
    int min_face_px = 24;
    FaceDetectorOptions detector;
};

struct FacePassReport {
    std::vector<FaceDetection> faces;  // every face found, best first
    std::vector<int> blended;          // indices into `faces` of those blended, in blend order
    double scene_ms = 0, detect_ms = 0, stylize_faces_ms = 0, blend_ms = 0;  // totals
    // Per blended face, in blend order:
    std::vector<double> face_stylize_ms, face_blend_ms;
    // Mean gradient magnitude on the blend boundary (feathered mask ~0.5) over the mean of the bands just
    // inside and just outside it: about 1 when the seam is invisible, well above 1 when it shows as an edge.
    std::vector<double> seam_metric;
};

// Stylizes the photo with `scene`, then re-stylizes each face (with `face_model`, or `scene` when null) and
// blends it in. Faces are blended one after another, so overlapping faces each see the earlier ones as their
// surroundings. Without faces the result is scene.stylize(photo). Deterministic for any thread count.
Image stylize_with_faces(const Generator& scene, const Generator* face_model, const FaceDetector& detector,
                         const Image& photo, const FacePassOptions& options = {},
                         FacePassReport* report = nullptr);

}  // namespace animegan
