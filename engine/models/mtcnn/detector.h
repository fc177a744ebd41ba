// MTCNN face detection: the standard three-stage cascade over an image pyramid.
//   1. P-Net runs on the image scaled by 12 / min_face_size, then by 0.709 again and again while the shorter
//      side stays at least 12 pixels; every cell scoring over 0.6 proposes the 12x12 window it sees, moved by
//      its box offsets; suppression per scale (IoU 0.5) and over all scales (0.7).
//   2. R-Net scores each proposal on a 24x24 crop of its square box (over 0.7 stays), suppression (0.7), box
//      offsets.
//   3. O-Net does the same on 48x48 crops and adds five landmarks; suppression by the overlap over the
//      smaller box (0.7), as the original.
//   4. (Ours) O-Net again on each face's final box: false faces, moved there by their box offsets, fail.
// Behind animegan::FaceDetector for GGUF files of architecture "mtcnn" (the registry's kNetwork).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/models/mtcnn/net.h"
#include "engine/models/registry.h"
#include "engine/runtime/thread_pool.h"

namespace animegan::mtcnn {

class Detector : public models::FaceDetectorNetwork {
  public:
    // Binds the three nets in the file. Throws Error naming a missing net or tensor, or an extra tensor.
    // threads <= 0 uses every hardware thread.
    Detector(weights::GgufFile file, int threads);

    const std::string& name() const override { return name_; }
    int threads() const override { return threads_->size(); }

    // Faces, best first. Keypoints: the eyes and the nose from O-Net's landmarks, the mouth centre between
    // its two mouth corners; MTCNN has no ears (keypoint_count 4).
    std::vector<FaceDetection> detect(const Image& image, const FaceDetectorOptions& options) const override;

    // BlazeFace's raw outputs: MTCNN has none of that form (Error).
    void run_raw(const Tensor& input, std::vector<float>& regressors,
                 std::vector<float>& classificators) const override;

    // One net's raw outputs (Net::run) for an input in MTCNN's scale, single-threaded: for the tests.
    std::vector<Tensor> run_net(NetKind kind, const Tensor& input) const;

  private:
    struct Candidate;
    class Halves;
    std::vector<Candidate> propose(const Image& image, const Halves& halves, int min_face_size) const;
    std::vector<Candidate> refine(const Image& image, const Halves& halves, std::vector<Candidate> boxes,
                                  const Net& net, float threshold) const;

    weights::GgufFile file_;
    std::string name_;
    std::vector<std::vector<float>> converted_;  // F16 tensors widened to F32
    std::vector<Net> nets_;                      // P, R, O
    std::unique_ptr<ThreadPool> threads_;
};

}  // namespace animegan::mtcnn
