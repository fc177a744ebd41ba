// animegan-convert: released AnimeGANv2 weights -> our GGUF file.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "animegan/convert.h"

namespace {

const char* kUsage =
    "usage: animegan-convert IN.pt -o OUT.gguf [options]\n"
    "       animegan-convert pnet.tflite rnet.tflite onet.tflite -o mtcnn.gguf\n"
    "\n"
    "Converts AnimeGANv2 generator weights (a PyTorch .pt checkpoint of the public port) into the GGUF file\n"
    "the animegan2 runtime memory-maps. The released files (face_paint_512_v2.pt, face_paint_512_v1.pt,\n"
    "celeba_distill.pt, paprika.pt) are recognized and named. TFLite files of the official AnimeGANv2\n"
    "releases and of the face detectors (BlazeFace; MTCNN's three nets, given together) convert too.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE     GGUF file to write (required)\n"
    "  --f16                 store convolution weights as float16 (half the size)\n"
    "  --name STYLE          style name to record (default: the release's name, else the file name)\n"
    "  --upsample MODE       align_corners (default), half_pixel or tf_legacy\n"
    "  --norm-eps E          GroupNorm epsilon (default 1e-5)\n"
    "  --norm-groups N       GroupNorm groups: 1 (default, the port's) or 0 for instance norm\n"
    "  -h, --help            this text\n";

[[noreturn]] void fail(const std::string& message) {
    std::fprintf(stderr, "animegan-convert: %s\n", message.c_str());
    std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> inputs;
    std::string output;
    animegan::ConvertOptions options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) fail(arg + " needs a value (see --help)");
            return argv[++i];
        };
        if (arg == "-h" || arg == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (arg == "-o" || arg == "--output") {
            output = value();
        } else if (arg == "--f16") {
            options.f16 = true;
        } else if (arg == "--name") {
            options.style = value();
        } else if (arg == "--upsample") {
            const std::string mode = value();
            if (mode == "align_corners")
                options.upsample = animegan::Upsample::AlignCorners;
            else if (mode == "half_pixel")
                options.upsample = animegan::Upsample::HalfPixel;
            else if (mode == "tf_legacy")
                options.upsample = animegan::Upsample::TfLegacy;
            else
                fail("unknown --upsample mode '" + mode + "' (align_corners, half_pixel or tf_legacy)");
        } else if (arg == "--norm-eps") {
            char* end = nullptr;
            const std::string v = value();
            options.norm_eps = std::strtof(v.c_str(), &end);
            if (*end) fail("--norm-eps needs a number, got '" + v + "'");
        } else if (arg == "--norm-groups") {
            const std::string v = value();
            if (v != "0" && v != "1") fail("--norm-groups must be 1 or 0, got '" + v + "'");
            options.norm_groups = std::stoi(v);
        } else if (!arg.empty() && arg[0] == '-') {
            fail("unknown option '" + arg + "' (see --help)");
        } else {
            inputs.push_back(arg);
        }
    }
    if (inputs.empty()) fail("no input file (see --help)");
    if (output.empty()) fail("no output file: give -o OUT.gguf");
    try {
        const auto start = std::chrono::steady_clock::now();
        const animegan::ConvertResult r = animegan::convert_to_gguf(inputs, output, options);
        std::string input = inputs[0];
        for (size_t i = 1; i < inputs.size(); ++i) input += " + " + inputs[i];
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        std::printf("%s -> %s: style \"%s\"%s, %zu tensors%s, %.0f ms\n", input.c_str(), output.c_str(),
                    r.style.c_str(), r.recognized ? " (known release)" : "", r.tensor_count,
                    r.style_attention ? ", with style attention" : "", ms);
        std::printf("source git blob id %s\n", r.source_hash.c_str());
    } catch (const std::exception& e) {
        fail(e.what());
    }
    return 0;
}
