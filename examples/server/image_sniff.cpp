#include "image_sniff.h"

#include <cstring>

namespace server {
namespace {

uint32_t be16(const uint8_t* p) {
    return uint32_t(p[0]) << 8 | p[1];
}
uint32_t be32(const uint8_t* p) {
    return be16(p) << 16 | be16(p + 2);
}
uint32_t le16(const uint8_t* p) {
    return uint32_t(p[1]) << 8 | p[0];
}
uint32_t le32(const uint8_t* p) {
    return le16(p + 2) << 16 | le16(p);
}

bool starts_with(const uint8_t* data, size_t size, const char* magic, size_t n, size_t at = 0) {
    return size >= at + n && std::memcmp(data + at, magic, n) == 0;
}

// The Orientation tag (0x0112) of the first IFD of an APP1 "Exif" segment's TIFF structure, or 1.
int exif_orientation(const uint8_t* p, size_t size) {
    if (size < 6 + 8 || std::memcmp(p, "Exif\0\0", 6) != 0) return 1;
    const uint8_t* tiff = p + 6;
    const size_t n = size - 6;
    const bool little = tiff[0] == 'I' && tiff[1] == 'I';
    if (!little && !(tiff[0] == 'M' && tiff[1] == 'M')) return 1;
    auto u16 = [&](size_t at) { return little ? le16(tiff + at) : be16(tiff + at); };
    auto u32 = [&](size_t at) { return little ? le32(tiff + at) : be32(tiff + at); };
    const size_t ifd = u32(4);
    if (ifd > n || n - ifd < 2) return 1;
    const size_t entries = u16(ifd);
    for (size_t i = 0; i < entries; ++i) {
        const size_t e = ifd + 2 + 12 * i;
        if (e > n || n - e < 12) return 1;
        if (u16(e) == 0x0112 && u16(e + 2) == 3) {  // Orientation, SHORT
            const uint32_t v = u16(e + 8);
            return v >= 1 && v <= 8 ? int(v) : 1;
        }
    }
    return 1;
}

// Walks the marker segments up to the frame header (SOFn), which holds the size, reading the EXIF
// orientation on the way. Every length is checked against the bytes present.
void jpeg_size(const uint8_t* data, size_t size, SniffedImage& out) {
    bool exif_seen = false;
    size_t pos = 2;
    while (pos + 4 <= size) {
        if (data[pos] != 0xFF) return;
        const uint8_t marker = data[pos + 1];
        if (marker == 0xFF) {  // fill byte
            ++pos;
            continue;
        }
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // markers without a length
            pos += 2;
            continue;
        }
        if (marker == 0xD9 || marker == 0xDA) return;  // end of image, or scan data before any frame header
        const size_t length = be16(data + pos + 2);
        if (length < 2 || pos + 2 + length > size) return;
        const bool frame =
            marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (marker == 0xE1 && !exif_seen && length >= 8 && std::memcmp(data + pos + 4, "Exif", 4) == 0) {
            exif_seen = true;
            out.orientation = exif_orientation(data + pos + 4, length - 2);
        }
        if (frame) {
            if (length < 7) return;
            out.height = int(be16(data + pos + 5));
            out.width = int(be16(data + pos + 7));
            return;
        }
        pos += 2 + length;
    }
}

}  // namespace

SniffedImage sniff_image(const uint8_t* data, size_t size) {
    SniffedImage out;
    if (!data) return out;
    if (starts_with(data, size, "\xFF\xD8\xFF", 3)) {
        out.type = ImageType::Jpeg;
        jpeg_size(data, size, out);
    } else if (starts_with(data, size, "\x89PNG\r\n\x1A\n", 8)) {
        out.type = ImageType::Png;
        if (size >= 24 && std::memcmp(data + 12, "IHDR", 4) == 0) {
            const uint32_t w = be32(data + 16), h = be32(data + 20);
            if (w <= 0x7FFFFFFF && h <= 0x7FFFFFFF) out.width = int(w), out.height = int(h);
        }
    } else if (starts_with(data, size, "BM", 2)) {
        out.type = ImageType::Bmp;
        if (size >= 26) {
            const int32_t w = int32_t(le32(data + 18)), h = int32_t(le32(data + 22));
            if (w > 0 && h != 0 && h != INT32_MIN)
                out.width = w, out.height = h < 0 ? -h : h;  // h < 0: top-down
        }
    } else if (starts_with(data, size, "GIF87a", 6) || starts_with(data, size, "GIF89a", 6)) {
        out.type = ImageType::Gif;
        if (size >= 10) out.width = int(le16(data + 6)), out.height = int(le16(data + 8));
    } else if (starts_with(data, size, "RIFF", 4) && starts_with(data, size, "WEBP", 4, 8)) {
        out.type = ImageType::WebP;
    } else if (starts_with(data, size, "ftyp", 4, 4)) {
        // ISO base media file: the brand says which picture format (if any) it carries.
        out.type = starts_with(data, size, "avif", 4, 8) || starts_with(data, size, "avis", 4, 8)
                       ? ImageType::Avif
                   : starts_with(data, size, "hei", 3, 8) || starts_with(data, size, "mif1", 4, 8) ||
                           starts_with(data, size, "msf1", 4, 8)
                       ? ImageType::Heic
                       : ImageType::Unknown;
    } else if (starts_with(data, size, "II*\0", 4) || starts_with(data, size, "MM\0*", 4)) {
        out.type = ImageType::Tiff;
    }
    // The formats the library decodes (its stb has no other decoder compiled in).
    out.decodable = out.type == ImageType::Jpeg || out.type == ImageType::Png || out.type == ImageType::Bmp;
    return out;
}

const char* image_type_name(ImageType type) {
    switch (type) {
        case ImageType::Jpeg:
            return "JPEG";
        case ImageType::Png:
            return "PNG";
        case ImageType::Bmp:
            return "BMP";
        case ImageType::Gif:
            return "GIF";
        case ImageType::WebP:
            return "WebP";
        case ImageType::Heic:
            return "HEIC";
        case ImageType::Avif:
            return "AVIF";
        case ImageType::Tiff:
            return "TIFF";
        case ImageType::Unknown:
            break;
    }
    return "unknown";
}

}  // namespace server
