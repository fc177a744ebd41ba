// The face pass on video: faces followed as tracks across frames (detection every k-th frame, the boxes and
// keypoints in between carried over and smoothed), so face crops do not jitter from frame to frame.
#pragma once

#include <cstdint>
#include <memory>

#include "animegan/face_pass.h"

namespace animegan::video {

class FaceTracks {
  public:
    FaceTracks(const FaceDetector& detector, const Generator& face_model, const FacePassOptions& options,
               int detect_every, bool smooth);
    ~FaceTracks();
    // Re-stylizes the tracked faces of `input` and blends them into `stylized` (the scene pass of the same
    // frame). new_scene drops every track.
    void apply(const Image& input, Image& stylized, bool new_scene);
    int64_t tracks_started() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace animegan::video
