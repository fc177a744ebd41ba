// Where the library meets its FFmpeg module: animegan_ffmpeg.so, built from ffmpeg_input.cpp and
// ffmpeg_output.cpp and linked against FFmpeg's libraries. The library links none of FFmpeg and dlopens the
// module the first time a video file (not y4m) is opened (ffmpeg_loader.cpp), so that a process that never
// opens one (a photo run of the CLI, the server) does not load FFmpeg's hundred-odd shared libraries at
// start.
//
// The module exports one C symbol, kFfmpegModuleEntry, which returns the table below; everything else in it
// is hidden. The table passes C++ objects: both sides come from one build and share libstdc++. The functions,
// and the sources and sinks they return, throw animegan::Error from the module's code; libstdc++ matches
// exception types across shared objects by name, so callers catch it as they catch the library's own.
// The module links nothing of the library: what it needs of the engine is in headers or frame_geometry.cpp.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>

#include "engine/video/frame_io.h"

namespace animegan::video {

// Bump when the table or the types of frame_io.h change; the loader refuses a module of another version.
constexpr int kFfmpegModuleAbi = 1;
constexpr const char* kFfmpegModuleEntry = "animegan_ffmpeg_module";

struct FfmpegModule {
    int abi;  // first, whatever the version: the loader reads it before anything else
    size_t layout;
    std::unique_ptr<FrameSource> (*open_source)(const std::string& path, const SourceSettings& settings);
    std::unique_ptr<FrameSink> (*open_sink)(const std::string& path, const FrameSource& source,
                                            const SinkSettings& settings);
};

// The sizes of what crosses the boundary, as a second check against a change that forgot the bump.
constexpr size_t ffmpeg_module_layout() {
    size_t signature = 0;
    for (size_t size : {sizeof(FfmpegModule), sizeof(VideoFormat), sizeof(VideoFrame), sizeof(PipelineItem),
                        sizeof(SourceSettings), sizeof(SinkSettings)})
        signature = signature * 1009 + size;
    return signature;
}

}  // namespace animegan::video

// The entry point, named kFfmpegModuleEntry (defined in ffmpeg_module.cpp).
extern "C" const animegan::video::FfmpegModule* animegan_ffmpeg_module();
