#include "engine/video/y4m.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace animegan::video {
namespace {

// Longest header or FRAME line accepted: real ones are well under 200 bytes; a stream without a newline is
// not y4m.
constexpr size_t kMaxLine = 4096;

// BT.601 luma weights; the chroma scales follow from them (Cb = (B - Y) / 1.772, Cr = (R - Y) / 1.402).
constexpr float kR = 0.299f, kG = 0.587f, kB = 0.114f;

uint8_t clamp_byte(float v) {
    return uint8_t(std::clamp(std::lround(v), 0L, 255L));
}

// Levels: Y' in [0, 1] maps to [16, 235] and chroma to 128 +- 112 in limited range, to [0, 255] and
// 128 +- 127.5 in full range.
struct Levels {
    float y_offset, y_scale, c_scale;
    explicit Levels(bool full)
        : y_offset(full ? 0.f : 16.f), y_scale(full ? 255.f : 219.f), c_scale(full ? 255.f : 224.f) {}
};

bool parse_ratio(const std::string& text, int64_t& num, int64_t& den) {
    const size_t colon = text.find(':');
    if (colon == std::string::npos) return false;
    char* end = nullptr;
    errno = 0;
    num = std::strtoll(text.c_str(), &end, 10);
    if (end != text.c_str() + colon || errno) return false;
    den = std::strtoll(text.c_str() + colon + 1, &end, 10);
    return !*end && !errno && num >= 0 && den >= 0 && num <= INT32_MAX && den <= INT32_MAX;
}

std::vector<std::string> split_spaces(const std::string& line) {
    std::vector<std::string> words;
    size_t i = 0;
    while (i < line.size()) {
        const size_t j = std::min(line.find(' ', i), line.size());
        if (j > i) words.push_back(line.substr(i, j - i));
        i = j + 1;
    }
    return words;
}

class Y4mSource : public FrameSource {
  public:
    Y4mSource(const std::string& path, const SourceSettings& settings) : name_(path == "-" ? "stdin" : path) {
        if (settings.start_seconds > 0)
            throw Error(name_ + ": --start needs a container file (y4m streams cannot seek)");
        file_ = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
        if (!file_) throw Error(name_ + ": cannot open: " + std::strerror(errno));
        own_file_ = path != "-";
        std::string header;
        const int first = std::fgetc(file_);
        if (first == EOF) throw Error(name_ + ": empty input, expected a YUV4MPEG2 stream");
        std::ungetc(first, file_);
        if (!read_line(header) || header.compare(0, 10, "YUV4MPEG2 ") != 0)
            throw Error(name_ + ": not a YUV4MPEG2 stream (no 'YUV4MPEG2 ' header line)");
        parse_header(header);
        output_size(width_, height_, settings.max_side, settings.even_size, format_.width, format_.height);
        if (settings.duration_seconds > 0 && format_.frame_rate.known())
            max_frames_ = int64_t(std::ceil(settings.duration_seconds * format_.frame_rate.value() - 1e-9));
        format_.expected_frames = max_frames_ >= 0 ? max_frames_ : -1;
        plane_.resize(size_t(width_) * height_ + 2 * chroma_size());
    }
    ~Y4mSource() override {
        if (own_file_) std::fclose(file_);
    }

    const VideoFormat& format() const override { return format_; }

    bool next(PipelineItem& item) override {
        if (max_frames_ >= 0 && frames_ >= max_frames_) return false;
        std::string line;
        const int first = std::fgetc(file_);
        if (first == EOF) return false;  // the end, between frames
        std::ungetc(first, file_);
        if (!read_line(line) || line.compare(0, 5, "FRAME") != 0 || (line.size() > 5 && line[5] != ' '))
            throw Error(name_ + ": bad y4m frame header at " + position() + " (expected 'FRAME')");
        if (std::fread(plane_.data(), 1, plane_.size(), file_) != plane_.size())
            throw Error(name_ + ": input ends inside " + position() + " (truncated y4m stream)");
        item.has_frame = true;
        VideoFrame& f = item.frame;
        f.index = frames_;
        f.pts = frames_;
        f.duration = 1;
        Image rgb;
        rgb.width = width_;
        rgb.height = height_;
        rgb.pixels.resize(size_t(width_) * height_ * 3);
        const uint8_t* y = plane_.data();
        if (mono_) {
            std::vector<uint8_t> grey(size_t(chroma_width()) * chroma_height(), 128);
            yuv_to_rgb(y, grey.data(), grey.data(), width_, height_, sx_, sy_, format_.full_range,
                       rgb.pixels.data());
        } else {
            const uint8_t* u = y + size_t(width_) * height_;
            yuv_to_rgb(y, u, u + chroma_size(), width_, height_, sx_, sy_, format_.full_range,
                       rgb.pixels.data());
        }
        f.image = (rgb.width == format_.width && rgb.height == format_.height)
                      ? std::move(rgb)
                      : resize_image(rgb, format_.width, format_.height);
        ++frames_;
        return true;
    }

    std::string position() const override {
        std::string s = "frame " + std::to_string(frames_);
        if (format_.frame_rate.known()) {
            char t[64];
            std::snprintf(t, sizeof t, ", %.2f s", double(frames_) / format_.frame_rate.value());
            s += t;
        }
        return s;
    }

  private:
    int chroma_width() const { return (width_ + sx_ - 1) / sx_; }
    int chroma_height() const { return (height_ + sy_ - 1) / sy_; }
    size_t chroma_size() const { return mono_ ? 0 : size_t(chroma_width()) * chroma_height(); }

    bool read_line(std::string& line) {
        line.clear();
        for (int c; (c = std::fgetc(file_)) != EOF;) {
            if (c == '\n') return true;
            if (line.size() >= kMaxLine) return false;
            line.push_back(char(c));
        }
        return false;
    }

    void parse_header(const std::string& header) {
        format_.frame_rate = {25, 1};  // what ffmpeg assumes when F is missing
        std::string colour = "420jpeg";
        for (const std::string& word : split_spaces(header.substr(10))) {
            const char tag = word[0];
            const std::string value = word.substr(1);
            int64_t num = 0, den = 0;
            if (tag == 'W' || tag == 'H') {
                char* end = nullptr;
                const long v = std::strtol(value.c_str(), &end, 10);
                if (value.empty() || *end || v <= 0 || v > 65536)
                    throw Error(name_ + ": bad y4m size '" + word + "'");
                (tag == 'W' ? width_ : height_) = int(v);
            } else if (tag == 'F') {
                if (!parse_ratio(value, num, den) || num == 0 || den == 0)
                    throw Error(name_ + ": bad y4m frame rate '" + word + "'");
                format_.frame_rate = {num, den};
            } else if (tag == 'A') {
                if (!parse_ratio(value, num, den)) throw Error(name_ + ": bad y4m aspect '" + word + "'");
                if (num > 0 && den > 0) format_.sample_aspect = {num, den};
            } else if (tag == 'I') {
                format_.interlace = value.empty() ? 'p' : value[0];
                if (std::string("ptbm?").find(format_.interlace) == std::string::npos)
                    throw Error(name_ + ": bad y4m interlace tag '" + word + "'");
                if (format_.interlace == '?') format_.interlace = 'p';
            } else if (tag == 'C') {
                colour = value;
            } else if (word == "XCOLORRANGE=FULL") {
                format_.full_range = true;
            }
        }
        if (width_ == 0 || height_ == 0) throw Error(name_ + ": y4m header lacks W or H");
        if (int64_t(width_) * height_ > kMaxImagePixels)
            throw Error(name_ + ": y4m frames of " + std::to_string(width_) + "x" + std::to_string(height_) +
                        " are too large");
        if (colour == "420" || colour == "420jpeg" || colour == "420mpeg2" || colour == "420paldv") {
            sx_ = sy_ = 2;
        } else if (colour == "422") {
            sx_ = 2, sy_ = 1, format_.chroma = "422";
        } else if (colour == "444") {
            sx_ = sy_ = 1, format_.chroma = "444";
        } else if (colour == "mono") {
            mono_ = true;
        } else {
            throw Error(name_ + ": y4m colour space 'C" + colour +
                        "' is not supported (8-bit 420jpeg, 420mpeg2, 420paldv, 420, 422, 444 and mono are)");
        }
        format_.input_width = width_;
        format_.input_height = height_;
        format_.time_base = {format_.frame_rate.den, format_.frame_rate.num};
    }

    std::string name_;
    FILE* file_ = nullptr;
    bool own_file_ = false;
    VideoFormat format_;
    int width_ = 0, height_ = 0, sx_ = 2, sy_ = 2;
    bool mono_ = false;
    int64_t frames_ = 0, max_frames_ = -1;
    std::vector<uint8_t> plane_;
};

class Y4mSink : public FrameSink {
  public:
    Y4mSink(const std::string& path, const VideoFormat& format)
        : name_(path == "-" ? "stdout" : path), format_(format) {
        file_ = path == "-" ? stdout : std::fopen(path.c_str(), "wb");
        if (!file_) throw Error(name_ + ": cannot create: " + std::strerror(errno));
        own_file_ = path != "-";
        if (format.chroma == "444") sx_ = sy_ = 1;
        if (format.chroma == "422") sy_ = 1;
        Rational rate = format.frame_rate;
        if (!rate.known()) {
            rate = {25, 1};
            warnings_.push_back("the input has no frame rate; the y4m output says 25 fps");
        } else if (format.variable_rate) {
            warnings_.push_back("the input's frame rate varies; y4m holds one rate, so the output plays at " +
                                std::to_string(rate.num) + "/" + std::to_string(rate.den) + " fps");
        }
        std::string header = "YUV4MPEG2 W" + std::to_string(format.width) + " H" +
                             std::to_string(format.height) + " F" + std::to_string(rate.num) + ":" +
                             std::to_string(rate.den) + " I" + std::string(1, format.interlace);
        const Rational a = format.sample_aspect;
        header +=
            a.known() ? " A" + std::to_string(a.num) + ":" + std::to_string(a.den) : std::string(" A1:1");
        header += sx_ == 1 ? " C444" : sy_ == 1 ? " C422" : " C420jpeg XYSCSS=420JPEG";
        if (format.full_range) header += " XCOLORRANGE=FULL";
        header += "\n";
        put(header.data(), header.size());
        const size_t luma = size_t(format.width) * format.height;
        const size_t chroma = size_t((format.width + sx_ - 1) / sx_) * ((format.height + sy_ - 1) / sy_);
        planes_.resize(luma + 2 * chroma);
    }
    ~Y4mSink() override {
        if (own_file_ && file_) std::fclose(file_);
    }

    void write(PipelineItem& item) override {
        if (!item.has_frame) {
            if (!dropped_packets_)
                warnings_.push_back("y4m holds video only: the input's other streams are not written");
            dropped_packets_ = true;
            return;
        }
        const Image& image = item.frame.image;
        if (image.width != format_.width || image.height != format_.height)
            throw Error(name_ + ": frame size changed mid-stream");
        const size_t luma = size_t(image.width) * image.height;
        const size_t chroma = (planes_.size() - luma) / 2;
        rgb_to_yuv(image.pixels.data(), image.width, image.height, sx_, sy_, format_.full_range,
                   planes_.data(), planes_.data() + luma, planes_.data() + luma + chroma);
        put("FRAME\n", 6);
        put(planes_.data(), planes_.size());
    }

    void finish() override {
        if (std::fflush(file_) != 0) throw Error(name_ + ": write failed: " + std::strerror(errno));
        if (own_file_) {
            const int closed = std::fclose(file_);
            file_ = nullptr;
            if (closed != 0) throw Error(name_ + ": write failed: " + std::strerror(errno));
        }
    }

    std::string codec_name() const override { return "yuv4mpegpipe"; }
    std::vector<std::string> warnings() const override { return warnings_; }

  private:
    void put(const void* data, size_t size) {
        if (std::fwrite(data, 1, size, file_) != size)
            throw Error(name_ + ": write failed: " + std::strerror(errno));
    }

    std::string name_;
    VideoFormat format_;
    FILE* file_ = nullptr;
    bool own_file_ = false, dropped_packets_ = false;
    int sx_ = 2, sy_ = 2;
    std::vector<uint8_t> planes_;
    std::vector<std::string> warnings_;
};

}  // namespace

void yuv_to_rgb(const uint8_t* y, const uint8_t* u, const uint8_t* v, int width, int height, int sx, int sy,
                bool full_range, uint8_t* rgb) {
    const Levels lv(full_range);
    const int cw = (width + sx - 1) / sx, ch = (height + sy - 1) / sy;
    // Chroma samples sit at the centre of their sx x sy block; each pixel interpolates the nearest two in
    // each direction (bilinear), clamped at the edges.
    auto taps = [](int i, int factor, int size, int& i0, int& i1, float& w1) {
        const float pos = (float(i) + 0.5f) / float(factor) - 0.5f;
        const float fl = std::floor(pos);
        i0 = std::clamp(int(fl), 0, size - 1);
        i1 = std::clamp(int(fl) + 1, 0, size - 1);
        w1 = pos - fl;
    };
    std::vector<float> cb_row(cw), cr_row(cw);
    for (int row = 0; row < height; ++row) {
        int r0, r1;
        float wr;
        taps(row, sy, ch, r0, r1, wr);
        for (int i = 0; i < cw; ++i) {
            cb_row[i] = (1 - wr) * u[size_t(r0) * cw + i] + wr * u[size_t(r1) * cw + i];
            cr_row[i] = (1 - wr) * v[size_t(r0) * cw + i] + wr * v[size_t(r1) * cw + i];
        }
        for (int x = 0; x < width; ++x) {
            int c0, c1;
            float wc;
            taps(x, sx, cw, c0, c1, wc);
            const float luma = (y[size_t(row) * width + x] - lv.y_offset) / lv.y_scale;
            const float cb = ((1 - wc) * cb_row[c0] + wc * cb_row[c1] - 128.f) / lv.c_scale;
            const float cr = ((1 - wc) * cr_row[c0] + wc * cr_row[c1] - 128.f) / lv.c_scale;
            const float r = luma + 2 * (1 - kR) * cr;
            const float b = luma + 2 * (1 - kB) * cb;
            const float g = (luma - kR * r - kB * b) / kG;
            uint8_t* px = rgb + (size_t(row) * width + x) * 3;
            px[0] = clamp_byte(r * 255.f), px[1] = clamp_byte(g * 255.f), px[2] = clamp_byte(b * 255.f);
        }
    }
}

void rgb_to_yuv(const uint8_t* rgb, int width, int height, int sx, int sy, bool full_range, uint8_t* y,
                uint8_t* u, uint8_t* v) {
    const Levels lv(full_range);
    const int cw = (width + sx - 1) / sx, ch = (height + sy - 1) / sy;
    for (size_t i = 0; i < size_t(width) * height; ++i) {
        const uint8_t* px = rgb + i * 3;
        const float luma = (kR * px[0] + kG * px[1] + kB * px[2]) / 255.f;
        y[i] = clamp_byte(lv.y_offset + lv.y_scale * luma);
    }
    // Chroma of the block's average colour (a box filter over its pixels inside the image).
    for (int cy = 0; cy < ch; ++cy) {
        for (int cx = 0; cx < cw; ++cx) {
            float sum[3] = {0, 0, 0};
            int count = 0;
            for (int row = cy * sy; row < std::min(height, (cy + 1) * sy); ++row) {
                for (int x = cx * sx; x < std::min(width, (cx + 1) * sx); ++x, ++count) {
                    for (int c = 0; c < 3; ++c) sum[c] += rgb[(size_t(row) * width + x) * 3 + c];
                }
            }
            const float r = sum[0] / (255.f * count), g = sum[1] / (255.f * count),
                        b = sum[2] / (255.f * count);
            const float luma = kR * r + kG * g + kB * b;
            u[size_t(cy) * cw + cx] = clamp_byte(128.f + lv.c_scale * (b - luma) / (2 * (1 - kB)));
            v[size_t(cy) * cw + cx] = clamp_byte(128.f + lv.c_scale * (r - luma) / (2 * (1 - kR)));
        }
    }
}

std::unique_ptr<FrameSource> open_y4m_source(const std::string& path, const SourceSettings& settings) {
    return std::make_unique<Y4mSource>(path, settings);
}

std::unique_ptr<FrameSink> open_y4m_sink(const std::string& path, const VideoFormat& format) {
    return std::make_unique<Y4mSink>(path, format);
}

}  // namespace animegan::video
