// libFuzzer harness for the PyTorch .pt reader (zip container, pickle subset, tensor views): any input must
// parse or throw animegan::Error.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "animegan/error.h"
#include "weights/torch_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // An exactly sized heap copy, so that reading one byte past `size` is an ASan report.
    const std::vector<uint8_t> bytes(data, data + size);
    try {
        for (const auto& t :
             animegan::weights::read_torch_checkpoint_bytes(bytes.data(), bytes.size(), "fuzz.pt")) {
            size_t n = 1;
            for (int64_t d : t.shape) n *= size_t(d);
            if (n != t.data.size()) __builtin_trap();
        }
    } catch (const animegan::Error&) {
    }
    return 0;
}
