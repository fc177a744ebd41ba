#include "engine/video/face_tracks.h"

namespace animegan::video {

struct FaceTracks::Impl {};

FaceTracks::FaceTracks(const FaceDetector&, const Generator&, const FacePassOptions&, int, bool) {
    throw Error("video: the face pass is not available on video yet");
}
FaceTracks::~FaceTracks() = default;
void FaceTracks::apply(const Image&, Image&, bool) {}
int64_t FaceTracks::tracks_started() const {
    return 0;
}

}  // namespace animegan::video
