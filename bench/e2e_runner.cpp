// One end-to-end timing run of our engine, driven by bench/compare.py (one process per run, so its peak RSS
// is this engine's alone):
//
//   animegan_e2e --model model.gguf --size 512x512 --threads 1 --iters 3
//
// Loads the model, runs one warm-up forward on a deterministic input, then `iters` timed forwards, and prints
// one JSON line: {"ms": [...], "cpu_ms": [...], "mean_abs": ..., "isa": ..., "peak_activation_bytes": ...}.
// cpu_ms is the process CPU time of each forward (all threads), which a busy machine inflates less than wall
// time. The input formula is the same in ort_runner.mjs and torch_runner.py, and mean_abs (mean |output|)
// lets compare.py check that the engines computed the same thing.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include "animegan/animegan.h"

namespace {

[[noreturn]] void usage() {
    std::fprintf(stderr, "usage: animegan_e2e --model F.gguf --size HxW [--threads N] [--iters K]\n");
    std::exit(2);
}

animegan::Tensor make_input(int height, int width) {
    animegan::Tensor x(3, height, width);
    for (int c = 0; c < 3; ++c) {
        for (int y = 0; y < height; ++y) {
            for (int i = 0; i < width; ++i) {
                x.channel(c)[size_t(y) * width + i] = float(0.9 * std::sin(0.031 * i + 0.017 * y + 1.7 * c));
            }
        }
    }
    return x;
}

}  // namespace

int main(int argc, char** argv) {
    std::string model;
    int height = 0, width = 0, threads = 1, iters = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char* value = argv[i + 1];
        if (!std::strcmp(argv[i], "--model"))
            model = value;
        else if (!std::strcmp(argv[i], "--size"))
            std::sscanf(value, "%dx%d", &height, &width);
        else if (!std::strcmp(argv[i], "--threads"))
            threads = std::atoi(value);
        else if (!std::strcmp(argv[i], "--iters"))
            iters = std::atoi(value);
        else
            usage();
    }
    if (argc % 2 == 0 || model.empty() || height <= 0 || width <= 0 || threads <= 0 || iters <= 0) usage();

    try {
        const animegan::Generator generator = animegan::Generator::load(model, threads);
        const animegan::Tensor input = make_input(height, width);
        generator.forward(input);  // warm-up: first-touch page faults, thread start-up

        std::string ms, cpu_ms;
        animegan::Tensor output;
        for (int i = 0; i < iters; ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            const std::clock_t c0 = std::clock();  // process CPU time on Linux
            output = generator.forward(input);
            const double cpu = 1000.0 * double(std::clock() - c0) / CLOCKS_PER_SEC;
            const double dt =
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            ms += (i ? ", " : "") + std::to_string(dt);
            cpu_ms += (i ? ", " : "") + std::to_string(cpu);
        }
        double sum_abs = 0;
        for (size_t i = 0; i < output.size(); ++i) sum_abs += std::fabs(output.data()[i]);
        std::printf(
            "{\"ms\": [%s], \"cpu_ms\": [%s], \"mean_abs\": %.9g, \"isa\": \"%s\", "
            "\"peak_activation_bytes\": %zu}\n",
            ms.c_str(), cpu_ms.c_str(), sum_abs / double(output.size()), animegan::kernels_isa(),
            generator.last_peak_activation_bytes());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "animegan_e2e: %s\n", e.what());
        return 1;
    }
    return 0;
}
