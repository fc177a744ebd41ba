// animegan2's video mode: loads the models, runs animegan::stylize_video with a progress line, prints the
// report. With -o - the video itself goes to stdout, so every message goes to stderr.
#include "video_cli.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include "command_line.h"

namespace {

// One line, rewritten in place on a terminal; on a pipe or file, a line every ten seconds and the last one.
class ProgressLine {
  public:
    ProgressLine() : tty_(isatty(fileno(stderr))) {}
    void show(const animegan::VideoProgress& p) {
        const auto now = std::chrono::steady_clock::now();
        const bool last = p.frames_expected > 0 && p.frames_done >= p.frames_expected;
        if (!tty_ && !last && p.frames_done > 1 && now - last_print_ < std::chrono::seconds(10)) return;
        last_print_ = now;
        std::string text = "frame " + std::to_string(p.frames_done);
        if (p.frames_expected > 0) text += "/" + std::to_string(p.frames_expected);
        char rate[64];
        std::snprintf(rate, sizeof rate, "  %.2f fps", p.fps);
        text += rate;
        if (p.eta_seconds >= 0) text += "  ETA " + command_line::clock_text(p.eta_seconds);
        std::fprintf(stderr, tty_ ? "\r%-60s" : "%s\n", text.c_str());
        std::fflush(stderr);
        shown_ = true;
    }
    void end() {
        if (tty_ && shown_) std::fputc('\n', stderr);
        shown_ = false;
    }

  private:
    bool tty_;
    bool shown_ = false;
    std::chrono::steady_clock::time_point last_print_{};
};

}  // namespace

int run_video(const VideoCommand& c) {
    FILE* info = c.output_path == "-" ? stderr : stdout;
    ProgressLine progress;
    try {
        const animegan::Generator generator = animegan::Generator::load(c.model_path, c.threads);
        std::unique_ptr<animegan::FaceDetector> detector;
        std::unique_ptr<animegan::Generator> face_model;
        animegan::VideoOptions options = c.options;
        if (!c.detector_path.empty()) {
            detector = std::make_unique<animegan::FaceDetector>(
                animegan::FaceDetector::load(c.detector_path, c.threads));
            options.detector = detector.get();
        }
        if (!c.face_model_path.empty()) {
            face_model = std::make_unique<animegan::Generator>(
                animegan::Generator::load(c.face_model_path, c.threads));
            options.face_model = face_model.get();
        }
        if (!c.quiet) {
            std::fprintf(info, "model   %s: \"%s\", %d thread(s)%s\n", c.model_path.c_str(),
                         generator.info().style.c_str(), generator.threads(),
                         options.stabilize ? ", stabilized" : "");
            options.on_progress = [&](const animegan::VideoProgress& p) { progress.show(p); };
        }
        const animegan::VideoReport r =
            animegan::stylize_video(generator, c.input_path, c.output_path, options);
        progress.end();
        if (!c.quiet) {
            std::fprintf(info, "input   %s: %dx%d, %s fps\n", c.input_path.c_str(), r.input_width,
                         r.input_height, r.frame_rate.c_str());
            for (const std::string& s : r.copied_streams)
                std::fprintf(info, "copied  stream %s\n", s.c_str());
            std::fprintf(info, "output  %s: %lld frames, %dx%d, %s\n", c.output_path.c_str(),
                         (long long)r.frames, r.width, r.height, r.video_codec.c_str());
            if (options.stabilize) std::fprintf(info, "scenes  %lld cut(s)\n", (long long)r.scene_cuts);
            if (options.detector) std::fprintf(info, "faces   %lld track(s)\n", (long long)r.face_tracks);
            std::fprintf(info, "total   %.1f s, %.2f fps\n", r.seconds, r.frames / std::max(r.seconds, 1e-9));
        }
        for (const std::string& w : r.warnings) std::fprintf(stderr, "animegan2: warning: %s\n", w.c_str());
    } catch (const std::exception& e) {
        progress.end();
        std::fprintf(stderr, "animegan2: %s\n", e.what());
        return 1;
    }
    return 0;
}
