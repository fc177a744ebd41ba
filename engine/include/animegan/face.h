// Face detection with MediaPipe's BlazeFace (the 128x128 short-range or front-camera model) or MTCNN,
// converted to GGUF by animegan-convert (weights/fetch_face_detector.sh fetches and converts the short-range
// BlazeFace, weights/fetch_mtcnn.sh MTCNN). FaceDetector::load picks the implementation by the file's
// architecture.
//
//   animegan::FaceDetector detector = animegan::FaceDetector::load("face_detection_short_range.gguf");
//   for (const animegan::FaceDetection& f : detector.detect(animegan::load_image("photo.jpg"))) ...
//
// Every failure throws animegan::Error with a one-line reason.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "animegan/animegan.h"

namespace animegan {

// Indices into FaceDetection::keypoints, in MediaPipe's order.
enum FaceKeypoint { kRightEye = 0, kLeftEye, kNoseTip, kMouthCenter, kRightEarTragion, kLeftEarTragion };

// One face, in pixels of the image given to detect(). "Right" is the person's right (the left side of a
// frontal photo). The box may reach past the image edges when the face does.
struct FaceDetection {
    float x0, y0, x1, y1;   // box: top-left and bottom-right corners
    float score;            // probability that this is a face, in (0, 1)
    float keypoints[6][2];  // (x, y) of each FaceKeypoint
    // The keypoints the detector gives: BlazeFace all 6, MTCNN the first 4 (eyes, nose, mouth; no ears). The
    // others are NaN.
    int keypoint_count = 6;
};

struct FaceDetectorOptions {
    // Faces scoring below this are dropped. 0.5 is MediaPipe's threshold for the short-range model (its older
    // front-model graph used 0.75, which loses the lower-scoring faces of group photos).
    float min_score = 0.5f;
    // Detections whose boxes overlap the best remaining one by more than this IoU are merged into it,
    // weighted by score (MediaPipe's "weighted" non-maximum suppression).
    float nms_iou = 0.3f;
    // The whole photo is scaled to the detector's 128x128 input, so on a large photo a small face shrinks to
    // a few pixels and is lost. Photos whose longer side is at least twice this are therefore also searched
    // in overlapping square tiles of 1/2, 1/4, ... of the longer side (each tile's neighbours overlap it by
    // half), down to this side in pixels; the detections of every pass are merged. Enlarged textures fool the
    // detector, so detections in tiles must score 0.95, and a face only the tiles found is kept only if the
    // detector confirms it (score 0.95) on a crop of twice its size around it. 0 = the whole photo only. Must
    // be 0 or at least 128 (smaller tiles would be enlarged: no new detail, many more tiles).
    int tile_min_side = 256;
    // MTCNN: the smallest face searched for, as the side of its box in pixels (at least 8): the image pyramid
    // starts at the scale where such a face fills P-Net's 12-pixel window. Smaller finds smaller faces and
    // costs more (P-Net's work grows with the square of 1 / min_face_size). MTCNN's own cascade thresholds
    // apply, min_score only raises its final one (0.7). BlazeFace ignores this (tile_min_side sets how small
    // it looks), MTCNN ignores tile_min_side (its pyramid already looks at every scale).
    int min_face_size = 20;
};

class FaceDetector {
  public:
    // Memory-maps the GGUF file and checks every tensor against the architecture. threads <= 0 uses every
    // hardware thread. Throws Error for a file that is not a converted BlazeFace or MTCNN model.
    static FaceDetector load(const std::string& gguf_path, int threads = 0);
    FaceDetector(FaceDetector&&) noexcept;
    FaceDetector& operator=(FaceDetector&&) noexcept;
    ~FaceDetector();

    const std::string& name() const;  // general.name, e.g. "BlazeFace short range"
    int threads() const;

    // Faces in the image, best first. One call at a time per detector (the thread pool is shared). Throws
    // Error for invalid options.
    std::vector<FaceDetection> detect(const Image& image, const FaceDetectorOptions& options = {}) const;

    // The network input detect() builds: the image scaled to fit 128x128 keeping its aspect ratio, centred,
    // the borders black (-1), as [3, 128, 128] in [-1, 1].
    static Tensor letterbox(const Image& image);

    // BlazeFace: the raw network outputs for a [3, 128, 128] input in [-1, 1], laid out like the TFLite
    // model's: regressors [896 * 16] and classificators [896] (logits), anchors ordered (y, x, anchor) over
    // the 16x16 map (2 per cell) and then the 8x8 map (6 per cell). Throws Error for an MTCNN detector.
    void run_raw(const Tensor& input, std::vector<float>& regressors,
                 std::vector<float>& classificators) const;

  private:
    struct Impl;
    explicit FaceDetector(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace animegan
