// Images from strangers: every file here is built at test time from a valid small image and then broken the
// way an attacker (or the fuzzer) would break it. Each must end in a clear animegan::Error, never in stb's
// memory errors; run under ASan + UBSan (the sanitizer build) for that to count. Also: valid files of every
// supported variant still decode exactly, other formats are refused by name, and output paths are checked.
#include <doctest/doctest.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "animegan/animegan.h"
#include "engine/image/image_check.h"
#include "tests/image_crafting.h"
#include "tests/test_support.h"

using namespace animegan;
using testing::Bytes;
using testing::check_error_mentions;

namespace {

constexpr const char* kSupported = "unsupported image format (supported: JPEG, PNG, BMP)";

void check_refused(const Bytes& bytes, const std::string& needle) {
    // An exactly sized heap copy, so that ASan sees any read past the end.
    const Bytes copy(bytes);
    check_error_mentions([&] { decode_image(copy.data(), copy.size(), "crafted"); }, needle);
}

uint32_t be16_at(const Bytes& b, size_t at) {
    return uint32_t(b[at]) << 8 | b[at + 1];
}
void set_be16(Bytes& b, size_t at, uint32_t v) {
    b[at] = uint8_t(v >> 8);
    b[at + 1] = uint8_t(v);
}

const Bytes& small_jpeg() {
    static const Bytes jpeg = testing::saved_image_bytes(testing::test_pattern(64, 48), "jpg");
    return jpeg;
}

// Offsets (from the file start) of the tables in the JPEG's first DHT segment, as written by stb_image_write:
// one segment holding DC 0, AC 0, DC 1, AC 1.
std::vector<size_t> dht_tables(const Bytes& jpeg) {
    const size_t segment = testing::find_jpeg_segment(jpeg, 0xC4);
    REQUIRE(segment != std::string::npos);
    const size_t end = segment + 2 + be16_at(jpeg, segment + 2);
    std::vector<size_t> tables;
    for (size_t at = segment + 4; at < end;) {
        tables.push_back(at);
        size_t codes = 0;
        for (int i = 1; i <= 16; ++i) codes += jpeg[at + i];
        at += 17 + codes;
    }
    return tables;
}

size_t code_count(const Bytes& jpeg, size_t table) {
    size_t codes = 0;
    for (int i = 1; i <= 16; ++i) codes += jpeg[table + i];
    return codes;
}

// Raises the code counts of one table (longest codes first) so that the counts add up to `total`; with
// `keep_length_consistent` also inserts the extra symbol bytes and grows the segment length to match, so that
// only the count check can catch it.
Bytes overfull_dht(size_t table_index, size_t total, bool keep_length_consistent) {
    Bytes jpeg = small_jpeg();
    const size_t segment = testing::find_jpeg_segment(jpeg, 0xC4);
    const size_t table = dht_tables(jpeg).at(table_index);
    const size_t old_codes = code_count(jpeg, table);
    REQUIRE(total > old_codes);
    const size_t extra = total - old_codes;
    size_t left = extra;
    for (int length = 16; length >= 1 && left; --length) {  // a count is one byte: spread the raise
        const size_t add = std::min<size_t>(left, 255 - jpeg[table + length]);
        jpeg[table + length] = uint8_t(jpeg[table + length] + add);
        left -= add;
    }
    REQUIRE(left == 0);
    if (keep_length_consistent) {
        jpeg.insert(jpeg.begin() + std::ptrdiff_t(table + 17 + old_codes), extra, uint8_t(0));
        set_be16(jpeg, segment + 2, uint32_t(be16_at(jpeg, segment + 2) + extra));
    }
    return jpeg;
}

Bytes with_byte(Bytes bytes, size_t at, uint8_t value) {
    bytes.at(at) = value;
    return bytes;
}

// A PNG of the given size and type whose rows are all filter 0 and byte `fill`.
Bytes plain_png(uint32_t width, uint32_t height, int depth, int color, uint8_t fill,
                const Bytes& palette = {}) {
    const int channels = color == 2 ? 3 : color == 4 ? 2 : color == 6 ? 4 : 1;
    const size_t row = (size_t(width) * channels * depth + 7) / 8;
    Bytes rows;
    for (uint32_t y = 0; y < height; ++y) {
        rows.push_back(0);
        rows.insert(rows.end(), row, fill);
    }
    return testing::make_png(width, height, depth, color, rows, palette);
}

Bytes le32(uint32_t v) {
    return {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
}
void set_le32(Bytes& b, size_t at, uint32_t v) {
    const Bytes x = le32(v);
    std::copy(x.begin(), x.end(), b.begin() + std::ptrdiff_t(at));
}

// 4x2 8-bit palette BMP: two colours, indices 0 and 1.
Bytes palette_bmp(int bits = 8) {
    const Bytes quads = {10, 20, 30, 0, 200, 150, 100, 0};
    const int row_bytes = (4 * bits + 31) / 32 * 4;
    Bytes rows(size_t(row_bytes) * 2, 0);
    if (bits == 8) rows = {0, 1, 1, 0, 1, 1, 0, 0};
    return testing::make_bmp(4, 2, bits, quads, rows);
}

// A valid 32x8 greyscale JPEG built by hand whose DC coefficients grow past what stb's int arithmetic holds:
// a 16-bit quantization table of 65535s, a DC Huffman table whose one code means "difference of 15 bits",
// and four blocks that each add the largest difference (32767). stb computes dc * 65535 in int, which
// overflows from the second block on; engine/CMakeLists.txt compiles stb with -fwrapv for this.
Bytes overflowing_dc_jpeg() {
    Bytes j = {0xFF, 0xD8, 0xFF, 0xDB, 0, 131, 0x10};  // DQT: 16-bit table 0
    j.insert(j.end(), 128, 0xFF);
    j.insert(j.end(), {0xFF, 0xC0, 0, 11, 8, 0, 8, 0, 32, 1, 1, 0x11, 0});  // SOF0: 32x8, one component
    // DHT: DC table 0 with a single 1-bit code for category 15, AC table 0 with a single 1-bit code for EOB.
    j.insert(j.end(), {0xFF, 0xC4, 0, 2 + 2 * 18, 0x00, 1});
    j.insert(j.end(), 15, 0);
    j.insert(j.end(), {15, 0x10, 1});
    j.insert(j.end(), 15, 0);
    j.insert(j.end(), {0x00, 0xFF, 0xDA, 0, 8, 1, 1, 0x00, 0, 63, 0});  // SOS
    // Per block: DC code 0, fifteen 1 bits (+32767), AC code 0 (end of block); 68 bits, padded with 1s.
    std::vector<int> bits;
    for (int block = 0; block < 4; ++block) {
        bits.push_back(0);
        bits.insert(bits.end(), 15, 1);
        bits.push_back(0);
    }
    while (bits.size() % 8) bits.push_back(1);
    for (size_t i = 0; i < bits.size(); i += 8) {
        uint8_t byte = 0;
        for (size_t k = 0; k < 8; ++k) byte = uint8_t(byte << 1 | bits[i + k]);
        j.push_back(byte);
        if (byte == 0xFF) j.push_back(0x00);  // byte stuffing
    }
    j.insert(j.end(), {0xFF, 0xD9});
    return j;
}

}  // namespace

TEST_SUITE("untrusted_images") {
TEST_CASE("valid files of each supported variant still decode exactly") {
    const Image pattern = testing::test_pattern(37, 23);
    for (const char* ext : {"png", "bmp"}) {
        const Bytes bytes = testing::saved_image_bytes(pattern, ext);
        const Image back = decode_image(bytes.data(), bytes.size(), ext);
        CHECK(back.width == 37);
        CHECK(back.height == 23);
        CHECK(back.pixels == pattern.pixels);
    }
    const Bytes jpeg = testing::saved_image_bytes(pattern, "jpg");
    const Image back = decode_image(jpeg.data(), jpeg.size());
    REQUIRE(back.pixels.size() == pattern.pixels.size());
    double total = 0;
    for (size_t i = 0; i < back.pixels.size(); ++i) total += std::abs(back.pixels[i] - pattern.pixels[i]);
    CHECK(total / back.pixels.size() < 6.0);  // quality 95: a few levels on average

    // Palette PNGs at every depth (palette padded by the check where shorter than 2^depth), grey 16-bit.
    const Bytes palette = {255, 0, 0, 0, 255, 0};
    for (int depth : {1, 2, 4, 8}) {
        const Bytes png = plain_png(9, 3, depth, 3, 0x00, palette);  // every pixel index 0
        const Image img = decode_image(png.data(), png.size(), "palette");
        REQUIRE(img.pixels.size() == 9 * 3 * 3);
        CHECK(img.pixels[0] == 255);
        CHECK(img.pixels[1] == 0);
        CHECK(img.pixels[26 * 3 + 0] == 255);
    }
    const Bytes grey16 = plain_png(5, 4, 16, 0, 0x80);
    const Image grey = decode_image(grey16.data(), grey16.size());
    CHECK(grey.pixels[0] == 0x80);

    const Bytes bmp = palette_bmp();
    const Image pal = decode_image(bmp.data(), bmp.size());
    REQUIRE(pal.width == 4);
    // Bottom-up rows: the file's first row (0 1 1 0) is the picture's last.
    CHECK(pal.pixels[(4 + 1) * 3 + 0] == 100);  // index 1 = BGR (200, 150, 100)
    CHECK(pal.pixels[(4 + 0) * 3 + 0] == 30);   // index 0 = BGR (10, 20, 30)
}

TEST_CASE("over-full DHT: Huffman code counts adding up past 256 are refused before stb sees them") {
    // The reported case (64x64 JPEG, DC table counts raised, segment length left alone) and three
    // variants: an AC table, and counts whose segment length and symbol bytes were grown to match (only
    // the count check catches these), down to the boundary of 257 codes.
    const std::string dir = testing::scratch_dir("untrusted_images");
    const std::vector<std::pair<std::string, Bytes>> cases = {
        {"dc_counts_raised.jpg", overfull_dht(0, 262, false)},
        {"ac_counts_raised.jpg", overfull_dht(1, 300, false)},
        {"dc_counts_and_length_raised.jpg", overfull_dht(2, 400, true)},
        {"ac_counts_257_length_matched.jpg", overfull_dht(3, 257, true)},
    };
    for (const auto& [name, bytes] : cases) {
        CAPTURE(name);
        check_refused(bytes, "a Huffman table can hold");
        // Through the file path too (what `animegan2 -i` does); kept in the scratch folder to try by
        // hand.
        testing::write_bytes(dir + "/" + name, bytes);
        check_error_mentions([&] { load_image(dir + "/" + name); }, name);
    }
}

TEST_CASE("other broken JPEG structure") {
    const Bytes& jpeg = small_jpeg();
    const size_t dht = testing::find_jpeg_segment(jpeg, 0xC4), sof = testing::find_jpeg_segment(jpeg, 0xC0);
    const size_t sos = testing::find_jpeg_segment(jpeg, 0xDA), dqt = testing::find_jpeg_segment(jpeg, 0xDB);
    REQUIRE(sos != std::string::npos);
    // DHT segment one byte shorter than its tables.
    Bytes short_dht = jpeg;
    set_be16(short_dht, dht + 2, be16_at(jpeg, dht + 2) - 1);
    check_refused(short_dht, "does not match");
    // A Huffman table whose codes do not fit their lengths: three 1-bit codes.
    check_refused(with_byte(jpeg, dht_tables(jpeg)[0] + 1, 3), "more codes than its lengths allow");
    // A scan using a Huffman table no DHT defined: stb would read its uninitialized heap copy.
    check_refused(with_byte(jpeg, sos + 6, uint8_t((jpeg[sos + 6] & 0x0F) | 0x20)), "was never defined");
    // A scan naming a component the frame does not have.
    check_refused(with_byte(jpeg, sos + 5, 99), "not in the frame");
    // The frame: zero width, two components, 12-bit samples, quantization table 5, arithmetic coding.
    check_refused(with_byte(with_byte(jpeg, sof + 7, 0), sof + 8, 0), "no pixels");
    check_refused(with_byte(jpeg, sof + 9, 2), "colour components");
    check_refused(with_byte(jpeg, sof + 4, 12), "only 8-bit");
    check_refused(with_byte(jpeg, sof + 12, 5), "quantization table id");
    check_refused(with_byte(jpeg, sof + 1, 0xC9), "arithmetic");
    // A quantization table of precision 2, a segment running past the end, a marker where data should be.
    check_refused(with_byte(jpeg, dqt + 4, 0x20), "DQT");
    check_refused(with_byte(with_byte(jpeg, dqt + 2, 0xFF), dqt + 3, 0xF0), "past the end");
    check_refused(with_byte(jpeg, dht, 0x12), "expected a marker");
    // A scan that codes only the first of the three components: stb would show its uninitialized sample
    // planes, heap contents left by earlier allocations, as the picture's colours.
    Bytes one_component(jpeg.begin(), jpeg.begin() + std::ptrdiff_t(sos));
    one_component.insert(one_component.end(), {0xFF, 0xDA, 0, 8, 1, jpeg[sos + 5], jpeg[sos + 6], 0, 63, 0});
    one_component.insert(one_component.end(), jpeg.begin() + std::ptrdiff_t(sos + 2 + be16_at(jpeg, sos + 2)),
                         jpeg.end());
    check_refused(one_component, "component 2 is in no scan");
    // Two frame headers: the SOF segment copied in front of the scan.
    Bytes two_frames = jpeg;
    const size_t sof_length = 2 + be16_at(jpeg, sof + 2);
    two_frames.insert(two_frames.begin() + std::ptrdiff_t(sos), jpeg.begin() + std::ptrdiff_t(sof),
                      jpeg.begin() + std::ptrdiff_t(sof + sof_length));
    check_refused(two_frames, "second frame header");
}

TEST_CASE("a JPEG whose DC coefficients overflow int decodes (stb wraps them; no undefined behaviour)") {
    const Bytes jpeg = overflowing_dc_jpeg();
    const Image image = decode_image(jpeg.data(), jpeg.size(), "overflow.jpg");
    CHECK(image.width == 32);
    CHECK(image.height == 8);
    testing::write_bytes(testing::scratch_dir("untrusted_overflow") + "/overflowing_dc.jpg", jpeg);
}

TEST_CASE("truncated and empty files") {
    check_error_mentions([] { decode_image(nullptr, 0, "nothing"); }, "nothing: empty");
    const Bytes empty;
    check_error_mentions([&] { decode_image(empty.data(), empty.size()); }, "empty");
    const Image pattern = testing::test_pattern(20, 14);
    for (const char* ext : {"jpg", "png", "bmp"}) {
        const Bytes whole = testing::saved_image_bytes(pattern, ext);
        for (size_t cut = 1; cut < whole.size(); cut += std::max<size_t>(1, whole.size() / 37)) {
            CAPTURE(ext);
            CAPTURE(cut);
            const Bytes part(whole.begin(), whole.begin() + std::ptrdiff_t(cut));
            CHECK_THROWS_AS(decode_image(part.data(), part.size()), Error);
        }
        const Bytes last_byte_missing(whole.begin(), whole.end() - 1);
        check_refused(last_byte_missing, "truncated");
    }
}

TEST_CASE("PNG: bad CRCs, decompression bombs, bad headers and chunk order") {
    const Bytes png = testing::saved_image_bytes(testing::test_pattern(16, 16), "png");
    const size_t idat = 8 + 25;  // after the signature and IHDR
    REQUIRE(std::string(png.begin() + std::ptrdiff_t(idat + 4), png.begin() + std::ptrdiff_t(idat + 8)) ==
            "IDAT");
    check_refused(with_byte(png, idat + 12, uint8_t(png[idat + 12] ^ 0x40)), "bad CRC");
    check_refused(with_byte(png, png.size() - 1, uint8_t(png[png.size() - 1] ^ 1)),
                  "bad CRC");  // IEND's CRC

    // A 4x4 grey image (20 bytes of rows) whose IDAT inflates to 1 MiB: stb would keep growing its
    // buffer.
    const Bytes bomb = testing::make_png(4, 4, 8, 0, Bytes(1 << 20, 0));
    check_refused(bomb, "inflates past");
    check_refused(testing::make_png(4, 4, 8, 0, Bytes(10, 0)), "truncated PNG");
    check_refused(plain_png(8, 8, 1, 2, 0), "colour type 2 with bit depth 1");
    check_refused(plain_png(0, 8, 8, 0, 0), "no pixels");
    check_refused(testing::make_png(100000, 100000, 8, 0, {}), "megapixels");

    Bytes no_palette = plain_png(4, 4, 8, 3, 0);  // palette image without PLTE
    check_refused(no_palette, "without PLTE");
    Bytes apple = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    testing::append_png_chunk(apple, "CgBI", {0x50, 0, 0x20, 0x06});
    apple.insert(apple.end(), png.begin() + 8, png.end());
    check_refused(apple, "first chunk is CgBI");
    Bytes critical(png.begin(), png.begin() + std::ptrdiff_t(idat));
    testing::append_png_chunk(critical, "ZZZZ", {1, 2, 3});
    critical.insert(critical.end(), png.begin() + std::ptrdiff_t(idat), png.end());
    check_refused(critical, "critical chunk ZZZZ");

    // Palette indices past the palette: stb would copy uninitialized stack bytes; the padded palette
    // gives black.
    const Bytes two_colours = {255, 255, 255, 0, 0, 200};
    Bytes rows = {0, 0, 1, 7, 200};  // one row: filter 0, then indices 0, 1, 7, 200
    const Bytes png_out_of_range = testing::make_png(4, 1, 8, 3, rows, two_colours);
    const Image img = decode_image(png_out_of_range.data(), png_out_of_range.size());
    REQUIRE(img.pixels.size() == 12);
    CHECK(img.pixels == Bytes({255, 255, 255, 0, 0, 200, 0, 0, 0, 0, 0, 0}));
}

TEST_CASE("BMP with hostile headers") {
    const Bytes bmp =
        testing::saved_image_bytes(testing::test_pattern(6, 5), "bmp");  // 24-bit, 40-byte header
    check_refused(with_byte(bmp, 14, 64), "header size 64");
    Bytes min_height = bmp;
    set_le32(min_height, 22, 0x80000000u);  // INT32_MIN rows: stb takes abs() of it
    check_refused(min_height, "megapixels");
    Bytes negative_width = bmp;
    set_le32(negative_width, 18, uint32_t(-6));
    check_refused(negative_width, "no pixels");
    Bytes huge = bmp;
    set_le32(huge, 18, 100000);
    set_le32(huge, 22, 100000);
    check_refused(huge, "megapixels");
    Bytes far_offset = bmp;
    set_le32(far_offset, 10, 0x7FFFFFF0u);
    check_refused(far_offset, "past the end");
    check_refused(with_byte(bmp, 28, 2), "2 bits per pixel");
    check_refused(with_byte(bmp, 30, 1), "run-length");
    check_refused(with_byte(bmp, 26, 2), "plane count");
    check_refused(Bytes(bmp.begin(), bmp.begin() + 30), "truncated BMP");

    // Palettes: an index past the palette, no room for a palette, an OS/2 palette.
    const Bytes pal = palette_bmp();
    const size_t pixels = 14 + 40 + 8;
    check_refused(with_byte(pal, pixels + 2, 2), "uses colour 2 of a 2-entry palette");
    Bytes no_room = pal;
    set_le32(no_room, 10, 14 + 40);
    check_refused(no_room, "no room for a palette");
    Bytes os2 = {'B', 'M', 0, 0, 0, 0, 0, 0, 0, 0, 26 + 6, 0, 0, 0, 12, 0, 0, 0, 2, 0, 1, 0, 1, 0, 8, 0};
    os2.insert(os2.end(), {0, 0, 0, 255, 255, 255, 1, 0, 0, 0});
    check_refused(os2, "OS/2 bitmap of 8 bits");
}

TEST_CASE("GIF, TGA, PPM and unknown bytes are refused, naming the supported formats") {
    const Bytes gif = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0,    0, 0, 255, 255,
                       255, ',', 0,   0,   0,   0,   1, 0, 1, 0, 0,    2, 2, 0x44, 1, 0, ';'};
    Bytes tga = {0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2, 0, 24, 0};  // 2x2 true colour
    tga.insert(tga.end(), 12, 0x7F);
    Bytes ppm = {'P', '6', '\n', '2', ' ', '2', '\n', '2', '5', '5', '\n'};
    ppm.insert(ppm.end(), 12, 0x40);
    const std::string dir = testing::scratch_dir("untrusted_formats");
    for (const auto& [name, bytes] : std::vector<std::pair<std::string, Bytes>>{
             {"GIF", gif}, {"TGA", tga}, {"PNM", ppm}, {"not a readable image", Bytes(64, 'x')}}) {
        CAPTURE(name);
        check_refused(bytes, name);
        check_refused(bytes, kSupported);
        testing::write_bytes(dir + "/file", bytes);
        check_error_mentions([&] { load_image(dir + "/file"); }, kSupported);
    }
}

TEST_CASE("check_output_path: known extension, existing writable directory, no probe left behind") {
    const std::string dir = testing::scratch_dir("output_paths");
    auto entries = [&] {
        const std::filesystem::directory_iterator all(dir);
        return std::distance(begin(all), end(all));
    };
    check_output_path(dir + "/out.png");
    check_output_path(dir + "/out.JPEG");
    CHECK(entries() == 0);
    testing::write_bytes(dir + "/existing.bmp", {1, 2, 3});
    check_output_path(dir + "/existing.bmp");
    CHECK(testing::read_bytes(dir + "/existing.bmp") == Bytes({1, 2, 3}));  // not truncated by the check
    CHECK(entries() == 1);
    check_error_mentions([&] { check_output_path(dir + "/out.gif"); }, "unknown output format 'gif'");
    check_error_mentions([&] { check_output_path(dir + "/missing/out.png"); }, "does not exist");
    check_error_mentions([&] { check_output_path(dir + "/existing.bmp/out.png"); }, "does not exist");
    std::filesystem::create_directories(dir + "/folder.png");
    check_error_mentions([&] { check_output_path(dir + "/folder.png"); }, "is a directory");
    // Where not even root can create files.
    check_error_mentions([&] { check_output_path("/proc/animegan_out.png"); },
                         "cannot create files in /proc");
    // And the tool: an unwritable -o stops it before it loads the model or reads the photo (both
    // missing).
    const std::string tool = std::string(ANIMEGAN_BINARY_DIR) + "/examples/animegan2";
    ANIMEGAN_SKIP_IF(std::filesystem::exists(tool) ? "" : tool + " is not built (the rest of this case ran)");
    const std::string command = tool + " -m " + dir + "/no_model.gguf -i " + dir + "/no_photo.jpg -o " + dir +
                                "/missing/out.png 2>" + dir + "/stderr.txt";
    CHECK(testing::run_command(command) == 1);
    const Bytes err = testing::read_bytes(dir + "/stderr.txt");
    const std::string message(err.begin(), err.end());
    CHECK(message.find("missing/out.png: directory") != std::string::npos);
    CHECK(message.find("no_model") == std::string::npos);
}

TEST_CASE("every photo in ../shared/images passes the checks") {
    const std::string shared = testing::shared_dir();
    ANIMEGAN_SKIP_IF(shared.empty() ? "../shared is not available" : "");
    int checked = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(shared + "/images")) {
        if (entry.path().extension() != ".jpg") continue;
        CAPTURE(entry.path().string());
        const Bytes bytes = testing::read_bytes(entry.path().string());
        const image::CheckedImage c =
            image::check_image(bytes.data(), bytes.size(), "photo", kMaxImagePixels);
        CHECK(c.width > 0);
        ++checked;
    }
    CHECK(checked > 0);
    // Two decoded in full, a baseline and a progressive one (the checks and stb agree on their sizes).
    for (const char* name : {"portrait_01.jpg", "crowd_party.jpg"})
        CHECK(load_image(shared + "/images/" + name).width > 0);
}

}  // TEST_SUITE("untrusted_images")
