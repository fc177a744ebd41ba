// A validating pass in front of stb_image: walks the structure of a JPEG, PNG or BMP file and refuses, with a
// one-line animegan::Error, anything the stb version we build with (Debian's libstb-dev, stb_image v2.27)
// is known to mishandle, anything truncated, and every other format. stb only ever sees files this accepts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "animegan/animegan.h"

namespace animegan::image {

enum class ImageFormat { Jpeg, Png, Bmp };
const char* format_name(ImageFormat format);  // "JPEG", "PNG", "BMP"

struct CheckedImage {
    ImageFormat format = ImageFormat::Jpeg;
    int width = 0, height = 0;
    // When non-empty, the bytes stb must decode instead of the input: the same PNG with its palette padded
    // to 2^depth entries (see check_png), so that no pixel can index a palette entry stb left uninitialized.
    std::vector<uint8_t> patched;
};

// Throws animegan::Error "<label>: <reason>" unless data[0, size) is a well-formed JPEG, PNG or BMP of at
// most max_pixels pixels. The pixel limit is checked before anything of the image's size is allocated.
CheckedImage check_image(const uint8_t* data, size_t size, const std::string& label, int64_t max_pixels);

// The CRC-32 of PNG chunks (for tests and the fuzz harness, which build and repair PNGs).
uint32_t png_crc32(const uint8_t* data, size_t size);

// check_image, then stb: decode_image with a pixel limit of the caller's choosing (the fuzz harness keeps it
// small so that it spends its time on structure, not on decoding large frames).
Image decode_image_with_limit(const uint8_t* data, size_t size, const std::string& label, int64_t max_pixels);

}  // namespace animegan::image
