// animegan2: stylize a photo with a converted AnimeGANv2 model.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "animegan/animegan.h"

namespace {

const char* kUsage =
    "usage: animegan2 -m MODEL.gguf -i IN.jpg -o OUT.png [options]\n"
    "\n"
    "Turns a photo into an anime-style picture with an AnimeGANv2 model converted by animegan-convert.\n"
    "Reads JPEG, PNG or BMP; writes PNG, JPEG or BMP by the output's extension.\n"
    "\n"
    "options:\n"
    "  -m, --model FILE      converted model (.gguf)\n"
    "  -i, --input FILE      photo to stylize\n"
    "  -o, --output FILE     where to write the result\n"
    "  --max-side N          downscale so the longer side is at most N pixels first (default 1024, 0 = never)\n"
    "  --threads N           worker threads (default: all cores)\n"
    "  --side-by-side        write the input and the result next to each other\n"
    "  -q, --quiet           print nothing but errors\n"
    "  -h, --help            this text\n"
    "\n"
    "exit status: 0 on success, 1 on any error (the reason is printed), 2 on a usage error\n";

[[noreturn]] void usage_error(const std::string& message) {
    std::fprintf(stderr, "animegan2: %s (see --help)\n", message.c_str());
    std::exit(2);
}

int parse_int(const std::string& option, const std::string& text, int min, int max) {
    char* end = nullptr;
    const long v = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end || v < min || v > max) {
        usage_error(option + " needs a whole number in [" + std::to_string(min) + ", " + std::to_string(max) +
                    "], got '" + text + "'");
    }
    return int(v);
}

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
    std::string model_path, input_path, output_path;
    int max_side = 1024, threads = 0;
    bool side_by_side = false, quiet = false;
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
        } else if (arg == "--threads") {
            threads = parse_int(arg, value(), 1, 1024);
        } else if (arg == "--side-by-side") {
            side_by_side = true;
        } else if (arg == "-q" || arg == "--quiet") {
            quiet = true;
        } else {
            usage_error("unknown argument '" + arg + "'");
        }
    }
    if (model_path.empty()) usage_error("no model: give -m MODEL.gguf");
    if (input_path.empty()) usage_error("no input: give -i IN.jpg");
    if (output_path.empty()) usage_error("no output: give -o OUT.png");
    auto say = [&](const char* fmt, auto... args) {
        if (!quiet) std::printf(fmt, args...);
    };

    try {
        const auto start = std::chrono::steady_clock::now();
        auto t = start;
        const animegan::Generator generator = animegan::Generator::load(model_path, threads);
        say("model   %s: \"%s\", %s upsampling%s (%.0f ms)\n", model_path.c_str(), generator.info().style.c_str(),
            animegan::upsample_name(generator.info().upsample),
            generator.info().style_attention ? ", style attention" : "", ms_since(t));
        t = std::chrono::steady_clock::now();
        const animegan::Image photo = animegan::load_image(input_path);
        animegan::Image input = photo;
        const int longer = std::max(photo.width, photo.height);
        if (max_side > 0 && longer > max_side) {
            const double scale = double(max_side) / longer;
            input = animegan::resize_image(photo, std::max(1, int(std::lround(photo.width * scale))),
                                           std::max(1, int(std::lround(photo.height * scale))));
        }
        say("input   %s: %dx%d", input_path.c_str(), photo.width, photo.height);
        if (input.width != photo.width) say(" -> %dx%d (--max-side %d)", input.width, input.height, max_side);
        say(" (%.0f ms)\n", ms_since(t));

        say("running on %d thread(s)\n", generator.threads());
        animegan::RunOptions run;
        run.on_stage = [&](const std::string& stage, double ms) { say("  %-10s %8.1f ms\n", stage.c_str(), ms); };
        t = std::chrono::steady_clock::now();
        animegan::Image result = generator.stylize(input, run);
        say("network %.1f ms (activations peaked at %.0f MB)\n", ms_since(t),
            generator.last_peak_activation_bytes() / 1048576.0);

        t = std::chrono::steady_clock::now();
        if (side_by_side) result = animegan::side_by_side(input, result);
        animegan::save_image(output_path, result);
        say("output  %s: %dx%d (%.0f ms)\n", output_path.c_str(), result.width, result.height, ms_since(t));
        say("total   %.1f ms\n", ms_since(start));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "animegan2: %s\n", e.what());
        return 1;
    }
    return 0;
}
