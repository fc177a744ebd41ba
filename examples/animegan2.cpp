// animegan2: stylize a photo with a converted AnimeGANv2 model (optionally re-stylizing each face, --face),
// or find the faces in it (--detect-faces).
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "animegan/animegan.h"
#include "animegan/face.h"
#include "animegan/face_pass.h"
#include "command_line.h"
#include "video_cli.h"

namespace {

// One source line per line of the help text.
// clang-format off
const char* kUsage =
    "usage: animegan2 -m MODEL.gguf -i IN.jpg -o OUT.png [options]\n"
    "       animegan2 -m MODEL.gguf -i IN.jpg -o OUT.png --face [--detector FACE.gguf] [--face-model GEN.gguf]\n"
    "       animegan2 --detect-faces IN.jpg --detector FACE.gguf [-o OUT.png] [--min-score S]\n"
    "       animegan2 -m MODEL.gguf -i IN.mp4 -o OUT.mp4 [--start S] [--duration S] [--crf N] "
    "[--no-stabilize]\n"
    "\n"
    "Turns a photo into an anime-style picture with an AnimeGANv2 model converted by animegan-convert.\n"
    "Reads JPEG, PNG or BMP; writes PNG, JPEG or BMP by the output's extension.\n"
    "\n"
    "options:\n"
    "  -m, --model FILE      converted model (.gguf)\n"
    "  -i, --input FILE      photo to stylize\n"
    "  -o, --output FILE     where to write the result\n"
    "  --max-side N          downscale so the longer side is at most N pixels first (default: photos full size,\n"
    "                        video 1024; 0 = never)\n"
    "  --memory-limit SIZE   memory the whole run may use, e.g. 600M or 1.5G (K, M, G: powers of 1024); the\n"
    "                        image runs at once when it fits, else in bands of rows (default: half the machine's\n"
    "                        memory); too small for the image: an error at once, saying what would do\n"
    "  --plan                print how the run would go (mode, passes, memory) and stop before reading pixels\n"
    "  --fast                when streaming, estimate the norm statistics from samples of the photo (one pass)\n"
    "                        instead of measuring them exactly (a pass per norm layer, slower)\n"
    "  --threads N           worker threads (default: all cores)\n"
    "  --side-by-side        write the input and the result next to each other\n"
    "  -q, --quiet           print nothing but errors (no progress bar either; it shows only on a terminal)\n"
    "  -v, --verbose         with --face, list every face found: blended (size, times, seam metric) or left alone\n"
    "  -h, --help            this text\n"
    "\n"
    "faces (MTCNN or BlazeFace, converted by weights/fetch_mtcnn.sh or weights/fetch_face_detector.sh):\n"
    "  --detector FILE       converted face detector (.gguf), required with --detect-faces; --face looks for\n"
    "                        mtcnn.gguf (as fetch_mtcnn.sh names it) next to -m\n"
    "  --face                face pass: stylize each face on its own, level and enlarged, and blend it back in\n"
    "  --face-model FILE     generator for the faces (.gguf, e.g. face_paint_512_v2); default: the -m model\n"
    "  --face-size N         largest side a face crop is stylized at (default 512)\n"
    "  --face-scale X        stylize each face crop at X times its size in the photo (default 1.5; at least 128)\n"
    "  --min-face N          leave faces smaller than N pixels as the scene model made them (default 24)\n"
    "  --detect-faces FILE   print one line per face in FILE: score, box, keypoints (pixels); with -o, draw them\n"
    "  --min-score S         drop faces scoring below S (default 0.5; MTCNN keeps its own 0.7 unless higher)\n"
    "  --detect-min-face N   MTCNN: smallest face to look for, in pixels (default 20, at least 8; smaller is slower)\n"
    "  --detect-tiles N      on photos of at least 2N pixels, also search overlapping tiles of 1/2, 1/4, ... of\n"
    "                        the longer side down to N pixels, for faces too small for the whole-photo pass\n"
    "                        (default 256, 0 = whole photo only; BlazeFace only)\n"
    "\n"
    "video (.mp4 .mkv .mov .webm by extension; .y4m, or - for YUV4MPEG2 on stdin / stdout):\n"
    "  keeps every timestamp, copies the audio and subtitle streams, the rotation and metadata\n"
    "  --start S             begin S seconds into the input\n"
    "  --duration S          stylize S seconds (default: to the end)\n"
    "  --crf N               encoder quality, lower is better: H.264 0-51, VP9 0-63 (default 20)\n"
    "  --no-stabilize        stylize each frame on its own (default: norm statistics and pixels\n"
    "                        smoothed over time, restarted at scene cuts)\n"
    "  --face                faces followed across frames: detected every --detect-every N frames\n"
    "                        (default 5), boxes and keypoints smoothed in between\n"
    "  progress (frames, fps, ETA) goes to stderr; -q silences it. Without FFmpeg's libraries in the build\n"
    "  only y4m works.\n"
    "\n"
    "exit status: 0 on success, 1 on any error (the reason is printed), 2 on a usage error\n";
// clang-format on

using command_line::parse_int;
using command_line::parse_size;
using command_line::usage_error;

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// A one-line progress bar with the time left, redrawn at most a few times a second; only on a terminal.
class ProgressBar {
  public:
    explicit ProgressBar(bool enabled) : enabled_(enabled), start_(std::chrono::steady_clock::now()) {}
    ~ProgressBar() { clear(); }

    void update(double fraction) {
        if (!enabled_) return;
        const auto now = std::chrono::steady_clock::now();
        if (drawn_ && now - last_ < std::chrono::milliseconds(200) && fraction < 1) return;
        last_ = now;
        const double elapsed = std::chrono::duration<double>(now - start_).count();
        constexpr int kWidth = 30;
        const int filled = int(std::clamp(fraction, 0.0, 1.0) * kWidth);
        std::string bar =
            "\r  [" + std::string(size_t(filled), '#') + std::string(size_t(kWidth - filled), '-') + "] ";
        char text[64];
        std::snprintf(text, sizeof text, "%3.0f%%", fraction * 100);
        bar += text;
        // The rate of the work so far; the first few percent are too noisy to extrapolate from.
        if (fraction > 0.02 && fraction < 1) {
            bar += "  ETA " + command_line::clock_text(elapsed * (1 - fraction) / fraction) + "   ";
        }
        std::fputs(bar.c_str(), stdout);
        std::fflush(stdout);
        drawn_ = true;
    }

    // Erases the bar (before other output, and at the end).
    void clear() {
        if (!drawn_) return;
        std::fputs(("\r" + std::string(60, ' ') + "\r").c_str(), stdout);
        std::fflush(stdout);
        drawn_ = false;
    }

  private:
    bool enabled_, drawn_ = false;
    std::chrono::steady_clock::time_point start_, last_;
};

// --detect-faces
// ------------------------------------------------------------------------------------------------

float parse_score(const std::string& option, const std::string& text) {
    char* end = nullptr;
    const float v = std::strtof(text.c_str(), &end);
    if (text.empty() || *end || !(v >= 0.f && v <= 1.f))
        usage_error(option + " needs a number in [0, 1], got '" + text + "'");
    return v;
}

void fill_rect(animegan::Image& image, int x0, int y0, int x1, int y1, const uint8_t (&color)[3]) {
    x0 = std::max(x0, 0), y0 = std::max(y0, 0), x1 = std::min(x1, image.width),
    y1 = std::min(y1, image.height);
    for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) std::copy_n(color, 3, &image.pixels[(size_t(y) * image.width + x) * 3]);
}

// Boxes in green and keypoints as red dots, lines thick enough to see on a large photo.
animegan::Image draw_faces(animegan::Image image, const std::vector<animegan::FaceDetection>& faces) {
    const uint8_t green[3] = {0, 255, 0}, red[3] = {255, 0, 0};
    const int t = std::max(2, std::max(image.width, image.height) / 300);
    for (const animegan::FaceDetection& f : faces) {
        const int x0 = int(std::lround(f.x0)), y0 = int(std::lround(f.y0));
        const int x1 = int(std::lround(f.x1)), y1 = int(std::lround(f.y1));
        fill_rect(image, x0 - t, y0 - t, x1 + t, y0, green);
        fill_rect(image, x0 - t, y1, x1 + t, y1 + t, green);
        fill_rect(image, x0 - t, y0, x0, y1, green);
        fill_rect(image, x1, y0, x1 + t, y1, green);
        for (int k = 0; k < f.keypoint_count; ++k) {
            const int x = int(std::lround(f.keypoints[k][0])), y = int(std::lround(f.keypoints[k][1]));
            fill_rect(image, x - t, y - t, x + t + 1, y + t + 1, red);
        }
    }
    return image;
}

// One line per face, best first: score, box corners, then the keypoints in MediaPipe's order.
void print_faces(const std::vector<animegan::FaceDetection>& faces) {
    const char* names[] = {"right_eye", "left_eye", "nose", "mouth", "right_ear", "left_ear"};
    for (size_t i = 0; i < faces.size(); ++i) {
        const animegan::FaceDetection& f = faces[i];
        std::printf("face %zu score %.4f box %.1f %.1f %.1f %.1f", i + 1, f.score, f.x0, f.y0, f.x1, f.y1);
        for (int k = 0; k < f.keypoint_count; ++k)  // MTCNN gives no ears
            std::printf(" %s %.1f %.1f", names[k], f.keypoints[k][0], f.keypoints[k][1]);
        std::printf("\n");
    }
}

int detect_faces(const std::string& input_path, const std::string& model_path, const std::string& output_path,
                 const animegan::FaceDetectorOptions& options, int threads, bool quiet) {
    try {
        auto t = std::chrono::steady_clock::now();
        const animegan::FaceDetector detector = animegan::FaceDetector::load(model_path, threads);
        const animegan::Image photo = animegan::load_image(input_path);
        if (!quiet)
            std::printf("model   %s: \"%s\" (%.0f ms)\n", model_path.c_str(), detector.name().c_str(),
                        ms_since(t));
        t = std::chrono::steady_clock::now();
        const std::vector<animegan::FaceDetection> faces = detector.detect(photo, options);
        if (!quiet)
            std::printf("input   %s: %dx%d, %zu face(s) in %.1f ms\n", input_path.c_str(), photo.width,
                        photo.height, faces.size(), ms_since(t));
        print_faces(faces);
        if (!output_path.empty()) {
            animegan::save_image(output_path, draw_faces(photo, faces));
            if (!quiet) std::printf("output  %s\n", output_path.c_str());
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "animegan2: %s\n", e.what());
        return 1;
    }
    return 0;
}

// --face
// ---------------------------------------------------------------------------------------------------------

// Loads the detector (and the face generator, if any), runs the face pass and prints where the time went.
animegan::Image run_face_pass(const animegan::Generator& scene, const std::string& detector_path,
                              const std::string& face_model_path, const animegan::Image& input,
                              const animegan::FacePassOptions& options, int threads, bool quiet,
                              bool verbose) {
    const animegan::FaceDetector detector = animegan::FaceDetector::load(detector_path, threads);
    std::unique_ptr<animegan::Generator> face_model;
    if (!face_model_path.empty()) {
        face_model =
            std::make_unique<animegan::Generator>(animegan::Generator::load(face_model_path, threads));
    }
    animegan::FacePassReport r;
    const animegan::Image result =
        animegan::stylize_with_faces(scene, face_model.get(), detector, input, options, &r);
    if (quiet) return result;
    std::printf("scene   %.1f ms\n", r.scene_ms);
    std::printf("faces   %zu found in %.1f ms (%s), %zu blended, %zu left alone (under --min-face %d px)\n",
                r.faces.size(), r.detect_ms, detector.name().c_str(), r.blended.size(),
                r.faces.size() - r.blended.size(), options.min_face_px);
    if (verbose) {
        // Every face found, best first: blended (at what size, how long, how visible its seam) or left alone.
        for (size_t i = 0; i < r.faces.size(); ++i) {
            const animegan::FaceDetection& f = r.faces[i];
            std::printf("  face %zu: score %.3f, box %.0f %.0f %.0f %.0f: ", i + 1, f.score, f.x0, f.y0, f.x1,
                        f.y1);
            const auto k = size_t(std::find(r.blended.begin(), r.blended.end(), int(i)) - r.blended.begin());
            if (k == r.blended.size()) {
                std::printf("left alone, %.0f px\n", std::min(f.x1 - f.x0, f.y1 - f.y0));
            } else {
                std::printf("stylized at %d px in %.1f ms, blended in %.1f ms, seam metric %.3f\n",
                            r.style_side[i], r.face_stylize_ms[k], r.face_blend_ms[k], r.seam_metric[k]);
            }
        }
    }
    std::printf("face pass: stylize %.1f ms, blend %.1f ms\n", r.stylize_faces_ms, r.blend_ms);
    return result;
}

// What the run needs besides the network: decoding the file (its bytes, stb_image's buffer and the copy),
// downscaling (a float row buffer and the result), and writing (the result; PNG's encoder holds about two
// more copies; the side-by-side picture is made while the input still lives).
size_t around_bytes(const animegan::ImageSize& size, int width, int height, const animegan::RunPlan& plan,
                    bool side_by_side, const std::string& output_path) {
    const size_t source = size_t(size.width) * size.height * 3, pixels = size_t(width) * height * 3;
    size_t decode = size.file_bytes + 2 * source;
    if (pixels != source) decode = std::max(decode, source + size_t(size.height) * width * 3 * 4 + pixels);
    const bool png = output_path.size() >= 4 && output_path.compare(output_path.size() - 4, 4, ".png") == 0;
    const size_t out = side_by_side ? 2 * pixels : pixels;
    const size_t write = (side_by_side ? pixels + out + pixels : out) + (png ? 2 * out : 0);
    return plan.base_bytes + std::max(decode, write);
}

// The detector --face uses without --detector: MTCNN next to the scene model, where weights/fetch_mtcnn.sh
// puts it when given the models' directory. MTCNN, because it finds the most faces on the shared photos and
// the smallest ones on the composites without a false positive (README, "Face detectors compared").
std::string default_detector(const std::string& model_path) {
    const size_t slash = model_path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : model_path.substr(0, slash);
    const std::string path = dir + "/mtcnn.gguf";
    if (!std::ifstream(path)) {
        usage_error("--face needs a face detector: give --detector FACE.gguf, or put " + path +
                    " there (weights/fetch_mtcnn.sh " + dir + ")");
    }
    return path;
}

}  // namespace

int main(int argc, char** argv) {
    std::string model_path, input_path, output_path;
    int max_side = -1, threads = 0;  // -1: the default, full size for photos, 1024 for video
    size_t memory_limit = 0;
    bool side_by_side = false, quiet = false, verbose = false, face_pass = false, fast = false,
         plan_only = false;
    std::string faces_input, detector_path, face_model;
    animegan::FacePassOptions face_options;
    VideoCommand video;
    bool video_only_option = false;
    auto seconds = [&](const std::string& option, const std::string& text) {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || *end || !(v >= 0 && v < 1e7))
            usage_error(option + " needs seconds (e.g. 12.5), got '" + text + "'");
        video_only_option = true;
        return v;
    };
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage_error(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "-h" || arg == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (arg == "-m" || arg == "--model") {
            model_path = value();
        } else if (arg == "-i" || arg == "--input") {
            input_path = value();
        } else if (arg == "-o" || arg == "--output") {
            output_path = value();
        } else if (arg == "--max-side") {
            max_side = parse_int(arg, value(), 0, 1 << 16);
        } else if (arg == "--memory-limit") {
            memory_limit = parse_size(arg, value());
        } else if (arg == "--fast") {
            fast = true;
        } else if (arg == "--plan") {
            plan_only = true;
        } else if (arg == "--threads") {
            threads = parse_int(arg, value(), 1, 1024);
        } else if (arg == "--side-by-side") {
            side_by_side = true;
        } else if (arg == "-q" || arg == "--quiet") {
            quiet = true;
        } else if (arg == "-v" || arg == "--verbose") {
            verbose = true;
        } else if (arg == "--face") {
            face_pass = true;
        } else if (arg == "--detector") {
            detector_path = value();
        } else if (arg == "--face-size") {
            face_options.face_size = parse_int(arg, value(), animegan::kMinSide, 4096);
        } else if (arg == "--face-scale") {
            char* end = nullptr;
            const std::string v = value();
            face_options.style_scale = std::strtof(v.c_str(), &end);
            if (v.empty() || *end || !(face_options.style_scale >= 0.25f && face_options.style_scale <= 8.f))
                usage_error("--face-scale needs a number in [0.25, 8], got '" + v + "'");
        } else if (arg == "--min-face") {
            face_options.min_face_px = parse_int(arg, value(), 1, 1 << 16);
        } else if (arg == "--detect-faces") {
            faces_input = value();
        } else if (arg == "--face-model") {
            face_model = value();
        } else if (arg == "--min-score") {
            face_options.detector.min_score = parse_score(arg, value());
        } else if (arg == "--detect-min-face") {
            face_options.detector.min_face_size = parse_int(arg, value(), 8, 1 << 16);
        } else if (arg == "--detect-tiles") {
            face_options.detector.tile_min_side = parse_int(arg, value(), 0, 1 << 16);
            if (face_options.detector.tile_min_side > 0 && face_options.detector.tile_min_side < 128) {
                usage_error("--detect-tiles needs 0 or at least 128");
            }
        } else if (arg == "--start") {
            video.options.start_seconds = seconds(arg, value());
        } else if (arg == "--duration") {
            video.options.duration_seconds = seconds(arg, value());
        } else if (arg == "--crf") {
            video.options.crf = parse_int(arg, value(), 0, 63);
            video_only_option = true;
        } else if (arg == "--no-stabilize") {
            video.options.stabilize = false;
            video_only_option = true;
        } else if (arg == "--detect-every") {
            video.options.detect_every = parse_int(arg, value(), 1, 1000);
            video_only_option = true;
        } else {
            usage_error("unknown argument '" + arg + "'");
        }
    }
    // An unwritable image -o fails now, not after the network has run (video outputs are checked by their
    // writer).
    if (!output_path.empty() && !animegan::is_video_path(output_path)) {
        try {
            animegan::check_output_path(output_path);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "animegan2: %s\n", e.what());
            return 1;
        }
    }
    if (!faces_input.empty()) {
        if (detector_path.empty()) usage_error("--detect-faces needs --detector FACE.gguf");
        return detect_faces(faces_input, detector_path, output_path, face_options.detector, threads, quiet);
    }
    if (face_pass && detector_path.empty()) detector_path = default_detector(model_path);
    if (!face_pass && !face_model.empty()) usage_error("--face-model needs --face");
    if (model_path.empty()) usage_error("no model: give -m MODEL.gguf");
    if (input_path.empty()) usage_error("no input: give -i IN.jpg");
    if (output_path.empty()) usage_error("no output: give -o OUT.png");
    if (animegan::is_video_path(input_path) || animegan::is_video_path(output_path)) {
        if (!animegan::is_video_path(output_path))
            usage_error("a video input needs a video output (.mp4 .mkv .mov .webm .y4m or -)");
        if (side_by_side) usage_error("--side-by-side is for photos");
        video.model_path = model_path, video.input_path = input_path, video.output_path = output_path;
        video.threads = threads, video.quiet = quiet;
        video.options.max_side = max_side < 0 ? 1024 : max_side;
        video.options.face = face_options;
        if (face_pass) video.detector_path = detector_path, video.face_model_path = face_model;
        return run_video(video);
    }
    if (video_only_option)
        usage_error("--start, --duration, --crf, --no-stabilize and --detect-every are for video");
    auto say = [&](const char* fmt, auto... args) {
        if (!quiet) std::printf(fmt, args...);
    };

    try {
        const auto start = std::chrono::steady_clock::now();
        auto t = start;
        const animegan::Generator generator = animegan::Generator::load(model_path, threads);
        say("model   %s: \"%s\", %s upsampling%s (%.0f ms)\n", model_path.c_str(),
            generator.info().style.c_str(), animegan::upsample_name(generator.info().upsample),
            generator.info().style_attention ? ", style attention" : "", ms_since(t));
        t = std::chrono::steady_clock::now();
        // Plan the run from the file's header, before decoding anything: a photo too large for the memory
        // limit is an error now, with the limit that would do.
        const animegan::ImageSize size = animegan::read_image_size(input_path);
        int width = size.width, height = size.height;
        const int longer = std::max(width, height);
        if (max_side > 0 && longer > max_side) {
            const double scale = double(max_side) / longer;
            width = std::max(1, int(std::lround(size.width * scale)));
            height = std::max(1, int(std::lround(size.height * scale)));
        }
        animegan::RunOptions run;
        run.memory_limit = memory_limit;
        run.fast = fast;
        const animegan::RunPlan plan = generator.plan(width, height, run);
        const size_t needed =
            std::max(plan.peak_bytes, around_bytes(size, width, height, plan, side_by_side, output_path));
        if (needed > plan.limit_bytes) {
            throw animegan::Error(input_path + ": reading and writing a " + std::to_string(size.width) + "x" +
                                  std::to_string(size.height) + " image needs " +
                                  std::to_string(needed >> 20) + " MB; the memory limit is " +
                                  std::to_string(plan.limit_bytes >> 20) + " MB");
        }
        if (plan_only) {
            std::printf("%dx%d: %s", width, height, animegan::mode_name(plan.mode));
            if (plan.mode != animegan::RunPlan::Mode::FullFrame)
                std::printf(", %d passes, about %.1fx the work of one", plan.passes, plan.relative_cost);
            auto mb = [](size_t bytes) { return (bytes + (size_t(1) << 20) - 1) >> 20; };
            std::printf(
                ", about %zu MB (%zu MB with reading and writing) of the %zu MB limit; at least %zu MB\n",
                mb(plan.peak_bytes), mb(needed), mb(plan.limit_bytes), mb(plan.minimum_bytes));
            for (size_t i = 0; i < plan.sweeps.size(); ++i)
                std::printf("  pass %2zu: %s\n", i + 1, plan.sweeps[i].c_str());
            return 0;
        }
        animegan::Image input = animegan::load_image(input_path);
        say("input   %s: %dx%d", input_path.c_str(), input.width, input.height);
        if (width != input.width) {
            input = animegan::resize_image(input, width, height);
            say(" -> %dx%d (--max-side %d)", width, height, max_side);
        }
        say(" (%.0f ms)\n", ms_since(t));

        say("running on %d thread(s), %s", generator.threads(), animegan::mode_name(plan.mode));
        if (plan.mode != animegan::RunPlan::Mode::FullFrame) say(", %d passes", plan.passes);
        say(", about %zu MB of the %zu MB limit\n", plan.peak_bytes >> 20, plan.limit_bytes >> 20);
        if (verbose && plan.mode != animegan::RunPlan::Mode::FullFrame) {
            say("  about %.1fx the work of one pass:\n", plan.relative_cost);
            for (size_t i = 0; i < plan.sweeps.size(); ++i)
                say("  pass %2zu: %s\n", i + 1, plan.sweeps[i].c_str());
        }
        ProgressBar bar(!quiet && isatty(STDOUT_FILENO));
        run.on_stage = [&](const std::string& stage, double ms) {
            bar.clear();
            say("  %-10s %8.1f ms\n", stage.c_str(), ms);
        };
        run.on_progress = [&](double fraction) { bar.update(fraction); };
        t = std::chrono::steady_clock::now();
        animegan::Image result;
        if (face_pass) {
            face_options.run = run;
            result = run_face_pass(generator, detector_path, face_model, input, face_options, threads, quiet,
                                   verbose);
        } else {
            result = generator.stylize(input, run);
            bar.clear();
            say("network %.1f ms (buffers peaked at %.0f MB)\n", ms_since(t),
                generator.last_peak_activation_bytes() / 1048576.0);
        }

        t = std::chrono::steady_clock::now();
        if (side_by_side) {
            result = animegan::side_by_side(input, result);
        }
        input = animegan::Image();  // gone before the encoder's buffers come
        animegan::save_image(output_path, result);
        say("output  %s: %dx%d (%.0f ms)\n", output_path.c_str(), result.width, result.height, ms_since(t));
        say("total   %.1f ms\n", ms_since(start));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "animegan2: %s\n", e.what());
        return 1;
    }
    return 0;
}
