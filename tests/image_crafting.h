// Image files built byte by byte, for the untrusted-image tests and the fuzzing seeds: valid small files in
// the variants stb_image_write cannot produce (palette PNGs and BMPs, grey and 16-bit PNGs), and helpers to
// find and edit the parts of a JPEG or PNG that the tests break on purpose.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "animegan/animegan.h"

namespace animegan::testing {

using Bytes = std::vector<uint8_t>;

// A zlib stream of stored (uncompressed) blocks holding `raw`.
Bytes zlib_stored(const Bytes& raw);

// PNG from its parts: `rows` are the filtered scanlines (each starting with its filter byte), compressed
// here; `palette` is RGB triples (a PLTE chunk when non-empty).
Bytes make_png(uint32_t width, uint32_t height, int depth, int color, const Bytes& rows,
               const Bytes& palette = {});
void append_png_chunk(Bytes& png, const std::string& type, const Bytes& body);
// Recomputes the CRC of every chunk of a PNG (as far as its chunk lengths allow).
void fix_png_crcs(Bytes& png);

// Bottom-up BMP with a BITMAPINFOHEADER: `palette` is BGRX quads (for bits <= 8), `rows` the padded rows.
Bytes make_bmp(int32_t width, int32_t height, int bits, const Bytes& palette, const Bytes& rows);

// The bytes save_image writes for this image (stb_image_write); ext is "jpg", "png" or "bmp".
Bytes saved_image_bytes(const Image& image, const std::string& ext);

// A small picture with gradients and edges, so that JPEG blocks are not flat.
Image test_pattern(int width, int height);

// Offset of the first JPEG segment with this marker (the 0xFF byte), or npos; walks segment lengths.
size_t find_jpeg_segment(const Bytes& jpeg, uint8_t marker);

}  // namespace animegan::testing
