// stylize_video: three stages on three threads, joined by bounded queues.
//
//   reader (decode, convert to RGB)  ->  caller's thread (stabilize, stylize)  ->  writer (convert, encode,
//   mux)
//
// Packets of the streams that are copied (audio, subtitles) travel through the same queues in file order, so
// the writer interleaves them with the video as the input had them. Memory holds at most a few frames per
// queue whatever the clip's length.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <thread>

#include "animegan/video.h"
#include "engine/video/bounded_queue.h"
#include "engine/video/face_tracks.h"
#include "engine/video/frame_io.h"
#include "engine/video/y4m.h"

namespace animegan {
namespace video {

namespace {

std::string lower_extension(const std::string& path) {
    const size_t dot = path.find_last_of('.');
    const size_t slash = path.find_last_of('/');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
    std::string ext = path.substr(dot);
    for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

bool is_heavy(const PipelineItem& item) {
    return item.has_frame;
}

void check_options(const VideoOptions& o) {
    if (!(o.start_seconds >= 0) || !(o.duration_seconds >= 0))
        throw Error("video: start and duration must be non-negative seconds");
    if (o.max_side < 0) throw Error("video: max_side must be 0 or positive");
    if (o.crf < 0 || o.crf > 63) throw Error("video: crf must be in [0, 63]");
    if (o.frames_in_flight < 1 || o.frames_in_flight > 64)
        throw Error("video: frames_in_flight must be in [1, 64]");
    if (o.detect_every < 1) throw Error("video: detect_every must be at least 1");
}

std::string rate_text(const VideoFormat& f) {
    if (!f.frame_rate.known()) return "unknown";
    const std::string rate = std::to_string(f.frame_rate.num) + "/" + std::to_string(f.frame_rate.den);
    return f.variable_rate ? "variable (average " + rate + ")" : rate;
}

// Stabilizer, stylization and the face pass for one frame at a time, in order.
class FrameStylizer {
  public:
    FrameStylizer(const Generator& generator, const VideoOptions& options)
        : generator_(generator), options_(options) {
        if (options.stabilize) stabilizer_ = std::make_unique<TemporalStabilizer>(options.stabilizer);
        if (options.detector) {
            faces_ = std::make_unique<video::FaceTracks>(
                *options.detector, options.face_model ? *options.face_model : generator, options.face,
                options.detect_every, options.stabilize);
        }
    }

    Image stylize(const Image& frame) {
        RunOptions run;
        if (stabilizer_) {
            stabilizer_->begin_frame(frame);
            run.on_norm_statistics = stabilizer_->statistics_hook();
        }
        Image out = generator_.stylize(frame, run);
        if (stabilizer_) stabilizer_->end_frame(out);
        if (faces_) faces_->apply(frame, out, stabilizer_ && stabilizer_->frame_started_scene());
        return out;
    }

    int64_t scene_cuts() const { return stabilizer_ ? stabilizer_->scene_cuts() : 0; }
    int64_t face_tracks() const { return faces_ ? faces_->tracks_started() : 0; }

  private:
    const Generator& generator_;
    const VideoOptions& options_;
    std::unique_ptr<TemporalStabilizer> stabilizer_;
    std::unique_ptr<video::FaceTracks> faces_;
};

}  // namespace
}  // namespace video

bool is_video_path(const std::string& path) {
    const std::string ext = video::lower_extension(path);
    return path == "-" || ext == ".y4m" || ext == ".mp4" || ext == ".mkv" || ext == ".mov" || ext == ".webm";
}

namespace video {
bool is_y4m_path(const std::string& path) {
    return path == "-" || lower_extension(path) == ".y4m";
}
bool output_keeps_rotation(const std::string& path) {
    const std::string ext = lower_extension(path);
    return ext == ".mp4" || ext == ".mov";
}
}  // namespace video

VideoReport stylize_video(const Generator& generator, const std::string& input_path,
                          const std::string& output_path, const VideoOptions& options) {
    using namespace video;
    check_options(options);
    const auto start = std::chrono::steady_clock::now();
    if (!is_video_path(output_path))
        throw Error(output_path +
                    ": not a video output name (use .mp4, .mkv, .mov, .webm, .y4m, or - for y4m on stdout)");
    SourceSettings source_settings;
    source_settings.max_side = options.max_side;
    source_settings.even_size = !is_y4m_path(output_path);  // 4:2:0 encoders need even sides
    source_settings.start_seconds = options.start_seconds;
    source_settings.duration_seconds = options.duration_seconds;
    source_settings.apply_rotation = !output_keeps_rotation(output_path);
    std::unique_ptr<FrameSource> source = is_y4m_path(input_path)
                                              ? open_y4m_source(input_path, source_settings)
                                              : open_container_source(input_path, source_settings);
    SinkSettings sink_settings;
    sink_settings.crf = options.crf;
    std::unique_ptr<FrameSink> sink = is_y4m_path(output_path)
                                          ? open_y4m_sink(output_path, source->format())
                                          : open_container_sink(output_path, *source, sink_settings);
    FrameStylizer stylizer(generator, options);

    BoundedQueue<PipelineItem> decoded(options.frames_in_flight, is_heavy),
        stylized(options.frames_in_flight, is_heavy);
    std::exception_ptr read_error, write_error, stylize_error;
    std::thread reader([&] {
        try {
            for (PipelineItem item; source->next(item); item = PipelineItem()) {
                if (!decoded.push(std::move(item))) break;
            }
        } catch (...) {
            read_error = std::current_exception();
        }
        decoded.close();
    });
    std::thread writer([&] {
        try {
            for (PipelineItem item; stylized.pop(item);) sink->write(item);
            sink->finish();
        } catch (...) {
            write_error = std::current_exception();
            stylized.abort();
            decoded.abort();
        }
    });

    VideoReport report;
    const VideoFormat& format = source->format();
    VideoProgress progress;
    progress.frames_expected = format.expected_frames;
    try {
        for (PipelineItem item; decoded.pop(item);) {
            const bool is_frame = item.has_frame;
            if (is_frame) {
                item.frame.image = stylizer.stylize(item.frame.image);
                ++report.frames;
            }
            if (!stylized.push(std::move(item))) break;
            if (is_frame && options.on_progress) {
                progress.frames_done = report.frames;
                const double seconds =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                progress.fps = report.frames / std::max(seconds, 1e-9);
                progress.eta_seconds = progress.frames_expected >= report.frames
                                           ? (progress.frames_expected - report.frames) / progress.fps
                                           : -1;
                options.on_progress(progress);
            }
        }
    } catch (...) {
        stylize_error = std::current_exception();
        decoded.abort();
    }
    stylized.close();
    writer.join();
    reader.join();

    // The first failure in pipeline order is the cause; later stages only saw the queue close.
    auto remove_empty_output = [&] {
        if (report.frames == 0 && output_path != "-") std::remove(output_path.c_str());
    };
    if (stylize_error || write_error) {
        remove_empty_output();
        std::rethrow_exception(stylize_error ? stylize_error : write_error);
    }
    if (read_error) {
        remove_empty_output();
        try {
            std::rethrow_exception(read_error);
        } catch (const Error& e) {
            if (report.frames == 0) throw;
            throw Error(std::string(e.what()) + "; " + output_path + " holds the " +
                        std::to_string(report.frames) + " frame(s) decoded before it");
        }
    }
    if (report.frames == 0) {
        remove_empty_output();
        throw Error(input_path + ": no video frames" +
                    (options.start_seconds > 0
                         ? " at or after --start " + std::to_string(options.start_seconds) + " s"
                         : ""));
    }
    report.input_width = format.input_width;
    report.input_height = format.input_height;
    report.width = format.width;
    report.height = format.height;
    report.frame_rate = rate_text(format);
    report.video_codec = sink->codec_name();
    report.copied_streams = sink->copied_streams();
    report.warnings = source->warnings();
    for (const std::string& w : sink->warnings()) report.warnings.push_back(w);
    report.scene_cuts = stylizer.scene_cuts();
    report.face_tracks = stylizer.face_tracks();
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
}

}  // namespace animegan
