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
// The protocol (options, input, timing) is bench/runner_protocol.h's; mean_abs (mean
// |output|) and the raw float32 output that --output writes (channel-major) let compare.py check that the
// engines computed the same thing.
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include <sys/resource.h>

#include "animegan/animegan.h"
#include "runner_protocol.h"

int main(int argc, char** argv) {
    const runner::Options o = runner::parse_options(
        argc, argv, {"--model"},
        "usage: animegan_e2e --model F.gguf --size HxW [--threads N] [--iters K] [--output F]");
    const std::string& model = o.files[0];
    const std::string& output_path = o.output_path;
    const int height = o.height, width = o.width, threads = o.threads, iters = o.iters;

    try {
        const animegan::Generator generator = animegan::Generator::load(model, threads);
        animegan::Tensor input(3, height, width);
        for (int c = 0; c < 3; ++c)
            for (int y = 0; y < height; ++y)
                for (int x = 0; x < width; ++x)
                    input.channel(c)[size_t(y) * width + x] = runner::input_value(c, y, x);
        animegan::Tensor output;
        const runner::Timings t = runner::time_forwards(iters, [&] { output = generator.forward(input); });
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
            t.ms.c_str(), t.cpu_ms.c_str(), t.first_ms, sum_abs / double(output.size()),
            animegan::kernels_isa(), generator.last_peak_activation_bytes(),
            1024LL * usage.ru_maxrss);  // ru_maxrss: KiB on Linux
    } catch (const std::exception& e) {
        std::fprintf(stderr, "animegan_e2e: %s\n", e.what());
        return 1;
    }
    return 0;
}
