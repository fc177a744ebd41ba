#include "weights/zip_reader.h"

#include <utility>

#include "animegan/error.h"

namespace animegan::weights {

namespace {

// Record signatures and fixed sizes from PKWARE's APPNOTE.TXT.
constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr uint32_t kEndOfCentralDirSignature = 0x06054b50;
constexpr uint32_t kZip64EndSignature = 0x06064b50;
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr uint64_t kLocalHeaderSize = 30;
constexpr uint64_t kCentralHeaderSize = 46;
constexpr uint64_t kEndOfCentralDirSize = 22;
constexpr uint64_t kZip64EndSize = 56;
constexpr uint64_t kZip64LocatorSize = 20;
constexpr uint64_t kMaxCommentSize = 0xFFFF;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint16_t kEncryptedFlag = 0x0001;

// True when [offset, offset + length) lies inside a buffer of `total` bytes, without overflowing.
bool in_bounds(uint64_t offset, uint64_t length, uint64_t total) {
    return offset <= total && length <= total - offset;
}

uint16_t load_u16(const uint8_t* p) {
    return uint16_t(p[0] | (p[1] << 8));
}
uint32_t load_u32(const uint8_t* p) {
    return uint32_t(load_u16(p)) | (uint32_t(load_u16(p + 2)) << 16);
}
uint64_t load_u64(const uint8_t* p) {
    return uint64_t(load_u32(p)) | (uint64_t(load_u32(p + 4)) << 32);
}

}  // namespace

std::string quote_for_message(const std::string& text) {
    constexpr size_t kMaxShown = 120;
    static const char kDigits[] = "0123456789abcdef";
    std::string quoted = "'";
    for (size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            quoted.push_back(char(c));
        } else {
            quoted += "\\x";
            quoted.push_back(kDigits[c >> 4]);
            quoted.push_back(kDigits[c & 15]);
        }
    }
    if (text.size() > kMaxShown) quoted += "...";
    quoted.push_back('\'');
    return quoted;
}

ZipReader::ZipReader(const uint8_t* data, size_t size, std::string label)
    : data_(data), size_(size), label_(std::move(label)) {
    // A pre-1.6 torch.save file is a bare pickle stream; say so, since that is the likely mix-up.
    const bool looks_like_pickle = size_ >= 2 && data_[0] == 0x80 && data_[1] >= 2 && data_[1] <= 5;
    const char* not_zip = looks_like_pickle
                              ? "not a zip archive (legacy torch.save format? re-save it with torch >= 1.6)"
                              : "not a zip archive";
    if (size_ < kEndOfCentralDirSize) fail(std::string(not_zip) + " (file is too short)");

    // The end record sits at the very end, followed only by an archive comment of at most 64 KiB, so the
    // signature is searched backwards over that window. The comment must fit in the file.
    const uint64_t last = size_ - kEndOfCentralDirSize;
    const uint64_t first = last > kMaxCommentSize ? last - kMaxCommentSize : 0;
    uint64_t eocd = 0;
    bool found = false;
    for (uint64_t pos = last + 1; pos-- > first;) {
        if (load_u32(data_ + pos) == kEndOfCentralDirSignature &&
            load_u16(data_ + pos + 20) <= size_ - pos - kEndOfCentralDirSize) {
            eocd = pos;
            found = true;
            break;
        }
    }
    if (!found) fail(std::string(not_zip) + " (no end of central directory record)");

    const uint8_t* end = data_ + eocd;
    uint64_t disk = load_u16(end + 4);
    uint64_t cd_disk = load_u16(end + 6);
    uint64_t count = load_u16(end + 10);
    uint64_t cd_size = load_u32(end + 12);
    uint64_t cd_offset = load_u32(end + 16);

    // ZIP64: a locator right before the end record points at a record holding the 64-bit values. Any of the
    // 16/32-bit fields saturated at all ones means the real value lives there.
    const bool saturated = count == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF;
    const bool has_locator =
        eocd >= kZip64LocatorSize && load_u32(data_ + eocd - kZip64LocatorSize) == kZip64LocatorSignature;
    if (has_locator) {
        const uint64_t record = load_u64(data_ + eocd - kZip64LocatorSize + 8);
        if (!in_bounds(record, kZip64EndSize, size_) || load_u32(data_ + record) != kZip64EndSignature) {
            fail("ZIP64 end of central directory record is missing or out of bounds");
        }
        const uint8_t* r = data_ + record;
        disk = load_u32(r + 16);
        cd_disk = load_u32(r + 20);
        count = load_u64(r + 32);
        cd_size = load_u64(r + 40);
        cd_offset = load_u64(r + 48);
    } else if (saturated) {
        fail("end of central directory needs ZIP64 values but the ZIP64 locator is missing");
    }
    if (disk != 0 || cd_disk != 0) fail("multi-disk zip archives are not supported");
    if (!in_bounds(cd_offset, cd_size, size_)) fail("central directory lies outside the file");
    parse_central_directory(cd_offset, cd_size, count);
}

void ZipReader::parse_central_directory(uint64_t offset, uint64_t size, uint64_t count) {
    // Each record is at least 46 bytes, so the directory size bounds how many can really be there; this
    // keeps a forged entry count from reserving absurd memory.
    if (count > size / kCentralHeaderSize) fail("central directory entry count exceeds its size");
    entries_.reserve(size_t(count));

    const uint8_t* dir = data_ + offset;
    uint64_t pos = 0;
    for (uint64_t i = 0; i < count; ++i) {
        if (!in_bounds(pos, kCentralHeaderSize, size) || load_u32(dir + pos) != kCentralHeaderSignature) {
            fail("central directory record " + std::to_string(i) + " is damaged");
        }
        const uint8_t* h = dir + pos;
        const uint64_t name_length = load_u16(h + 28);
        const uint64_t extra_length = load_u16(h + 30);
        const uint64_t comment_length = load_u16(h + 32);
        const uint64_t record_size = kCentralHeaderSize + name_length + extra_length + comment_length;
        if (!in_bounds(pos, record_size, size)) {
            fail("central directory record " + std::to_string(i) + " runs past the directory");
        }

        ZipEntry entry;
        entry.flags = load_u16(h + 8);
        entry.method = load_u16(h + 10);
        entry.compressed_size = load_u32(h + 20);
        entry.uncompressed_size = load_u32(h + 24);
        entry.local_header_offset = load_u32(h + 42);
        entry.name.assign(reinterpret_cast<const char*>(h + kCentralHeaderSize), size_t(name_length));

        // The ZIP64 extra field carries, in this order, only those values whose 32-bit field is saturated.
        const uint8_t* extra = h + kCentralHeaderSize + name_length;
        uint64_t extra_pos = 0;
        while (extra_pos + 4 <= extra_length) {
            const uint16_t id = load_u16(extra + extra_pos);
            const uint64_t field_size = load_u16(extra + extra_pos + 2);
            const uint64_t body = extra_pos + 4;
            if (!in_bounds(body, field_size, extra_length)) {
                fail("extra field of entry " + quote_for_message(entry.name) + " is damaged");
            }
            if (id == kZip64ExtraId) {
                uint64_t used = 0;
                for (uint64_t* value :
                     {&entry.uncompressed_size, &entry.compressed_size, &entry.local_header_offset}) {
                    if (*value != 0xFFFFFFFF) continue;
                    if (used + 8 > field_size) {
                        fail("ZIP64 extra field of entry " + quote_for_message(entry.name) + " is too short");
                    }
                    *value = load_u64(extra + body + used);
                    used += 8;
                }
            }
            extra_pos = body + field_size;
        }

        index_by_name_.emplace(entry.name, entries_.size());
        entries_.push_back(std::move(entry));
        pos += record_size;
    }
}

const ZipEntry* ZipReader::find(const std::string& name) const {
    auto it = index_by_name_.find(name);
    return it == index_by_name_.end() ? nullptr : &entries_[it->second];
}

ByteSpan ZipReader::read(const ZipEntry& entry) const {
    const std::string quoted = quote_for_message(entry.name);
    if (entry.flags & kEncryptedFlag) fail("zip entry " + quoted + " is encrypted");
    if (entry.method != 0) {
        fail("zip entry " + quoted + " is compressed (method " + std::to_string(entry.method) +
             "); only stored (uncompressed) entries are supported");
    }
    if (entry.compressed_size != entry.uncompressed_size) {
        fail("zip entry " + quoted + " is stored but its compressed and uncompressed sizes differ");
    }

    // The data offset must come from the local header: its extra field can differ from the central one
    // (PyTorch pads it so tensor data is 64-byte aligned). Its size fields may be zero (data descriptor
    // flag), so the sizes from the central directory are the ones used.
    const uint64_t header = entry.local_header_offset;
    if (!in_bounds(header, kLocalHeaderSize, size_) || load_u32(data_ + header) != kLocalHeaderSignature) {
        fail("local header of zip entry " + quoted + " is missing or out of bounds");
    }
    const uint64_t name_length = load_u16(data_ + header + 26);
    const uint64_t extra_length = load_u16(data_ + header + 28);
    const uint64_t name_offset = header + kLocalHeaderSize;
    if (!in_bounds(name_offset, name_length + extra_length, size_) || name_length != entry.name.size() ||
        entry.name.compare(0, entry.name.size(), reinterpret_cast<const char*>(data_ + name_offset),
                           size_t(name_length)) != 0) {
        fail("local header of zip entry " + quoted + " does not match the central directory");
    }
    const uint64_t data_offset = name_offset + name_length + extra_length;
    if (!in_bounds(data_offset, entry.compressed_size, size_)) {
        fail("data of zip entry " + quoted + " runs past the end of the file");
    }
    return ByteSpan{data_ + data_offset, size_t(entry.compressed_size)};
}

void ZipReader::fail(const std::string& what) const {
    throw Error(label_ + ": " + what);
}

}  // namespace animegan::weights
