// The generator forward pass and its loading from GGUF. Read top to bottom, forward() is the network.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>

#include "animegan/animegan.h"
#include "engine/models/animeganv2/generator_streaming.h"
#include "engine/models/animeganv2/layout.h"
#include "engine/runtime/fused_conv.h"
#include "weights/gguf.h"
#include "weights/tensor_binder.h"

namespace animegan {
namespace {

constexpr float kLeakySlope = 0.2f;

kernels::ResizeMode resize_mode(Upsample u) {
    switch (u) {
        case Upsample::AlignCorners:
            return kernels::ResizeMode::AlignCorners;
        case Upsample::HalfPixel:
            return kernels::ResizeMode::HalfPixel;
        case Upsample::TfLegacy:
            return kernels::ResizeMode::TfLegacy;
    }
    return kernels::ResizeMode::AlignCorners;
}

Upsample parse_upsample(const std::string& name, const std::string& path) {
    for (Upsample u : {Upsample::AlignCorners, Upsample::HalfPixel, Upsample::TfLegacy}) {
        if (name == upsample_name(u)) return u;
    }
    throw Error(path + ": unknown animeganv2.upsample_mode '" + name + "'");
}

}  // namespace

const char* kernels_isa() {
    return kernels::active_kernels().isa;
}

const char* upsample_name(Upsample mode) {
    switch (mode) {
        case Upsample::AlignCorners:
            return "align_corners";
        case Upsample::HalfPixel:
            return "half_pixel";
        case Upsample::TfLegacy:
            return "tf_legacy";
    }
    return "?";
}

struct Generator::Impl {
    weights::GgufFile file;
    std::vector<std::vector<float>> converted;  // F16 tensors widened to F32
    // [1, 1, n]: the Winograd layers' transformed weights, then the dense 1x1 layers' packed ones, in one
    // mapping of huge pages: in their own 4 KiB-page allocations they took some 5,000 page faults at load.
    Tensor prepared_weights;
    ModelInfo info;
    animeganv2::Layout layers;
    std::unique_ptr<ThreadPool> threads;
    mutable std::atomic<size_t> last_peak_bytes{0};
    // The full-frame pass's activation buffers and its threads' convolution scratch, kept from one forward to
    // the next of the same size, so that later forwards (video frames) fault nothing in; a forward while
    // another holds them uses its own. The scratch alone, made afresh, cost some 2,000 page faults (8 MB) per
    // 512x512 forward.
    mutable std::mutex kept_mutex;
    mutable std::unique_ptr<BufferPool> kept_buffers;
    mutable std::vector<ops::ConvScratch> kept_scratch;
    mutable int kept_height = 0, kept_width = 0;
    size_t evicted_bytes = 0;     // of the file, given back after the Winograd transform and 1x1 packing
    size_t resident_at_load = 0;  // the process's resident size once this model was loaded

    explicit Impl(weights::GgufFile f) : file(std::move(f)) {}

    // Dense stride-1 3x3 and 7x7 layers run as Winograd convolutions (kernels.h), except with few input
    // channels, where the input transform is not amortized: the 3-channel 7x7 first layer at 512x512 takes
    // 55 ms as Winograd and 34 ms direct, the 64-channel one 374 ms against 684 ms (animegan_bench, AVX2).
    static bool winograd_pays(const animeganv2::ConvLayer& l) {
        return (l.kernel == 3 || l.kernel == 7) && l.stride == 1 && l.groups == 1 && l.in >= 16;
    }

    // Binds every tensor, then transforms the Winograd layers' weights on all threads (a third of the load
    // time on one); the transformed copies are left uninitialized until written, each by the thread that
    // transforms it, so no page is zeroed twice. Then packs the dense 1x1 layers' weights for conv1x1 (under
    // a million floats: one thread does it in about a millisecond).
    void bind_all() {
        weights::TensorBinder binder(file, converted);
        const kernels::KernelTable& table = kernels::active_kernels();
        std::vector<animeganv2::ConvLayer*> winograd_layers, conv1x1_layers;
        auto bind_conv = [&](animeganv2::ConvLayer& l) {
            const std::vector<weights::TensorSpec> specs = animeganv2::tensor_specs(l);
            auto spec = specs.begin();
            l.weight = binder.bind(*spec++);
            if (l.has_bias) l.bias = binder.bind(*spec++);
            if (winograd_pays(l) && table.conv_winograd) winograd_layers.push_back(&l);
            if (l.kernel == 1 && l.stride == 1 && l.groups == 1) conv1x1_layers.push_back(&l);
            if (!l.norm.empty()) {
                l.gamma = binder.bind(*spec++);
                l.beta = binder.bind(*spec++);
            }
        };
        auto bind_attention = [&](animeganv2::ChannelAttention& a) {
            const std::vector<weights::TensorSpec> specs = animeganv2::tensor_specs(a);
            a.fc1_weight = binder.bind(specs[0]);
            a.fc1_bias = binder.bind(specs[1]);
            a.fc2_weight = binder.bind(specs[2]);
            a.fc2_bias = binder.bind(specs[3]);
        };
        animeganv2::for_each_step(layers, [&](const animeganv2::Step& s) {
            if (s.conv) bind_conv(*s.conv);
            if (s.attention) bind_attention(*s.attention);
        });
        binder.check_all_bound();
        // Each layer's part starts on a cache line.
        auto rounded = [](size_t floats) { return (floats + 15) / 16 * 16; };
        std::vector<size_t> winograd_at, conv1x1_at;
        size_t floats = 0;
        for (const animeganv2::ConvLayer* l : winograd_layers) {
            winograd_at.push_back(floats);
            floats += rounded(kernels::winograd_weight_floats(l->kernel, l->out, l->in));
        }
        for (const animeganv2::ConvLayer* l : conv1x1_layers) {
            conv1x1_at.push_back(floats);
            floats += rounded(kernels::conv1x1_weight_floats(l->out, l->in));
        }
        if (floats > size_t(std::numeric_limits<int>::max())) throw Error("the model's layers are too large");
        prepared_weights = Tensor(1, 1, int(std::max<size_t>(floats, 1)));
        float* const prepared = prepared_weights.data();
        parallel_tasks_rethrowing(*threads, winograd_layers.size(), [&](int, size_t i) {
            animeganv2::ConvLayer& l = *winograd_layers[i];
            kernels::winograd_transform_weights(l.kernel, l.weight, l.out, l.in, prepared + winograd_at[i]);
            l.winograd_weight = prepared + winograd_at[i];
        });
        for (size_t i = 0; i < conv1x1_layers.size(); ++i) {
            animeganv2::ConvLayer& l = *conv1x1_layers[i];
            kernels::conv1x1_pack_weights(l.weight, l.out, l.in, prepared + conv1x1_at[i]);
            l.conv1x1_weight = prepared + conv1x1_at[i];
        }
        // Only the transformed or packed copies are read from now on: the file's pages go back to the system,
        // and so does the widened copy of a float16 tensor.
        for (const auto* list : {&winograd_layers, &conv1x1_layers}) {
            for (animeganv2::ConvLayer* l : *list) {
                const weights::GgufTensor& raw = *file.find(l->name + ".weight");
                file.evict(raw);
                evicted_bytes += raw.nbytes;
                for (std::vector<float>& copy : converted) {
                    if (copy.data() == l->weight) std::vector<float>().swap(copy);
                }
                l->weight = nullptr;
            }
        }
    }

    int norm_groups(int channels) const { return info.norm_groups == 0 ? channels : info.norm_groups; }

    // One layer: convolution (reading x resized to height x width, padded) with its GroupNorm left pending.
    ops::Activation conv(ops::Context& ctx, const animeganv2::ConvLayer& l, const ops::Activation& x,
                         int height, int width) const {
        ops::Activation y;
        y.raw = ops::conv2d_fused(ctx, x, height, width, resize_mode(info.upsample),
                                  {l.weight, l.bias, l.out, l.kernel, l.stride, l.groups, l.pad,
                                   l.winograd_weight, l.conv1x1_weight});
        if (l.gamma) {
            ops::set_pending_group_norm(ctx, y, norm_groups(l.out), l.gamma, l.beta, info.norm_eps,
                                        l.leaky_relu ? kLeakySlope : 1.f);
        }
        return y;
    }

    // The whole image at once. A sample pass (fast streaming, generator_streaming.cpp) measures its
    // statistics where it says.
    Tensor forward(const Tensor& input, const RunOptions& options,
                   const ops::SamplePass* sample_pass = nullptr) const {
        if (input.channels() != 3) {
            throw Error("generator input must have 3 channels, got " + std::to_string(input.channels()));
        }
        check_size(input.height(), input.width());
        // A sample pass (a mosaic of crops before a streaming run) keeps nothing: its buffers would stay
        // while the streaming run holds its own.
        std::unique_lock<std::mutex> kept(kept_mutex, std::defer_lock);
        if (!sample_pass) kept.try_lock();
        BufferPool own;
        if (kept && (!kept_buffers || kept_height != input.height() || kept_width != input.width())) {
            kept_buffers.reset();  // the old size's buffers go before the new ones come
            kept_scratch.clear();
            kept_buffers = std::make_unique<BufferPool>();
            kept_height = input.height(), kept_width = input.width();
        }
        BufferPool& buffers = kept ? *kept_buffers : own;
        ThreadPool calling_thread(1);  // no worker threads: ops run inline
        ops::Context ctx{options.calling_thread_only ? calling_thread : *threads, buffers,
                         kernels::active_kernels()};
        ctx.on_norm_statistics = &options.on_norm_statistics;
        ctx.sample_pass = sample_pass;
        if (kept) ctx.conv_scratch = std::move(kept_scratch);  // back at the end (lost if the pass throws)
        auto clock = std::chrono::steady_clock::now();
        auto stage_done = [&](const char* name) {
            const auto now = std::chrono::steady_clock::now();
            if (options.on_stage) {
                options.on_stage(name, std::chrono::duration<double, std::milli>(now - clock).count());
            }
            clock = now;
        };

        // Each conv's norm stays pending until the next conv gathers its input, and the two resizes happen
        // inside the gathers of the first convs of blocks D and E: see fused_conv.h.
        ops::Activation x, block_input;
        x.raw = input;
        int half_height = 0, half_width = 0;  // block A's output size, the target of the first resize
        animeganv2::for_each_step(layers, [&](const animeganv2::ConstStep& s) {
            if (s.attention) {
                attention(ctx, *s.attention, x);
            } else {
                if (s.block_input) block_input = x;
                int height = x.raw.height(), width = x.raw.width();
                if (s.resize == animeganv2::ConstStep::Resize::ToHalf)
                    height = half_height, width = half_width;
                if (s.resize == animeganv2::ConstStep::Resize::ToFull)
                    height = input.height(), width = input.width();
                x = conv(ctx, *s.conv, x, height, width);
                if (s.residual_after) {
                    ops::materialize(ctx, x);
                    ops::materialize(ctx, block_input);
                    ops::add_in_place(ctx, x.raw, block_input.raw);
                    block_input = {};
                }
                if (s.conv == &layers.out_layer) ops::tanh_in_place(ctx, x.raw);
            }
            if (s.stage_end && std::string(s.stage_end) == "block_a") {
                half_height = x.raw.height(), half_width = x.raw.width();
            }
            if (s.stage_end) stage_done(s.stage_end);
        });
        // Hand back storage of its own rather than a buffer of this pass's pool.
        Tensor out(x.raw.channels(), x.raw.height(), x.raw.width());
        std::copy(x.raw.data(), x.raw.data() + x.raw.size(), out.data());
        last_peak_bytes = buffers.peak_bytes_allocated();
        if (kept) kept_scratch = std::move(ctx.conv_scratch);
        return out;
    }

    // What the streaming path (and the choice of path) needs of this model.
    animeganv2::LoadedModel loaded() const {
        size_t mapped = 0;
        for (const weights::GgufTensor& t : file.tensors()) mapped += t.nbytes;
        return {layers,
                info,
                resize_mode(info.upsample),
                *threads,
                resident_at_load,
                mapped - evicted_bytes,
                [this](const Tensor& input, const RunOptions& options, const ops::SamplePass* sample_pass) {
                    return forward(input, options, sample_pass);
                },
                last_peak_bytes,
                [this] {
                    // Held: a forward running side by side is using them.
                    std::unique_lock<std::mutex> lock(kept_mutex, std::try_to_lock);
                    if (lock) kept_buffers.reset(), kept_scratch.clear();
                }};
    }

    static void attention(ops::Context& ctx, const animeganv2::ChannelAttention& a, ops::Activation& x) {
        ops::materialize(ctx, x);
        ops::channel_attention(ctx, x.raw, a.fc1_weight, a.fc1_bias, a.hidden, a.fc2_weight, a.fc2_bias);
    }

    static void check_size(int height, int width) {
        if (height < kMinSide || width < kMinSide) {
            throw Error("image " + std::to_string(width) + "x" + std::to_string(height) +
                        " is too small: both sides must be at least " + std::to_string(kMinSide) + " pixels");
        }
        if (int64_t(height) * width > kMaxInputPixels) {
            throw Error("image " + std::to_string(width) + "x" + std::to_string(height) +
                        " is too large for one pass (limit " + std::to_string(kMaxInputPixels) +
                        " pixels); downscale it first (the CLI's --max-side)");
        }
    }
};

Generator::Generator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Generator::Generator(Generator&&) noexcept = default;
Generator& Generator::operator=(Generator&&) noexcept = default;
Generator::~Generator() = default;

Generator Generator::load(const std::string& path, int threads) {
    auto impl = std::make_unique<Impl>(weights::GgufFile::open(path));
    const weights::GgufFile& f = impl->file;
    const std::string arch = f.get_string("general.architecture").value_or("");
    if (arch != "animeganv2") {
        throw Error(path + ": general.architecture is '" + arch + "', expected 'animeganv2'");
    }
    ModelInfo& info = impl->info;
    info.style = f.get_string("general.name").value_or("unnamed");
    info.source_file = f.get_string("animeganv2.source.file").value_or("");
    info.source_hash = f.get_string("animeganv2.source.git_blob_id").value_or("");
    animeganv2::HyperParams params;
    params.upsample =
        parse_upsample(f.get_string("animeganv2.upsample_mode").value_or("align_corners"), path);
    params.norm_eps = f.get_f32("animeganv2.norm_eps").value_or(1e-5f);
    params.norm_groups = int(f.get_u32("animeganv2.norm_groups").value_or(1));
    params.style_attention = f.get_bool("animeganv2.style_attention").value_or(false);
    animeganv2::check_hyper_params(params, path);
    info.upsample = params.upsample;
    info.norm_eps = params.norm_eps;
    info.norm_groups = params.norm_groups;
    info.style_attention = params.style_attention;
    impl->layers = animeganv2::make_layout(info.style_attention);
    impl->threads = std::make_unique<ThreadPool>(threads);
    impl->bind_all();
    impl->resident_at_load = animeganv2::resident_bytes();
    return Generator(std::move(impl));
}

const ModelInfo& Generator::info() const {
    return impl_->info;
}
void Generator::set_threads(int threads) {
    impl_->threads = std::make_unique<ThreadPool>(threads);
}
int Generator::threads() const {
    return impl_->threads->size();
}
size_t Generator::last_peak_activation_bytes() const {
    return impl_->last_peak_bytes;
}

Tensor Generator::forward(const Tensor& input, const RunOptions& options) const {
    return animeganv2::forward(impl_->loaded(), input, options);
}

Image Generator::stylize(const Image& photo, const RunOptions& options) const {
    return animeganv2::stylize(impl_->loaded(), photo, options);
}

RunPlan Generator::plan(int width, int height, const RunOptions& options, bool tensor) const {
    return animeganv2::plan_run(impl_->loaded(), width, height, tensor, options);
}

}  // namespace animegan
