// One end-to-end timing run of ncnn (Tencent's inference library, CPU, float32), driven by bench/compare.py,
// which compiles this file against the ncnn build the user points it at (nothing of ncnn is part of this
// project) and converts the same ONNX export ONNX Runtime runs with ncnn's own onnx2ncnn:
//
//   ncnn_runner --param model.param --bin model.bin --size 512x512 --threads 1 --iters 3 [--output y.f32]
//
// The protocol of bench/runner_protocol.h: one warm-up forward on the same deterministic input (its time is
// "first_ms"), then `iters` timed forwards; prints {"ms": [...], "cpu_ms": [...], "first_ms": ...,
// "mean_abs": ..., "isa": "ncnn X ..."}; --output writes the last output as raw float32, channel-major.
// ncnn is set up as its own benchmark tool sets it up for repeated inference (pool allocators, Winograd and
// sgemm convolutions, packed layouts) with the half- and bfloat16 storage options off, so that it computes in
// float32 as we do.
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "allocator.h"
#include "cpu.h"
#include "net.h"
#include "platform.h"
#include "runner_protocol.h"

namespace {

// The widest vector extension ncnn's kernels may use on this CPU (its runtime dispatch picks the same one;
// a build for one fixed ISA says so in its own configuration, not here).
const char* cpu_isa() {
#if defined(__aarch64__) || defined(__arm__)
    return ncnn::cpu_support_arm_asimdhp() ? "neon+fp16" : "neon";
#else
    return ncnn::cpu_support_x86_avx512() ? "avx512" : ncnn::cpu_support_x86_avx2() ? "avx2" : "sse2";
#endif
}

}  // namespace

int main(int argc, char** argv) {
    const runner::Options o = runner::parse_options(
        argc, argv, {"--param", "--bin"},
        "usage: ncnn_runner --param F.param --bin F.bin --size HxW [--threads N] [--iters K] [--output F]");
    const std::string &param = o.files[0], &bin = o.files[1], &output_path = o.output_path;
    const int height = o.height, width = o.width;

    try {
        ncnn::UnlockedPoolAllocator blob_pool;
        ncnn::PoolAllocator workspace_pool;
        ncnn::Net net;
        net.opt.num_threads = o.threads;
        net.opt.use_vulkan_compute = false;
        net.opt.blob_allocator = &blob_pool;
        net.opt.workspace_allocator = &workspace_pool;
        net.opt.use_fp16_packed = false;
        net.opt.use_fp16_storage = false;
        net.opt.use_fp16_arithmetic = false;
        net.opt.use_bf16_storage = false;
        if (net.load_param(param.c_str()) != 0 || net.load_model(bin.c_str()) != 0)
            throw std::runtime_error("cannot load " + param + " / " + bin);
        if (net.input_names().empty() || net.output_names().empty())
            throw std::runtime_error(param + " names no input or output blob");

        ncnn::Mat input(width, height, 3);
        for (int c = 0; c < 3; ++c)
            for (int y = 0; y < height; ++y)
                for (int x = 0; x < width; ++x)
                    input.channel(c)[size_t(y) * width + x] = runner::input_value(c, y, x);
        ncnn::Mat y;
        const runner::Timings t = runner::time_forwards(o.iters, [&] {
            ncnn::Extractor ex = net.create_extractor();
            ex.input(net.input_names()[0], input);
            if (ex.extract(net.output_names()[0], y) != 0) throw std::runtime_error("ncnn extract failed");
        });
        if (y.c != 3 || y.h != height || y.w != width) throw std::runtime_error("unexpected output shape");
        double sum_abs = 0;
        FILE* out = output_path.empty() ? nullptr : std::fopen(output_path.c_str(), "wb");
        if (!output_path.empty() && !out) throw std::runtime_error("cannot write " + output_path);
        for (int c = 0; c < y.c; ++c) {
            const float* channel = y.channel(c);  // channels are padded to an aligned stride: one at a time
            for (int i = 0; i < y.w * y.h; ++i) sum_abs += std::fabs(channel[i]);
            if (out) std::fwrite(channel, sizeof(float), size_t(y.w) * y.h, out);
        }
        if (out && std::fclose(out) != 0) throw std::runtime_error("cannot write " + output_path);
        std::printf(
            "{\"ms\": [%s], \"cpu_ms\": [%s], \"first_ms\": %.3f, \"mean_abs\": %.9g, \"isa\": \"ncnn %s "
            "%s\"}\n",
            t.ms.c_str(), t.cpu_ms.c_str(), t.first_ms, sum_abs / (3.0 * height * width), NCNN_VERSION_STRING,
            cpu_isa());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ncnn_runner: %s\n", e.what());
        return 1;
    }
    return 0;
}
