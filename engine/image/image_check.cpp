// The structure walks behind check_image (image_check.h). Each check says which defect of stb_image v2.27
// (Debian's libstb-dev 0.0~git20220908) it keeps away from stb; checks without such a note refuse files
// that are corrupt or truncated (stb would decode them to garbage or a partial picture) or that stb does not
// support (so the error is ours and clear instead of stb's terse one).
//
// JPEG: the walk mirrors how stb reads markers, so every segment stb acts on has been checked here first:
// stb skips stray bytes between segments only before the frame header (so does the walk), and stops reading
// a scan's entropy-coded data at the first 0xFF followed by a byte other than 0x00 or a restart marker, which
// is where the walk resumes. A restart marker stb does not expect, or data it stops short of, makes stb fail
// on its own with an "unknown marker" / "expected marker" error, never act on unchecked bytes.
#include "engine/image/image_check.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <memory>

#include "animegan/error.h"
#include "engine/image/stb_codecs.h"

namespace animegan::image {
namespace {

constexpr const char* kSupported = "unsupported image format (supported: JPEG, PNG, BMP)";

// stb refuses larger sides (STBI_MAX_DIMENSIONS); we say so before it does.
constexpr int64_t kMaxSide = int64_t(1) << 24;

// Progressive JPEGs have about ten scans; every scan makes stb walk the whole image again, so a small file
// of thousands of empty scans over a large frame would keep it busy for minutes. libjpeg-turbo's fuzzers
// cap scans at 500 for the same reason.
constexpr int kMaxJpegScans = 500;

uint32_t be16(const uint8_t* p) {
    return uint32_t(p[0]) << 8 | p[1];
}
uint32_t be32(const uint8_t* p) {
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
uint32_t le16(const uint8_t* p) {
    return uint32_t(p[1]) << 8 | p[0];
}
uint32_t le32(const uint8_t* p) {
    return uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0];
}

std::string hex(unsigned value, int digits) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%0*X", digits, value);
    return text;
}

// Throws "<label>: <format> <what>"; `format` says what we took the file for, e.g. "invalid JPEG:".
class Refuse {
  public:
    Refuse(const std::string& label, const char* format) : label_(label), format_(format) {}
    [[noreturn]] void operator()(const std::string& what) const {
        throw Error(label_ + ": " + format_ + what);
    }

  private:
    const std::string& label_;
    const char* format_;
};

void check_pixel_count(int64_t width, int64_t height, int64_t max_pixels, const Refuse& refuse) {
    if (width <= 0 || height <= 0)
        refuse("image has no pixels (" + std::to_string(width) + "x" + std::to_string(height) + ")");
    if (width > kMaxSide || height > kMaxSide || width * height > max_pixels) {
        refuse("image is " + std::to_string(width) + "x" + std::to_string(height) + ", more than the " +
               std::to_string(max_pixels / 1'000'000) + " megapixels we accept");
    }
}

// JPEG ---------------------------------------------------------------------------------------------------

struct JpegComponent {
    int id, h, v, tq;
};

struct JpegState {
    bool frame = false, progressive = false;
    int width = 0, height = 0;
    std::vector<JpegComponent> components;
    // stb's decoder struct comes from malloc and is never cleared: its Huffman and quantization tables hold
    // whatever the heap held until a DHT / DQT segment fills them. A scan that uses a table no segment
    // defined makes stb follow uninitialized code lengths and symbol indices (out-of-bounds reads in
    // stbi__jpeg_huff_decode). So every table a scan uses must have been defined first.
    bool dc_defined[4] = {}, ac_defined[4] = {}, quant_defined[4] = {};
    // stb's sample planes (baseline) and coefficient blocks (progressive) come from malloc too, and only a
    // scan that codes a component fills them: any scan for baseline, a first DC scan for progressive (it
    // clears each block). A component no such scan codes would show heap contents, maybe another upload's,
    // in the picture. So each component must be coded.
    bool coded[4] = {};
    int scans = 0;
};

void check_dht(const uint8_t* p, size_t length, size_t offset, JpegState& s, const Refuse& refuse) {
    const std::string where = "DHT segment at offset " + std::to_string(offset) + ": ";
    size_t at = 0;
    while (at < length) {
        if (length - at < 17) refuse(where + "its length does not match its tables");
        const int table_class = p[at] >> 4, id = p[at] & 15;
        if (table_class > 1 || id > 3) refuse(where + "bad table class/id byte " + hex(p[at], 2));
        const char* kind = table_class == 0 ? "DC" : "AC";
        // The defect the fuzzing found: stbi__build_huffman writes one size entry per code into a 257-byte
        // array and stbi__process_marker then copies that many symbol bytes from the file into a 256-byte
        // array, with no check of the total. Counts adding up past 256 overwrite the decoder's heap block.
        unsigned codes = 0;
        for (int i = 0; i < 16; ++i) codes += p[at + 1 + i];
        if (codes > 256) {
            refuse(where + kind + " table " + std::to_string(id) + " has " + std::to_string(codes) +
                   " codes, more than the 256 a Huffman table can hold");
        }
        // A code set that does not fit its lengths (the Kraft inequality, with the all-ones code reserved as
        // the standard and libjpeg require). stb checks a weaker form; this keeps its code tables consistent.
        unsigned next_code = 0;
        for (int length_bits = 1; length_bits <= 16; ++length_bits) {
            const unsigned count = p[at + length_bits];
            next_code += count;
            if (count && next_code >= (1u << length_bits))
                refuse(where + kind + " table " + std::to_string(id) +
                       " has more codes than its lengths allow");
            next_code <<= 1;
        }
        if (length - at - 17 < codes) refuse(where + "its length does not match its tables' code counts");
        if (table_class == 0) {
            for (unsigned i = 0; i < codes; ++i) {
                if (p[at + 17 + i] > 15)
                    refuse(where + "DC table " + std::to_string(id) + " has a symbol past 15");
            }
        }
        (table_class == 0 ? s.dc_defined : s.ac_defined)[id] = true;
        at += 17 + codes;
    }
}

void check_dqt(const uint8_t* p, size_t length, size_t offset, JpegState& s, const Refuse& refuse) {
    const std::string where = "DQT segment at offset " + std::to_string(offset) + ": ";
    size_t at = 0;
    while (at < length) {
        const int precision = p[at] >> 4, id = p[at] & 15;
        if (precision > 1 || id > 3) refuse(where + "bad precision/table byte " + hex(p[at], 2));
        const size_t table_bytes = 1 + 64 * size_t(precision + 1);
        if (length - at < table_bytes) refuse(where + "its length does not match its tables");
        s.quant_defined[id] = true;
        at += table_bytes;
    }
}

void check_frame(const uint8_t* p, size_t length, size_t offset, int marker, int64_t max_pixels, JpegState& s,
                 const Refuse& refuse) {
    const std::string where = "frame header (SOF) at offset " + std::to_string(offset) + ": ";
    // stb acts on a second frame header only to fail; say why.
    if (s.frame) refuse(where + "a second frame header");
    if (length < 6) refuse(where + "too short");
    const int components = p[5];
    if (components != 1 && components != 3 && components != 4)
        refuse(where + std::to_string(components) + " colour components (1, 3 or 4 supported)");
    if (length != 6 + 3 * size_t(components)) refuse(where + "its length does not match its components");
    if (p[0] != 8) refuse(where + std::to_string(p[0]) + "-bit samples (only 8-bit JPEGs are supported)");
    s.height = int(be16(p + 1));
    s.width = int(be16(p + 3));
    if (s.height == 0) refuse(where + "height given later by a DNL marker, which is not supported");
    check_pixel_count(s.width, s.height, max_pixels, refuse);
    int h_max = 1, v_max = 1;
    for (int i = 0; i < components; ++i) {
        const uint8_t* c = p + 6 + 3 * i;
        const JpegComponent component{c[0], c[1] >> 4, c[1] & 15, c[2]};
        for (const JpegComponent& other : s.components)
            if (other.id == component.id) refuse(where + "two components with id " + std::to_string(c[0]));
        if (component.h < 1 || component.h > 4 || component.v < 1 || component.v > 4)
            refuse(where + "sampling factors out of 1..4");
        if (component.tq > 3) refuse(where + "quantization table id past 3");
        h_max = std::max(h_max, component.h);
        v_max = std::max(v_max, component.v);
        s.components.push_back(component);
    }
    for (const JpegComponent& c : s.components)
        if (h_max % c.h || v_max % c.v) refuse(where + "sampling factors that are not whole ratios");
    s.frame = true;
    s.progressive = marker == 0xC2;
}

void check_scan(const uint8_t* p, size_t length, size_t offset, JpegState& s, const Refuse& refuse) {
    const std::string where = "scan header (SOS) at offset " + std::to_string(offset) + ": ";
    if (!s.frame) refuse(where + "a scan before the frame header");
    if (++s.scans > kMaxJpegScans) refuse("more than " + std::to_string(kMaxJpegScans) + " scans");
    if (length < 1) refuse(where + "too short");
    const size_t count = p[0];
    if (count < 1 || count > s.components.size())
        refuse(where + "bad component count " + std::to_string(count));
    if (length != 4 + 2 * count) refuse(where + "its length does not match its components");
    const int ss = p[1 + 2 * count], se = p[2 + 2 * count], ah = p[3 + 2 * count] >> 4,
              al = p[3 + 2 * count] & 15;
    if (!s.progressive) {
        if (ss != 0 || ah != 0 || al != 0) refuse(where + "progressive parameters in a baseline scan");
    } else if (ss > se || se > 63 || ah > 13 || al > 13 || (ss == 0 && se != 0) || (ss > 0 && count != 1)) {
        refuse(where + "bad progressive parameters");
    }
    const bool codes_dc = !s.progressive || (ss == 0 && ah == 0);  // baseline, or a first DC scan
    const bool codes_ac = !s.progressive || ss > 0;
    std::vector<int> in_scan;
    for (size_t i = 0; i < count; ++i) {
        const uint8_t* c = p + 1 + 2 * i;
        // stb gives up on an unknown component id without setting a failure reason.
        auto found = std::find_if(s.components.begin(), s.components.end(),
                                  [&](const JpegComponent& x) { return x.id == c[0]; });
        if (found == s.components.end())
            refuse(where + "component id " + std::to_string(c[0]) + " is not in the frame");
        if (std::find(in_scan.begin(), in_scan.end(), c[0]) != in_scan.end())
            refuse(where + "component id " + std::to_string(c[0]) + " twice");
        in_scan.push_back(c[0]);
        const int dc = c[1] >> 4, ac = c[1] & 15;
        if (dc > 3 || ac > 3) refuse(where + "Huffman table id past 3");
        if (codes_dc && !s.dc_defined[dc])
            refuse(where + "DC Huffman table " + std::to_string(dc) + " was never defined");
        if (codes_ac && !s.ac_defined[ac])
            refuse(where + "AC Huffman table " + std::to_string(ac) + " was never defined");
        if (!s.quant_defined[found->tq])
            refuse(where + "quantization table " + std::to_string(found->tq) + " was never defined");
        if (codes_dc) s.coded[found - s.components.begin()] = true;
    }
}

// Where the entropy-coded data that starts at `at` ends: the 0xFF of the first marker that is not a
// restart marker (stuffed 0xFF 0x00 bytes and 0xFF fill bytes are data).
size_t end_of_entropy_data(const uint8_t* data, size_t size, size_t at, const Refuse& truncated) {
    for (;;) {
        const void* ff = at < size ? std::memchr(data + at, 0xFF, size - at) : nullptr;
        if (!ff) truncated("ends inside the image data of a scan");
        const size_t marker_at = size_t(static_cast<const uint8_t*>(ff) - data);
        size_t next = marker_at + 1;
        while (next < size && data[next] == 0xFF) ++next;
        if (next >= size) truncated("ends inside the image data of a scan");
        if (data[next] != 0x00 && (data[next] < 0xD0 || data[next] > 0xD7)) return next - 1;
        at = next + 1;
    }
}

CheckedImage check_jpeg(const uint8_t* data, size_t size, const std::string& label, int64_t max_pixels) {
    const Refuse refuse(label, "invalid JPEG: "), unsupported(label, "unsupported JPEG: "),
        truncated(label, "truncated JPEG: ");
    JpegState s;
    size_t at = 2;  // past the start-of-image marker
    bool after_segment = false;
    for (;;) {
        if (at >= size) truncated("ends before its end-of-image marker");
        if (data[at] != 0xFF) {
            // Like stb: stray bytes between segments are skipped before the frame header, nowhere else.
            if (s.frame || !after_segment) refuse("expected a marker at offset " + std::to_string(at));
            const void* ff = std::memchr(data + at, 0xFF, size - at);
            if (!ff) truncated("ends before its frame header");
            at = size_t(static_cast<const uint8_t*>(ff) - data);
        }
        while (at < size && data[at] == 0xFF) ++at;
        if (at >= size) truncated("ends before its end-of-image marker");
        const int marker = data[at++];
        const size_t marker_offset = at - 2;
        if (marker == 0xD9) {  // end of image
            if (s.scans == 0) refuse("no image data before the end-of-image marker");
            break;
        }
        if (marker == 0xD8 || marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7))
            refuse("unexpected marker " + hex(unsigned(marker), 2) + " at offset " +
                   std::to_string(marker_offset));
        // Every other marker starts a segment with its length; stb reads a segment's fields without
        // checking them against the length, so the length must hold exactly what the fields need.
        if (size - at < 2) truncated("ends inside a segment header");
        const size_t length = be16(data + at);
        if (length < 2)
            refuse("segment " + hex(unsigned(marker), 2) + " at offset " + std::to_string(marker_offset) +
                   " has length " + std::to_string(length));
        if (length > size - at)
            truncated("segment " + hex(unsigned(marker), 2) + " at offset " + std::to_string(marker_offset) +
                      " runs past the end of the file");
        const uint8_t* body = data + at + 2;
        const size_t body_length = length - 2, end = at + length;
        if (marker == 0xC0 || marker == 0xC1 || marker == 0xC2) {
            check_frame(body, body_length, marker_offset, marker, max_pixels, s, refuse);
        } else if ((marker >= 0xC3 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC)) {
            unsupported("lossless, hierarchical or arithmetic coding (marker " + hex(unsigned(marker), 2) +
                        ")");
        } else if (marker == 0xC4) {
            check_dht(body, body_length, marker_offset, s, refuse);
        } else if (marker == 0xDB) {
            check_dqt(body, body_length, marker_offset, s, refuse);
        } else if (marker == 0xDD) {  // restart interval
            if (length != 4)
                refuse("DRI segment at offset " + std::to_string(marker_offset) + " has length " +
                       std::to_string(length));
        } else if (marker == 0xDA) {
            check_scan(body, body_length, marker_offset, s, refuse);
            at = end_of_entropy_data(data, size, end, truncated);
            after_segment = true;
            continue;
        } else if (marker == 0xDC) {  // number of lines: stb compares it with the frame's height
            if (s.scans == 0 || length != 4 || int(be16(body)) != s.height)
                refuse("bad DNL segment at offset " + std::to_string(marker_offset));
        } else if (!((marker >= 0xE0 && marker <= 0xEF) || marker == 0xFE)) {  // APPn and COM are skipped
            refuse("unknown marker " + hex(unsigned(marker), 2) + " at offset " +
                   std::to_string(marker_offset));
        }
        at = end;
        after_segment = true;
    }
    if (!s.frame) refuse("no frame header");
    for (size_t i = 0; i < s.components.size(); ++i) {
        if (!s.coded[i])
            refuse("component " + std::to_string(s.components[i].id) + " is in no scan that codes its " +
                   (s.progressive ? "DC coefficients" : "samples"));
    }
    CheckedImage checked;
    checked.format = ImageFormat::Jpeg;
    checked.width = s.width;
    checked.height = s.height;
    return checked;
}

// PNG ----------------------------------------------------------------------------------------------------

const uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

}  // namespace

uint32_t png_crc32(const uint8_t* p, size_t n) {
    static const std::array<uint32_t, 256> table = [] {
        std::array<uint32_t, 256> t{};
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

namespace {

struct PngHeader {
    uint32_t width = 0, height = 0;
    int depth = 0, color = 0, interlace = 0;
    int channels() const { return color == 2 ? 3 : color == 4 ? 2 : color == 6 ? 4 : 1; }
};

// Bytes the zlib stream must inflate to: a filter byte plus the packed samples of every row of every pass.
uint64_t png_inflated_size(const PngHeader& h) {
    const uint64_t bits_per_pixel = uint64_t(h.channels()) * h.depth;
    auto pass_bytes = [&](uint64_t width, uint64_t height) {
        return width == 0 || height == 0 ? 0 : height * (1 + (width * bits_per_pixel + 7) / 8);
    };
    if (h.interlace == 0) return pass_bytes(h.width, h.height);
    static const int adam7[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                                    {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
    uint64_t total = 0;
    for (const auto& p : adam7) {
        const uint64_t w = h.width > uint32_t(p[0]) ? (h.width - p[0] + p[2] - 1) / p[2] : 0;
        const uint64_t ht = h.height > uint32_t(p[1]) ? (h.height - p[1] + p[3] - 1) / p[3] : 0;
        total += pass_bytes(w, ht);
    }
    return total;
}

void check_png_header(const uint8_t* p, size_t length, int64_t max_pixels, PngHeader& h,
                      const Refuse& refuse) {
    if (length != 13) refuse("IHDR has length " + std::to_string(length) + " instead of 13");
    h.width = be32(p);
    h.height = be32(p + 4);
    h.depth = p[8];
    h.color = p[9];
    h.interlace = p[12];
    check_pixel_count(h.width, h.height, max_pixels, refuse);
    // The bit depths the standard allows per colour type. stb accepts some others (e.g. 1-bit RGB), which
    // its row unpacking was not written for.
    const int d = h.depth;
    const bool depth_ok = h.color == 0 ? (d == 1 || d == 2 || d == 4 || d == 8 || d == 16)
                          : h.color == 3
                              ? (d == 1 || d == 2 || d == 4 || d == 8)
                              : (h.color == 2 || h.color == 4 || h.color == 6) && (d == 8 || d == 16);
    if (!depth_ok)
        refuse("colour type " + std::to_string(h.color) + " with bit depth " + std::to_string(d) +
               " is not valid");
    if (p[10] != 0 || p[11] != 0 || h.interlace > 1)
        refuse("unknown compression, filter or interlace method");
}

// The same PNG with its PLTE chunk grown to `entries` entries (the new ones black), CRC recomputed.
std::vector<uint8_t> with_padded_palette(const uint8_t* data, size_t size, size_t plte_at, size_t entries) {
    const size_t old_length = be32(data + plte_at), new_length = entries * 3;
    std::vector<uint8_t> out(data, data + plte_at + 8 + old_length);
    out.resize(plte_at + 8 + new_length, 0);
    for (int i = 0; i < 4; ++i) out[plte_at + i] = uint8_t(new_length >> (24 - 8 * i));
    const uint32_t crc = png_crc32(out.data() + plte_at + 4, 4 + new_length);
    for (int i = 0; i < 4; ++i) out.push_back(uint8_t(crc >> (24 - 8 * i)));
    out.insert(out.end(), data + plte_at + 12 + old_length, data + size);
    return out;
}

CheckedImage check_png(const uint8_t* data, size_t size, const std::string& label, int64_t max_pixels) {
    const Refuse refuse(label, "invalid PNG: "), unsupported(label, "unsupported PNG: "),
        truncated(label, "truncated PNG: ");
    PngHeader h;
    bool have_header = false, seen_idat = false, idat_done = false, have_trns = false;
    size_t palette_entries = 0, plte_at = 0;
    std::vector<uint8_t> compressed;
    size_t at = sizeof kPngSignature;
    for (;;) {
        if (size - at < 12) truncated("ends before its IEND chunk");
        const size_t length = be32(data + at);
        const uint8_t* type = data + at + 4;
        const std::string name(reinterpret_cast<const char*>(type), 4);
        const std::string where = "chunk at offset " + std::to_string(at);
        if (length > 0x7FFFFFFFu) refuse(where + " has length " + std::to_string(length));
        if (length > size - at - 12) truncated(where + " runs past the end of the file");
        for (int i = 0; i < 4; ++i)
            if (!std::isalpha(type[i])) refuse(where + " has a bad type");
        // stb never checks CRCs; a damaged file would decode to garbage (or fail deep inside inflate).
        const uint32_t stored = be32(data + at + 8 + length), computed = png_crc32(type, 4 + length);
        if (stored != computed)
            refuse(name + " " + where + " has a bad CRC (stored " + hex(stored, 8) + ", computed " +
                   hex(computed, 8) + ")");
        const uint8_t* body = data + at + 8;
        if (!have_header && name != "IHDR") refuse("the first chunk is " + name + ", not IHDR");
        if (seen_idat && name != "IDAT") idat_done = true;
        if (name == "IHDR") {
            if (have_header) refuse("a second IHDR");
            check_png_header(body, length, max_pixels, h, refuse);
            have_header = true;
        } else if (name == "PLTE") {
            if (palette_entries || seen_idat) refuse("PLTE repeated or after the image data");
            if (h.color == 0 || h.color == 4) refuse("PLTE in a greyscale image");
            // stb caps PLTE at 256 entries itself; an index past the palette is handled below.
            if (length == 0 || length % 3 || length / 3 > 256 ||
                (h.color == 3 && length / 3 > (1u << h.depth)))
                refuse("PLTE of " + std::to_string(length) + " bytes");
            palette_entries = length / 3;
            plte_at = at;
        } else if (name == "tRNS") {
            if (have_trns || seen_idat) refuse("tRNS repeated or after the image data");
            const bool ok = h.color == 3   ? palette_entries && length <= palette_entries
                            : h.color == 0 ? length == 2
                            : h.color == 2 ? length == 6
                                           : false;
            if (!ok) refuse("tRNS that does not fit colour type " + std::to_string(h.color));
            have_trns = true;
        } else if (name == "IDAT") {
            if (idat_done) refuse("image data split by other chunks");
            if (h.color == 3 && !palette_entries) refuse("a palette image without PLTE");
            compressed.insert(compressed.end(), body, body + length);
            seen_idat = true;
        } else if (name == "IEND") {
            break;
        } else if (!(type[0] & 0x20)) {
            // stb fails on unknown critical chunks except Apple's CgBI, which switches it to a raw-deflate,
            // BGR, premultiplied variant of the format that no standard decoder reads.
            unsupported("critical chunk " + name);
        }
        at += 12 + length;
    }
    if (compressed.empty()) refuse("no image data (IDAT)");

    // stb inflates with a buffer that grows as long as the stream goes on (to 4 GiB), so a few kilobytes of
    // IDAT can make it allocate gigabytes. Inflate once into a buffer of the size the header implies (with
    // room for the trailing padding some writers leave), with stb's own inflater, so it cannot run longer.
    const uint64_t expected = png_inflated_size(h);
    const uint64_t capacity = expected + expected / 8 + 65536;
    if (capacity > 0x7FFFFFFFu) unsupported("image data over 2 GiB");
    const std::unique_ptr<uint8_t[]> inflated(new uint8_t[capacity]);
    const long long produced =
        stb_inflate_bounded(compressed.data(), compressed.size(), inflated.get(), capacity);
    if (produced < 0)
        refuse("the compressed image data is corrupt or inflates past the " + std::to_string(expected) +
               " bytes its size needs");
    if (uint64_t(produced) < expected)
        truncated("the image data inflates to " + std::to_string(produced) + " bytes, not the " +
                  std::to_string(expected) + " its size needs");

    CheckedImage checked;
    checked.format = ImageFormat::Png;
    checked.width = int(h.width);
    checked.height = int(h.height);
    // stb expands palette indices through a stack array of which only the PLTE's entries are set; an index
    // past them copies uninitialized stack bytes into the picture (a disclosure to whoever sees the result).
    // Indices live in the inflated, filtered rows, so instead of undoing the filters here, give stb a palette
    // with every index the bit depth allows; the extra entries are black.
    if (h.color == 3 && palette_entries < (size_t(1) << h.depth))
        checked.patched = with_padded_palette(data, size, plte_at, size_t(1) << h.depth);
    return checked;
}

// BMP ----------------------------------------------------------------------------------------------------

CheckedImage check_bmp(const uint8_t* data, size_t size, const std::string& label, int64_t max_pixels) {
    const Refuse refuse(label, "invalid BMP: "), unsupported(label, "unsupported BMP: "),
        truncated(label, "truncated BMP: ");
    if (size < 18) truncated("ends inside its header");
    const uint32_t offset = le32(data + 10), header_size = le32(data + 14);
    if (header_size != 12 && header_size != 40 && header_size != 56 && header_size != 108 &&
        header_size != 124)
        unsupported("header size " + std::to_string(header_size));
    // stb reads zeros past the end of its buffer and would take them for header fields.
    if (size < 14 + size_t(header_size)) truncated("ends inside its header");
    const uint8_t* h = data + 14;
    int64_t width, height;
    int bits, compression = 0;
    if (header_size == 12) {
        width = le16(h + 4);
        height = le16(h + 6);
        bits = int(le16(h + 10));
        // stb's OS/2 palette arithmetic is off (it counts the palette from 24 header bytes, not 26) and reads
        // too few entries, or a negative count that skips its own range check, leaving the palette
        // uninitialized; other OS/2 depths it rejects anyway.
        if (bits != 24) unsupported("OS/2 bitmap of " + std::to_string(bits) + " bits per pixel (only 24)");
    } else {
        width = int32_t(le32(h + 4));
        height = int32_t(le32(h + 8));
        bits = int(le16(h + 14));
        compression = int(le32(h + 16));
    }
    if (le16(h + (header_size == 12 ? 8 : 12)) != 1) refuse("plane count is not 1");
    // stb takes abs() of the height, undefined for INT32_MIN; negative heights (top-down rows) are valid.
    const bool top_down = height < 0;
    if (top_down) height = -height;
    check_pixel_count(width, height, max_pixels, refuse);
    if (bits != 1 && bits != 4 && bits != 8 && bits != 16 && bits != 24 && bits != 32)
        unsupported(std::to_string(bits) + " bits per pixel");
    if (compression == 1 || compression == 2) unsupported("run-length compression");
    if (compression != 0 && !(compression == 3 && (bits == 16 || bits == 32)))
        unsupported("compression type " + std::to_string(compression));

    // Pixel rows run from `offset` to the end of the image; stb fills rows past the end of the file with
    // zeros instead of failing.
    const uint64_t row_bytes = (uint64_t(width) * bits + 31) / 32 * 4;
    if (offset > size || row_bytes * uint64_t(height) > size - offset)
        truncated("its pixel rows run past the end of the file");

    if (bits <= 8) {
        // stb sizes the palette from the gap between header and pixels and keeps it in a 256-entry stack
        // array: a gap too small gives a zero or negative count (which passes stb's range check) and an
        // index past the count reads entries it never set, both copying uninitialized stack bytes into the
        // picture. So the palette must have 1..256 entries and every index must be inside it.
        const int64_t gap = int64_t(offset) - 14 - int64_t(header_size);
        const int64_t entries = gap / 4;
        if (gap < 4 || entries > 256)
            refuse("no room for a palette between header and pixels (offset " + std::to_string(offset) + ")");
        for (int64_t y = 0; y < height; ++y) {
            const uint8_t* row = data + offset + size_t(y) * row_bytes;
            for (int64_t x = 0; x < width; ++x) {
                const int index = bits == 8   ? row[x]
                                  : bits == 4 ? (row[x / 2] >> (x % 2 ? 0 : 4)) & 15
                                              : (row[x / 8] >> (7 - x % 8)) & 1;
                if (index >= entries) {
                    refuse("pixel (" + std::to_string(x) + ", " + std::to_string(y) + ") uses colour " +
                           std::to_string(index) + " of a " + std::to_string(entries) + "-entry palette");
                }
            }
        }
    }
    CheckedImage checked;
    checked.format = ImageFormat::Bmp;
    checked.width = int(width);
    checked.height = int(height);
    return checked;
}

// Other formats --------------------------------------------------------------------------------------------

bool starts_with(const uint8_t* data, size_t size, const char* magic, size_t offset = 0) {
    const size_t n = std::strlen(magic);
    return size >= offset + n && std::memcmp(data + offset, magic, n) == 0;
}

// A name for formats people send by mistake, so the refusal says what the file is. TGA has no signature; its
// header is recognized by plausible colour-map and image-type bytes.
const char* other_format_name(const uint8_t* d, size_t n) {
    if (starts_with(d, n, "GIF87a") || starts_with(d, n, "GIF89a")) return "GIF";
    if (n >= 3 && d[0] == 'P' && d[1] >= '1' && d[1] <= '7' && std::isspace(d[2]))
        return "PNM (PBM/PGM/PPM/PAM)";
    if (starts_with(d, n, "RIFF") && starts_with(d, n, "WEBP", 8)) return "WebP";
    if (n >= 4 && ((d[0] == 'I' && d[1] == 'I' && d[2] == 42) || (d[0] == 'M' && d[1] == 'M' && d[3] == 42)))
        return "TIFF";
    if (starts_with(d, n, "ftyp", 4)) return "HEIF/AVIF";
    if (starts_with(d, n, "8BPS")) return "PSD";
    if (starts_with(d, n, "#?RADIANCE") || starts_with(d, n, "#?RGBE")) return "Radiance HDR";
    if (starts_with(d, n, "qoif")) return "QOI";
    if (n >= 18 && d[1] <= 1 &&
        (d[2] == 1 || d[2] == 2 || d[2] == 3 || d[2] == 9 || d[2] == 10 || d[2] == 11) &&
        (d[16] == 8 || d[16] == 15 || d[16] == 16 || d[16] == 24 || d[16] == 32))
        return "TGA";
    return nullptr;
}

}  // namespace

const char* format_name(ImageFormat format) {
    switch (format) {
        case ImageFormat::Jpeg:
            return "JPEG";
        case ImageFormat::Png:
            return "PNG";
        case ImageFormat::Bmp:
            return "BMP";
    }
    return "?";
}

CheckedImage check_image(const uint8_t* data, size_t size, const std::string& label, int64_t max_pixels) {
    if (size == 0) throw Error(label + ": empty image data");
    // Exact signatures: stb's own sniffing is looser (it takes any run of 0xFF bytes before a JPEG's SOI),
    // and the walk below must start where stb starts.
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        return check_jpeg(data, size, label, max_pixels);
    if (size >= sizeof kPngSignature && std::memcmp(data, kPngSignature, sizeof kPngSignature) == 0)
        return check_png(data, size, label, max_pixels);
    if (size >= 2 && data[0] == 'B' && data[1] == 'M') return check_bmp(data, size, label, max_pixels);
    if (const char* name = other_format_name(data, size))
        throw Error(label + ": " + name + ": " + kSupported);
    throw Error(label + ": not a readable image: " + kSupported);
}

Image decode_image_with_limit(const uint8_t* data, size_t size, const std::string& label,
                              int64_t max_pixels) {
    const CheckedImage checked = check_image(data, size, label, max_pixels);
    const bool patched = !checked.patched.empty();
    Image image;
    std::string reason;
    if (!stb_decode_rgb(patched ? checked.patched.data() : data, patched ? checked.patched.size() : size,
                        image, reason)) {
        throw Error(label + ": cannot decode " + format_name(checked.format) + " image (" + reason + ")");
    }
    if (image.width != checked.width || image.height != checked.height) {
        throw Error(label + ": the decoder read a " + std::to_string(image.width) + "x" +
                    std::to_string(image.height) + " image from a header that says " +
                    std::to_string(checked.width) + "x" + std::to_string(checked.height));
    }
    return image;
}

}  // namespace animegan::image
