// What kind of picture an upload is and how large, from its first bytes alone, so that a request can be
// refused (415 for a type we cannot read, 422 for too many pixels) before anything is decoded or queued.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace server {

enum class ImageType { Unknown, Jpeg, Png, Bmp, Gif, WebP, Heic, Avif, Tiff };

struct SniffedImage {
    ImageType type = ImageType::Unknown;
    bool decodable = false;     // a type stb_image reads (JPEG, PNG, BMP, GIF)
    int width = 0, height = 0;  // 0 when the header does not say (truncated or corrupt)
};

SniffedImage sniff_image(const uint8_t* data, size_t size);
const char* image_type_name(ImageType type);  // "JPEG", "PNG", ..., "unknown"

}  // namespace server
