// Image files (decoded by stb_image behind the checks of image_check.cpp, written by stb_image_write; see
// stb_codecs.h) and conversions between images and network tensors.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "animegan/animegan.h"
#include "engine/image/image_check.h"
#include "engine/image/stb_codecs.h"
#include "weights/file_bytes.h"

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

// The output format from the file name; throws on names we cannot write.
std::string checked_output_extension(const std::string& path) {
    const std::string ext = lower_extension(path);
    if (ext != "png" && ext != "jpg" && ext != "jpeg" && ext != "bmp")
        throw Error(path + ": unknown output format '" + ext + "' (use .png, .jpg or .bmp)");
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

ImageSize read_image_size(const std::string& path) {
    // The whole structural check load_image makes (it reads no pixels), so a file that will not load fails
    // here already.
    const std::vector<uint8_t> bytes = read_file_bytes(path, kMaxImageFileBytes);
    const image::CheckedImage checked = image::check_image(bytes.data(), bytes.size(), path, kMaxImagePixels);
    return {checked.width, checked.height, bytes.size()};
}

Image decode_image(const uint8_t* data, size_t size, const std::string& label) {
    if (!data) size = 0;
    return image::decode_image_with_limit(data, size, label, kMaxImagePixels);
}

std::vector<uint8_t> encode_image(const Image& image, const std::string& format, int jpeg_quality) {
    if (image.width <= 0 || image.height <= 0 ||
        image.pixels.size() != size_t(image.width) * image.height * 3) {
        throw Error("encode_image: refusing to encode an empty or inconsistent image");
    }
    if (jpeg_quality < 1 || jpeg_quality > 100)
        throw Error("encode_image: JPEG quality " + std::to_string(jpeg_quality) + " is outside 1..100");
    std::vector<uint8_t> out;
    bool ok = false;
    if (format == "png") {
        ok = image::stb_encode_png(image, out);
    } else if (format == "jpeg" || format == "jpg") {
        ok = image::stb_encode_jpg(image, jpeg_quality, out);
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
    const std::string ext = checked_output_extension(path);
    const bool ok = ext == "png"   ? image::stb_write_png(path, image)
                    : ext == "bmp" ? image::stb_write_bmp(path, image)
                                   : image::stb_write_jpg(path, image, 95);
    if (!ok) throw Error(path + ": cannot write image: " + std::strerror(errno));
}

void check_output_path(const std::string& path) {
    checked_output_extension(path);
    struct stat st;
    if (stat(path.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) throw Error(path + ": is a directory, not an image file name");
        // An existing file is overwritten: it must open for writing (opening does not truncate it).
        const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) throw Error(path + ": cannot write here: " + std::strerror(errno));
        close(fd);
        return;
    }
    const size_t slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw Error(path + ": directory " + dir + " does not exist");
    // Create and remove a file next to the output: access(W_OK) says yes to root everywhere, also where
    // files cannot be created (e.g. /proc), and knows nothing of quotas or full inode tables.
    std::string probe = dir + "/.animegan-probe-XXXXXX";
    const int fd = mkstemp(&probe[0]);
    if (fd < 0) throw Error(path + ": cannot create files in " + dir + ": " + std::strerror(errno));
    close(fd);
    unlink(probe.c_str());
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
