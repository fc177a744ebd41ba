// Shared helpers for tests that need outside material: PyTorch (for goldens) and ../shared (real weights and
// photos). Both may be absent on a fresh clone; such tests skip with a printed reason instead of failing.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "animegan/tensor.h"

// Ends the test case, printing "skipped: <reason>", when `reason` (a string expression: "" means available)
// says that outside material the test needs is absent.
#define ANIMEGAN_SKIP_IF(reason)                   \
    do {                                           \
        const std::string skip_reason_ = (reason); \
        if (!skip_reason_.empty()) {               \
            MESSAGE("skipped: " << skip_reason_);  \
            return;                                \
        }                                          \
    } while (0)

namespace animegan::testing {

// Empty when /usr/bin/python3 can import torch; otherwise the reason it cannot.
std::string torch_unavailable_reason();

// Path of the ../shared folder next to the project, or "" when absent.
std::string shared_dir();

// A fresh empty scratch directory under the build tree, named after the test.
std::string scratch_dir(const std::string& name);

// Runs a shell command; returns its exit status.
int run_command(const std::string& command);

std::vector<float> read_f32_file(const std::string& path);
std::vector<uint8_t> read_bytes(const std::string& path);
void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);

// Checks that fn throws animegan::Error whose message contains needle.
void check_error_mentions(const std::function<void()>& fn, const std::string& needle);

// The message of the animegan::Error fn throws, or "<no error>"; any other exception fails the test.
std::string error_message(const std::function<void()>& fn);

// "" when ../shared/<relative> exists, else why it cannot be used (for ANIMEGAN_SKIP_IF).
std::string shared_file_absent(const std::string& relative);
// ../shared/<relative> (check shared_file_absent first).
std::string shared_file(const std::string& relative);

// "" when scripts/fetch_test_models.sh has fetched `file` (a face detector from npm) into
// $ANIMEGAN_NPM_MODELS (default build/npm-models), else why it cannot be used (for ANIMEGAN_SKIP_IF).
std::string npm_model_absent(const std::string& file);
// Its path (check npm_model_absent first).
std::string npm_model(const std::string& file);

// "" when /usr/bin/python3 can import pyarmnn and numpy (Arm NN, the detectors' reference), else why not.
std::string armnn_unavailable_reason();

// Largest |got - want| over all elements (infinity if any is NaN); the sizes must match.
double max_abs_diff(const Tensor& got, const std::vector<float>& want);

}  // namespace animegan::testing

// ---- Window kernels against their definitions -------------------------------------------------------------
// One tester for the kernels that slide a window over [C, H, W] planes (conv2d, conv_winograd, max_pool_2x2):
// it makes the inputs, runs a kernel over split output-channel ranges as threads would, and holds the result
// to the definition computed in double.

#include <random>

#include "kernels/kernels.h"

namespace animegan::testing {

std::vector<float> random_floats(size_t n, std::mt19937& rng, float lo = -1.f, float hi = 1.f);

struct ConvTestShape {
    int in_channels, out_channels;
    int in_height, in_width;  // the input as the kernel reads it: a convolution's is already padded
    int kernel, stride = 1, groups = 1;
    bool bias = false;
    // Output planes 3 floats apart instead of dense, as the engine writes a band of rows into a taller
    // output; the gaps must stay untouched.
    bool strided_output = false;
    // The 2x2 pool's windows: the largest tap, windows cut by the bottom / right edge keep the taps inside
    // (TF SAME pooling), so the output is ceil((in - kernel) / stride) + 1 per side. Otherwise a convolution:
    // bias + the sum of weight * input over the window, (in - kernel) / stride + 1 per side.
    bool max_pool = false;

    int out_height() const;
    int out_width() const;
    kernels::ConvShape conv_shape() const;
    std::string text() const;  // e.g. "k5 s2 g1 3->24 131x131 strided output"
};

// |got - want| <= atol + rtol * |want| for every output element.
struct ErrorBound {
    double atol, rtol;
};

class ConvTester {
  public:
    ConvTester(const ConvTestShape& shape, std::mt19937& rng);

    const ConvTestShape& shape() const { return shape_; }
    const std::vector<float>& input() const { return input_; }
    const std::vector<float>& weight() const { return weight_; }  // [out][in / groups][kernel][kernel]
    const float* bias() const { return shape_.bias ? bias_.data() : nullptr; }

    // The output channels [oc_begin, oc_end) of a kernel call into `output` (out_channels planes laid out as
    // conv_shape().out_plane() says).
    using Run = std::function<void(int oc_begin, int oc_end, float* output)>;

    // Runs `run` over three ranges that split the output channels inside the kernels' channel blocks, checks
    // that the result is bit for bit the one of a single call over all channels, that the gaps between
    // strided planes stay untouched, and that every element is within `bound` of the definition. `what`
    // names the kernel in failure messages. Returns the largest |got - want|.
    double check(const std::string& what, const Run& run, ErrorBound bound) const;

  private:
    std::vector<double> definition() const;

    ConvTestShape shape_;
    std::vector<float> input_, weight_, bias_;
};

}  // namespace animegan::testing
