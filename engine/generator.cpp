// The generator forward pass and its loading from GGUF. Read top to bottom, forward() is the network.
#include <chrono>
#include <cmath>
#include <map>

#include "animegan/animegan.h"
#include "engine/fused_conv.h"
#include "engine/generator_layout.h"
#include "weights/gguf.h"

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

// Binds layout tensors to file data (model::bind_tensor), counting them so that extra tensors in the file
// can be found.
class TensorBinder {
  public:
    TensorBinder(const weights::GgufFile& file, std::vector<std::vector<float>>& converted)
        : file_(file), converted_(converted) {}

    const float* bind(const model::TensorSpec& spec) {
        const float* data = model::bind_tensor(file_, spec, converted_);
        ++bound_;
        return data;
    }

    size_t bound() const { return bound_; }

  private:
    const weights::GgufFile& file_;
    std::vector<std::vector<float>>& converted_;
    size_t bound_ = 0;
};

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
    std::vector<std::vector<float>> converted;         // F16 tensors widened to F32
    std::vector<std::vector<float>> winograd_weights;  // per layer that runs as Winograd
    ModelInfo info;
    model::GeneratorLayout layers;
    std::unique_ptr<ThreadPool> threads;
    mutable size_t last_peak_bytes = 0;

    explicit Impl(weights::GgufFile f) : file(std::move(f)) {}

    // Dense stride-1 3x3 and 7x7 layers run as Winograd convolutions (kernels.h), except with few input
    // channels, where the input transform is not amortized: the 3-channel 7x7 first layer at 512x512 takes
    // 55 ms as Winograd and 34 ms direct, the 64-channel one 374 ms against 684 ms (animegan_bench, AVX2).
    static bool winograd_pays(const model::ConvLayer& l) {
        return (l.kernel == 3 || l.kernel == 7) && l.stride == 1 && l.groups == 1 && l.in >= 16;
    }

    void bind_all() {
        TensorBinder binder(file, converted);
        const std::vector<model::TensorSpec> specs = model::generator_tensor_specs(info.style_attention);
        std::map<std::string, const model::TensorSpec*> by_name;
        for (const model::TensorSpec& s : specs) by_name[s.name] = &s;
        auto get = [&](const std::string& name) { return binder.bind(*by_name.at(name)); };
        auto bind_conv = [&](model::ConvLayer& l) {
            l.weight = get(l.name + ".weight");
            if (l.has_bias) l.bias = get(l.name + ".bias");
            const kernels::KernelTable& table = kernels::active_kernels();
            if (winograd_pays(l) && table.conv_winograd) {
                std::vector<float>& w =
                    winograd_weights.emplace_back(table.winograd_weight_floats(l.kernel, l.out, l.in));
                table.winograd_transform_weights(l.kernel, l.weight, l.out, l.in, w.data());
                l.winograd_weight = w.data();
                file.evict(*file.find(l.name + ".weight"));  // only the transformed copy is read from now on
            }
            if (!l.norm.empty()) {
                l.gamma = get(l.norm + ".weight");
                l.beta = get(l.norm + ".bias");
            }
        };
        auto bind_attention = [&](model::ChannelAttention& a) {
            a.fc1_weight = get(a.name + ".fc.0.weight");
            a.fc1_bias = get(a.name + ".fc.0.bias");
            a.fc2_weight = get(a.name + ".fc.2.weight");
            a.fc2_bias = get(a.name + ".fc.2.bias");
        };
        for (auto& l : layers.block_a) bind_conv(l);
        for (auto& l : layers.block_b) bind_conv(l);
        bind_conv(layers.block_c_in);
        for (auto& r : layers.block_c_res) {
            bind_conv(r.expand);
            bind_conv(r.depthwise);
            bind_conv(r.project);
        }
        bind_conv(layers.block_c_out);
        for (auto& l : layers.block_d) bind_conv(l);
        for (auto& l : layers.block_e) bind_conv(l);
        bind_conv(layers.out_layer);
        if (layers.style_attention) {
            bind_attention(layers.attn_c);
            bind_attention(layers.attn_d);
        }
        // A file with extra tensors was made for another architecture variant (e.g. attention weights while
        // the metadata says none): running it would silently ignore weights.
        if (binder.bound() != file.tensors().size()) {
            for (const weights::GgufTensor& t : file.tensors()) {
                if (!by_name.count(t.name)) throw Error(file.path() + ": unexpected tensor '" + t.name + "'");
            }
        }
    }

    int norm_groups(int channels) const { return info.norm_groups == 0 ? channels : info.norm_groups; }

    // One layer: convolution (reading x resized to height x width, padded) with its GroupNorm left pending.
    ops::Activation conv(ops::Context& ctx, const model::ConvLayer& l, const ops::Activation& x, int height,
                         int width) const {
        ops::Activation y;
        y.raw = ops::conv2d_fused(
            ctx, x, height, width, resize_mode(info.upsample),
            {l.weight, l.bias, l.out, l.kernel, l.stride, l.groups, l.pad, l.winograd_weight});
        if (l.gamma) {
            ops::set_pending_group_norm(ctx, y, norm_groups(l.out), l.gamma, l.beta, info.norm_eps,
                                        l.leaky_relu ? kLeakySlope : 1.f);
        }
        return y;
    }

    ops::Activation conv(ops::Context& ctx, const model::ConvLayer& l, const ops::Activation& x) const {
        return conv(ctx, l, x, x.raw.height(), x.raw.width());
    }

    Tensor forward(const Tensor& input, const RunOptions& options) const {
        if (input.channels() != 3) {
            throw Error("generator input must have 3 channels, got " + std::to_string(input.channels()));
        }
        check_size(input.height(), input.width());
        BufferPool buffers;
        ops::Context ctx{*threads, buffers, kernels::active_kernels()};
        ctx.on_norm_statistics = &options.on_norm_statistics;
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
        ops::Activation x;
        x.raw = input;
        for (const auto& l : layers.block_a) x = conv(ctx, l, x);  // [64, H/2, W/2]
        const int half_h = x.raw.height(), half_w = x.raw.width();
        stage_done("block_a");
        for (const auto& l : layers.block_b) x = conv(ctx, l, x);  // [128, H/4, W/4]
        stage_done("block_b");
        x = conv(ctx, layers.block_c_in, x);
        for (const auto& r : layers.block_c_res) {
            ops::Activation y = conv(ctx, r.project, conv(ctx, r.depthwise, conv(ctx, r.expand, x)));
            if (r.residual) {
                ops::materialize(ctx, y);
                ops::materialize(ctx, x);
                ops::add_in_place(ctx, y.raw, x.raw);
            }
            x = std::move(y);
        }
        x = conv(ctx, layers.block_c_out, x);  // [128, H/4, W/4]
        if (layers.style_attention) attention(ctx, layers.attn_c, x);
        stage_done("block_c");
        x = conv(ctx, layers.block_d[0], x, half_h, half_w);  // resized to [128, H/2, W/2] on the fly
        x = conv(ctx, layers.block_d[1], x);
        if (layers.style_attention) attention(ctx, layers.attn_d, x);
        stage_done("block_d");
        x = conv(ctx, layers.block_e[0], x, input.height(),
                 input.width());  // resized to full size on the fly
        x = conv(ctx, layers.block_e[1], x);
        x = conv(ctx, layers.block_e[2], x);  // [32, H, W]
        stage_done("block_e");
        x = conv(ctx, layers.out_layer, x);  // [3, H, W]
        ops::tanh_in_place(ctx, x.raw);
        stage_done("out_layer");
        // Hand back storage of its own rather than a buffer of this pass's pool.
        Tensor out(x.raw.channels(), x.raw.height(), x.raw.width());
        std::copy(x.raw.data(), x.raw.data() + x.raw.size(), out.data());
        last_peak_bytes = buffers.peak_bytes_allocated();
        return out;
    }

    static void attention(ops::Context& ctx, const model::ChannelAttention& a, ops::Activation& x) {
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
    info.upsample = parse_upsample(f.get_string("animeganv2.upsample_mode").value_or("align_corners"), path);
    info.norm_eps = f.get_f32("animeganv2.norm_eps").value_or(1e-5f);
    if (!(info.norm_eps > 0.f && info.norm_eps < 1.f))
        throw Error(path + ": animeganv2.norm_eps out of range");
    info.norm_groups = int(f.get_u32("animeganv2.norm_groups").value_or(1));
    info.style_attention = f.get_bool("animeganv2.style_attention").value_or(false);
    impl->layers = model::generator_layout(info.style_attention);
    // Every normalized layer has a multiple of 32 channels, so a group count must divide 32.
    if (info.norm_groups < 0 || (info.norm_groups != 0 && 32 % info.norm_groups != 0)) {
        throw Error(path + ": animeganv2.norm_groups=" + std::to_string(info.norm_groups) +
                    " does not divide the layers' channel counts");
    }
    impl->bind_all();
    impl->threads = std::make_unique<ThreadPool>(threads);
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
    return impl_->forward(input, options);
}

Image Generator::stylize(const Image& photo, const RunOptions& options) const {
    return tensor_to_image(forward(image_to_tensor(photo), options));
}

}  // namespace animegan
