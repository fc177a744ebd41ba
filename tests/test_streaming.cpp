// Streaming execution against the full-frame pass, on small images with a memory limit so small that the
// generator has to stream (in bands of a few rows, starting again from the input or a checkpoint for each
// norm layer). Seeded random weights from tools/torch_reference.py (non-trivial norm affines), converted by
// our converter, as the goldens use; PyTorch itself is not run here.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <string>

#include "animegan/animegan.h"
#include "animegan/convert.h"
#include "tests/test_support.h"

namespace {

using namespace animegan;

struct ModelCase {
    const char* name;
    const char* upsample;
    bool attention;
    int norm_groups;
};

// The converted model of one case, made once per test run.
std::string test_model(const ModelCase& c) {
    static std::map<std::string, std::string> made;
    if (made.count(c.name)) return made[c.name];
    const std::string dir = testing::scratch_dir(std::string("streaming_") + c.name);
    const std::string command =
        std::string("/usr/bin/python3 ") + ANIMEGAN_SOURCE_DIR + "/tools/torch_reference.py --out " + dir +
        " --height 16 --width 16 --upsample " + c.upsample + (c.attention ? " --attention" : "") +
        " --norm-groups " + std::to_string(c.norm_groups) + " --seed 3 > " + dir + "/reference.log 2>&1";
    REQUIRE_MESSAGE(testing::run_command(command) == 0,
                    "reference script failed: see " << dir << "/reference.log");
    ConvertOptions options;
    options.upsample = c.upsample == std::string("tf_legacy")    ? Upsample::TfLegacy
                       : c.upsample == std::string("half_pixel") ? Upsample::HalfPixel
                                                                 : Upsample::AlignCorners;
    options.norm_groups = c.norm_groups;
    convert_to_gguf(dir + "/model.pt", dir + "/model.gguf", options);
    return made[c.name] = dir + "/model.gguf";
}

// A picture-like input: smooth gradients, an edge and noise, in [-1, 1].
Tensor make_input(int height, int width, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> noise(0.f, 0.1f);
    Tensor t(3, height, width);
    for (int c = 0; c < 3; ++c)
        for (int y = 0; y < height; ++y)
            for (int x = 0; x < width; ++x) {
                const float u = float(x) / width, v = float(y) / height;
                float value = 0.5f * std::sin(6.3f * (1.3f + c) * u + 0.7f * c) +
                              0.4f * std::cos(6.3f * (0.8f + 0.5f * c) * v - 1.1f * c) +
                              (x > width / 3 ? 0.3f : -0.2f) + noise(rng);
                t.channel(c)[size_t(y) * width + x] = std::clamp(value, -1.f, 1.f);
            }
    return t;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
    return testing::max_abs_diff(a, std::vector<float>(b.data(), b.data() + b.size()));
}

// PSNR of two [-1, 1] tensors as 8-bit pictures.
double psnr(const Tensor& a, const Tensor& b) {
    const Image x = tensor_to_image(a), y = tensor_to_image(b);
    double squares = 0;
    for (size_t i = 0; i < x.pixels.size(); ++i) squares += std::pow(double(x.pixels[i]) - y.pixels[i], 2);
    return 10 * std::log10(255.0 * 255.0 / std::max(squares / double(x.pixels.size()), 1e-12));
}

// Mean |row y + 1 - row y| over the rows y for which at(y + 1) holds, all channels and columns.
template <typename Rows>
double mean_row_step(const Tensor& t, Rows at) {
    double total = 0;
    size_t count = 0;
    for (int c = 0; c < t.channels(); ++c)
        for (int y = 0; y + 1 < t.height(); ++y) {
            if (!at(y + 1)) continue;
            for (int x = 0; x < t.width(); ++x) {
                total += std::abs(t.channel(c)[size_t(y + 1) * t.width() + x] -
                                  t.channel(c)[size_t(y) * t.width() + x]);
                ++count;
            }
        }
    return total / double(count);
}

// Records each norm's statistics; or, given some, hands them to the pass instead of what it measured.
struct Statistics {
    std::vector<std::vector<double>> mean, variance;
    NormStatisticsHook record() {
        return [this](int, std::vector<double>& m, std::vector<double>& v) {
            mean.push_back(m);
            variance.push_back(v);
        };
    }
    NormStatisticsHook replay() const {
        return [this](int index, std::vector<double>& m, std::vector<double>& v) {
            m = mean.at(size_t(index));
            v = variance.at(size_t(index));
        };
    }
};

}  // namespace

TEST_SUITE("streaming") {
TEST_CASE("exact streaming matches the full-frame pass") {
    ANIMEGAN_SKIP_IF(testing::torch_unavailable_reason());
    struct Case {
        ModelCase model;
        int height, width;
    };
    const Case cases[] = {
        {{"align_corners", "align_corners", false, 1}, 96, 80},
        {{"tf_legacy_odd", "tf_legacy", false, 1}, 101, 67},
        {{"half_pixel_attention", "half_pixel", true, 1}, 72, 90},
        {{"instance_norm", "align_corners", false, 0}, 96, 96},
    };
    for (const Case& c : cases) {
        SUBCASE(c.model.name) {
            Generator generator = Generator::load(test_model(c.model), 2);
            const Tensor input = make_input(c.height, c.width, 5);
            const Tensor full = generator.forward(input);
            CHECK(generator.plan(c.width, c.height, {}, true).mode == RunPlan::Mode::FullFrame);
            // The least memory that streams: no checkpoint fits, every sweep starts from the input.
            RunOptions tight;
            tight.memory_limit = generator.plan(c.width, c.height, {}, true).minimum_bytes;
            const RunPlan plan = generator.plan(c.width, c.height, tight, true);
            REQUIRE(plan.mode == RunPlan::Mode::StreamingExact);
            const Tensor streamed = generator.forward(input, tight);
            const double diff = max_abs_diff(streamed, full);
            MESSAGE(std::string(c.model.name)
                    << " " << c.width << "x" << c.height << ": exact streaming vs full frame, max abs "
                    << diff << ", " << plan.passes << " passes, peak " << plan.peak_bytes);
            CHECK(diff <= 1e-4);
        }
    }
}

TEST_CASE("given the full frame's statistics, the streaming pass reproduces it to the bit") {
    // Everything but the statistics sweeps: bands, rings of rows, gathers at band edges, Winograd tiles.
    ANIMEGAN_SKIP_IF(testing::torch_unavailable_reason());
    Generator generator = Generator::load(test_model({"align_corners", "align_corners", false, 1}), 2);
    const int height = 133, width = 90;
    const Tensor input = make_input(height, width, 9);
    Statistics full_frame;
    RunOptions record;
    record.on_norm_statistics = full_frame.record();
    const Tensor full = generator.forward(input, record);
    RunOptions replay;
    replay.on_norm_statistics = full_frame.replay();
    replay.memory_limit = generator.plan(width, height, {}, true).minimum_bytes;
    REQUIRE(generator.plan(width, height, replay, true).mode == RunPlan::Mode::StreamingExact);
    const Tensor streamed = generator.forward(input, replay);
    CHECK(max_abs_diff(streamed, full) == 0);
}

TEST_CASE("checkpoints: with more memory, fewer passes start from the input and the result is the same") {
    ANIMEGAN_SKIP_IF(testing::torch_unavailable_reason());
    Generator generator = Generator::load(test_model({"align_corners", "align_corners", false, 1}), 2);
    const int height = 120, width = 96;
    const Tensor input = make_input(height, width, 4);
    const Tensor full = generator.forward(input);
    const RunPlan whole = generator.plan(width, height, {}, true);
    RunOptions tight, roomy;
    tight.memory_limit = whole.minimum_bytes;
    roomy.memory_limit = whole.peak_bytes - 1;
    const RunPlan tight_plan = generator.plan(width, height, tight, true);
    const RunPlan roomy_plan = generator.plan(width, height, roomy, true);
    REQUIRE(roomy_plan.mode == RunPlan::Mode::StreamingExact);
    CHECK(roomy_plan.relative_cost < tight_plan.relative_cost);
    size_t kept = 0;
    for (const std::string& sweep : roomy_plan.sweeps) kept += sweep.find("keeps") != std::string::npos;
    CHECK(kept >= 10);
    const Tensor streamed = generator.forward(input, roomy);
    CHECK(max_abs_diff(streamed, full) <= 1e-4);
    // The buffers held what the dry run counted, and the run stayed inside the limit it was given.
    CHECK(generator.last_peak_activation_bytes() + roomy_plan.base_bytes +
              size_t(width) * height * 3 * 4 * 2 ==
          roomy_plan.peak_bytes);
    CHECK(roomy_plan.peak_bytes <= roomy.memory_limit);
    // Bands split across threads along whole Winograd tiles and channel blocks: the same bits for any
    // count (as long as the plan is the same: each thread's scratch counts, so fewer threads may fit more
    // checkpoints, whose float16 rows round other values).
    for (int threads : {1, 3}) {
        generator.set_threads(threads);
        const Tensor other = generator.forward(input, roomy);
        if (generator.plan(width, height, roomy, true).sweeps == roomy_plan.sweeps) {
            CHECK_MESSAGE(max_abs_diff(other, streamed) == 0, threads << " threads differ from 2");
        } else {
            CHECK(max_abs_diff(other, full) <= 1e-4);
        }
    }
}

TEST_CASE("fast streaming: statistics from samples, one pass, close to the exact result") {
    ANIMEGAN_SKIP_IF(testing::torch_unavailable_reason());
    for (const ModelCase& model : {ModelCase{"align_corners", "align_corners", false, 1},
                                   ModelCase{"half_pixel_attention", "half_pixel", true, 1}}) {
        SUBCASE(model.name) {
            Generator generator = Generator::load(test_model(model), 2);
            // Crops: a mosaic of 16 crops of 48 pixels, 30% of the picture, measured over their
            // interiors.
            int height = 320, width = 240;
            Tensor input = make_input(height, width, 6);
            Tensor full = generator.forward(input);
            RunOptions fast;
            fast.fast = true;
            fast.fast_samples = 16;
            fast.memory_limit = generator.plan(width, height, {}, true).peak_bytes - 1;
            Statistics seen;
            fast.on_norm_statistics = seen.record();
            RunPlan plan = generator.plan(width, height, fast, true);
            REQUIRE(plan.mode == RunPlan::Mode::StreamingFast);
            const Tensor estimated = generator.forward(input, fast);
            const double db = psnr(estimated, full);
            MESSAGE(std::string(model.name) << " fast vs full frame: PSNR " << db << " dB, max abs "
                                            << max_abs_diff(estimated, full) << ", " << plan.sweeps.front());
            CHECK(seen.mean.size() == 24);  // the caller's hook sees each norm once
            CHECK(db >= 30);
            CHECK(max_abs_diff(estimated, full) > 0);  // estimates, not the measured statistics

            // The default 256 crops would cover most of this picture: exact statistics then.
            fast.fast_samples = 0;
            CHECK(generator.plan(width, height, fast, true).mode == RunPlan::Mode::StreamingExact);
        }
    }
}

TEST_CASE("no seams: rows at band borders step no more than the others") {
    ANIMEGAN_SKIP_IF(testing::torch_unavailable_reason());
    Generator generator = Generator::load(test_model({"tf_legacy_odd", "tf_legacy", false, 1}), 2);
    const int height = 320, width = 240;
    const Tensor input = make_input(height, width, 8);
    const Tensor full = generator.forward(input);
    for (bool fast : {false, true}) {
        RunOptions options;
        options.fast = fast;
        options.fast_samples = 16;
        const RunPlan whole = generator.plan(width, height, {}, true);
        options.memory_limit = fast ? whole.peak_bytes - 1 : whole.minimum_bytes;
        const RunPlan plan = generator.plan(width, height, options, true);
        REQUIRE(plan.mode == (fast ? RunPlan::Mode::StreamingFast : RunPlan::Mode::StreamingExact));
        const Tensor streamed = generator.forward(input, options);
        auto border = [&](int y) { return y % plan.band_rows == 0; };
        auto inside = [&](int y) { return y % plan.band_rows != 0; };
        const double at_borders = mean_row_step(streamed, border),
                     elsewhere = mean_row_step(streamed, inside);
        MESSAGE(std::string(fast ? "fast" : "exact")
                << ": bands of " << plan.band_rows << " rows, mean row step " << at_borders
                << " at band borders, " << elsewhere << " elsewhere, " << mean_row_step(full, border)
                << " at the same rows of the full frame");
        CHECK(at_borders <= 1.1 * mean_row_step(full, border) + 1e-3);
        CHECK(at_borders <= 1.5 * elsewhere);
    }
}

TEST_CASE("a memory limit too small fails at once and names one that works") {
    ANIMEGAN_SKIP_IF(testing::torch_unavailable_reason());
    const std::string model = test_model({"align_corners", "align_corners", false, 1});
    Generator generator = Generator::load(model, 2);
    RunOptions small;
    small.memory_limit = size_t(100) << 20;
    // 100 megapixels: nothing is allocated for them, the plan alone decides.
    const std::string message = testing::error_message([&] { generator.plan(10000, 10000, small); });
    const size_t at = message.find("needs at least ");
    REQUIRE_MESSAGE(at != std::string::npos, message);
    RunOptions enough;
    enough.memory_limit = size_t(std::stoul(message.substr(at + 15))) << 20;
    CHECK(generator.plan(10000, 10000, enough).mode == RunPlan::Mode::StreamingExact);
    CHECK(generator.plan(10000, 10000, enough).peak_bytes <= enough.memory_limit);
    Image huge;
    huge.width = huge.height = 10000;
    huge.pixels.resize(size_t(10000) * 10000 * 3);
    testing::check_error_mentions([&] { generator.stylize(huge, small); }, "needs at least");

    // The CLI checks from the file's header, before decoding: a 2000x2000 photo under 100 MB.
    const std::string dir = testing::scratch_dir("streaming_cli");
    Image photo;
    photo.width = photo.height = 2000;
    photo.pixels.assign(size_t(2000) * 2000 * 3, 128);
    save_image(dir + "/photo.bmp", photo);
    const std::string cli = std::string(ANIMEGAN_BINARY_DIR) + "/examples/animegan2";
    ANIMEGAN_SKIP_IF(std::filesystem::exists(cli) ? "" : cli + " is not built (the rest of this case ran)");
    const int status = testing::run_command(cli + " -m " + model + " -i " + dir + "/photo.bmp -o " + dir +
                                            "/out.png --memory-limit 100M 2> " + dir + "/stderr.txt");
    CHECK(status == 1);
    const std::vector<uint8_t> err = testing::read_bytes(dir + "/stderr.txt");
    const std::string text(err.begin(), err.end());
    MESSAGE("animegan2 says: " << text);
    CHECK(text.find("needs at least") != std::string::npos);
}

TEST_CASE("the default memory limit is half the machine's") {
    const size_t limit = default_memory_limit();
    CHECK(limit > (size_t(64) << 20));
    CHECK(limit < (size_t(1) << 50));
}

TEST_CASE("a memory limit above the machine's counts as the machine's: a huge photo streams, never OOMs") {
    ANIMEGAN_SKIP_IF(testing::torch_unavailable_reason());
    Generator generator = Generator::load(test_model({"align_corners", "align_corners", false, 1}), 2);
    RunOptions unlimited;
    unlimited.memory_limit = size_t(1) << 60;
    const RunPlan plan = generator.plan(10000, 10000, unlimited);
    CHECK(plan.limit_bytes <= 2 * default_memory_limit() + 1);
    // 100 megapixels at about 550 bytes each: 55 GB for the full frame, more than this project's machines.
    if (plan.limit_bytes < (size_t(55) << 30)) CHECK(plan.mode != RunPlan::Mode::FullFrame);
}

}  // TEST_SUITE("streaming")
