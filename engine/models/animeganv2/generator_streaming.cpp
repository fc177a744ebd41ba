#include "engine/models/animeganv2/generator_streaming.h"

#include <unistd.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "engine/runtime/fused_conv.h"
#include "engine/runtime/streaming.h"

namespace animegan {

namespace animeganv2 {
namespace {

// The memory of the machine, or of the container's limit (cgroup v2, then v1) when lower; "max" or absent
// means none.
size_t machine_memory_bytes() {
    size_t total = size_t(sysconf(_SC_PHYS_PAGES)) * size_t(sysconf(_SC_PAGESIZE));
    for (const char* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
        std::ifstream in(path);
        unsigned long long limit = 0;
        if (in >> limit && limit > 0) total = std::min(total, size_t(limit));
    }
    return total;
}

constexpr float kLeakySlope = 0.2f;

// What a run's small allocations (vectors of row pointers, statistics, the sink's rows) and the allocator's
// slack add to the process besides the buffers the plans count (glibc keeps freed blocks of a few MB on its
// heap once it has raised its mmap threshold: measured up to 10 MB past the plan in fast mode).
constexpr size_t kSlackBytes = size_t(16) << 20;

// Rows per band at full resolution, and the smaller ones tried when memory is short. 16 gives each of 2
// threads a band of 8 rows (two Winograd tiles) at full resolution; at a quarter of the resolution bands are
// the minimum, one tile (4 rows), whatever this is.
constexpr int kBandRows[] = {16, 8, 4};

int norm_groups(const ModelInfo& info, int channels) {
    return info.norm_groups == 0 ? channels : info.norm_groups;
}

// The generator as a streaming graph, with the statistics its norms and attentions need, in execution order.
struct Network {
    stream::Graph graph;
    std::vector<stream::StatisticsItem> items;
    struct Source {
        const ConvLayer* norm = nullptr;              // the norm of this conv layer's output
        const ChannelAttention* attention = nullptr;  // or this attention's gate
    };
    std::vector<Source> sources;  // per item
    // The full-frame pass's buffers (generator.cpp's forward): after node n is computed, the buffers of
    // frees[n] go back to its pool. An addition writes into its second input's buffer.
    std::vector<std::vector<int>> frees;
};

Network build_network(const LoadedModel& model, int height, int width) {
    Network net;
    stream::Graph& g = net.graph;
    stream::Node input;
    input.channels = 3, input.height = height, input.width = width;
    input.name = "input";
    g.push_back(input);
    net.frees.emplace_back();
    auto add = [&](stream::Node n, std::vector<int> freed) {
        g.push_back(std::move(n));
        net.frees.emplace_back();
        for (int f : freed)
            if (f > 0) net.frees.back().push_back(f);
        return int(g.size()) - 1;
    };
    // The steps of generator.cpp's forward: x is the current activation; a block's input lives until its
    // addition; the full frame frees the previous activation once the next one is made.
    int x = 0, block_input = -1, half_height = 0, half_width = 0;
    for_each_step(model.layers, [&](const ConstStep& s) {
        if (s.attention) {
            net.items.push_back({x, true});
            net.sources.push_back({nullptr, s.attention});
        } else {
            const ConvLayer& l = *s.conv;
            if (s.block_input) {
                // A block without an addition kept its input until the next block's replaces it.
                if (block_input > 0) net.frees[size_t(x)].push_back(block_input);
                block_input = x;
            }
            stream::Node n;
            n.kind = stream::Node::Kind::Conv;
            n.input = x;
            n.view_height = g[size_t(x)].height, n.view_width = g[size_t(x)].width;
            if (s.resize == ConstStep::Resize::ToHalf) n.view_height = half_height, n.view_width = half_width;
            if (s.resize == ConstStep::Resize::ToFull) n.view_height = height, n.view_width = width;
            n.resize_mode = model.resize;
            n.conv = {l.weight,          l.bias,          l.out, l.kernel, l.stride, l.groups, l.pad,
                      l.winograd_weight, l.conv1x1_weight};
            n.channels = l.out;
            n.name = l.name;
            n.height = (n.view_height + l.pad.top + l.pad.bottom - l.kernel) / l.stride + 1;
            n.width = (n.view_width + l.pad.left + l.pad.right - l.kernel) / l.stride + 1;
            // Multiply-adds per output row; Winograd does about a third of them (kernels/winograd.h).
            n.cost = double(n.width) * l.out * (l.in / l.groups) * l.kernel * l.kernel *
                     (l.winograd_weight ? 0.3 : 1);
            const int made = add(std::move(n), {x == block_input ? -1 : x});
            if (l.gamma) {
                net.items.push_back({made, false});
                net.sources.push_back({&l, nullptr});
            }
            x = made;
            if (s.residual_after) {
                stream::Node sum;
                sum.kind = stream::Node::Kind::Add;
                sum.name = l.name + "+";
                sum.input = block_input, sum.input_b = x;
                sum.channels = g[size_t(x)].channels, sum.height = g[size_t(x)].height,
                sum.width = g[size_t(x)].width;
                sum.cost = double(sum.width) * sum.channels;
                x = add(std::move(sum), {block_input});
                block_input = -1;
            }
        }
        if (s.stage_end && std::string(s.stage_end) == "block_a")
            half_height = g[size_t(x)].height, half_width = g[size_t(x)].width;
    });
    return net;
}

// Sets the pending transform that item's statistics imply: a norm's scale and shift (through the context's
// statistics hook, as the full-frame pass does), or an attention's gate folded into them (the gate is
// positive, so gate * LeakyReLU(a x + b) = LeakyReLU(gate a x + gate b)).
void apply_statistics(Network& net, ops::Context& ctx, const ModelInfo& info, size_t item,
                      const stream::Moments& m) {
    const Network::Source& source = net.sources[item];
    stream::Node& node = net.graph[size_t(net.items[item].node)];
    if (source.norm) {
        const ConvLayer& l = *source.norm;
        ops::group_norm_fold(ctx, m.sum, m.sum_squares, m.count, norm_groups(info, l.out), l.gamma, l.beta,
                             info.norm_eps, node.scale, node.shift);
        node.negative_slope = l.leaky_relu ? kLeakySlope : 1.f;
        return;
    }
    const ChannelAttention& a = *source.attention;
    const std::vector<float> gate = ops::channel_attention_gate(m.sum, m.count, a.fc1_weight, a.fc1_bias,
                                                                a.hidden, a.fc2_weight, a.fc2_bias);
    for (size_t c = 0; c < gate.size(); ++c) {
        node.scale[c] *= gate[c];
        node.shift[c] *= gate[c];
    }
}

// ------------------------------------------------------------------------------------------ memory

// The full-frame pass's peak: its BufferPool (tensor.cpp) replayed over the buffers of generator.cpp's
// forward, plus each thread's band buffers (fused_conv.cpp).
size_t full_frame_bytes(const Network& net, int threads) {
    constexpr size_t kMapThreshold = size_t(1) << 20, kHugePage = size_t(2) << 20;  // tensor.cpp's
    struct Pool {
        // Large buffers (whole huge pages) are built from released ones: the pool holds the most that was
        // ever live at once. Small ones: the smallest cached buffer that fits, else drop the cache and grow.
        std::vector<size_t> free_small;
        size_t small = 0, large_live = 0, large = 0, peak = 0;
        size_t acquire(size_t bytes) {
            if (bytes >= kMapThreshold) {
                bytes = (bytes + kHugePage - 1) / kHugePage * kHugePage;
                large_live += bytes;
                large = std::max(large, large_live);
            } else {
                auto best = free_small.end();
                for (auto it = free_small.begin(); it != free_small.end(); ++it)
                    if (*it >= bytes && (best == free_small.end() || *it < *best)) best = it;
                if (best != free_small.end()) {
                    const size_t got = *best;
                    free_small.erase(best);
                    return got;
                }
                for (size_t f : free_small) small -= f;
                free_small.clear();
                small += bytes;
            }
            peak = std::max(peak, small + large);
            return bytes;
        }
        void release(size_t bytes) {
            if (bytes >= kMapThreshold) {
                large_live -= bytes;
            } else if (bytes > 0) {
                free_small.push_back(bytes);
            }
        }
    } pool;
    const stream::Graph& g = net.graph;
    std::vector<size_t> held(g.size(), 0);  // the pool buffer holding each node's output
    size_t scratch = 0;
    for (size_t n = 1; n < g.size(); ++n) {
        const stream::Node& node = g[n];
        if (node.kind == stream::Node::Kind::Add) {
            held[n] = std::exchange(held[size_t(node.input_b)], 0);
        } else {
            held[n] = pool.acquire(size_t(node.channels) * node.height * node.width * sizeof(float));
            const stream::Node& in = g[size_t(node.input)];
            const ops::FusedConvView v(in.channels, in.height, in.width, node.view_height, node.view_width,
                                       node.resize_mode, node.conv);
            const kernels::ConvShape band =
                v.band_shape(0, std::min(16, v.out_height));  // fused_conv's bands
            size_t floats = size_t(band.in_channels) * band.in_height * band.in_width;
            if (node.conv.winograd_weight) floats += kernels::winograd_scratch_floats(band);
            if (in.width != node.view_width) floats += size_t(band.in_height) * (in.width + node.view_width);
            scratch = std::max(scratch, floats * sizeof(float));
        }
        for (int f : net.frees[n]) pool.release(std::exchange(held[size_t(f)], 0));
    }
    return pool.peak + scratch * size_t(threads);
}

// Bytes of the run's endpoints: the caller's input and the output, as 8-bit images or float tensors; the
// full frame also converts an image to a float tensor and back.
size_t endpoint_bytes(int width, int height, bool tensor, bool full_frame) {
    const size_t pixels = size_t(width) * height;
    if (tensor) return pixels * 3 * 4 * 2;
    return pixels * 3 * 2 + (full_frame ? pixels * 3 * 4 * 2 : 0);
}

// Fast mode measures the statistics on a mosaic of small crops spread evenly over the photo, run as one
// image: kSampleCrops of them, so that the sample's statistics are close to the photo's (with a few dozen the
// error varies from photo to photo between 32 and 48 dB of PSNR, with 100 or more it was 42 dB or more on
// every photo of ../shared; see README.md for 256). Each statistic is
// taken over the crops' interiors only, kSampleBorder pixels in from their edges, where the seams between
// crops (edges the photo does not have) disturb it. Crops of 48 pixels did best (smaller ones are mostly
// border, larger ones fewer). Crops that would cover more than half the photo save too little over exact
// statistics (and a photo that small fits at once anyway, unless memory is very short): then fewer crops,
// down to kMinSampleCrops (the caller's fast_samples: 16), else exact.
constexpr int kSampleCrop = 48, kSampleBorder = 8, kSampleCrops = 256, kMinSampleCrops = 100;
constexpr double kMaxSampleShare = 0.5;

struct Sample {
    int columns = 0, rows = 0, crop = 0, border = 0;
    std::vector<std::array<int, 4>> crops;  // in the photo: x0, y0, x1, y1
    int width() const { return columns * crop; }
    int height() const { return rows * crop; }
};

// A grid of `count` crops (about) spread evenly over the photo; none when they would cover too much of it.
Sample plan_sample(int width, int height, int count) {
    Sample s;
    if (double(count) * kSampleCrop * kSampleCrop > kMaxSampleShare * width * height) return s;
    s.crop = kSampleCrop;
    s.border = kSampleBorder;
    s.columns = std::clamp(int(std::lround(std::sqrt(double(count) * width / height))), 1, width / s.crop);
    s.rows = std::clamp(int(std::lround(double(count) / s.columns)), 1, height / s.crop);
    auto spread = [](int i, int n, int size, int crop) {
        return n == 1 ? (size - crop) / 2 : int(int64_t(i) * (size - crop) / (n - 1));
    };
    for (int j = 0; j < s.rows; ++j) {
        for (int i = 0; i < s.columns; ++i) {
            const int x0 = spread(i, s.columns, width, s.crop), y0 = spread(j, s.rows, height, s.crop);
            s.crops.push_back({x0, y0, x0 + s.crop, y0 + s.crop});
        }
    }
    return s;
}

// The mosaic of the sample's crops, as the network's input.
Tensor make_mosaic(const Sample& s, int width, const stream::InputRows& rows) {
    Tensor mosaic(3, s.height(), s.width());
    std::vector<float> row(size_t(3) * width);
    for (int j = 0; j < s.rows; ++j) {
        const int y0 = s.crops[size_t(j * s.columns)][1];
        for (int y = 0; y < s.crop; ++y) {
            rows(y0 + y, row.data());
            for (int c = 0; c < 3; ++c)
                for (int i = 0; i < s.columns; ++i)
                    std::copy_n(row.data() + size_t(c) * width + s.crops[size_t(j * s.columns + i)][0],
                                s.crop,
                                mosaic.channel(c) + size_t(j * s.crop + y) * s.width() + size_t(i) * s.crop);
        }
    }
    return mosaic;
}

struct Choice {
    RunPlan plan;
    int band_rows = kBandRows[0];
    stream::Plan sweeps;
    Sample sample;  // fast mode
};

std::string megabytes(size_t bytes) {
    return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MB";
}

Choice choose(const LoadedModel& model, const Network& net, int width, int height, bool tensor,
              const RunOptions& options) {
    Choice c;
    RunPlan& p = c.plan;
    // A limit above what the machine has would let the full frame of a huge photo get the process killed for
    // memory: it is held to the machine's.
    p.limit_bytes = options.memory_limit ? std::min(options.memory_limit, machine_memory_bytes())
                                         : default_memory_limit();
    // The process as the model was loaded, plus the weight file's pages it will read in.
    const size_t fixed = model.resident_at_load + model.mapped_weight_bytes + kSlackBytes;
    p.base_bytes = fixed;
    const int threads = model.threads.size();
    const size_t full = full_frame_bytes(net, threads) + endpoint_bytes(width, height, tensor, true) + fixed;
    const size_t streamed_fixed = endpoint_bytes(width, height, tensor, false) + fixed;
    // The least a streaming run needs: its final pass at the smallest bands.
    const kernels::KernelTable& k = kernels::active_kernels();
    size_t minimum = SIZE_MAX;
    for (int band : kBandRows) {
        const stream::Plan last =
            stream::plan_sweeps(net.graph, {}, model.threads, k, band, SIZE_MAX, false, false);
        minimum = std::min(minimum, last.peak_bytes + streamed_fixed);
    }
    p.minimum_bytes = std::min(minimum, full);
    if (full <= p.limit_bytes) {
        p.mode = RunPlan::Mode::FullFrame;
        p.peak_bytes = full;
        return c;
    }
    if (minimum > p.limit_bytes) {
        throw Error("a " + std::to_string(width) + "x" + std::to_string(height) + " image needs at least " +
                    megabytes(minimum) + " (streaming, rows of " + std::to_string(width) +
                    " pixels); the memory limit is " + megabytes(p.limit_bytes));
    }
    const size_t budget = p.limit_bytes - streamed_fixed;
    // Fast mode's output pass stores float16 rows: half the memory, and its rounding (some 5e-3 at most, 66
    // dB of PSNR) is far below the sample's error; exact mode's stays float32 (its rounding alone would break
    // the 1e-4 bound).
    auto plan_streaming = [&](const std::vector<stream::StatisticsItem>& items, bool half_output) {
        for (int band : kBandRows) {
            c.band_rows = band;
            c.sweeps = stream::plan_sweeps(net.graph, items, model.threads, k, band, budget,
                                           model.info.norm_groups == 1, half_output);
            if (c.sweeps.peak_bytes <= budget) break;
        }
        p.peak_bytes = c.sweeps.peak_bytes + streamed_fixed;
        p.passes = int(c.sweeps.sweeps.size());
        p.band_rows = c.band_rows;
        p.sweeps = c.sweeps.describe(net.graph);
        p.relative_cost = c.sweeps.final_cost > 0 ? c.sweeps.cost / c.sweeps.final_cost : 1;
    };
    if (options.fast) {
        // The sample pass runs while the photo is held; fewer crops when it does not fit.
        const size_t photo = tensor ? size_t(width) * height * 12 : size_t(width) * height * 3;
        const int fewest = options.fast_samples ? std::min(16, options.fast_samples) : kMinSampleCrops;
        for (int count = options.fast_samples ? options.fast_samples : kSampleCrops; count >= fewest;
             count = count * 3 / 4) {
            const Sample sample = plan_sample(width, height, count);
            if (sample.crops.empty()) continue;
            const int w = sample.width(), h = sample.height();
            const size_t bytes = full_frame_bytes(build_network(model, h, w), threads) +
                                 endpoint_bytes(w, h, true, true) + photo + fixed;
            if (bytes > p.limit_bytes) continue;
            plan_streaming({}, true);
            c.sample = sample;
            p.mode = RunPlan::Mode::StreamingFast;
            p.peak_bytes = std::max(p.peak_bytes, bytes);
            p.relative_cost += double(w) * h / (double(width) * height);
            p.passes += 1;
            p.sweeps.insert(p.sweeps.begin(),
                            "statistics of " + std::to_string(sample.columns * sample.rows) + " crops of " +
                                std::to_string(sample.crop) + " pixels, as one image");
            return c;
        }
        // Too small a photo for crops, or not even a few fit beside it: measure exactly.
    }
    p.mode = RunPlan::Mode::StreamingExact;
    plan_streaming(net.items, false);
    return c;
}

void check_size(int height, int width) {
    if (height < kMinSide || width < kMinSide) {
        throw Error("image " + std::to_string(width) + "x" + std::to_string(height) +
                    " is too small: both sides must be at least " + std::to_string(kMinSide) + " pixels");
    }
    if (int64_t(height) * width > kMaxInputPixels) {
        throw Error("image " + std::to_string(width) + "x" + std::to_string(height) +
                    " is too large: more than " + std::to_string(kMaxInputPixels / 1'000'000) +
                    " megapixels");
    }
}

// Fast mode's sample pass: its statistics (through the caller's hook, which may replace them) set as the
// graph's pending transforms.
void measure_sample(const LoadedModel& model, Network& net, const Choice& choice,
                    const stream::InputRows& input, const RunOptions& options,
                    const std::function<void(double)>& progress) {
    const Sample& sample = choice.sample;
    std::vector<std::vector<double>> means, variances;
    std::vector<ops::Moments> attentions;
    ops::SamplePass pass;
    const Tensor mosaic = make_mosaic(sample, net.graph[0].width, input);
    pass.height = mosaic.height(), pass.width = mosaic.width();
    for (int j = 0; j < sample.rows; ++j)
        for (int i = 0; i < sample.columns; ++i)
            pass.rectangles.push_back(
                {i * sample.crop, j * sample.crop, (i + 1) * sample.crop, (j + 1) * sample.crop});
    pass.border = sample.border;
    pass.normalize_over_rectangles = true;
    pass.on_moments = [&](bool attention, int, ops::Moments& used, const ops::Moments&) {
        if (attention) attentions.push_back(used);
    };
    RunOptions inner;
    inner.on_norm_statistics = [&](int index, std::vector<double>& mean, std::vector<double>& variance) {
        if (options.on_norm_statistics) options.on_norm_statistics(index, mean, variance);
        means.push_back(mean);
        variances.push_back(variance);
    };
    int stages = 0;
    inner.on_stage = [&](const std::string&, double) { progress(++stages / 6.0); };
    model.full_frame(mosaic, inner, &pass);

    // The same statistics again for the whole photo: group_norm_fold sees them through its hook.
    size_t norm = 0, attention = 0;
    const NormStatisticsHook replay = [&](int, std::vector<double>& mean, std::vector<double>& variance) {
        mean = means.at(norm);
        variance = variances.at(norm++);
    };
    BufferPool unused;
    ops::Context ctx{model.threads, unused, kernels::active_kernels()};
    ctx.on_norm_statistics = &replay;
    for (size_t item = 0; item < net.items.size(); ++item) {
        if (net.items[item].transformed) {
            apply_statistics(net, ctx, model.info, item, attentions.at(attention++));
            continue;
        }
        const int channels = net.graph[size_t(net.items[item].node)].channels;
        ops::Moments none;
        none.sum.assign(size_t(channels), 0.0);
        none.sum_squares.assign(size_t(channels), 0.0);
        none.count = 1;
        apply_statistics(net, ctx, model.info, item, none);
    }
}

// Streams the generator over rows from `input`, handing [-1, 1] output rows ([3][rows][width]) to `output`.
void run_streaming(const LoadedModel& model, Network& net, const Choice& choice,
                   const stream::InputRows& input, const stream::Sink& output, const RunOptions& options) {
    model.release_buffers();
    const kernels::KernelTable& k = kernels::active_kernels();
    const int width = net.graph[0].width;
    // Progress over the sample pass (fast mode) and the streaming passes, by their estimated cost.
    const double sample_share =
        choice.plan.mode == RunPlan::Mode::StreamingFast ? 1 - 1 / choice.plan.relative_cost : 0;
    auto progress = [&](double begin, double end) {
        return [&options, begin, end](double fraction) {
            if (options.on_progress) options.on_progress(begin + (end - begin) * fraction);
        };
    };
    std::vector<stream::StatisticsItem> items = net.items;
    if (choice.plan.mode == RunPlan::Mode::StreamingFast) {
        measure_sample(model, net, choice, input, options, progress(0, sample_share));
        items.clear();  // known now
    }
    BufferPool unused;
    ops::Context ctx{model.threads, unused, k};
    ctx.on_norm_statistics = &options.on_norm_statistics;
    stream::Sink sink = [&](int first_row, int rows, const float* band) {
        const size_t n = size_t(rows) * width * 3;
        std::vector<float> out(band, band + n);
        k.tanh(out.data(), 0, n);
        output(first_row, rows, out.data());
    };
    model.last_peak_bytes = stream::run_plan(
        net.graph, items, choice.sweeps, model.threads, k, choice.band_rows, input, sink,
        [&](size_t item, const stream::Moments& m) { apply_statistics(net, ctx, model.info, item, m); },
        progress(sample_share, 1));
}

// The full frame reports its stages (block_a, ..., out_layer) as they end; progress is their share of the
// work.
RunOptions with_stage_progress(const Network& net, const RunOptions& options) {
    if (!options.on_progress) return options;
    auto shares = std::make_shared<std::map<std::string, double>>();
    double total = 0;
    for (const stream::Node& n : net.graph) {
        const std::string stage = n.name.substr(0, n.name.find('.'));
        (*shares)[stage] += n.cost * n.height;
        total += n.cost * n.height;
    }
    RunOptions wrapped = options;
    wrapped.on_stage = [options, shares, total, done = 0.0](const std::string& stage, double ms) mutable {
        if (options.on_stage) options.on_stage(stage, ms);
        done += (*shares)[stage];
        options.on_progress(total > 0 ? std::min(1.0, done / total) : 1.0);
    };
    return wrapped;
}

// The model with the run's threads: its own pool, or the calling thread alone
// (RunOptions::calling_thread_only, for runs side by side on one generator).
LoadedModel run_threads(const LoadedModel& m, const RunOptions& options, ThreadPool& calling_thread) {
    return {m.layers,           m.info,
            m.resize,           options.calling_thread_only ? calling_thread : m.threads,
            m.resident_at_load, m.mapped_weight_bytes,
            m.full_frame,       m.last_peak_bytes,
            m.release_buffers};
}

}  // namespace

size_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    size_t total_pages = 0, resident_pages = 0;
    if (statm >> total_pages >> resident_pages) return resident_pages * size_t(sysconf(_SC_PAGESIZE));
    return size_t(32) << 20;
}

RunPlan plan_run(const LoadedModel& shared, int width, int height, bool tensor, const RunOptions& options) {
    ThreadPool calling_thread(1);
    const LoadedModel model = run_threads(shared, options, calling_thread);
    check_size(height, width);
    return choose(model, build_network(model, height, width), width, height, tensor, options).plan;
}

Image stylize(const LoadedModel& shared, const Image& photo, const RunOptions& options) {
    ThreadPool calling_thread(1);
    const LoadedModel model = run_threads(shared, options, calling_thread);
    if (photo.pixels.size() != size_t(photo.width) * photo.height * 3)
        throw Error("stylize: inconsistent image");
    check_size(photo.height, photo.width);
    Network net = build_network(model, photo.height, photo.width);
    const Choice choice = choose(model, net, photo.width, photo.height, false, options);
    if (choice.plan.mode == RunPlan::Mode::FullFrame)
        return tensor_to_image(
            model.full_frame(image_to_tensor(photo), with_stage_progress(net, options), {}));
    const int width = photo.width;
    Image result;
    result.width = photo.width, result.height = photo.height;
    // The same conversions as image_to_tensor and tensor_to_image, a row at a time.
    auto input = [&](int y, float* row) {
        const uint8_t* px = &photo.pixels[size_t(y) * width * 3];
        for (int c = 0; c < 3; ++c)
            for (int x = 0; x < width; ++x) row[size_t(c) * width + x] = px[x * 3 + c] / 127.5f - 1.f;
    };
    auto output = [&](int first_row, int rows, const float* band) {
        if (result.pixels.empty()) result.pixels.resize(photo.pixels.size());
        for (int r = 0; r < rows; ++r) {
            uint8_t* px = &result.pixels[size_t(first_row + r) * width * 3];
            for (int c = 0; c < 3; ++c) {
                const float* from = band + (size_t(c) * rows + r) * width;
                for (int x = 0; x < width; ++x) {
                    float v = (from[x] + 1.f) * 127.5f;
                    v = v > 0.f ? (v < 255.f ? v : 255.f) : 0.f;  // also maps NaN to 0
                    px[x * 3 + c] = uint8_t(std::clamp(std::lround(v), 0L, 255L));
                }
            }
        }
    };
    run_streaming(model, net, choice, input, output, options);
    return result;
}

Tensor forward(const LoadedModel& shared, const Tensor& input, const RunOptions& options) {
    ThreadPool calling_thread(1);
    const LoadedModel model = run_threads(shared, options, calling_thread);
    if (input.channels() != 3) {
        throw Error("generator input must have 3 channels, got " + std::to_string(input.channels()));
    }
    check_size(input.height(), input.width());
    Network net = build_network(model, input.height(), input.width());
    const Choice choice = choose(model, net, input.width(), input.height(), true, options);
    if (choice.plan.mode == RunPlan::Mode::FullFrame)
        return model.full_frame(input, with_stage_progress(net, options), {});
    const int width = input.width();
    Tensor out;
    auto rows_in = [&](int y, float* row) {
        for (int c = 0; c < 3; ++c)
            std::copy_n(input.channel(c) + size_t(y) * width, width, row + size_t(c) * width);
    };
    auto rows_out = [&](int first_row, int rows, const float* band) {
        if (out.empty()) out = Tensor(3, input.height(), width);
        for (int c = 0; c < 3; ++c)
            std::copy_n(band + size_t(c) * rows * width, size_t(rows) * width,
                        out.channel(c) + size_t(first_row) * width);
    };
    run_streaming(model, net, choice, rows_in, rows_out, options);
    return out;
}

}  // namespace animeganv2

const char* mode_name(RunPlan::Mode mode) {
    switch (mode) {
        case RunPlan::Mode::FullFrame:
            return "full frame";
        case RunPlan::Mode::StreamingExact:
            return "streaming (exact)";
        case RunPlan::Mode::StreamingFast:
            return "streaming (fast)";
    }
    return "?";
}

size_t default_memory_limit() {
    return animeganv2::machine_memory_bytes() / 2;
}

}  // namespace animegan
