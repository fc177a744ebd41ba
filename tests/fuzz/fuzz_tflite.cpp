// libFuzzer harness for the TFLite reader: any input must parse or throw animegan::Error, and every
// tensor of a parsed model must decode or throw animegan::Error. Anything else (a sanitizer report, a
// different exception, a hang) is a bug. Built and run by scripts/fuzz.sh (see tests/fuzz/CMakeLists.txt).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "animegan/error.h"
#include "weights/tflite_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // An exactly sized heap copy, so that reading one byte past `size` is an ASan report.
    const std::vector<uint8_t> bytes(data, data + size);
    try {
        const animegan::weights::TfliteModel model =
            animegan::weights::parse_tflite(bytes.data(), bytes.size(), "fuzz.tflite");
        for (size_t i = 0; i < model.tensors.size(); ++i) {
            try {
                model.tensor_as_float(static_cast<int>(i));
            } catch (const animegan::Error&) {
            }
        }
    } catch (const animegan::Error&) {
    }
    return 0;
}
