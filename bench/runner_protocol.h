// The protocol every C++ end-to-end runner speaks to bench/compare.py (e2e_runner.cpp for ours,
// ncnn_runner.cpp for ncnn; ort_runner.mjs and torch_runner.py speak it too): the same options, the same
// deterministic input, one warm-up forward timed as "first_ms", then `iters` timed forwards whose wall and
// process CPU times go out as JSON arrays.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace runner {

// Channel c, row y, column x of the input every engine gets.
inline float input_value(int c, int y, int x) {
    return float(0.9 * std::sin(0.031 * x + 0.017 * y + 1.7 * c));
}

struct Options {
    std::vector<std::string> files;  // the runner's own file options, in the order it named them
    int height = 0, width = 0, threads = 1, iters = 1;
    std::string output_path;  // --output: the last output as raw float32, channel-major
};

// "--NAME VALUE" pairs: --size HxW, --threads N, --iters K, --output F, and the runner's file options (each
// required); anything else, or a missing or non-positive value, prints `usage` and exits with 2.
inline Options parse_options(int argc, char** argv, const std::vector<std::string>& file_options,
                             const char* usage) {
    Options o;
    o.files.resize(file_options.size());
    bool ok = argc % 2 == 1;
    for (int i = 1; ok && i + 1 < argc; i += 2) {
        const std::string name = argv[i];
        const char* value = argv[i + 1];
        if (name == "--size") {
            ok = std::sscanf(value, "%dx%d", &o.height, &o.width) == 2;
        } else if (name == "--threads") {
            o.threads = std::atoi(value);
        } else if (name == "--iters") {
            o.iters = std::atoi(value);
        } else if (name == "--output") {
            o.output_path = value;
        } else {
            ok = false;
            for (size_t f = 0; f < file_options.size(); ++f) {
                if (name == file_options[f]) o.files[f] = value, ok = true;
            }
        }
    }
    for (const std::string& f : o.files) ok = ok && !f.empty();
    if (!ok || o.height <= 0 || o.width <= 0 || o.threads <= 0 || o.iters <= 0) {
        std::fprintf(stderr, "%s\n", usage);
        std::exit(2);
    }
    return o;
}

struct Timings {
    double first_ms = 0;
    std::string ms, cpu_ms;  // the bodies of the JSON arrays, one value per timed forward
};

// Runs forward() once as the warm-up (first-touch page faults, thread start-up: a CLI run only ever gets a
// first forward), then `iters` times, timing each.
template <class Forward>
Timings time_forwards(int iters, Forward&& forward) {
    using Clock = std::chrono::steady_clock;
    Timings t;
    const auto w0 = Clock::now();
    forward();
    t.first_ms = std::chrono::duration<double, std::milli>(Clock::now() - w0).count();
    for (int i = 0; i < iters; ++i) {
        const auto t0 = Clock::now();
        const std::clock_t c0 = std::clock();  // process CPU time on Linux, all threads
        forward();
        const double cpu = 1000.0 * double(std::clock() - c0) / CLOCKS_PER_SEC;
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        t.ms += (i ? ", " : "") + std::to_string(ms);
        t.cpu_ms += (i ? ", " : "") + std::to_string(cpu);
    }
    return t;
}

}  // namespace runner
