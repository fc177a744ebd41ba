// Frame sizes and rotation, for every source. Compiled into the library and into the FFmpeg module
// (ffmpeg_module.h), which links nothing of the library: these two functions are all it needs of it.
#include <algorithm>
#include <cmath>

#include "engine/video/frame_io.h"

namespace animegan::video {

void output_size(int width, int height, int max_side, bool even, int& out_width, int& out_height) {
    out_width = width, out_height = height;
    const int longer = std::max(width, height);
    if (max_side > 0 && longer > max_side) {
        const double scale = double(max_side) / longer;
        out_width = int(std::lround(width * scale));
        out_height = int(std::lround(height * scale));
    }
    if (even) out_width &= ~1, out_height &= ~1;
    out_width = std::max(out_width, kMinSide);
    out_height = std::max(out_height, kMinSide);
}

Image rotate_clockwise(const Image& image, int degrees) {
    if (degrees == 0) return image;
    const bool swap = degrees == 90 || degrees == 270;
    Image out;
    out.width = swap ? image.height : image.width;
    out.height = swap ? image.width : image.height;
    out.pixels.resize(image.pixels.size());
    for (int y = 0; y < out.height; ++y) {
        for (int x = 0; x < out.width; ++x) {
            // The source pixel that lands at (x, y).
            int sx = x, sy = y;
            if (degrees == 90) sx = y, sy = image.height - 1 - x;
            if (degrees == 180) sx = image.width - 1 - x, sy = image.height - 1 - y;
            if (degrees == 270) sx = image.width - 1 - y, sy = x;
            std::copy_n(&image.pixels[(size_t(sy) * image.width + sx) * 3], 3,
                        &out.pixels[(size_t(y) * out.width + x) * 3]);
        }
    }
    return out;
}

}  // namespace animegan::video
