// Shared by the FFmpeg reader (ffmpeg_input.cpp) and writer (ffmpeg_output.cpp), the FFmpeg module's code
// (ffmpeg_module.h): owning handles for FFmpeg's objects, error text, and the reader's class, whose streams
// the writer copies.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <string>
#include <vector>

#include "engine/video/frame_io.h"

namespace animegan::video::ff {

struct FormatInputCloser {
    void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct CodecContextFree {
    void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FrameFree {
    void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketFree {
    void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsFree {
    void operator()(SwsContext* s) const { sws_freeContext(s); }
};
using InputContext = std::unique_ptr<AVFormatContext, FormatInputCloser>;
using CodecContext = std::unique_ptr<AVCodecContext, CodecContextFree>;
using FramePtr = std::unique_ptr<AVFrame, FrameFree>;
using PacketPtr = std::unique_ptr<AVPacket, PacketFree>;
using ScalerPtr = std::unique_ptr<SwsContext, SwsFree>;

// FFmpeg prints its complaints through av_log; they are kept instead (per thread) so that errors can quote
// the most specific one ("moov atom not found") rather than a generic code.
void capture_ffmpeg_log();
std::string last_ffmpeg_message();  // the last error-level message on this thread, or ""
void clear_ffmpeg_message();

// av_strerror's text, preceded by the last logged message when there is one.
std::string describe(int error_code);

Rational rational(AVRational r);

// A packet of a copied stream, with timestamps already shifted for --start, in its input stream's time base.
struct Packet : CopiedPacket {
    PacketPtr packet;
    AVRational time_base{0, 1};
};

// Demuxer and video decoder. Frames come out as RGB at the SourceSettings size; packets of audio and subtitle
// streams come out untouched.
class Source : public FrameSource {
  public:
    Source(const std::string& path, const SourceSettings& settings);
    const VideoFormat& format() const override { return format_; }
    bool next(PipelineItem& item) override;
    std::string position() const override;
    std::vector<std::string> warnings() const override;

    const AVFormatContext* context() const { return input_.get(); }
    int video_stream() const { return video_index_; }
    bool cutting() const { return cutting_; }  // --start or --duration given: the piece starts at 0

  private:
    bool receive_frame(PipelineItem& item);
    void convert(const AVFrame& frame, Image& image);
    [[noreturn]] void broke_off(const std::string& why) const;
    int64_t to_stream_time(double seconds, int stream) const;
    double declared_video_end() const;  // seconds, from the container's header; 0 = not declared

    std::string path_;
    InputContext input_;
    CodecContext decoder_;
    ScalerPtr scaler_;
    FramePtr frame_;
    PacketPtr packet_;
    VideoFormat format_;
    int video_index_ = -1;
    int rotation_ = 0;  // clockwise degrees the frames are turned (SourceSettings::apply_rotation)
    int64_t frames_out_ = 0;
    int64_t last_pts_ = AV_NOPTS_VALUE, last_frame_pts_ = AV_NOPTS_VALUE;
    double last_frame_end_ = 0;  // seconds: the last frame's timestamp plus its duration
    bool cutting_ = false;
    double cut_origin_ = 0;             // the piece's start, in seconds on the file's clock
    int64_t cut_end_ = AV_NOPTS_VALUE;  // video pts (stream time base) where the piece ends
    int64_t video_origin_ = 0;          // video pts of the piece's start: subtracted when cutting
    int read_error_ = 0;                // an error (not the end) that stopped the demuxer
    bool draining_ = false, video_ended_ = false;
    int corrupt_packets_ = 0;
};

// What the module's table offers as open_source and open_sink.
std::unique_ptr<FrameSource> open_source(const std::string& path, const SourceSettings& settings);
std::unique_ptr<FrameSink> open_sink(const std::string& path, const FrameSource& source,
                                     const SinkSettings& settings);

}  // namespace animegan::video::ff
