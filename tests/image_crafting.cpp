#include "tests/image_crafting.h"

#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "engine/image/image_check.h"

namespace animegan::testing {
namespace {

void put_be32(Bytes& out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(uint8_t(v >> shift));
}
void put_le(Bytes& out, uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

}  // namespace

Bytes zlib_stored(const Bytes& raw) {
    Bytes out = {0x78, 0x01};
    size_t at = 0;
    do {
        const size_t n = std::min<size_t>(raw.size() - at, 65535);
        out.push_back(at + n == raw.size() ? 1 : 0);
        put_le(out, uint32_t(n), 2);
        put_le(out, uint32_t(~n & 0xFFFF), 2);
        out.insert(out.end(), raw.begin() + std::ptrdiff_t(at), raw.begin() + std::ptrdiff_t(at + n));
        at += n;
    } while (at < raw.size());
    uint32_t a = 1, b = 0;
    for (uint8_t byte : raw) a = (a + byte) % 65521, b = (b + a) % 65521;
    put_be32(out, b << 16 | a);
    return out;
}

void append_png_chunk(Bytes& png, const std::string& type, const Bytes& body) {
    put_be32(png, uint32_t(body.size()));
    const size_t type_at = png.size();
    png.insert(png.end(), type.begin(), type.end());
    png.insert(png.end(), body.begin(), body.end());
    put_be32(png, image::png_crc32(png.data() + type_at, 4 + body.size()));
}

Bytes make_png(uint32_t width, uint32_t height, int depth, int color, const Bytes& rows,
               const Bytes& palette) {
    Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    Bytes header;
    put_be32(header, width);
    put_be32(header, height);
    header.insert(header.end(), {uint8_t(depth), uint8_t(color), 0, 0, 0});
    append_png_chunk(png, "IHDR", header);
    if (!palette.empty()) append_png_chunk(png, "PLTE", palette);
    append_png_chunk(png, "IDAT", zlib_stored(rows));
    append_png_chunk(png, "IEND", {});
    return png;
}

void fix_png_crcs(Bytes& png) {
    size_t at = 8;
    while (png.size() >= 12 && at <= png.size() - 12) {
        const size_t length =
            size_t(png[at]) << 24 | size_t(png[at + 1]) << 16 | size_t(png[at + 2]) << 8 | png[at + 3];
        if (length > png.size() - at - 12) return;
        const uint32_t crc = image::png_crc32(png.data() + at + 4, 4 + length);
        for (int i = 0; i < 4; ++i) png[at + 8 + length + i] = uint8_t(crc >> (24 - 8 * i));
        at += 12 + length;
    }
}

Bytes make_bmp(int32_t width, int32_t height, int bits, const Bytes& palette, const Bytes& rows) {
    const uint32_t offset = 14 + 40 + uint32_t(palette.size());
    Bytes bmp = {'B', 'M'};
    put_le(bmp, uint32_t(offset + rows.size()), 4);
    put_le(bmp, 0, 4);
    put_le(bmp, offset, 4);
    put_le(bmp, 40, 4);
    put_le(bmp, uint32_t(width), 4);
    put_le(bmp, uint32_t(height), 4);
    put_le(bmp, 1, 2);  // planes
    put_le(bmp, uint32_t(bits), 2);
    for (int i = 0; i < 6; ++i) put_le(bmp, 0, 4);  // compression, sizes, resolution, colours
    bmp.insert(bmp.end(), palette.begin(), palette.end());
    bmp.insert(bmp.end(), rows.begin(), rows.end());
    return bmp;
}

Bytes saved_image_bytes(const Image& image, const std::string& ext) {
    char dir[] = "/tmp/animegan_craft_XXXXXX";
    if (!mkdtemp(dir)) throw Error("saved_image_bytes: cannot make a scratch directory");
    const std::string path = std::string(dir) + "/image." + ext;
    save_image(path, image);
    std::ifstream in(path, std::ios::binary);
    Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::remove(path.c_str());
    rmdir(dir);
    return bytes;
}

Image test_pattern(int width, int height) {
    Image image;
    image.width = width;
    image.height = height;
    image.pixels.resize(size_t(width) * height * 3);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            uint8_t* p = &image.pixels[(size_t(y) * width + x) * 3];
            p[0] = uint8_t(x * 255 / std::max(1, width - 1));
            p[1] = uint8_t(y * 255 / std::max(1, height - 1));
            p[2] = (x / 4 + y / 4) % 2 ? 220 : 30;
        }
    }
    return image;
}

size_t find_jpeg_segment(const Bytes& jpeg, uint8_t marker) {
    size_t at = 2;
    while (at + 4 <= jpeg.size() && jpeg[at] == 0xFF) {
        if (jpeg[at + 1] == marker) return at;
        if (jpeg[at + 1] == 0xDA || jpeg[at + 1] == 0xD9) break;  // entropy-coded data follows: stop
        at += 2 + (size_t(jpeg[at + 2]) << 8 | jpeg[at + 3]);
    }
    return std::string::npos;
}

}  // namespace animegan::testing
