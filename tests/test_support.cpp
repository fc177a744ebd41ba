#include "tests/test_support.h"

#include <doctest/doctest.h>

#include <cmath>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <sys/wait.h>
#include "animegan/error.h"

namespace animegan::testing {

int run_command(const std::string& command) {
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string torch_unavailable_reason() {
    static const std::string reason = [] {
        if (!std::filesystem::exists("/usr/bin/python3"))
            return std::string("/usr/bin/python3 is not installed");
        if (run_command("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) {
            return std::string(
                "PyTorch is not importable by /usr/bin/python3 (apt-get install python3-torch)");
        }
        return std::string();
    }();
    return reason;
}

std::string shared_dir() {
    const std::filesystem::path p = std::filesystem::path(ANIMEGAN_SOURCE_DIR) / ".." / "shared";
    return std::filesystem::is_directory(p) ? std::filesystem::canonical(p).string() : std::string();
}

std::string scratch_dir(const std::string& name) {
    const std::filesystem::path p = std::filesystem::path(ANIMEGAN_BINARY_DIR) / "test-scratch" / name;
    std::filesystem::remove_all(p);
    std::filesystem::create_directories(p);
    return p.string();
}

std::vector<uint8_t> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path);
}

std::vector<float> read_f32_file(const std::string& path) {
    const std::vector<uint8_t> bytes = read_bytes(path);
    std::vector<float> values(bytes.size() / sizeof(float));
    std::copy(bytes.begin(), bytes.begin() + values.size() * sizeof(float),
              reinterpret_cast<uint8_t*>(values.data()));
    return values;
}

void check_error_mentions(const std::function<void()>& fn, const std::string& needle) {
    try {
        fn();
        FAIL_CHECK("no error; expected one mentioning '" << needle << "'");
    } catch (const Error& e) {
        CHECK_MESSAGE(std::string(e.what()).find(needle) != std::string::npos, "error was: " << e.what());
    }
}

std::string error_message(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    } catch (const std::exception& other) {
        FAIL_CHECK("expected animegan::Error, got another exception: " << other.what());
        return other.what();
    }
    return "<no error>";
}

std::string shared_file_absent(const std::string& relative) {
    const std::string dir = shared_dir();
    if (dir.empty()) return "../shared is absent";
    const std::string path = dir + "/" + relative;
    return std::filesystem::exists(path) ? "" : path + " is absent";
}

std::string shared_file(const std::string& relative) {
    return shared_dir() + "/" + relative;
}

std::string npm_model(const std::string& file) {
    const char* env = std::getenv("ANIMEGAN_NPM_MODELS");
    const std::filesystem::path dir =
        env && *env ? std::filesystem::path(env)
                    : std::filesystem::path(ANIMEGAN_SOURCE_DIR) / "build" / "npm-models";
    return (dir / file).string();
}

std::string npm_model_absent(const std::string& file) {
    const std::string path = npm_model(file);
    return std::filesystem::exists(path)
               ? ""
               : path + " is absent (scripts/fetch_test_models.sh fetches it from npm)";
}

std::string armnn_unavailable_reason() {
    static const std::string reason = [] {
        if (!std::filesystem::exists("/usr/bin/python3"))
            return std::string("/usr/bin/python3 is not installed");
        if (run_command("/usr/bin/python3 -c 'import pyarmnn, numpy' >/dev/null 2>&1") != 0) {
            return std::string(
                "pyarmnn is not importable by /usr/bin/python3 (apt-get install python3-pyarmnn "
                "python3-numpy)");
        }
        return std::string();
    }();
    return reason;
}

double max_abs_diff(const Tensor& got, const std::vector<float>& want) {
    REQUIRE(got.size() == want.size());
    double worst = 0;
    for (size_t i = 0; i < want.size(); ++i) {
        const double d = std::abs(double(got.data()[i]) - want[i]);
        worst = std::isnan(d) ? INFINITY : std::max(worst, d);
    }
    return worst;
}

}  // namespace animegan::testing

// ---- Window kernels against their definitions -------------------------------------------------------------

#include <algorithm>
#include <cstring>

namespace animegan::testing {

std::vector<float> random_floats(size_t n, std::mt19937& rng, float lo, float hi) {
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

int ConvTestShape::out_height() const {
    return max_pool ? (in_height - kernel + stride - 1) / stride + 1 : (in_height - kernel) / stride + 1;
}

int ConvTestShape::out_width() const {
    return max_pool ? (in_width - kernel + stride - 1) / stride + 1 : (in_width - kernel) / stride + 1;
}

kernels::ConvShape ConvTestShape::conv_shape() const {
    kernels::ConvShape s{in_channels, in_height, in_width, out_channels, out_height(),
                         out_width(), kernel,    kernel,   stride,       groups};
    if (strided_output) s.out_plane_stride = s.out_plane() + 3;
    return s;
}

std::string ConvTestShape::text() const {
    return "k" + std::to_string(kernel) + " s" + std::to_string(stride) + " g" + std::to_string(groups) +
           " " + std::to_string(in_channels) + "->" + std::to_string(out_channels) + " " +
           std::to_string(in_height) + "x" + std::to_string(in_width) + (bias ? " bias" : "") +
           (strided_output ? " strided output" : "");
}

ConvTester::ConvTester(const ConvTestShape& shape, std::mt19937& rng) : shape_(shape) {
    REQUIRE(shape.in_channels % shape.groups == 0);
    REQUIRE(shape.out_channels % shape.groups == 0);
    REQUIRE((!shape.max_pool || shape.in_channels == shape.out_channels));
    input_ = random_floats(size_t(shape.in_channels) * shape.in_height * shape.in_width, rng);
    if (!shape.max_pool) {
        weight_ = random_floats(
            size_t(shape.out_channels) * (shape.in_channels / shape.groups) * shape.kernel * shape.kernel,
            rng);
        bias_ = random_floats(size_t(shape.out_channels), rng);
    }
}

// Raw pointers and hoisted row starts: the sanitizer build runs this at -O0, where it dominates the time.
std::vector<double> ConvTester::definition() const {
    const ConvTestShape& s = shape_;
    const int out_h = s.out_height(), out_w = s.out_width(), k = s.kernel;
    const int in_per_group = s.in_channels / s.groups, out_per_group = s.out_channels / s.groups;
    std::vector<double> out(size_t(s.out_channels) * out_h * out_w);
    double* dst = out.data();
    for (int oc = 0; oc < s.out_channels; ++oc) {
        const float* group_in =
            input_.data() + size_t(oc / out_per_group) * in_per_group * s.in_height * s.in_width;
        const float* taps = s.max_pool ? nullptr : weight_.data() + size_t(oc) * in_per_group * k * k;
        for (int oy = 0; oy < out_h; ++oy) {
            // A pool's windows are cut by the bottom / right edge; a convolution's never reach it.
            const int rows = std::min(k, s.in_height - oy * s.stride);
            for (int ox = 0; ox < out_w; ++ox, ++dst) {
                const int cols = std::min(k, s.in_width - ox * s.stride);
                double acc = s.max_pool ? -INFINITY : s.bias ? bias_[oc] : 0.0;
                for (int i = 0; i < in_per_group; ++i) {
                    const float* window =
                        group_in + (size_t(i) * s.in_height + oy * s.stride) * s.in_width + ox * s.stride;
                    for (int ky = 0; ky < rows; ++ky) {
                        const float* row = window + size_t(ky) * s.in_width;
                        if (s.max_pool) {
                            for (int kx = 0; kx < cols; ++kx) acc = std::max(acc, double(row[kx]));
                        } else {
                            const float* w = taps + (size_t(i) * k + ky) * k;
                            for (int kx = 0; kx < cols; ++kx) acc += double(row[kx]) * w[kx];
                        }
                    }
                }
                *dst = acc;
            }
        }
    }
    return out;
}

double ConvTester::check(const std::string& what, const Run& run, ErrorBound bound) const {
    const kernels::ConvShape cs = shape_.conv_shape();
    const int channels = shape_.out_channels;
    const size_t plane = size_t(cs.out_height) * cs.out_width, stride = cs.out_plane();
    std::vector<float> whole(channels * stride, NAN), split = whole;
    run(0, channels, whole.data());
    // Cuts at a third and at two thirds (+ 1) of the channels, which for most counts fall inside the kernels'
    // blocks of 6 output channels; with few channels some ranges are empty.
    const int cuts[] = {0, channels / 3, std::min(2 * channels / 3 + 1, channels), channels};
    for (int r = 0; r < 3; ++r) {
        if (cuts[r] < cuts[r + 1]) run(cuts[r], cuts[r + 1], split.data());
    }
    const std::string name = what + " " + shape_.text();
    CHECK_MESSAGE(std::memcmp(whole.data(), split.data(), whole.size() * sizeof(float)) == 0,
                  name << ": results depend on how the channels are split");
    const std::vector<double> want = definition();
    double worst = 0;
    for (int oc = 0; oc < channels; ++oc) {
        const float* got = split.data() + oc * stride;
        for (size_t gap = plane; gap < stride; ++gap) {
            if (!std::isnan(got[gap])) {
                FAIL_CHECK(name << ": gap after output plane " << oc << " was written");
                return INFINITY;
            }
        }
        for (size_t i = 0; i < plane; ++i) {
            const double expected = want[oc * plane + i], error = std::abs(got[i] - expected);
            worst = std::isnan(error) ? INFINITY : std::max(worst, error);
            if (!(error <= bound.atol + bound.rtol * std::abs(expected))) {
                FAIL_CHECK(name << ": channel " << oc << " element " << i << " is " << got[i] << ", expected "
                                << expected);
                return worst;
            }
        }
    }
    return worst;
}

}  // namespace animegan::testing
