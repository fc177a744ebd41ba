// Builds without FFmpeg's libraries: container files are unavailable, y4m pipes still work.
#include "animegan/video.h"
#include "engine/video/frame_io.h"

namespace animegan {

bool video_files_available() {
    return false;
}

namespace video {
namespace {

[[noreturn]] void unavailable(const std::string& path) {
    throw Error(path +
                ": video files are unavailable: this build has no FFmpeg libraries (install libavformat-dev "
                "libavcodec-dev libavutil-dev libswscale-dev and rebuild); y4m pipes work (-i - -o -)");
}

}  // namespace

std::unique_ptr<FrameSource> open_container_source(const std::string& path, const SourceSettings&) {
    unavailable(path);
}

std::unique_ptr<FrameSink> open_container_sink(const std::string& path, const FrameSource&,
                                               const SinkSettings&) {
    unavailable(path);
}

}  // namespace video
}  // namespace animegan
