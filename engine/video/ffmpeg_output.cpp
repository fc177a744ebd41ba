// FFmpeg writer: encodes the stylized frames (H.264 through libx264 where the container takes it, else the
// container's usual codec) with the input's timestamps, and copies the input's audio and subtitle packets,
// stream metadata, rotation and chapters into the output container.
#include <algorithm>
#include <map>

#include "engine/video/ffmpeg_common.h"

extern "C" {
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

namespace animegan::video::ff {
namespace {

struct OutputCloser {
    void operator()(AVFormatContext* c) const {
        if (c && !(c->oformat->flags & AVFMT_NOFILE)) avio_closep(&c->pb);
        avformat_free_context(c);
    }
};
using OutputContext = std::unique_ptr<AVFormatContext, OutputCloser>;

const char* media_name(AVMediaType type) {
    const char* name = av_get_media_type_string(type);
    return name ? name : "data";
}

// Side data that describes the picture rather than the encoding: it stays true after re-encoding.
bool picture_side_data(AVPacketSideDataType type) {
    return type == AV_PKT_DATA_DISPLAYMATRIX || type == AV_PKT_DATA_STEREO3D || type == AV_PKT_DATA_SPHERICAL;
}

void copy_side_data(const AVStream& from, AVStream& to, bool picture_only, bool rotation = true) {
    for (int i = 0; i < from.nb_side_data; ++i) {
        const AVPacketSideData& sd = from.side_data[i];
        if (picture_only && !picture_side_data(sd.type)) continue;
        if (!rotation && sd.type == AV_PKT_DATA_DISPLAYMATRIX) continue;
        uint8_t* dst = av_stream_new_side_data(&to, sd.type, sd.size);
        if (!dst) throw Error("out of memory copying stream side data");
        std::copy_n(sd.data, sd.size, dst);
    }
}

// Stream tags, except those that described the old encoding.
void copy_metadata(const AVDictionary* from, AVDictionary** to) {
    const AVDictionaryEntry* e = nullptr;
    while ((e = av_dict_get(from, "", e, AV_DICT_IGNORE_SUFFIX))) {
        const std::string key = e->key;
        if (key == "encoder" || key == "DURATION" || key == "BPS" || key == "NUMBER_OF_FRAMES" ||
            key == "NUMBER_OF_BYTES" || key.rfind("_STATISTICS", 0) == 0)
            continue;
        av_dict_set(to, e->key, e->value, 0);
    }
}

class Sink : public FrameSink {
  public:
    Sink(const std::string& path, const FrameSource& source, const SinkSettings& settings)
        : path_(path), format_(source.format()), frame_(av_frame_alloc()), packet_(av_packet_alloc()) {
        capture_ffmpeg_log();
        clear_ffmpeg_message();
        if (!frame_ || !packet_) throw Error(path + ": out of memory");
        AVFormatContext* raw = nullptr;
        avformat_alloc_output_context2(&raw, nullptr, nullptr, path.c_str());
        if (!raw) throw Error(path + ": FFmpeg knows no container for this file name");
        output_.reset(raw);
        input_ = dynamic_cast<const Source*>(&source);
        open_encoder(settings);
        add_video_stream();
        if (input_) copy_other_streams();
        if (!(raw->oformat->flags & AVFMT_NOFILE)) {
            const int r = avio_open(&raw->pb, path.c_str(), AVIO_FLAG_WRITE);
            if (r < 0) throw Error(path + ": cannot create: " + describe(r));
        }
        const int r = avformat_write_header(raw, nullptr);
        if (r < 0) throw Error(path + ": cannot start the " + raw->oformat->name + " file: " + describe(r));
    }

    void write(PipelineItem& item) override {
        clear_ffmpeg_message();
        if (item.has_frame) {
            encode(&item.frame);
        } else if (auto* p = dynamic_cast<Packet*>(item.packet.get())) {
            const auto out = stream_map_.find(p->packet->stream_index);
            if (out == stream_map_.end()) return;
            AVStream* st = output_->streams[out->second];
            p->packet->stream_index = out->second;
            p->packet->pos = -1;
            av_packet_rescale_ts(p->packet.get(), p->time_base, st->time_base);
            mux(p->packet.get());
        }
    }

    void finish() override {
        encode(nullptr);
        const int r = av_write_trailer(output_.get());
        if (r < 0) throw Error(path_ + ": cannot finish the file: " + describe(r));
        if (!(output_->oformat->flags & AVFMT_NOFILE)) {
            const int c = avio_closep(&output_->pb);
            if (c < 0) throw Error(path_ + ": write failed: " + describe(c));
        }
    }

    std::string codec_name() const override { return encoder_->codec->name; }
    std::vector<std::string> copied_streams() const override { return copied_; }
    std::vector<std::string> warnings() const override { return warnings_; }

  private:
    void open_encoder(const SinkSettings& settings) {
        const AVOutputFormat* of = output_->oformat;
        const AVCodec* codec = nullptr;
        if (avformat_query_codec(of, AV_CODEC_ID_H264, FF_COMPLIANCE_NORMAL) == 1)
            codec = avcodec_find_encoder_by_name("libx264");
        if (!codec && of->video_codec != AV_CODEC_ID_NONE) codec = avcodec_find_encoder(of->video_codec);
        if (!codec) throw Error(path_ + ": this FFmpeg has no video encoder for " + of->name + " files");
        encoder_.reset(avcodec_alloc_context3(codec));
        if (!encoder_) throw Error(path_ + ": out of memory");
        AVCodecContext& e = *encoder_;
        e.width = format_.width;
        e.height = format_.height;
        // The input's own clock: every timestamp goes through unchanged.
        e.time_base = format_.time_base.known()
                          ? AVRational{int(format_.time_base.num), int(format_.time_base.den)}
                          : AVRational{1, 90000};
        if (format_.frame_rate.known())
            e.framerate = AVRational{int(format_.frame_rate.num), int(format_.frame_rate.den)};
        if (format_.sample_aspect.known())
            e.sample_aspect_ratio =
                AVRational{int(format_.sample_aspect.num), int(format_.sample_aspect.den)};
        e.pix_fmt = AV_PIX_FMT_YUV420P;
        if (codec->pix_fmts) {
            const AVPixelFormat* f = codec->pix_fmts;
            while (*f != AV_PIX_FMT_NONE && *f != AV_PIX_FMT_YUV420P) ++f;
            if (*f == AV_PIX_FMT_NONE) e.pix_fmt = codec->pix_fmts[0];
        }
        e.color_range = format_.full_range ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
        e.thread_count = 1;  // a small share of the time; the network keeps the cores
        if (output_->oformat->flags & AVFMT_GLOBALHEADER) e.flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
        const std::string name = codec->name;
        if (name == "libx264" || name == "libx265") {
            av_opt_set_int(e.priv_data, "crf", std::min(settings.crf, 51), 0);
        } else if (name.rfind("libvpx", 0) == 0 || name == "libaom-av1") {
            av_opt_set_int(e.priv_data, "crf", settings.crf, 0);
            e.bit_rate = 0;  // constant quality
            av_opt_set(e.priv_data, "deadline", "good", 0);
            av_opt_set_int(e.priv_data, "cpu-used", 4, 0);
        } else {
            // Other encoders take a quantizer: map CRF 0-51 onto qscale 1-31.
            e.flags |= AV_CODEC_FLAG_QSCALE;
            e.global_quality = FF_QP2LAMBDA * std::clamp(1 + settings.crf * 30 / 51, 1, 31);
        }
    }

    void add_video_stream() {
        AVCodecContext& e = *encoder_;
        if (input_) {
            const AVStream* in = input_->context()->streams[input_->video_stream()];
            e.color_primaries = in->codecpar->color_primaries;
            e.color_trc = in->codecpar->color_trc;
            e.colorspace = in->codecpar->color_space;
            e.chroma_sample_location = in->codecpar->chroma_location;
        }
        const int r = avcodec_open2(&e, e.codec, nullptr);
        if (r < 0) throw Error(path_ + ": cannot open the " + e.codec->name + " encoder: " + describe(r));
        AVStream* st = avformat_new_stream(output_.get(), nullptr);
        if (!st) throw Error(path_ + ": out of memory");
        avcodec_parameters_from_context(st->codecpar, &e);
        st->time_base = e.time_base;
        st->sample_aspect_ratio = e.sample_aspect_ratio;
        if (input_) {
            const AVStream* in = input_->context()->streams[input_->video_stream()];
            st->avg_frame_rate = in->avg_frame_rate;
            st->r_frame_rate = in->r_frame_rate;
            st->disposition = in->disposition;
            copy_metadata(in->metadata, &st->metadata);
            copy_side_data(*in, *st, /*picture_only=*/true, /*rotation=*/format_.rotated_clockwise == 0);
            if (format_.rotated_clockwise != 0)
                warnings_.push_back("the input is shown rotated by " +
                                    std::to_string(format_.rotated_clockwise) + " degrees, which a " +
                                    output_->oformat->name +
                                    " file cannot record: the frames were turned upright instead");
            copy_metadata(input_->context()->metadata, &output_->metadata);
            if (!input_->cutting()) copy_chapters();
        } else if (format_.frame_rate.known()) {
            st->avg_frame_rate = e.framerate;
        }
        // RGB back to the encoder's YUV with the same matrix and range the frames were decoded with.
        scaler_.reset(sws_getContext(e.width, e.height, AV_PIX_FMT_RGB24, e.width, e.height, e.pix_fmt,
                                     SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr, nullptr,
                                     nullptr));
        if (!scaler_) throw Error(path_ + ": cannot convert RGB to " + av_get_pix_fmt_name(e.pix_fmt));
        sws_setColorspaceDetails(scaler_.get(), sws_getCoefficients(SWS_CS_DEFAULT), 1,
                                 sws_getCoefficients(e.colorspace), e.color_range == AVCOL_RANGE_JPEG, 0,
                                 1 << 16, 1 << 16);
    }

    void copy_chapters() {
        const AVFormatContext* in = input_->context();
        if (in->nb_chapters == 0) return;
        output_->chapters = static_cast<AVChapter**>(av_calloc(in->nb_chapters, sizeof(AVChapter*)));
        if (!output_->chapters) throw Error(path_ + ": out of memory");
        for (unsigned i = 0; i < in->nb_chapters; ++i) {
            const AVChapter* c = in->chapters[i];
            AVChapter* copy = static_cast<AVChapter*>(av_mallocz(sizeof(AVChapter)));
            if (!copy) throw Error(path_ + ": out of memory");
            copy->id = c->id;
            copy->time_base = c->time_base;
            copy->start = c->start;
            copy->end = c->end;
            av_dict_copy(&copy->metadata, c->metadata, 0);
            output_->chapters[output_->nb_chapters++] = copy;
        }
    }

    void copy_other_streams() {
        const AVFormatContext* in = input_->context();
        for (unsigned i = 0; i < in->nb_streams; ++i) {
            const AVStream* from = in->streams[i];
            const AVMediaType type = from->codecpar->codec_type;
            if (int(i) == input_->video_stream()) continue;
            const std::string what = "#" + std::to_string(i) + " " + media_name(type) + " " +
                                     avcodec_get_name(from->codecpar->codec_id);
            if (type != AVMEDIA_TYPE_AUDIO && type != AVMEDIA_TYPE_SUBTITLE) {
                if (!(type == AVMEDIA_TYPE_VIDEO && (from->disposition & AV_DISPOSITION_ATTACHED_PIC)))
                    warnings_.push_back("stream " + what + " not copied (only audio and subtitles are)");
                continue;
            }
            // 0 = the container cannot hold it; negative = the muxer cannot tell, so try.
            if (avformat_query_codec(output_->oformat, from->codecpar->codec_id, FF_COMPLIANCE_NORMAL) == 0) {
                warnings_.push_back("stream " + what + " dropped: a " + output_->oformat->name +
                                    " file cannot hold it without re-encoding (.mkv holds most codecs)");
                continue;
            }
            AVStream* to = avformat_new_stream(output_.get(), nullptr);
            if (!to) throw Error(path_ + ": out of memory");
            const int r = avcodec_parameters_copy(to->codecpar, from->codecpar);
            if (r < 0) throw Error(path_ + ": cannot copy stream " + what + ": " + describe(r));
            to->codecpar->codec_tag = 0;  // the output container's own tag for the codec
            to->time_base = from->time_base;
            to->disposition = from->disposition;
            copy_metadata(from->metadata, &to->metadata);
            copy_side_data(*from, *to, /*picture_only=*/false);
            stream_map_[int(i)] = to->index;
            copied_.push_back(what);
        }
    }

    // Sends one frame (nullptr: flush) and muxes every packet the encoder has ready.
    void encode(const VideoFrame* f) {
        AVCodecContext& e = *encoder_;
        if (f) {
            if (f->image.width != e.width || f->image.height != e.height)
                throw Error(path_ + ": frame size changed mid-stream");
            av_frame_unref(frame_.get());
            frame_->format = e.pix_fmt;
            frame_->width = e.width;
            frame_->height = e.height;
            int r = av_frame_get_buffer(frame_.get(), 0);
            if (r < 0) throw Error(path_ + ": out of memory");
            const uint8_t* src[4] = {f->image.pixels.data(), nullptr, nullptr, nullptr};
            const int src_stride[4] = {f->image.width * 3, 0, 0, 0};
            sws_scale(scaler_.get(), src, src_stride, 0, e.height, frame_->data, frame_->linesize);
            frame_->pts = f->pts;
            frame_->color_range = e.color_range;
            frame_->colorspace = e.colorspace;
            frame_->color_primaries = e.color_primaries;
            frame_->color_trc = e.color_trc;
            if (f->duration > 0) durations_[f->pts] = f->duration;
            r = avcodec_send_frame(&e, frame_.get());
            if (r < 0) throw Error(path_ + ": encoding failed: " + describe(r));
        } else {
            const int r = avcodec_send_frame(&e, nullptr);
            if (r < 0 && r != AVERROR_EOF) throw Error(path_ + ": encoding failed: " + describe(r));
        }
        while (true) {
            const int r = avcodec_receive_packet(&e, packet_.get());
            if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) break;
            if (r < 0) throw Error(path_ + ": encoding failed: " + describe(r));
            // Each packet lasts as long as its frame did in the input (the last frame's length included).
            const auto d = durations_.find(packet_->pts);
            if (d != durations_.end()) {
                packet_->duration = d->second;
                durations_.erase(d);
            }
            packet_->stream_index = 0;
            av_packet_rescale_ts(packet_.get(), e.time_base, output_->streams[0]->time_base);
            mux(packet_.get());
        }
    }

    void mux(AVPacket* p) {
        const int r = av_interleaved_write_frame(output_.get(), p);  // takes the packet's data
        if (r < 0) throw Error(path_ + ": write failed: " + describe(r));
    }

    std::string path_;
    VideoFormat format_;
    const Source* input_ = nullptr;
    OutputContext output_;
    CodecContext encoder_;
    ScalerPtr scaler_;
    FramePtr frame_;
    PacketPtr packet_;
    std::map<int, int> stream_map_;         // input stream index -> output stream index
    std::map<int64_t, int64_t> durations_;  // frames in the encoder: pts -> duration
    std::vector<std::string> copied_, warnings_;
};

}  // namespace

std::unique_ptr<FrameSink> open_sink(const std::string& path, const FrameSource& source,
                                     const SinkSettings& settings) {
    return std::make_unique<Sink>(path, source, settings);
}

}  // namespace animegan::video::ff
