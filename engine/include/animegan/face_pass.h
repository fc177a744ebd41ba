// The face pass ("face2paint"): scene models distort small faces, so each face is cut out level and large,
// stylized on its own (with a face model such as face_paint_512_v2, or the scene model), and blended back
// into the stylized photo with Poisson (seamless-clone) blending.
//
//   animegan::Generator scene = animegan::Generator::load("hayao.gguf");
//   animegan::Generator face = animegan::Generator::load("face_paint_512_v2.gguf");
//   animegan::FaceDetector detector = animegan::FaceDetector::load("mtcnn.gguf");
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
    // Each face's crop is stylized at style_scale times its size in photo pixels: more pixels than the photo
    // has give the face model room to draw eyes and mouths (at the crop's own size they come out as blots;
    // README, "Many faces"), clamped to [min_style_side, face_size] (face_size wins).
    float style_scale = 1.5f;
    int min_style_side = 128;
    // The faces' stylized pixels together, at most this times the photo's (0: no limit). Over it, faces get
    // less scale, down to their own resolution in the photo, never less. 0.75 keeps the face pass within
    // twice the scene pass (the networks' time is about proportional to pixels) until the faces' crops cover
    // three quarters of the photo.
    float style_budget = 0.75f;
    // Largest side a face crop is stylized at (>= kMinSide).
    int face_size = 512;
    // Crop side over the face box's size (the side of a square of its area; >= 1.2 keeps the blend inside
    // the crop).
    float crop_scale = 1.8f;
    // Faces whose box is narrower or shorter than this are left as the scene made them.
    int min_face_px = 24;
    FaceDetectorOptions detector;
    // The scene's stylization: its memory limit (a large photo streams), statistics mode and progress.
    RunOptions run;
};

struct FacePassReport {
    std::vector<FaceDetection> faces;  // every face found, best first
    // Per face found: the side of the square its crop was stylized at; 0 for a face left alone (smaller than
    // min_face_px).
    std::vector<int> style_side;
    std::vector<int> blended;  // indices into `faces` of those blended, in blend order
    // Wall-clock totals; faces are stylized and blended several at a time.
    double scene_ms = 0, detect_ms = 0, stylize_faces_ms = 0, blend_ms = 0;
    // Per blended face, in blend order:
    std::vector<double> face_stylize_ms, face_blend_ms;
    // Mean gradient magnitude on the blend boundary (feathered mask ~0.5) over the mean of the bands just
    // inside and just outside it: about 1 when the seam is invisible, well above 1 when it shows as an edge.
    std::vector<double> seam_metric;
};

// Stylizes the photo with `scene`, then re-stylizes each face (with `face_model`, or `scene` when null) and
// blends it in. Faces are stylized several at a time, one per thread of the face model, each on a single
// thread; faces whose blend regions overlap are blended one after another, best first, so each sees the
// earlier ones as its surroundings, and the others at the same time. Without faces the result is
// scene.stylize(photo). Deterministic for any thread count.
Image stylize_with_faces(const Generator& scene, const Generator* face_model, const FaceDetector& detector,
                         const Image& photo, const FacePassOptions& options = {},
                         FacePassReport* report = nullptr);

}  // namespace animegan
