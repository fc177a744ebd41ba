// libFuzzer harness for the GGUF reader: any input must parse or throw animegan::Error, and every getter
// and tensor of a parsed file must answer or throw animegan::Error.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "animegan/error.h"
#include "weights/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        // from_bytes keeps this exactly sized vector, so reading past `size` is an ASan report.
        const animegan::weights::GgufFile file =
            animegan::weights::GgufFile::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.gguf");
        for (const char* key :
             {"general.architecture", "general.alignment", "general.name", "animeganv2.upsample_mode",
              "animeganv2.norm_eps", "animeganv2.style_attention"}) {
            try {
                file.get_string(key);
            } catch (const animegan::Error&) {
            }
            try {
                file.get_u32(key);
            } catch (const animegan::Error&) {
            }
            try {
                file.get_f32(key);
            } catch (const animegan::Error&) {
            }
            try {
                file.get_bool(key);
            } catch (const animegan::Error&) {
            }
        }
        for (const animegan::weights::GgufTensor& t : file.tensors()) {
            if (file.find(t.name) != &t) __builtin_trap();
            try {
                if (t.nbytes <= (size_t(1) << 20)) t.to_f32();
            } catch (const animegan::Error&) {
            }
        }
    } catch (const animegan::Error&) {
    }
    return 0;
}
