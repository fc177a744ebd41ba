// Image files (stb_image from Debian's libstb-dev, compiled here as private static functions so a program
// that links its own stb gets no clashes) and conversions between images and network tensors.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "animegan/animegan.h"
#include "weights/file_bytes.h"

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
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace animegan {
namespace {

constexpr size_t kMaxImageFileBytes = size_t(1) << 30;

std::string lower_extension(const std::string& path) {
    const size_t dot = path.find_last_of('.');
    if (dot == std::string::npos || path.find('/', dot) != std::string::npos) return "";
    std::string ext = path.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return ext;
}

// One separable pass of a triangle filter whose support widens with the downscale factor, so large reductions
// average every source pixel instead of skipping most of them (plain bilinear would alias).
struct FilterTaps {
    std::vector<int> first;      // first source index per output index
    std::vector<int> count;      // taps per output index
    std::vector<float> weights;  // `max_taps` per output index
    int max_taps = 0;
};

FilterTaps triangle_taps(int in_size, int out_size) {
    const double scale = double(in_size) / out_size;
    const double support = std::max(scale, 1.0);
    FilterTaps t;
    t.max_taps = int(std::ceil(support)) * 2 + 1;
    t.first.resize(out_size);
    t.count.resize(out_size);
    t.weights.assign(size_t(out_size) * t.max_taps, 0.f);
    for (int o = 0; o < out_size; ++o) {
        const double center = (o + 0.5) * scale - 0.5;
        const int lo = std::max(0, int(std::floor(center - support)) + 1);
        const int hi = std::min(in_size - 1, int(std::ceil(center + support)) - 1);
        double total = 0;
        int n = 0;
        for (int i = lo; i <= hi && n < t.max_taps; ++i, ++n) {
            const double w = std::max(0.0, 1.0 - std::abs(i - center) / support);
            t.weights[size_t(o) * t.max_taps + n] = float(w);
            total += w;
        }
        if (total <= 0) {  // only possible at extreme ratios: fall back to the nearest pixel
            t.weights[size_t(o) * t.max_taps] = 1.f;
            n = 1;
            total = 1;
        }
        for (int k = 0; k < n; ++k) t.weights[size_t(o) * t.max_taps + k] /= float(total);
        t.first[o] = n == 1 && total == 1 ? std::clamp(int(std::lround(center)), 0, in_size - 1) : lo;
        t.count[o] = n;
    }
    return t;
}

}  // namespace

Image load_image(const std::string& path) {
    const std::vector<uint8_t> bytes = read_file_bytes(path, kMaxImageFileBytes);
    return decode_image(bytes.data(), bytes.size(), path);
}

Image decode_image(const uint8_t* data, size_t size, const std::string& label) {
    if (!data || size == 0) throw Error(label + ": empty image");
    if (size > size_t(INT32_MAX)) throw Error(label + ": file too large");
    int w = 0, h = 0, channels = 0;
    if (!stbi_info_from_memory(data, int(size), &w, &h, &channels)) {
        throw Error(label + ": not a readable image (" + stbi_failure_reason() + ")");
    }
    if (w <= 0 || h <= 0)
        throw Error(label + ": image has no pixels (" + std::to_string(w) + "x" + std::to_string(h) + ")");
    if (int64_t(w) * h > kMaxImagePixels) {
        throw Error(label + ": image is " + std::to_string(w) + "x" + std::to_string(h) + ", more than the " +
                    std::to_string(kMaxImagePixels / 1'000'000) + " megapixels we accept");
    }
    int dw = 0, dh = 0;
    stbi_uc* pixels = stbi_load_from_memory(data, int(size), &dw, &dh, &channels, 3);
    if (!pixels) throw Error(label + ": cannot decode image (" + stbi_failure_reason() + ")");
    Image image;
    image.width = dw;
    image.height = dh;
    image.pixels.assign(pixels, pixels + size_t(dw) * dh * 3);
    stbi_image_free(pixels);
    return image;
}

std::vector<uint8_t> encode_image(const Image& image, const std::string& format, int jpeg_quality) {
    if (image.width <= 0 || image.height <= 0 ||
        image.pixels.size() != size_t(image.width) * image.height * 3) {
        throw Error("encode_image: refusing to encode an empty or inconsistent image");
    }
    if (jpeg_quality < 1 || jpeg_quality > 100)
        throw Error("encode_image: JPEG quality " + std::to_string(jpeg_quality) + " is outside 1..100");
    std::vector<uint8_t> out;
    // stb calls this with each piece of the file as it is produced.
    auto append = [](void* context, void* data, int size) {
        auto* bytes = static_cast<std::vector<uint8_t>*>(context);
        bytes->insert(bytes->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
    };
    int ok = 0;
    if (format == "png") {
        ok = stbi_write_png_to_func(append, &out, image.width, image.height, 3, image.pixels.data(),
                                    image.width * 3);
    } else if (format == "jpeg" || format == "jpg") {
        ok = stbi_write_jpg_to_func(append, &out, image.width, image.height, 3, image.pixels.data(),
                                    jpeg_quality);
    } else {
        throw Error("encode_image: unknown format '" + format + "' (use png or jpeg)");
    }
    if (!ok || out.empty()) throw Error("encode_image: cannot encode a " + format + " image");
    return out;
}

void save_image(const std::string& path, const Image& image) {
    if (image.width <= 0 || image.height <= 0 ||
        image.pixels.size() != size_t(image.width) * image.height * 3) {
        throw Error(path + ": refusing to save an empty or inconsistent image");
    }
    const std::string ext = lower_extension(path);
    int ok = 0;
    if (ext == "png") {
        ok = stbi_write_png(path.c_str(), image.width, image.height, 3, image.pixels.data(), image.width * 3);
    } else if (ext == "jpg" || ext == "jpeg") {
        ok = stbi_write_jpg(path.c_str(), image.width, image.height, 3, image.pixels.data(), 95);
    } else if (ext == "bmp") {
        ok = stbi_write_bmp(path.c_str(), image.width, image.height, 3, image.pixels.data());
    } else {
        throw Error(path + ": unknown output format '" + ext + "' (use .png, .jpg or .bmp)");
    }
    if (!ok) throw Error(path + ": cannot write image: " + std::strerror(errno));
}

Image resize_image(const Image& image, int width, int height) {
    if (width <= 0 || height <= 0 || image.width <= 0 || image.height <= 0)
        throw Error("resize_image: empty size");
    const FilterTaps tx = triangle_taps(image.width, width), ty = triangle_taps(image.height, height);
    std::vector<float> rows(size_t(image.height) * width * 3);  // horizontal pass
    for (int y = 0; y < image.height; ++y) {
        const uint8_t* src = &image.pixels[size_t(y) * image.width * 3];
        for (int x = 0; x < width; ++x) {
            for (int c = 0; c < 3; ++c) {
                float acc = 0;
                for (int k = 0; k < tx.count[x]; ++k)
                    acc += tx.weights[size_t(x) * tx.max_taps + k] * src[(tx.first[x] + k) * 3 + c];
                rows[(size_t(y) * width + x) * 3 + c] = acc;
            }
        }
    }
    Image out;
    out.width = width;
    out.height = height;
    out.pixels.resize(size_t(width) * height * 3);
    for (int y = 0; y < height; ++y) {
        for (size_t i = 0; i < size_t(width) * 3; ++i) {
            float acc = 0;
            for (int k = 0; k < ty.count[y]; ++k)
                acc +=
                    ty.weights[size_t(y) * ty.max_taps + k] * rows[size_t(ty.first[y] + k) * width * 3 + i];
            out.pixels[size_t(y) * width * 3 + i] = uint8_t(std::clamp(std::lround(acc), 0L, 255L));
        }
    }
    return out;
}

Image side_by_side(const Image& left, const Image& right) {
    const int right_width = std::max(1, int(std::lround(double(right.width) * left.height / right.height)));
    const Image scaled = right.height == left.height ? right : resize_image(right, right_width, left.height);
    Image out;
    out.width = left.width + scaled.width;
    out.height = left.height;
    out.pixels.resize(size_t(out.width) * out.height * 3);
    for (int y = 0; y < out.height; ++y) {
        uint8_t* dst = &out.pixels[size_t(y) * out.width * 3];
        std::copy_n(&left.pixels[size_t(y) * left.width * 3], left.width * 3, dst);
        std::copy_n(&scaled.pixels[size_t(y) * scaled.width * 3], scaled.width * 3, dst + left.width * 3);
    }
    return out;
}

Tensor image_to_tensor(const Image& image) {
    if (image.pixels.size() != size_t(image.width) * image.height * 3)
        throw Error("image_to_tensor: inconsistent image");
    Tensor t(3, image.height, image.width);
    const size_t plane = t.plane_size();
    for (size_t i = 0; i < plane; ++i) {
        for (int c = 0; c < 3; ++c) t.data()[c * plane + i] = image.pixels[i * 3 + c] / 127.5f - 1.f;
    }
    return t;
}

Image tensor_to_image(const Tensor& t) {
    if (t.channels() != 3) throw Error("tensor_to_image: expected 3 channels");
    Image image;
    image.width = t.width();
    image.height = t.height();
    image.pixels.resize(t.size());
    const size_t plane = t.plane_size();
    for (size_t i = 0; i < plane; ++i) {
        for (int c = 0; c < 3; ++c) {
            float v = (t.data()[c * plane + i] + 1.f) * 127.5f;
            v = v > 0.f ? (v < 255.f ? v : 255.f) : 0.f;  // also maps NaN to 0
            image.pixels[i * 3 + c] = uint8_t(std::clamp(std::lround(v), 0L, 255L));
        }
    }
    return image;
}

}  // namespace animegan
