// FFmpeg reader: opens a container, picks its video stream, decodes and converts frames to RGB (swscale, with
// the stream's own colour matrix and range), and hands the audio and subtitle packets on untouched.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "engine/video/ffmpeg_common.h"

extern "C" {
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
}

namespace animegan::video {
namespace ff {
namespace {

thread_local std::string g_last_message;

void log_callback(void*, int level, const char* fmt, va_list args) {
    if (level > AV_LOG_ERROR) return;
    char line[512];
    std::vsnprintf(line, sizeof line, fmt, args);
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (!text.empty()) g_last_message = text;
}

bool still_image_demuxer(const std::string& name) {
    return name == "image2" || (name.size() > 5 && name.compare(name.size() - 5, 5, "_pipe") == 0);
}

// How far the display matrix turns the picture clockwise, as a multiple of 90 degrees (as ffmpeg's
// autorotate reads it); 0 for none, for a flip, or for an odd angle.
int clockwise_rotation(const AVStream& st) {
    size_t size = 0;
    const uint8_t* m = av_stream_get_side_data(&st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (!m || size < 9 * sizeof(int32_t)) return 0;
    const double ccw = av_display_rotation_get(reinterpret_cast<const int32_t*>(m));
    if (std::isnan(ccw)) return 0;
    const int quarter = int(std::lround(-ccw / 90.0));
    if (std::abs(-ccw - quarter * 90.0) > 1.0) return 0;
    return ((quarter % 4) + 4) % 4 * 90;
}

// A video ending this much before the length its container declares is taken as cut short. Larger than any
// rounding of durations, smaller than any truncation worth reporting.
constexpr double kEndTolerance = 0.5;

std::string seconds_text(double s) {
    char t[32];
    std::snprintf(t, sizeof t, "%.2f s", s);
    return t;
}

}  // namespace

void capture_ffmpeg_log() {
    static std::once_flag once;
    std::call_once(once, [] { av_log_set_callback(log_callback); });
}

std::string last_ffmpeg_message() {
    return g_last_message;
}
void clear_ffmpeg_message() {
    g_last_message.clear();
}

std::string describe(int error_code) {
    char text[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(error_code, text, sizeof text);
    const std::string logged = last_ffmpeg_message();
    return logged.empty() ? std::string(text) : logged + " (" + text + ")";
}

Rational rational(AVRational r) {
    return r.num > 0 && r.den > 0 ? Rational{r.num, r.den} : Rational{};
}

Source::Source(const std::string& path, const SourceSettings& settings)
    : path_(path), frame_(av_frame_alloc()), packet_(av_packet_alloc()) {
    capture_ffmpeg_log();
    clear_ffmpeg_message();
    if (!frame_ || !packet_) throw Error(path + ": out of memory");
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) throw Error(path + ": cannot open: " + std::strerror(errno));
    if (info.st_size == 0) throw Error(path + ": empty file, not a video");

    AVFormatContext* raw = nullptr;
    int r = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
    if (r < 0) {
        // An MP4 written without +faststart keeps its index (moov) at the end: cut short, it cannot be read.
        const bool no_index = last_ffmpeg_message().find("moov atom not found") != std::string::npos;
        throw Error(path + ": not a video file FFmpeg can read: " + describe(r) +
                    (no_index ? "; a truncated MP4 loses its index, which is at the end unless written with "
                                "+faststart"
                              : ""));
    }
    input_.reset(raw);
    r = avformat_find_stream_info(raw, nullptr);
    if (r < 0) throw Error(path + ": cannot read its streams: " + describe(r));
    if (still_image_demuxer(raw->iformat->name))
        throw Error(path + ": a still image (" + raw->iformat->name +
                    "), not a video: write it to an image file");

    // The largest video stream that is not cover art.
    int64_t best_area = -1;
    for (unsigned i = 0; i < raw->nb_streams; ++i) {
        const AVStream* st = raw->streams[i];
        if (st->codecpar->codec_type != AVMEDIA_TYPE_VIDEO || (st->disposition & AV_DISPOSITION_ATTACHED_PIC))
            continue;
        const int64_t area = int64_t(st->codecpar->width) * st->codecpar->height;
        if (area > best_area) best_area = area, video_index_ = int(i);
    }
    if (video_index_ < 0) {
        int audio = 0, other = 0;
        for (unsigned i = 0; i < raw->nb_streams; ++i)
            (raw->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO ? audio : other) += 1;
        throw Error(path + ": no video stream (" + std::to_string(audio) + " audio, " +
                    std::to_string(other) + " other stream(s))");
    }
    AVStream* st = raw->streams[video_index_];
    const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!codec) {
        const std::string name = avcodec_get_name(st->codecpar->codec_id);
        throw Error(path + ": video stream #" + std::to_string(video_index_) +
                    (st->codecpar->codec_id == AV_CODEC_ID_NONE
                         ? " has a codec FFmpeg does not know"
                         : " is " + name + ", which this FFmpeg cannot decode"));
    }
    decoder_.reset(avcodec_alloc_context3(codec));
    if (!decoder_) throw Error(path + ": out of memory");
    avcodec_parameters_to_context(decoder_.get(), st->codecpar);
    decoder_->pkt_timebase = st->time_base;
    decoder_->thread_count =
        1;  // decoding is a small share of the time next to the network; keep cores for it
    r = avcodec_open2(decoder_.get(), codec, nullptr);
    if (r < 0) throw Error(path + ": cannot open the " + codec->name + " decoder: " + describe(r));
    if (decoder_->width <= 0 || decoder_->height <= 0)
        throw Error(path + ": the video stream has no frame size");
    if (int64_t(decoder_->width) * decoder_->height > kMaxImagePixels)
        throw Error(path + ": video frames of " + std::to_string(decoder_->width) + "x" +
                    std::to_string(decoder_->height) + " are too large");

    format_.input_width = decoder_->width;
    format_.input_height = decoder_->height;
    if (settings.apply_rotation) rotation_ = clockwise_rotation(*st);
    const bool swap = rotation_ == 90 || rotation_ == 270;
    output_size(swap ? decoder_->height : decoder_->width, swap ? decoder_->width : decoder_->height,
                settings.max_side, settings.even_size, format_.width, format_.height);
    format_.rotated_clockwise = rotation_;
    format_.time_base = rational(st->time_base);
    format_.frame_rate = rational(av_guess_frame_rate(raw, st, nullptr));
    format_.sample_aspect = rational(av_guess_sample_aspect_ratio(raw, st, nullptr));
    format_.full_range = decoder_->color_range == AVCOL_RANGE_JPEG;
    const Rational avg = rational(st->avg_frame_rate), base = rational(st->r_frame_rate);
    format_.variable_rate = avg.known() && base.known() && avg.num * base.den != base.num * avg.den;
    if (st->nb_frames > 0) {
        format_.expected_frames = st->nb_frames;
    } else if (raw->duration > 0 && format_.frame_rate.known()) {
        format_.expected_frames =
            int64_t(std::llround(raw->duration / double(AV_TIME_BASE) * format_.frame_rate.value()));
    }

    // --start / --duration: seek to the key frame before the start, decode from there, and shift every stream
    // so that the piece starts at 0.
    if (settings.start_seconds > 0 || settings.duration_seconds > 0) {
        const int64_t file_start = raw->start_time != AV_NOPTS_VALUE ? raw->start_time : 0;
        cut_origin_ = file_start / double(AV_TIME_BASE) + settings.start_seconds;
        cutting_ = true;
        video_origin_ = to_stream_time(cut_origin_, video_index_);
        if (settings.duration_seconds > 0)
            cut_end_ = to_stream_time(cut_origin_ + settings.duration_seconds, video_index_);
        if (settings.start_seconds > 0) {
            r = av_seek_frame(raw, video_index_, video_origin_, AVSEEK_FLAG_BACKWARD);
            if (r < 0)
                throw Error(path + ": cannot seek to " + seconds_text(settings.start_seconds) + ": " +
                            describe(r));
        }
        if (format_.expected_frames > 0 && format_.frame_rate.known()) {
            const double rate = format_.frame_rate.value();
            int64_t left = format_.expected_frames - int64_t(std::llround(settings.start_seconds * rate));
            if (settings.duration_seconds > 0)
                left = std::min(left, int64_t(std::ceil(settings.duration_seconds * rate - 1e-6)));
            format_.expected_frames = std::max<int64_t>(left, 0);
        }
    }
}

int64_t Source::to_stream_time(double seconds, int stream) const {
    const AVRational tb = input_->streams[stream]->time_base;
    return int64_t(std::llround(seconds * tb.den / tb.num));
}

double Source::declared_video_end() const {
    const AVStream* st = input_->streams[video_index_];
    const double start = st->start_time != AV_NOPTS_VALUE ? st->start_time * av_q2d(st->time_base) : 0;
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
        return start + st->duration * av_q2d(st->time_base);
    // Matroska muxers record each track's length as a tag, "HH:MM:SS.nnnnnnnnn".
    const AVDictionaryEntry* tag = av_dict_get(st->metadata, "DURATION", nullptr, 0);
    int h = 0, m = 0;
    double sec = 0;
    if (tag && std::sscanf(tag->value, "%d:%d:%lf", &h, &m, &sec) == 3 && h >= 0 && m >= 0 && sec >= 0)
        return h * 3600.0 + m * 60.0 + sec;
    return 0;
}

std::string Source::position() const {
    std::string s = "frame " + std::to_string(frames_out_);
    if (last_frame_pts_ != AV_NOPTS_VALUE) {
        const AVRational tb = input_->streams[video_index_]->time_base;
        s += ", " + seconds_text(last_frame_pts_ * av_q2d(tb));
    }
    return s;
}

std::vector<std::string> Source::warnings() const {
    if (corrupt_packets_ == 0) return {};
    return {path_ + ": " + std::to_string(corrupt_packets_) +
            " damaged video packet(s) could not be decoded; their "
            "frames are missing from the output"};
}

void Source::broke_off(const std::string& why) const {
    throw Error(path_ + ": the input breaks off after " + position() + " (" + why + ")");
}

void Source::convert(const AVFrame& frame, Image& image) {
    const AVPixelFormat pix = AVPixelFormat(frame.format);
    const bool swap = rotation_ == 90 || rotation_ == 270;
    const int width = swap ? format_.height : format_.width, height = swap ? format_.width : format_.height;
    scaler_.reset(sws_getCachedContext(scaler_.release(), frame.width, frame.height, pix, width, height,
                                       AV_PIX_FMT_RGB24, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT,
                                       nullptr, nullptr, nullptr));
    if (!scaler_)
        throw Error(path_ + ": cannot convert " +
                    (av_get_pix_fmt_name(pix) ? av_get_pix_fmt_name(pix) : "?") + " frames to RGB");
    // Decode with the matrix and range the stream declares (BT.709 for HD, usually); unspecified ones fall
    // back to swscale's BT.601, which the writer then uses too.
    const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(pix);
    const bool yuv = desc && !(desc->flags & AV_PIX_FMT_FLAG_RGB) && desc->nb_components >= 3;
    if (yuv) {
        const bool full = frame.color_range == AVCOL_RANGE_JPEG || pix == AV_PIX_FMT_YUVJ420P ||
                          pix == AV_PIX_FMT_YUVJ422P || pix == AV_PIX_FMT_YUVJ444P;
        sws_setColorspaceDetails(scaler_.get(), sws_getCoefficients(frame.colorspace), full,
                                 sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
    }
    image.width = width;
    image.height = height;
    image.pixels.resize(size_t(width) * height * 3);
    uint8_t* dst[4] = {image.pixels.data(), nullptr, nullptr, nullptr};
    const int dst_stride[4] = {width * 3, 0, 0, 0};
    sws_scale(scaler_.get(), frame.data, frame.linesize, 0, frame.height, dst, dst_stride);
    if (rotation_ != 0) image = rotate_clockwise(image, rotation_);
}

bool Source::receive_frame(PipelineItem& item) {
    while (true) {
        const int r = avcodec_receive_frame(decoder_.get(), frame_.get());
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return false;
        if (r < 0) broke_off("decoding failed: " + describe(r));
        int64_t pts = frame_->best_effort_timestamp;
        if (pts == AV_NOPTS_VALUE) {
            // A raw stream without timestamps: count frames at the nominal rate.
            const AVRational tb = input_->streams[video_index_]->time_base;
            const Rational rate = format_.frame_rate.known() ? format_.frame_rate : Rational{25, 1};
            pts = last_pts_ == AV_NOPTS_VALUE
                      ? 0
                      : last_pts_ + std::max<int64_t>(
                                        1, av_rescale_q(1, AVRational{int(rate.den), int(rate.num)}, tb));
        }
        if (cutting() && pts < video_origin_) {  // before --start: decoded only to reach it
            av_frame_unref(frame_.get());
            continue;
        }
        if (cut_end_ != AV_NOPTS_VALUE && pts >= cut_end_) {
            video_ended_ = true;
            av_frame_unref(frame_.get());
            return false;
        }
        if (last_pts_ != AV_NOPTS_VALUE && pts <= last_pts_)
            pts = last_pts_ + 1;  // encoders need increasing pts
        last_pts_ = pts;
        last_frame_pts_ = pts;
        {
            const AVRational tb = input_->streams[video_index_]->time_base;
            const double length = frame_->pkt_duration > 0     ? frame_->pkt_duration * av_q2d(tb)
                                  : format_.frame_rate.known() ? 1 / format_.frame_rate.value()
                                                               : 0;
            last_frame_end_ = pts * av_q2d(tb) + length;
        }
        item.has_frame = true;
        item.frame.pts = pts - (cutting() ? video_origin_ : 0);
        item.frame.duration = frame_->pkt_duration > 0 ? frame_->pkt_duration : 0;
        item.frame.index = frames_out_++;
        convert(*frame_, item.frame.image);
        av_frame_unref(frame_.get());
        return true;
    }
}

bool Source::next(PipelineItem& item) {
    clear_ffmpeg_message();
    while (true) {
        if (!video_ended_ && receive_frame(item)) return true;
        if (draining_) {
            if (read_error_ != 0) broke_off(describe(read_error_));
            if (input_->pb && input_->pb->error < 0) broke_off(describe(input_->pb->error));
            // The container says how long the video lasts (MP4's index, Matroska's track tag). Frame counts
            // would not do: an MP4 edit list hides frames its index counts.
            const double expected_end = declared_video_end();
            if (!cutting() && expected_end > 0 && last_frame_end_ < expected_end - kEndTolerance) {
                broke_off("the file says the video lasts until " + seconds_text(expected_end) +
                          ", the frames stop at " + seconds_text(last_frame_end_) + ": truncated?");
            }
            return false;
        }
        const int r = av_read_frame(input_.get(), packet_.get());
        if (r < 0) {
            if (r != AVERROR_EOF) read_error_ = r;
            draining_ = true;
            if (!video_ended_)
                avcodec_send_packet(decoder_.get(), nullptr);  // flush: the last frames come out
            continue;
        }
        AVStream* st = input_->streams[packet_->stream_index];
        const int64_t t = packet_->pts != AV_NOPTS_VALUE ? packet_->pts : packet_->dts;
        // With --duration, once the video is done and the demuxer is a second past the end (streams are
        // interleaved within less), nothing more belongs to the piece.
        if (video_ended_ && t != AV_NOPTS_VALUE && cut_end_ != AV_NOPTS_VALUE &&
            t * av_q2d(st->time_base) > cut_end_ * av_q2d(input_->streams[video_index_]->time_base) + 1.0) {
            av_packet_unref(packet_.get());
            draining_ = true;
            continue;
        }
        if (packet_->stream_index == video_index_) {
            if (!video_ended_) {
                const int s = avcodec_send_packet(decoder_.get(), packet_.get());
                if (s < 0 && s != AVERROR(EAGAIN)) ++corrupt_packets_;  // a damaged packet: its frame is lost
            }
            av_packet_unref(packet_.get());
            continue;
        }
        const AVMediaType type = st->codecpar->codec_type;
        if (type != AVMEDIA_TYPE_AUDIO && type != AVMEDIA_TYPE_SUBTITLE) {
            av_packet_unref(packet_.get());
            continue;
        }
        if (cutting()) {
            // Keep the packets that start inside the piece, shifted like the video (one starting before it
            // would get a negative timestamp, and containers shift every stream to avoid those).
            const int64_t begin = to_stream_time(cut_origin_, packet_->stream_index);
            const int64_t end =
                cut_end_ == AV_NOPTS_VALUE
                    ? INT64_MAX
                    : av_rescale_q(cut_end_, input_->streams[video_index_]->time_base, st->time_base);
            if (t == AV_NOPTS_VALUE || t < begin || t >= end) {
                av_packet_unref(packet_.get());
                continue;
            }
            if (packet_->pts != AV_NOPTS_VALUE) packet_->pts -= begin;
            if (packet_->dts != AV_NOPTS_VALUE) packet_->dts -= begin;
        }
        auto copied = std::make_unique<Packet>();
        copied->packet.reset(av_packet_alloc());
        if (!copied->packet) throw Error(path_ + ": out of memory");
        av_packet_move_ref(copied->packet.get(), packet_.get());
        copied->time_base = st->time_base;
        item.has_frame = false;
        item.packet = std::move(copied);
        return true;
    }
}

std::unique_ptr<FrameSource> open_source(const std::string& path, const SourceSettings& settings) {
    return std::make_unique<Source>(path, settings);
}

}  // namespace ff
}  // namespace animegan::video
