// The FFmpeg module's one exported symbol (ffmpeg_module.h).
#include "engine/video/ffmpeg_module.h"
#include "engine/video/ffmpeg_common.h"

extern "C" __attribute__((visibility("default"))) const animegan::video::FfmpegModule*
animegan_ffmpeg_module() {
    using namespace animegan::video;
    static const FfmpegModule table{kFfmpegModuleAbi, ffmpeg_module_layout(), &ff::open_source,
                                    &ff::open_sink};
    return &table;
}
