// TemporalStabilizer (animegan/video.h): running averages of the norm statistics through the generator's
// hook, a bounded pull of each output pixel toward the previous output, and scene-cut detection that restarts
// both.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <string>

#include "animegan/video.h"

namespace animegan {
namespace {

constexpr int kBinsPerChannel = 4;  // 4x4x4 colour bins: coarse enough that motion barely moves mass
constexpr int kBins = kBinsPerChannel * kBinsPerChannel * kBinsPerChannel;
constexpr int64_t kHistogramSamples = 1 << 16;  // enough for a stable histogram; a subsampled grid

using Histogram = std::array<double, kBins>;

Histogram colour_histogram(const Image& image) {
    Histogram h{};
    const int64_t pixels = int64_t(image.width) * image.height;
    const int step = std::max(1, int(std::sqrt(double(pixels) / kHistogramSamples)));
    double count = 0;
    for (int y = step / 2; y < image.height; y += step) {
        for (int x = step / 2; x < image.width; x += step) {
            const uint8_t* p = &image.pixels[(size_t(y) * image.width + x) * 3];
            h[(p[0] >> 6) * 16 + (p[1] >> 6) * 4 + (p[2] >> 6)] += 1;
            count += 1;
        }
    }
    for (double& v : h) v /= std::max(count, 1.0);
    return h;
}

// Half the L1 distance: the share of the picture's colour mass that moved to other bins, in [0, 1].
double histogram_distance(const Histogram& a, const Histogram& b) {
    double d = 0;
    for (int i = 0; i < kBins; ++i) d += std::abs(a[i] - b[i]);
    return d / 2;
}

void check(const StabilizerOptions& o) {
    auto in = [](float v, float lo, float hi) { return v >= lo && v <= hi; };
    if (!in(o.statistics_history, 0, 0.999f) || !in(o.pixel_history, 0, 0.999f))
        throw Error("stabilizer: statistics_history and pixel_history must be in [0, 1)");
    if (!in(o.max_mean_shift, 0, 100) || !in(o.max_log_variance_shift, 0, 100))
        throw Error("stabilizer: max_mean_shift and max_log_variance_shift must be in [0, 100]");
    if (o.max_pixel_shift < 0 || o.max_pixel_shift > 255)
        throw Error("stabilizer: max_pixel_shift must be in [0, 255]");
    if (!(o.cut_histogram_distance > 0) || !(o.cut_statistics_jump > 0))
        throw Error("stabilizer: scene-cut thresholds must be positive");
}

}  // namespace

struct TemporalStabilizer::Impl {
    StabilizerOptions options;
    // Per norm layer (in execution order) and group: running averages of the measured mean and variance.
    std::vector<std::vector<double>> mean, variance;
    Histogram last_histogram{};
    bool have_histogram = false;
    bool new_scene = true;
    int64_t cuts = 0;
    Image last_output;

    void start_scene() {
        mean.clear();
        variance.clear();
        last_output = Image();
        new_scene = true;
    }

    // A cut the input histograms missed (same colours, different picture) shows as a jump of the first
    // layer's statistics away from their running average.
    bool statistics_jump(const std::vector<double>& m, const std::vector<double>& v) const {
        for (size_t g = 0; g < m.size(); ++g) {
            const double sd = std::sqrt(variance[0][g]) + 1e-12;
            const double log_ratio = std::log((v[g] + 1e-12) / (variance[0][g] + 1e-12));
            if (std::abs(m[g] - mean[0][g]) / sd > options.cut_statistics_jump ||
                std::abs(log_ratio) > options.cut_statistics_jump)
                return true;
        }
        return false;
    }

    void on_statistics(int layer, std::vector<double>& m, std::vector<double>& v) {
        if (layer == 0 && !new_scene && !mean.empty() && mean[0].size() == m.size() &&
            statistics_jump(m, v)) {
            start_scene();
            ++cuts;
        }
        if (size_t(layer) >= mean.size()) {
            mean.resize(size_t(layer) + 1);
            variance.resize(size_t(layer) + 1);
        }
        std::vector<double>& avg_m = mean[size_t(layer)];
        std::vector<double>& avg_v = variance[size_t(layer)];
        if (avg_m.size() != m.size()) {  // first frame of a scene: the frame's own statistics
            avg_m = m;
            avg_v = v;
            return;
        }
        const double h = options.statistics_history;
        for (size_t g = 0; g < m.size(); ++g) {
            avg_m[g] = h * avg_m[g] + (1 - h) * m[g];
            avg_v[g] = h * avg_v[g] + (1 - h) * v[g];
            // Hand the layer the average, but no further from the frame's own than the bounds: real change
            // comes through, at a slower rate, and the frame stays close to itself stylized alone.
            const double sd = std::sqrt(v[g]), shift = options.max_mean_shift * sd;
            const double bound = std::exp(double(options.max_log_variance_shift));
            m[g] = std::clamp(avg_m[g], m[g] - shift, m[g] + shift);
            v[g] = std::clamp(avg_v[g], v[g] / bound, v[g] * bound);
        }
    }
};

TemporalStabilizer::TemporalStabilizer(const StabilizerOptions& options) : impl_(std::make_unique<Impl>()) {
    check(options);
    impl_->options = options;
}
TemporalStabilizer::TemporalStabilizer(TemporalStabilizer&&) noexcept = default;
TemporalStabilizer& TemporalStabilizer::operator=(TemporalStabilizer&&) noexcept = default;
TemporalStabilizer::~TemporalStabilizer() = default;

void TemporalStabilizer::begin_frame(const Image& input) {
    Impl& s = *impl_;
    const Histogram h = colour_histogram(input);
    const bool first = !s.have_histogram;
    const bool cut = !first && histogram_distance(h, s.last_histogram) > s.options.cut_histogram_distance;
    s.last_histogram = h;
    s.have_histogram = true;
    s.new_scene = false;
    if (first || cut) s.start_scene();
    if (cut) ++s.cuts;
}

NormStatisticsHook TemporalStabilizer::statistics_hook() {
    if (impl_->options.statistics_history == 0) return {};
    Impl* s = impl_.get();
    return [s](int layer, std::vector<double>& m, std::vector<double>& v) { s->on_statistics(layer, m, v); };
}

void TemporalStabilizer::end_frame(Image& output) {
    Impl& s = *impl_;
    const Image& last = s.last_output;
    const float h = s.options.pixel_history;
    const int limit = s.options.max_pixel_shift;
    if (h > 0 && last.width == output.width && last.height == output.height && !last.pixels.empty()) {
        // out = now + clamp(h * (last - now), +-limit): where the network's texture boils, the previous
        // frame's pixel mostly wins; where the picture really changes, the pull saturates at `limit` levels.
        for (size_t i = 0; i < output.pixels.size(); ++i) {
            const float now = output.pixels[i];
            const float pull = std::clamp(h * (float(last.pixels[i]) - now), float(-limit), float(limit));
            output.pixels[i] = uint8_t(std::lround(now + pull));
        }
    }
    s.last_output = output;
}

bool TemporalStabilizer::frame_started_scene() const {
    return impl_->new_scene;
}
int64_t TemporalStabilizer::scene_cuts() const {
    return impl_->cuts;
}
void TemporalStabilizer::reset() {
    impl_->have_histogram = false;
    impl_->start_scene();
}

}  // namespace animegan
