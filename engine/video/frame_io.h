// The pipeline's two ends: a FrameSource yields decoded frames (and packets to copy untouched, in file
// order), a FrameSink takes stylized frames and those packets. Implementations: YUV4MPEG2 (y4m.h, every
// build) and FFmpeg containers (ffmpeg_common.h, in a module of builds with FFmpeg's libraries).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "animegan/animegan.h"

namespace animegan::video {

struct Rational {
    int64_t num = 0, den = 0;  // 0/0 = unknown
    bool known() const { return num > 0 && den > 0; }
    double value() const { return known() ? double(num) / double(den) : 0.0; }
};

// What a sink needs to know about the video it is given.
struct VideoFormat {
    int width = 0, height = 0;  // of the frames the source yields (after any downscale)
    int input_width = 0, input_height = 0;
    Rational frame_rate;         // nominal; timestamps are what count
    Rational time_base;          // unit of VideoFrame::pts and ::duration
    Rational sample_aspect;      // 0/0 = square / unknown
    bool full_range = false;     // YUV levels 0-255 rather than 16-235
    std::string chroma = "420";  // chroma subsampling of the input ("420", "422", "444"): a y4m sink keeps it
    char interlace = 'p';        // y4m's I tag: p(rogressive), t(op first), b(ottom first), m(ixed)
    bool variable_rate = false;
    int64_t expected_frames = -1;
    int rotated_clockwise = 0;  // the source turned the pixels upright by this much (0, 90, 180, 270)
};

struct VideoFrame {
    Image image;           // RGB, the source's output size
    int64_t pts = 0;       // in VideoFormat::time_base
    int64_t duration = 0;  // 0 = unknown
    int64_t index = 0;     // 0, 1, 2, ... in presentation order
};

// A packet of another stream (audio, subtitles) that the sink copies as it is; only the source's own sink
// kind understands it, others drop it.
struct CopiedPacket {
    virtual ~CopiedPacket() = default;
};

struct PipelineItem {
    bool has_frame = false;
    VideoFrame frame;
    std::unique_ptr<CopiedPacket> packet;
};

class FrameSource {
  public:
    virtual ~FrameSource() = default;
    virtual const VideoFormat& format() const = 0;
    // Fills the next item in file order; false at the end. Throws Error when the input breaks off; frames
    // already returned stay valid.
    virtual bool next(PipelineItem& item) = 0;
    // Position for messages, e.g. "frame 96, 3.20 s".
    virtual std::string position() const = 0;
    virtual std::vector<std::string> warnings() const { return {}; }
};

class FrameSink {
  public:
    virtual ~FrameSink() = default;
    virtual void write(PipelineItem& item) = 0;
    // Flushes the encoder and finishes the file (trailer, index). Called once, also after an input error.
    virtual void finish() = 0;
    virtual std::string codec_name() const = 0;
    virtual std::vector<std::string> copied_streams() const { return {}; }
    virtual std::vector<std::string> warnings() const { return {}; }
};

struct SourceSettings {
    int max_side = 0;        // downscale so the longer side is at most this (0 = never)
    bool even_size = false;  // round the output size down to even sides (4:2:0 encoders need it)
    double start_seconds = 0, duration_seconds = 0;
    // Turn the frames upright when the stream says they are shown rotated: for outputs that cannot record a
    // rotation (Matroska and WebM in FFmpeg 5, y4m). Other outputs keep the rotation as metadata.
    bool apply_rotation = false;
};

struct SinkSettings {
    int crf = 20;
};

// Output size for an input size: the longer side at most max_side (0 = any), both sides at least kMinSide,
// even when asked. (frame_geometry.cpp, like rotate_clockwise.)
void output_size(int width, int height, int max_side, bool even, int& out_width, int& out_height);

// Whether the path names a y4m stream ("-" or .y4m); whether its container records a display rotation.
bool is_y4m_path(const std::string& path);
bool output_keeps_rotation(const std::string& path);

// The image turned clockwise by 90, 180 or 270 degrees (0: unchanged).
Image rotate_clockwise(const Image& image, int degrees);

// FFmpeg containers through the FFmpeg module, loaded on the first call (ffmpeg_loader.cpp), or throwing
// stubs that say video files are unavailable (ffmpeg_absent.cpp). Throw Error when the module cannot load.
std::unique_ptr<FrameSource> open_container_source(const std::string& path, const SourceSettings& settings);
std::unique_ptr<FrameSink> open_container_sink(const std::string& path, const FrameSource& source,
                                               const SinkSettings& settings);

}  // namespace animegan::video
