// Kernel benchmarks on the generator's real layer shapes at a 512x512 input (and BlazeFace's 5x5 stem), for
// every kernel table this CPU runs. Each benchmark is one single-threaded kernel call over the whole channel
// range, named like `conv3x3_s1/128x128_c128_k128/avx2` (output size, input and output channels, table).
// Convolutions report GFLOP/s (2 * MACs / time) and peak%, their share of the FMA peak of one core measured
// at start-up in this binary per instruction set; the memory-bound kernels report bytes/s (bytes read plus
// written). The dense 3x3 and 7x7 stride-1 convolutions also run through Winograd, as
// `winograd_effective_conv3x3_s1/...`, rated by the direct convolution's FLOPs (see bench_winograd), and the
// dense 1x1 ones through the packed-weight GEMM, as `packed_conv1x1_s1/...`. The 1x1 and depthwise layers
// also run a band of 16 rows at a time from a gathered input, as the engine calls them (`band16_...`, see
// ConvRun).
//
//   animegan_bench --benchmark_min_time=0.2 --benchmark_filter=/avx2
//   animegan_bench --benchmark_format=json --benchmark_out=kernels.json
#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "animegan/tensor.h"
#include "kernels/kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace {

using animegan::Tensor;
using namespace animegan::kernels;

// CPU time of this thread: the machine may be shared, and time spent preempted is not the kernel's. Google
// Benchmark's default time is this one too, so rates and peak% agree.
double thread_seconds() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// ---- FMA peak of one core -------------------------------------------------------------------------------
// Each function runs `chains` independent multiply-add chains for `rounds` rounds and returns FLOPs done.
// Enough chains cover FMA latency times the number of FMA ports, so throughput, not latency, is measured.
// acc = acc * m + a converges to a / (1 - m) = 1: no overflow and no denormals, whatever the round count.
constexpr float kMul = 0.9999f, kAdd = 0.0001f;
volatile float g_sink;

// The scalar peak runs the same a * b + c the scalar kernels are made of, built for the baseline instruction
// set: a multiply and an add on x86-64 (no FMA there), an FMA on aarch64. An empty asm pins each chain to its
// own register, so the compiler cannot vectorize them.
#if defined(__x86_64__)
#define SCALAR_REGISTER "+x"
#elif defined(__aarch64__)
#define SCALAR_REGISTER "+w"
#else
#define SCALAR_REGISTER "+g"  // any register or memory: still scalar, if perhaps slower than the real peak
#endif
double peak_scalar(long rounds) {
    constexpr int kChains = 12;  // a multiply then an add: twice the latency of an FMA to cover
    float acc[kChains];
    std::fill(acc, acc + kChains, 0.f);
    for (long r = 0; r < rounds; ++r) {
        for (float& x : acc) {
            x = x * kMul + kAdd;
            __asm__("" : SCALAR_REGISTER(x));
        }
    }
    float sum = 0;
    for (float x : acc) sum += x;
    g_sink = sum;
    return 2.0 * kChains * rounds;
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) double peak_avx2(long rounds) {
    // 12 of the 16 ymm registers: >= latency (4-5) x 2 FMA ports on current cores.
    constexpr int kChains = 12;
    __m256 acc[kChains];
    const __m256 m = _mm256_set1_ps(kMul), a = _mm256_set1_ps(kAdd);
    for (__m256& x : acc) x = _mm256_setzero_ps();
    for (long r = 0; r < rounds; ++r) {
        for (__m256& x : acc) x = _mm256_fmadd_ps(x, m, a);
    }
    __m256 sum = acc[0];
    for (int i = 1; i < kChains; ++i) sum = _mm256_add_ps(sum, acc[i]);
    g_sink = _mm256_cvtss_f32(sum);
    return 2.0 * 8 * kChains * rounds;
}
#elif defined(__aarch64__)
double peak_neon(long rounds) {
    constexpr int kChains = 16;  // half of the 32 vector registers: >= latency (4) x 4 FMA pipes on big cores
    float32x4_t acc[kChains];
    const float32x4_t m = vdupq_n_f32(kMul), a = vdupq_n_f32(kAdd);
    for (float32x4_t& x : acc) x = vdupq_n_f32(0.f);
    for (long r = 0; r < rounds; ++r) {
        for (float32x4_t& x : acc) x = vfmaq_f32(a, x, m);
    }
    float32x4_t sum = acc[0];
    for (int i = 1; i < kChains; ++i) sum = vaddq_f32(sum, acc[i]);
    g_sink = vaddvq_f32(sum);
    return 2.0 * 4 * kChains * rounds;
}
#endif

using PeakFn = double (*)(long);

PeakFn peak_function(const std::string& isa) {
    if (isa == "scalar") return peak_scalar;
#if defined(__x86_64__)
    if (isa == "avx2") return peak_avx2;
#elif defined(__aarch64__)
    if (isa == "neon") return peak_neon;
#endif
    return nullptr;
}

// GFLOP/s: grow the round count until one run takes 50 ms, then keep the best of 5 runs (the first ones may
// still run at a lower clock).
double measure_peak_gflops(PeakFn fn) {
    long rounds = 1 << 16;
    for (;;) {
        const double t0 = thread_seconds();
        fn(rounds);
        if (thread_seconds() - t0 > 0.05) break;
        rounds *= 2;
    }
    double best = 0;
    for (int i = 0; i < 5; ++i) {
        const double t0 = thread_seconds();
        const double flops = fn(rounds);
        best = std::max(best, flops / (thread_seconds() - t0) * 1e-9);
    }
    return best;
}

std::map<std::string, double> g_peak_gflops;  // by table name; absent when no peak function exists for it

// ---- benchmarks ------------------------------------------------------------------------------------------
// Deterministic values in [-1, 1).
Tensor random_tensor(int c, int h, int w, unsigned seed) {
    Tensor t(c, h, w);
    unsigned s = seed * 2654435761u + 1;
    for (size_t i = 0; i < t.size(); ++i) {
        s = s * 1664525u + 1013904223u;
        t.data()[i] = float(s >> 8) * (2.f / 16777216.f) - 1.f;
    }
    return t;
}

struct Conv {
    const char* kind;  // "conv" or "dwconv"
    int out_hw, in_c, out_c, kernel, stride;
    bool bias;
    int in_hw() const { return (out_hw - 1) * stride + kernel; }  // the already padded input
};

// GFLOP/s of a convolution benchmark, and its share of the table's measured FMA peak over the thread's CPU
// time.
void set_flop_counters(benchmark::State& state, const std::string& isa, double flops, double seconds) {
    state.counters["GFLOP/s"] =
        benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    const auto peak = g_peak_gflops.find(isa);
    if (peak != g_peak_gflops.end() && seconds > 0) {
        state.counters["peak%"] = 100.0 * flops * 1e-9 * double(state.iterations()) / seconds / peak->second;
    }
}

// How a convolution benchmark calls its kernel. packed: a dense 1x1 convolution through conv1x1, weights
// packed beforehand (as at load time); otherwise conv2d. band: as the fused convolution does
// (engine/runtime/fused_conv.cpp), a band of kBandRows output rows per call, its input the band's rows as
// just gathered (a dense buffer, so in cache), its output rows written in place in the full-size output,
// iterations walking the bands down the output; otherwise one call over the whole plane, every operand in
// memory.
struct ConvRun {
    bool packed = false, band = false;
};
constexpr int kBandRows = 16;

void bench_conv(benchmark::State& state, const KernelTable* table, Conv c, ConvRun run) {
    const int groups = std::string(c.kind) == "dwconv" ? c.in_c : 1;
    const int rows = run.band ? std::min(kBandRows, c.out_hw) : c.out_hw;
    const int in_rows = (rows - 1) * c.stride + c.kernel;
    ConvShape shape{c.in_c,   in_rows,  c.in_hw(), c.out_c,  rows,
                    c.out_hw, c.kernel, c.kernel,  c.stride, groups};
    shape.out_plane_stride = size_t(c.out_hw) * c.out_hw;
    const Tensor input = random_tensor(c.in_c, in_rows, c.in_hw(), 1);
    const Tensor weight = random_tensor(c.out_c, c.in_c / groups, c.kernel * c.kernel, 2);
    const Tensor bias = random_tensor(1, 1, c.out_c, 3);
    std::vector<float> packed;
    if (run.packed) {
        packed.resize(conv1x1_weight_floats(c.out_c, c.in_c));
        conv1x1_pack_weights(weight.data(), c.out_c, c.in_c, packed.data());
    }
    Tensor output(c.out_c, c.out_hw, c.out_hw);
    const double flops = 2.0 * c.out_c * rows * c.out_hw * (c.in_c / groups) * c.kernel * c.kernel;
    const int bands = c.out_hw / rows;
    int band = 0;
    const double t0 = thread_seconds();
    for (auto _ : state) {
        float* out = output.data() + size_t(band) * rows * c.out_hw;
        const float* b = c.bias ? bias.data() : nullptr;
        if (run.packed) {
            table->conv1x1(shape, input.data(), packed.data(), b, out, 0, c.out_c);
        } else {
            table->conv2d(shape, input.data(), weight.data(), b, out, 0, c.out_c);
        }
        benchmark::DoNotOptimize(out);
        band = (band + 1) % bands;
    }
    set_flop_counters(state, table->isa, flops, thread_seconds() - t0);
}

// The same convolution through conv_winograd (weights transformed beforehand, as at load time). Its
// GFLOP/s and peak% are "effective": the direct convolution's FLOPs over the Winograd time, so they compare
// with the direct rows of the same shape (and peak% may exceed 100).
void bench_winograd(benchmark::State& state, const KernelTable* table, Conv c) {
    const int k = c.kernel;
    const ConvShape shape{c.in_c, c.in_hw(), c.in_hw(), c.out_c, c.out_hw, c.out_hw, k, k, 1, 1};
    const Tensor input = random_tensor(c.in_c, c.in_hw(), c.in_hw(), 1);
    const Tensor weight = random_tensor(c.out_c, c.in_c, k * k, 2);
    std::vector<float> transformed(winograd_weight_floats(k, c.out_c, c.in_c));
    winograd_transform_weights(k, weight.data(), c.out_c, c.in_c, transformed.data());
    std::vector<float> scratch(winograd_scratch_floats(shape));
    Tensor output(c.out_c, c.out_hw, c.out_hw);
    const double flops = 2.0 * c.out_c * c.out_hw * c.out_hw * c.in_c * k * k;
    const double t0 = thread_seconds();
    for (auto _ : state) {
        table->conv_winograd(shape, input.data(), transformed.data(), nullptr, output.data(), 0, c.out_c,
                             scratch.data());
        benchmark::DoNotOptimize(output.data());
    }
    set_flop_counters(state, table->isa, flops, thread_seconds() - t0);
}

void bench_channel_moments(benchmark::State& state, const KernelTable* table) {
    const Tensor x = random_tensor(128, 256, 256, 4);
    std::vector<double> sum(128), sum_squares(128);
    for (auto _ : state) {
        table->channel_moments(x.data(), x.plane_size(), 0, x.channels(), sum.data(), sum_squares.data());
        benchmark::DoNotOptimize(sum.data());
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(x.size() * sizeof(float)));
}

void bench_scale_shift_leaky_relu(benchmark::State& state, const KernelTable* table) {
    Tensor x = random_tensor(128, 256, 256, 5);
    // In place, run over and over: x -> leaky_relu(-sqrt(5) x, 0.2) flips the sign each call and scales the
    // magnitude by sqrt(5) and 1/sqrt(5) in turn, so values cycle instead of decaying into denormals.
    const std::vector<float> scale(128, -std::sqrt(5.f)), shift(128, 0.f);
    for (auto _ : state) {
        table->scale_shift_leaky_relu(x.data(), x.data(), x.plane_size(), scale.data(), shift.data(), 0.2f, 0,
                                      x.channels());
        benchmark::DoNotOptimize(x.data());
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(2 * x.size() * sizeof(float)));
}

void bench_resize(benchmark::State& state, const KernelTable* table) {
    const Tensor x = random_tensor(128, 128, 128, 6);
    Tensor y(128, 256, 256);
    const ResizeShape shape{128, 128, 256, 256, ResizeMode::AlignCorners};
    for (auto _ : state) {
        table->resize_bilinear(shape, x.data(), y.data(), 0, x.channels());
        benchmark::DoNotOptimize(y.data());
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t((x.size() + y.size()) * sizeof(float)));
}

void bench_tanh(benchmark::State& state, const KernelTable* table) {
    Tensor x = random_tensor(3, 512, 512, 7);  // in place: repeated tanh shrinks values only slowly
    for (auto _ : state) {
        table->tanh(x.data(), 0, x.size());
        benchmark::DoNotOptimize(x.data());
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(2 * x.size() * sizeof(float)));
}

// The generator's convolutions at a 512x512 input, in network order, then the face detector's stem. The
// inverted residual blocks of block C appear twice: the first (128 -> 256 channels, bottleneck 256) and the
// three others (bottleneck 512).
// clang-format off
const Conv kConvs[] = {
    {"conv", 512, 3, 32, 7, 1, false},     // block A
    {"conv", 256, 32, 64, 3, 2, false},
    {"conv", 256, 64, 64, 3, 1, false},
    {"conv", 128, 64, 128, 3, 2, false},   // block B
    {"conv", 128, 128, 128, 3, 1, false},  // block B, and block C's first layer
    {"conv", 128, 128, 256, 1, 1, false},  // block C, first inverted residual block
    {"dwconv", 128, 256, 256, 3, 1, true},
    {"conv", 128, 256, 256, 1, 1, false},
    {"conv", 128, 256, 512, 1, 1, false},  // block C, the other three inverted residual blocks
    {"dwconv", 128, 512, 512, 3, 1, true},
    {"conv", 128, 512, 256, 1, 1, false},
    {"conv", 128, 256, 128, 3, 1, false},  // block C, last layer
    {"conv", 256, 128, 128, 3, 1, false},  // block D
    {"conv", 512, 128, 64, 3, 1, false},   // block E
    {"conv", 512, 64, 64, 3, 1, false},
    {"conv", 512, 64, 32, 7, 1, false},
    {"conv", 512, 32, 3, 1, 1, false},     // output layer
    {"conv", 64, 3, 24, 5, 2, true},       // BlazeFace's stem: 128x128 input padded TF-SAME to 131x131
};
// clang-format on

void register_benchmarks(const KernelTable* table) {
    const std::string isa = table->isa;
    for (const Conv& c : kConvs) {
        const std::string name = std::string(c.kind) + std::to_string(c.kernel) + "x" +
                                 std::to_string(c.kernel) + "_s" + std::to_string(c.stride) + "/" +
                                 std::to_string(c.out_hw) + "x" + std::to_string(c.out_hw) + "_c" +
                                 std::to_string(c.in_c) + "_k" + std::to_string(c.out_c) + "/" + isa;
        const auto add_conv = [&](const std::string& prefix, ConvRun run) {
            benchmark::RegisterBenchmark((prefix + name).c_str(), bench_conv, table, c, run)
                ->Unit(benchmark::kMillisecond);
        };
        add_conv("", {});
        if (std::string(c.kind) == "conv" && (c.kernel == 3 || c.kernel == 7) && c.stride == 1 &&
            table->conv_winograd) {
            const std::string winograd = "winograd_effective_" + name;
            benchmark::RegisterBenchmark(winograd.c_str(), bench_winograd, table, c)
                ->Unit(benchmark::kMillisecond);
        }
        const bool dense_1x1 = std::string(c.kind) == "conv" && c.kernel == 1 && c.stride == 1;
        if (dense_1x1) add_conv("packed_", {true, false});
        if (dense_1x1 || std::string(c.kind) == "dwconv") add_conv("band16_", {false, true});
        if (dense_1x1) add_conv("band16_packed_", {true, true});
    }
    const auto add = [&](const std::string& name, void (*fn)(benchmark::State&, const KernelTable*)) {
        benchmark::RegisterBenchmark((name + "/" + isa).c_str(), fn, table)->Unit(benchmark::kMillisecond);
    };
    add("channel_moments/256x256_c128", bench_channel_moments);
    add("scale_shift_leaky_relu/256x256_c128", bench_scale_shift_leaky_relu);
    add("resize_bilinear/128x128_to_256x256_c128", bench_resize);
    add("tanh/512x512_c3", bench_tanh);
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

    const KernelTable* tables[8];
    const int count = available_kernel_tables(tables, 8);
    // On stderr, so that --benchmark_format=json on stdout stays valid JSON; the context carries it too.
    std::fprintf(stderr, "FMA peak of one core:");
    for (int i = 0; i < count; ++i) {
        const PeakFn fn = peak_function(tables[i]->isa);
        if (!fn) {
            std::fprintf(stderr, " %s (no peak benchmark)", tables[i]->isa);
            continue;
        }
        const double gflops = measure_peak_gflops(fn);
        g_peak_gflops[tables[i]->isa] = gflops;
        std::fprintf(stderr, " %s %.1f GFLOP/s", tables[i]->isa, gflops);
        char value[32];
        std::snprintf(value, sizeof value, "%.2f", gflops);
        benchmark::AddCustomContext(std::string("peak_gflops_") + tables[i]->isa, value);
    }
    std::fprintf(stderr, "\n");

    for (int i = 0; i < count; ++i) register_benchmarks(tables[i]);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
