// Stands for an FFmpeg module built for another version of the library (tests/test_video.cpp): the right
// entry point, another interface number, which the loader must refuse before calling anything.
#include "engine/video/ffmpeg_module.h"

extern "C" const animegan::video::FfmpegModule* animegan_ffmpeg_module() {
    static const animegan::video::FfmpegModule table{animegan::video::kFfmpegModuleAbi + 1, 0, nullptr,
                                                     nullptr};
    return &table;
}
