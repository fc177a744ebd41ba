// Read-only access to a ZIP archive that is already in memory (read or mmapped by the caller). Only what
// PyTorch checkpoints need: the central directory (including ZIP64) and stored (uncompressed) entries, which
// are returned as views into the caller's buffer without copying. Every offset and size read from the
// archive is bounds-checked, so a truncated or hostile file produces animegan::Error, never a bad read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace animegan::weights {

// A view of bytes owned by someone else (the archive buffer).
struct ByteSpan {
    const uint8_t* data = nullptr;
    size_t size = 0;
};

// One central directory record, with ZIP64 extra fields already applied.
struct ZipEntry {
    std::string name;
    uint16_t flags = 0;
    uint16_t method = 0;  // 0 = stored, 8 = deflate, ...
    uint64_t compressed_size = 0;
    uint64_t uncompressed_size = 0;
    uint64_t local_header_offset = 0;
};

class ZipReader {
  public:
    // Parses the end-of-central-directory and central directory records. `data` must outlive the reader;
    // `label` (usually the file path) prefixes every error message.
    ZipReader(const uint8_t* data, size_t size, std::string label);

    const std::vector<ZipEntry>& entries() const { return entries_; }

    // The entry with exactly this name, or nullptr.
    const ZipEntry* find(const std::string& name) const;

    // The entry's bytes. Throws if the entry is compressed or encrypted, or its local header is damaged.
    ByteSpan read(const ZipEntry& entry) const;

  private:
    [[noreturn]] void fail(const std::string& what) const;
    void parse_central_directory(uint64_t offset, uint64_t size, uint64_t count);

    const uint8_t* data_;
    uint64_t size_;
    std::string label_;
    std::vector<ZipEntry> entries_;
    std::unordered_map<std::string, size_t> index_by_name_;
};

// Quotes a name taken from a file for use in a one-line error message: control and non-ASCII bytes are
// escaped as \xNN and long names are shortened, so a hostile file cannot inject newlines or huge messages.
std::string quote_for_message(const std::string& text);

}  // namespace animegan::weights
