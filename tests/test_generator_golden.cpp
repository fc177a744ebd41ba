// The whole pipeline against real PyTorch: tools/torch_reference.py builds the port's Generator with seeded
// random weights (non-trivial norm affines), saves it with torch.save and runs it; our converter reads that
// .pt, our engine runs the same input, and the [-1, 1] outputs must agree within 1e-4 max abs.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "animegan/animegan.h"
#include "animegan/convert.h"
#include "tests/test_support.h"

namespace {

using namespace animegan;

constexpr double kGoldenTolerance = 1e-4;

struct GoldenCase {
    const char* name;
    int height, width;
    const char* upsample;
    bool attention;
    int norm_groups;
};

// Makes the reference files for one case; returns the directory, or "" when PyTorch is absent.
std::string make_reference(const GoldenCase& c) {
    const std::string dir = testing::scratch_dir(std::string("golden_") + c.name);
    const std::string command =
        std::string("/usr/bin/python3 ") + ANIMEGAN_SOURCE_DIR + "/tools/torch_reference.py --out " + dir +
        " --height " + std::to_string(c.height) + " --width " + std::to_string(c.width) + " --upsample " +
        c.upsample + (c.attention ? " --attention" : "") + " --norm-groups " + std::to_string(c.norm_groups) +
        " --seed 7 > " + dir + "/reference.log 2>&1";
    REQUIRE_MESSAGE(testing::run_command(command) == 0,
                    "reference script failed: see " << dir << "/reference.log");
    return dir;
}

Upsample parse(const std::string& s) {
    return s == "tf_legacy"    ? Upsample::TfLegacy
           : s == "half_pixel" ? Upsample::HalfPixel
                               : Upsample::AlignCorners;
}

Tensor load_input(const std::string& dir, int height, int width) {
    const std::vector<float> values = testing::read_f32_file(dir + "/input.f32");
    REQUIRE(values.size() == size_t(3) * height * width);
    Tensor t(3, height, width);
    std::copy(values.begin(), values.end(), t.data());
    return t;
}

}  // namespace

TEST_SUITE("golden") {

TEST_CASE("generator matches PyTorch on the same weights") {
    ANIMEGAN_SKIP_IF(testing::torch_unavailable_reason());
    const GoldenCase cases[] = {
        {"64_align_corners", 64, 64, "align_corners", false, 1},
        {"64_half_pixel", 64, 64, "half_pixel", false, 1},
        {"64_tf_legacy", 64, 64, "tf_legacy", false, 1},
        {"190x250_tf_legacy", 190, 250, "tf_legacy", false, 1},
        {"67x45_half_pixel", 67, 45, "half_pixel", false, 1},
        {"64_attention", 64, 64, "half_pixel", true, 1},
        {"64_instance_norm", 64, 64, "align_corners", false, 0},
        {"256_align_corners", 256, 256, "align_corners", false, 1},
    };
    for (const GoldenCase& c : cases) {
        SUBCASE(c.name) {
            const std::string dir = make_reference(c);
            ConvertOptions options;
            options.upsample = parse(c.upsample);
            options.norm_groups = c.norm_groups;
            const ConvertResult converted = convert_to_gguf(dir + "/model.pt", dir + "/model.gguf", options);
            CHECK(converted.style_attention == c.attention);
            const Generator generator = Generator::load(dir + "/model.gguf");
            CHECK(generator.info().style_attention == c.attention);
            const Tensor output = generator.forward(load_input(dir, c.height, c.width));
            const double diff = testing::max_abs_diff(output, testing::read_f32_file(dir + "/output.f32"));
            MESSAGE(std::string(c.name) << ": max abs diff vs PyTorch " << diff << " ("
                                        << std::string(kernels_isa()) << " kernels)");
            CHECK(diff <= kGoldenTolerance);
        }
    }
}

TEST_CASE("results are identical for any thread count, and f16 weights stay close") {
    ANIMEGAN_SKIP_IF(testing::torch_unavailable_reason());
    const GoldenCase c{"threads", 70, 58, "half_pixel", true, 1};
    const std::string dir = make_reference(c);
    ConvertOptions options;
    options.upsample = Upsample::HalfPixel;
    convert_to_gguf(dir + "/model.pt", dir + "/model.gguf", options);
    Generator generator = Generator::load(dir + "/model.gguf", 1);
    const Tensor input = load_input(dir, c.height, c.width);
    const Tensor one = generator.forward(input);
    for (int threads : {2, 3, 5}) {
        generator.set_threads(threads);
        const Tensor many = generator.forward(input);
        CHECK_MESSAGE(std::equal(one.data(), one.data() + one.size(), many.data()),
                      "output with " << threads << " threads differs from 1 thread");
    }

    // The norm-statistics hook: it sees the 24 norms of the architecture in order; handing a pass another
    // input's statistics changes its output, handing back its own measured ones changes nothing.
    struct Recorded {
        std::vector<std::vector<double>> mean, variance;
    };
    auto recorder = [](Recorded& r) {
        return [&r](int index, std::vector<double>& mean, std::vector<double>& variance) {
            CHECK(index == int(r.mean.size()));
            r.mean.push_back(mean);
            r.variance.push_back(variance);
        };
    };
    auto replayer = [](const Recorded& r) {
        return [&r](int index, std::vector<double>& mean, std::vector<double>& variance) {
            mean = r.mean.at(size_t(index));
            variance = r.variance.at(size_t(index));
        };
    };
    Recorded own, other;
    RunOptions run;
    run.on_norm_statistics = recorder(own);
    CHECK(std::equal(one.data(), one.data() + one.size(), generator.forward(input, run).data()));
    CHECK(own.mean.size() == 24);
    Tensor flipped(3, c.height, c.width);  // another picture: the input upside down and darker
    for (int ch = 0; ch < 3; ++ch) {
        for (int y = 0; y < c.height; ++y) {
            const float* from = input.data() + (size_t(ch) * c.height + (c.height - 1 - y)) * c.width;
            float* to = flipped.data() + (size_t(ch) * c.height + y) * c.width;
            for (int x = 0; x < c.width; ++x) to[x] = 0.5f * from[x] - 0.3f;
        }
    }
    run.on_norm_statistics = recorder(other);
    generator.forward(flipped, run);
    run.on_norm_statistics = replayer(own);
    CHECK(std::equal(one.data(), one.data() + one.size(), generator.forward(input, run).data()));
    run.on_norm_statistics = replayer(other);
    const Tensor borrowed = generator.forward(input, run);
    CHECK_MESSAGE(
        testing::max_abs_diff(borrowed, std::vector<float>(one.data(), one.data() + one.size())) > 1e-2,
        "another picture's statistics made no difference");

    options.f16 = true;
    convert_to_gguf(dir + "/model.pt", dir + "/model_f16.gguf", options);
    const double diff = testing::max_abs_diff(Generator::load(dir + "/model_f16.gguf").forward(input),
                                              testing::read_f32_file(dir + "/output.f32"));
    MESSAGE("f16 weights: max abs diff vs PyTorch f32 " << diff);
    CHECK(diff < 2e-2);
}

}  // TEST_SUITE("golden")
