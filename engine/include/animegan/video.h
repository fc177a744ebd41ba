// Video: stylize a clip frame by frame, keeping its timing, sound and metadata, without the flicker.
//
//   animegan::Generator gen = animegan::Generator::load("hayao.gguf");
//   animegan::stylize_video(gen, "in.mp4", "out.mp4");
//
// Container files (.mp4 .mkv .mov .webm and whatever else FFmpeg reads) need a build with FFmpeg's libraries
// and its FFmpeg module, which the library opens on the first one (video_files_available()); raw YUV4MPEG2
// (.y4m files, or "-" for stdin / stdout) works in every build, for composing with the ffmpeg command line:
//
//   ffmpeg -i in.mp4 -f yuv4mpegpipe - | animegan2 -m hayao.gguf -i - -o - | ffmpeg -i - out.mp4
//
// Every failure throws animegan::Error with a one-line reason. FFmpeg's own log messages are kept to be
// quoted in those reasons instead of being printed (stylize_video installs an av_log callback, once per
// process).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "animegan/animegan.h"
#include "animegan/face.h"
#include "animegan/face_pass.h"

namespace animegan {

// True when video files can be opened: the build had FFmpeg's libraries (libavformat, libavcodec, libavutil,
// libswscale) and its module animegan_ffmpeg.so, which links them, loads. The first call (or the first video
// file) loads it, and FFmpeg's libraries with it; the library itself links none of them.
bool video_files_available();

// True for the paths stylize_video handles: "-", .y4m, and the container extensions .mp4 .mkv .mov .webm
// (case-insensitive).
bool is_video_path(const std::string& path);

// Temporal stabilization. Two sources of flicker, two remedies, both bounded so that a stabilized frame stays
// close to that frame stylized on its own:
// - Tone: every norm layer normalizes with the statistics of the whole frame, so the tone of the result jumps
//   when the content shifts. The statistics are replaced by a running average over the frames, clamped to
//   stay near the frame's own, and restarted at scene cuts.
// - Texture: the network turns sensor noise into texture that boils from frame to frame. Each output pixel is
//   pulled part of the way back toward the previous output pixel, by at most a few levels.
struct StabilizerOptions {
    // Weight of the past in the running average of each norm layer's mean and variance (0 = off, < 1).
    float statistics_history = 0.8f;
    // The averaged mean stays within this many of the frame's own standard deviations of the frame's mean...
    float max_mean_shift = 0.1f;
    // ...and the averaged variance within a factor exp(+-this) of the frame's own.
    float max_log_variance_shift = 0.1f;
    // Each output pixel moves this fraction of the way toward the previous output pixel (0 = off, < 1)...
    float pixel_history = 0.75f;
    // ...but never by more than this many levels (of 255) away from what the network made for this frame.
    int max_pixel_shift = 4;
    // A scene cut restarts both: the colour histograms of consecutive input frames differ by more than this
    // (half the L1 distance of 4x4x4-bin histograms, in [0, 1]), or the first norm layer's statistics jump
    // by more than this many standard deviations.
    float cut_histogram_distance = 0.5f;
    float cut_statistics_jump = 1.0f;
};

// The stabilizer on its own, for callers driving their own frame loop (stylize_video uses it):
//
//   TemporalStabilizer stab;
//   for each frame: stab.begin_frame(in); RunOptions run; run.on_norm_statistics = stab.statistics_hook();
//                   Image out = gen.stylize(in, run); stab.end_frame(out);
class TemporalStabilizer {
  public:
    explicit TemporalStabilizer(const StabilizerOptions& options = {});  // throws Error for bad options
    TemporalStabilizer(TemporalStabilizer&&) noexcept;
    TemporalStabilizer& operator=(TemporalStabilizer&&) noexcept;
    ~TemporalStabilizer();

    // Starts a frame: compares it with the previous input and forgets the past at a scene cut.
    void begin_frame(const Image& input);
    // The hook for this frame's generator pass; refers to this stabilizer, which must outlive the pass.
    NormStatisticsHook statistics_hook();
    // Ends the frame: pulls the generator's output toward the previous output, in place.
    void end_frame(Image& output);

    bool frame_started_scene() const;  // the current frame began a new scene (the first frame does)
    int64_t scene_cuts() const;        // scene cuts found so far, the first frame not counted
    void reset();                      // forget everything: the next frame starts a scene

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

struct VideoProgress {
    int64_t frames_done = 0;
    int64_t frames_expected = -1;  // -1 when unknown (a pipe, a container without duration)
    double fps = 0;                // frames per second so far
    double eta_seconds = -1;       // -1 when unknown
};

struct VideoOptions {
    double start_seconds = 0;     // skip to this time first (container files only)
    double duration_seconds = 0;  // stop after this much (0 = to the end)
    int max_side = 0;  // downscale frames so the longer side is at most this many pixels (0 = never)
    // The encoder's constant-quality level: CRF for H.264 (0-51) and VP9 (0-63), lower is better.
    int crf = 20;
    bool stabilize = true;
    StabilizerOptions stabilizer;
    // Decoded frames waiting to be stylized, and stylized frames waiting to be encoded, at most this many
    // each: memory is flat in the clip's length.
    int frames_in_flight = 3;
    // The face pass, when `detector` is set: faces are detected every `detect_every` frames and tracked in
    // between, their boxes and keypoints smoothed over time (see animegan/face_pass.h).
    const FaceDetector* detector = nullptr;
    const Generator* face_model = nullptr;  // null: the scene generator
    FacePassOptions face;
    int detect_every = 5;
    // Called after each stylized frame, from the thread that called stylize_video.
    std::function<void(const VideoProgress&)> on_progress;
};

struct VideoReport {
    int64_t frames = 0;  // frames written
    int input_width = 0, input_height = 0;
    int width = 0, height = 0;                // of the frames written
    std::string frame_rate;                   // "30000/1001", "variable (average 30000/1001)", "unknown"
    std::string video_codec;                  // encoder used ("libx264", "yuv4mpegpipe", ...)
    std::vector<std::string> copied_streams;  // e.g. "#1 audio aac", copied packet for packet
    std::vector<std::string> warnings;        // e.g. streams the output container cannot hold
    int64_t scene_cuts = 0;
    int64_t face_tracks = 0;  // with the face pass: distinct faces followed
    double seconds = 0;       // wall time
};

// Stylizes every frame of `input_path` (or the piece --start/--duration selects) into `output_path`. "-" is
// YUV4MPEG2 on stdin / stdout. Decoding, stylizing and encoding run on their own threads, a few frames apart.
// The output keeps every frame's timestamp (a variable frame rate stays variable, 30000/1001 stays exact),
// and the input's audio and subtitle streams are copied packet for packet, its rotation and metadata kept.
// H.264 (libx264) where the container takes it, else the container's usual codec (VP9 for .webm).
// An input that ends early (a truncated file) still leaves a finished output with every frame decoded
// before the break, then throws Error saying where it stopped.
VideoReport stylize_video(const Generator& generator, const std::string& input_path,
                          const std::string& output_path, const VideoOptions& options = {});

}  // namespace animegan
