// The image codecs of Debian's stb (libstb-dev), behind a narrow interface. stb is compiled in one
// translation unit (stb_codecs.cpp) as private static functions, with only the formats we document (JPEG,
// PNG, BMP), so a program that links its own stb gets no clashes and no other decoder is reachable from a
// hostile file. stb trusts its input: callers pass only bytes that check_image (image_check.h) accepted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "animegan/animegan.h"

namespace animegan::image {

// Decodes a JPEG, PNG or BMP to 8-bit RGB. On failure returns false and sets `reason` to stb's reason.
bool stb_decode_rgb(const uint8_t* data, size_t size, Image& out, std::string& reason);

// Inflates the zlib stream `zlib` into out[0, capacity) with stb's own inflater (the one its PNG decoder
// uses). Returns the number of bytes produced, or -1 if the stream is corrupt or would produce more than
// `capacity` bytes.
long long stb_inflate_bounded(const uint8_t* zlib, size_t size, uint8_t* out, size_t capacity);

// Writers, to a file (false on failure; errno tells why) or appended to `out` in memory.
bool stb_write_png(const std::string& path, const Image& image);
bool stb_write_jpg(const std::string& path, const Image& image, int quality);
bool stb_write_bmp(const std::string& path, const Image& image);
bool stb_encode_png(const Image& image, std::vector<uint8_t>& out);
bool stb_encode_jpg(const Image& image, int quality, std::vector<uint8_t>& out);

}  // namespace animegan::image
