// One end-to-end timing run of our engine, driven by bench/compare.py (one process per run, so its peak RSS
// is this engine's alone) and by the ARM board pack (scripts/arm_bench_pack.sh):
//
//   animegan_e2e --model model.gguf --size 512x512 --threads 1 --iters 3 [--output y.f32]
//
// Loads the model, runs one warm-up forward on a deterministic input (its time is "first_ms": a CLI run only
// ever gets a first forward), then `iters` timed forwards, and prints one JSON line: {"ms": [...],
// "cpu_ms": [...], "first_ms": ..., "mean_abs": ..., "isa": ..., "peak_activation_bytes": ...,
// "peak_rss_bytes": ...}. cpu_ms is the process CPU time of each forward (all threads), which a busy machine
// inflates less than wall time; peak_rss_bytes is the process's own (getrusage), for boards without Python.
// The input formula is the same in ort_runner.mjs, torch_runner.py and ncnn_runner.cpp; mean_abs (mean
// |output|) and the raw float32 output that --output writes (channel-major) let compare.py check that the
// engines computed the same thing.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>

#include <sys/resource.h>

#include "animegan/animegan.h"

namespace {

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: animegan_e2e --model F.gguf --size HxW [--threads N] [--iters K] [--output F]\n");
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
    std::string model, output_path;
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
        else if (!std::strcmp(argv[i], "--output"))
            output_path = value;
        else
            usage();
    }
    if (argc % 2 == 0 || model.empty() || height <= 0 || width <= 0 || threads <= 0 || iters <= 0) usage();

    try {
        const animegan::Generator generator = animegan::Generator::load(model, threads);
        const animegan::Tensor input = make_input(height, width);
        const auto w0 = std::chrono::steady_clock::now();
        generator.forward(input);  // warm-up: first-touch page faults, thread start-up
        const double first_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - w0).count();

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
        if (!output_path.empty()) {
            FILE* out = std::fopen(output_path.c_str(), "wb");
            const bool written =
                out && std::fwrite(output.data(), sizeof(float), output.size(), out) == output.size();
            if (!out || std::fclose(out) != 0 || !written)
                throw std::runtime_error("cannot write " + output_path);
        }
        rusage usage{};
        getrusage(RUSAGE_SELF, &usage);
        std::printf(
            "{\"ms\": [%s], \"cpu_ms\": [%s], \"first_ms\": %.3f, \"mean_abs\": %.9g, \"isa\": \"%s\", "
            "\"peak_activation_bytes\": %zu, \"peak_rss_bytes\": %lld}\n",
            ms.c_str(), cpu_ms.c_str(), first_ms, sum_abs / double(output.size()), animegan::kernels_isa(),
            generator.last_peak_activation_bytes(), 1024LL * usage.ru_maxrss);  // ru_maxrss: KiB on Linux
    } catch (const std::exception& e) {
        std::fprintf(stderr, "animegan_e2e: %s\n", e.what());
        return 1;
    }
    return 0;
}
