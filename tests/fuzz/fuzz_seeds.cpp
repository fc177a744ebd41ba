// Writes the starting corpora for the fuzz targets (scripts/fuzz.sh runs it before fuzzing):
//   fuzz_seeds OUT_DIR [SHARED_DIR]
// OUT_DIR/image: small JPEG, PNG and BMP files in the variants the decoders branch on (grey, alpha, 16-bit,
//   palettes of 1..8 bits), from a synthetic pattern and, when SHARED_DIR/images exists, from its photos
//   scaled down to 40 pixels; OUT_DIR/gguf: small GGUF files; OUT_DIR/torch: a hand-made torch.save zip;
//   OUT_DIR/tflite: SHARED_DIR/models/face_detection_front.tflite when present, else a bare header.
// Nothing here is committed: seeds are made at fuzz time.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "animegan/animegan.h"
#include "tests/image_crafting.h"
#include "weights/gguf.h"

namespace fs = std::filesystem;
using animegan::testing::Bytes;

namespace {

void write(const fs::path& path, const Bytes& bytes) {
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

// Filtered PNG rows (filter byte `filter` on every row) of `bits_per_pixel` wide pixels filled by `value`.
Bytes png_rows(int width, int height, int bits_per_pixel, int filter,
               uint8_t (*value)(int x, int y, int byte)) {
    const int row_bytes = (width * bits_per_pixel + 7) / 8;
    Bytes rows;
    for (int y = 0; y < height; ++y) {
        rows.push_back(uint8_t(filter));
        for (int b = 0; b < row_bytes; ++b) rows.push_back(value(b, y, b));
    }
    return rows;
}

void image_seeds(const fs::path& dir, const fs::path& shared) {
    fs::create_directories(dir);
    using animegan::testing::saved_image_bytes;
    const animegan::Image pattern = animegan::testing::test_pattern(24, 16);
    for (const char* ext : {"jpg", "png", "bmp"})
        write(dir / (std::string("pattern.") + ext), saved_image_bytes(pattern, ext));

    auto bytes_of = [](int x, int y, int) { return uint8_t(x * 37 + y * 11); };
    auto small_indices = [](int x, int y, int) { return uint8_t((x + y) & 0x11); };
    Bytes palette;
    for (int i = 0; i < 16; ++i)
        palette.insert(palette.end(), {uint8_t(i * 16), uint8_t(255 - i * 16), uint8_t(i * 5)});
    using animegan::testing::make_png;
    for (int depth : {1, 2, 4, 8}) {
        const Bytes pal(palette.begin(), palette.begin() + 3 * std::min(16, 1 << depth));
        write(dir / ("palette" + std::to_string(depth) + ".png"),
              make_png(12, 6, depth, 3, png_rows(12, 6, depth, 0, small_indices), pal));
    }
    write(dir / "grey8_sub.png", make_png(10, 7, 8, 0, png_rows(10, 7, 8, 1, bytes_of)));
    write(dir / "grey16_up.png", make_png(10, 7, 16, 0, png_rows(10, 7, 16, 2, bytes_of)));
    write(dir / "grey_alpha_avg.png", make_png(10, 7, 8, 4, png_rows(10, 7, 16, 3, bytes_of)));
    write(dir / "rgba16_paeth.png", make_png(6, 5, 16, 6, png_rows(6, 5, 64, 4, bytes_of)));
    using animegan::testing::make_bmp;
    for (int bits : {1, 4, 8}) {
        Bytes quads;
        for (int i = 0; i < (1 << std::min(bits, 4)); ++i)
            quads.insert(quads.end(), {uint8_t(i * 16), uint8_t(i * 8), uint8_t(255 - i * 16), 0});
        const int row_bytes = (10 * bits + 31) / 32 * 4;
        Bytes rows(size_t(row_bytes) * 6);
        for (size_t i = 0; i < rows.size(); ++i)
            rows[i] = bits == 1 ? uint8_t(i * 37) : bits == 4 ? 0x12 : uint8_t(i % 16);
        write(dir / ("palette" + std::to_string(bits) + ".bmp"), make_bmp(10, 6, bits, quads, rows));
    }

    // Real photos, scaled down: the camera JPEGs' structure is gone after re-encoding, but their content
    // gives the entropy coder realistic statistics.
    if (!fs::is_directory(shared / "images")) return;
    int count = 0;
    for (const auto& entry : fs::directory_iterator(shared / "images")) {
        if (entry.path().extension() != ".jpg" || count++ >= 6) continue;
        const animegan::Image photo = animegan::load_image(entry.path().string());
        const double scale = 40.0 / std::max(photo.width, photo.height);
        const animegan::Image small =
            animegan::resize_image(photo, std::max(1, int(std::lround(photo.width * scale))),
                                   std::max(1, int(std::lround(photo.height * scale))));
        for (const char* ext : {"jpg", "png", "bmp"})
            write(dir / (entry.path().stem().string() + "." + ext), saved_image_bytes(small, ext));
    }
}

void gguf_seeds(const fs::path& dir) {
    fs::create_directories(dir);
    using animegan::weights::GgufType;
    for (int variant = 0; variant < 2; ++variant) {
        animegan::weights::GgufWriter w;
        w.set_string("general.architecture", "animeganv2");
        w.set_string("animeganv2.upsample_mode", "align_corners");
        w.set_f32("animeganv2.norm_eps", 1e-5f);
        w.set_bool("animeganv2.style_attention", variant == 1);
        if (variant == 1) w.set_u32("general.alignment", 64);
        const std::vector<float> values = {1.f, -2.f, 0.5f, 3.25f, -0.125f, 7.f};
        w.add_tensor("conv.weight", {2, 3}, values.data(), GgufType::F32);
        w.add_tensor("conv.bias", {6}, values.data(), GgufType::F16);
        w.write((dir / ("seed" + std::to_string(variant) + ".gguf")).string());
    }
}

// A torch.save zip of {"w": float tensor [2, 2]}: a stored zip with the pickle and one storage.
void torch_seed(const fs::path& dir) {
    fs::create_directories(dir);
    auto le = [](uint64_t v, int n) {
        std::string s;
        for (int i = 0; i < n; ++i) s.push_back(char(v >> (8 * i)));
        return s;
    };
    auto unicode = [&](const std::string& t) { return "X" + le(t.size(), 4) + t; };
    auto integer = [&](int v) { return "J" + le(uint32_t(v), 4); };
    const std::string pickle = "\x80\x02}(" + unicode("w") + "ctorch._utils\n_rebuild_tensor_v2\n((" +
                               unicode("storage") + "ctorch\nFloatStorage\n" + unicode("0") + unicode("cpu") +
                               integer(4) + "tQ" + integer(0) + "(" + integer(2) + integer(2) + "t(" +
                               integer(2) + integer(1) + "t\x89}tRu.";
    std::string storage(16, '\0');
    const float values[4] = {1.f, -2.f, 0.5f, 4.f};
    std::memcpy(&storage[0], values, 16);
    const std::vector<std::pair<std::string, std::string>> entries = {
        {"archive/data.pkl", pickle}, {"archive/data/0", storage}, {"archive/version", "3\n"}};
    std::string body, central;
    for (const auto& [name, data] : entries) {
        const size_t offset = body.size();
        body += le(0x04034b50, 4) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4) +
                le(data.size(), 4) + le(data.size(), 4) + le(name.size(), 2) + le(0, 2) + name + data;
        central += le(0x02014b50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4) +
                   le(data.size(), 4) + le(data.size(), 4) + le(name.size(), 2) + le(0, 2) + le(0, 2) +
                   le(0, 2) + le(0, 2) + le(0, 4) + le(offset, 4) + name;
    }
    const size_t cd_offset = body.size();
    body += central + le(0x06054b50, 4) + le(0, 2) + le(0, 2) + le(entries.size(), 2) +
            le(entries.size(), 2) + le(central.size(), 4) + le(cd_offset, 4) + le(0, 2);
    write(dir / "seed.pt", Bytes(body.begin(), body.end()));
}

void tflite_seed(const fs::path& dir, const fs::path& shared) {
    fs::create_directories(dir);
    const fs::path model = shared / "models" / "face_detection_front.tflite";
    if (fs::exists(model)) {
        fs::copy_file(model, dir / model.filename(), fs::copy_options::overwrite_existing);
    } else {
        write(dir / "header.tflite", {12, 0, 0, 0, 'T', 'F', 'L', '3', 0, 0, 0, 0});
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: fuzz_seeds OUT_DIR [SHARED_DIR]\n");
        return 2;
    }
    const fs::path out = argv[1], shared = argc > 2 ? argv[2] : "";
    try {
        image_seeds(out / "image", shared);
        gguf_seeds(out / "gguf");
        torch_seed(out / "torch");
        tflite_seed(out / "tflite", shared);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fuzz_seeds: %s\n", e.what());
        return 1;
    }
    return 0;
}
