// libFuzzer harness for the GGUF reader: any input must parse or throw animegan::Error, and every getter
// and tensor of a parsed file must answer or throw animegan::Error.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "animegan/error.h"
#include "weights/gguf.h"

namespace {

// A getter may throw animegan::Error on a malformed file (and nothing else): the fuzzer only looks for
// crashes.
template <typename F>
void ignore_errors(F&& f) {
    try {
        f();
    } catch (const animegan::Error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        // from_bytes keeps this exactly sized vector, so reading past `size` is an ASan report.
        const animegan::weights::GgufFile file =
            animegan::weights::GgufFile::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.gguf");
        for (const char* key :
             {"general.architecture", "general.alignment", "general.name", "animeganv2.upsample_mode",
              "animeganv2.norm_eps", "animeganv2.style_attention"}) {
            ignore_errors([&] { file.get_string(key); });
            ignore_errors([&] { file.get_u32(key); });
            ignore_errors([&] { file.get_f32(key); });
            ignore_errors([&] { file.get_bool(key); });
        }
        for (const animegan::weights::GgufTensor& t : file.tensors()) {
            if (file.find(t.name) != &t) __builtin_trap();
            if (t.nbytes <= (size_t(1) << 20)) ignore_errors([&] { t.to_f32(); });
        }
    } catch (const animegan::Error&) {
    }
    return 0;
}
