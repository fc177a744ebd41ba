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

// Largest |got - want| over all elements (infinity if any is NaN); the sizes must match.
double max_abs_diff(const Tensor& got, const std::vector<float>& want);

}  // namespace animegan::testing
