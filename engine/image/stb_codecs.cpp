// stb_image and stb_image_write from Debian's libstb-dev (v2.27), compiled here and nowhere else. See
// stb_codecs.h; the defects of this stb version that a hostile file could reach are closed in front of it by
// image_check.cpp, and engine/CMakeLists.txt gives this file -fwrapv (see there).
#include "engine/image/stb_codecs.h"

#include <climits>
#include <memory>

// Only the formats the README documents: stb's GIF, TGA, PSD, PIC, PNM and HDR decoders are not compiled at
// all (stb's TGA decoder takes almost any byte string as a picture, and its GIF decoder has had several
// memory-safety fixes since this version).
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#endif
#if defined(__GNUC__) && !defined(__clang__)
// GCC cannot see that stb's callback fields are never read for in-memory decoding once the non-JPEG/PNG/BMP
// decoders are compiled out and the rest is inlined differently.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace animegan::image {

bool stb_decode_rgb(const uint8_t* data, size_t size, Image& out, std::string& reason) {
    if (size > size_t(INT_MAX)) {
        reason = "file too large";
        return false;
    }
    int width = 0, height = 0, channels = 0;
    const std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
        stbi_load_from_memory(data, int(size), &width, &height, &channels, 3), stbi_image_free);
    if (!pixels) {
        // A few of stb's error paths return without setting a reason.
        const char* why = stbi_failure_reason();
        reason = why ? why : "corrupt image";
        return false;
    }
    out.width = width;
    out.height = height;
    out.pixels.assign(pixels.get(), pixels.get() + size_t(width) * size_t(height) * 3);
    return true;
}

long long stb_inflate_bounded(const uint8_t* zlib, size_t size, uint8_t* out, size_t capacity) {
    if (size > size_t(INT_MAX) || capacity > size_t(INT_MAX)) return -1;
    // stb's fixed-buffer inflater refuses to grow past `capacity` ("output buffer limit").
    return stbi_zlib_decode_buffer(reinterpret_cast<char*>(out), int(capacity),
                                   reinterpret_cast<const char*>(zlib), int(size));
}

bool stb_write_png(const std::string& path, const Image& image) {
    return stbi_write_png(path.c_str(), image.width, image.height, 3, image.pixels.data(), image.width * 3);
}

bool stb_write_jpg(const std::string& path, const Image& image, int quality) {
    return stbi_write_jpg(path.c_str(), image.width, image.height, 3, image.pixels.data(), quality);
}

bool stb_write_bmp(const std::string& path, const Image& image) {
    return stbi_write_bmp(path.c_str(), image.width, image.height, 3, image.pixels.data());
}

namespace {

// stb calls this with each piece of the file as it is produced.
void append_bytes(void* context, void* data, int size) {
    auto* bytes = static_cast<std::vector<uint8_t>*>(context);
    bytes->insert(bytes->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

}  // namespace

bool stb_encode_png(const Image& image, std::vector<uint8_t>& out) {
    return stbi_write_png_to_func(append_bytes, &out, image.width, image.height, 3, image.pixels.data(),
                                  image.width * 3);
}

bool stb_encode_jpg(const Image& image, int quality, std::vector<uint8_t>& out) {
    return stbi_write_jpg_to_func(append_bytes, &out, image.width, image.height, 3, image.pixels.data(),
                                  quality);
}

}  // namespace animegan::image
