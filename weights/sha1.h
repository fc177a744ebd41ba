// SHA-1 (FIPS 180-4) and git's blob id. SHA-1 is not used for security here: it identifies known checkpoint
// files the same way `git hash-object` does, so a release can list the ids of the weights it was tested with.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace animegan::weights {

// Incremental hasher: feed bytes with update() in any number of pieces, then call finish() once.
class Sha1 {
  public:
    Sha1();
    void update(const uint8_t* data, size_t size);
    std::array<uint8_t, 20> finish();

  private:
    void process_block(const uint8_t* block);

    std::array<uint32_t, 5> state_;
    std::array<uint8_t, 64> buffer_{};
    size_t buffered_ = 0;
    uint64_t total_bytes_ = 0;
};

// Lower-case hex SHA-1 of `data`.
std::string sha1_hex(const uint8_t* data, size_t size);

// What `git hash-object FILE` prints for a file with this content: SHA-1 of "blob <size>\0" + content.
std::string git_blob_id(const uint8_t* data, size_t size);

}  // namespace animegan::weights
