// libFuzzer harness for decode_image (engine/image): any input must decode or throw animegan::Error; a
// sanitizer report, another exception or a hang is a bug. PNG inputs are decoded a second time with their
// chunk CRCs repaired, or nearly every mutation of a PNG would stop at the CRC check and never reach stb.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "animegan/animegan.h"
#include "engine/image/image_check.h"
#include "tests/image_crafting.h"

namespace {

// Enough for every structure a decoder has; keeps each run fast (stb decodes a 100-megapixel frame in
// seconds, and the fuzzer would happily ask for that on every other input).
constexpr int64_t kFuzzMaxPixels = int64_t(1) << 20;

void decode(const std::vector<uint8_t>& bytes) {
    try {
        const animegan::Image image =
            animegan::image::decode_image_with_limit(bytes.data(), bytes.size(), "fuzz", kFuzzMaxPixels);
        if (image.pixels.size() != size_t(image.width) * image.height * 3) __builtin_trap();
    } catch (const animegan::Error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // An exactly sized heap copy, so that reading one byte past `size` is an ASan report.
    std::vector<uint8_t> bytes(data, data + size);
    decode(bytes);
    if (size > 8 && std::memcmp(data, "\x89PNG", 4) == 0) {
        animegan::testing::fix_png_crcs(bytes);
        decode(bytes);
    }
    return 0;
}
