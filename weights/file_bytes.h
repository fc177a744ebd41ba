// Whole-file reads with a size cap, shared by every reader of user-supplied files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace animegan {

// Throws Error naming the file when it is missing, unreadable, empty or larger than max_bytes.
std::vector<uint8_t> read_file_bytes(const std::string& path, size_t max_bytes);

}  // namespace animegan
