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
