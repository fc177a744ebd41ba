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
    bool decodable = false;     // a type decode_image reads (JPEG, PNG, BMP)
    int width = 0, height = 0;  // 0 when the header does not say (truncated or corrupt)
    // EXIF orientation of a JPEG (1..8; 1 = as stored): phones store photos as the sensor saw them and say
    // in this tag how to turn them, and browsers show them turned.
    int orientation = 1;
};

SniffedImage sniff_image(const uint8_t* data, size_t size);
const char* image_type_name(ImageType type);  // "JPEG", "PNG", ..., "unknown"

}  // namespace server
