#include "weights/file_bytes.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "animegan/error.h"

namespace animegan {

std::vector<uint8_t> read_file_bytes(const std::string& path, size_t max_bytes) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw Error(path + ": cannot open: " + std::strerror(errno));
    const std::streamoff size = in.tellg();
    if (size < 0) throw Error(path + ": cannot determine the file size");
    if (size == 0) throw Error(path + ": file is empty");
    if (uint64_t(size) > max_bytes) {
        throw Error(path + ": file is " + std::to_string(size) + " bytes, more than the " +
                    std::to_string(max_bytes) + " accepted");
    }
    std::vector<uint8_t> bytes(static_cast<size_t>(size));
    in.seekg(0);
    if (!in.read(reinterpret_cast<char*>(bytes.data()), size)) throw Error(path + ": read failed");
    return bytes;
}

}  // namespace animegan
