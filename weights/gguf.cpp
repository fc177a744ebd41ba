#include "weights/gguf.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <limits>
#include <new>
#include <numeric>

#include "animegan/error.h"

// GGUF is little endian; values are copied straight out of the mapping with memcpy.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the GGUF reader and writer assume a little-endian host");

namespace animegan::weights {
namespace {

enum ValueType : uint32_t {
    kUint8 = 0,
    kInt8 = 1,
    kUint16 = 2,
    kInt16 = 3,
    kUint32 = 4,
    kInt32 = 5,
    kFloat32 = 6,
    kBool = 7,
    kString = 8,
    kArray = 9,
    kUint64 = 10,
    kInt64 = 11,
    kFloat64 = 12,
};

constexpr char kMagic[4] = {'G', 'G', 'U', 'F'};
constexpr uint32_t kVersion = 3;
constexpr char kAlignmentKey[] = "general.alignment";
constexpr uint32_t kDefaultAlignment = 32;
constexpr uint64_t kMaxNameLength = 65535;  // the GGUF spec's limit for keys; we apply it to tensor names too
constexpr int kMaxArrayDepth = 8;           // nested arrays recurse; bound the stack a hostile file can use
// Smallest encodings of a key/value pair (1-byte key, u8 value) and a tensor info (1-byte name, 1 dim).
// They bound the header counts before anything is allocated from them.
constexpr uint64_t kMinKeyValueSize = 8 + 1 + 4 + 1;
constexpr uint64_t kMinTensorInfoSize = 8 + 1 + 4 + 8 + 4 + 8;
// from_bytes copies into a buffer aligned like an mmap, so both paths give the same data alignment.
constexpr size_t kHeapAlignment = 4096;

const char* value_type_name(uint32_t type) {
    static const char* const names[] = {"UINT8", "INT8",   "UINT16", "INT16",  "UINT32", "INT32",  "FLOAT32",
                                        "BOOL",  "STRING", "ARRAY",  "UINT64", "INT64",  "FLOAT64"};
    return type < std::size(names) ? names[type] : "UNKNOWN";
}

// Size of a fixed-size value type, 0 for STRING/ARRAY, which are variable-length.
uint64_t fixed_value_size(uint32_t type) {
    static const uint8_t sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};  // indexed by ValueType
    return type < std::size(sizes) ? sizes[type] : 0;
}

size_t element_size(GgufType type) {
    return type == GgufType::F16 ? 2 : 4;
}

bool is_valid_alignment(uint32_t alignment) {
    return alignment >= 8 && (alignment & (alignment - 1)) == 0;
}

uint64_t align_up(uint64_t value, uint64_t alignment) {
    return (value + alignment - 1) / alignment * alignment;
}

// Bounds-checked sequential reader over the file bytes; every failure names the file and the offset.
class Cursor {
  public:
    Cursor(const uint8_t* base, size_t size, const std::string& label)
        : base_(base), size_(size), label_(label) {}

    size_t pos() const { return pos_; }
    size_t remaining() const { return size_ - pos_; }

    [[noreturn]] void fail(const std::string& problem) const { throw Error(label_ + ": " + problem); }

    void need(uint64_t nbytes, const std::string& what) const {
        if (nbytes > remaining()) {
            fail(what + " at offset " + std::to_string(pos_) + " (" + std::to_string(nbytes) +
                 " bytes) runs past end of file (size " + std::to_string(size_) + ")");
        }
    }

    void skip(uint64_t nbytes, const std::string& what) {
        need(nbytes, what);
        pos_ += nbytes;
    }

    template <typename T>
    T read(const std::string& what) {
        need(sizeof(T), what);
        T value;
        std::memcpy(&value, base_ + pos_, sizeof(T));
        pos_ += sizeof(T);
        return value;
    }

    // A key or tensor name: non-empty and at most kMaxNameLength bytes, so a corrupt length never
    // turns into a large allocation.
    std::string read_name(const std::string& what) {
        const uint64_t length = read<uint64_t>(what + " length");
        if (length == 0) fail("empty " + what + " at offset " + std::to_string(pos_ - 8));
        if (length > kMaxNameLength) {
            fail(what + " length " + std::to_string(length) + " at offset " + std::to_string(pos_ - 8) +
                 " exceeds the " + std::to_string(kMaxNameLength) + "-byte limit");
        }
        need(length, what);
        std::string name(reinterpret_cast<const char*>(base_ + pos_), length);
        pos_ += length;
        return name;
    }

    // Validates and steps over one metadata value of the given type (arrays recursively).
    void skip_value(uint32_t type, const std::string& key, int depth) {
        const std::string what = "value of key '" + key + "'";
        if (type == kBool) {
            const uint8_t flag = read<uint8_t>(what);
            if (flag > 1) fail("key '" + key + "' has invalid bool value " + std::to_string(flag));
        } else if (const uint64_t size = fixed_value_size(type)) {
            skip(size, what);
        } else if (type == kString) {
            const uint64_t length = read<uint64_t>("string length of key '" + key + "'");
            skip(length, "string " + what);
        } else if (type == kArray) {
            if (depth >= kMaxArrayDepth) {
                fail("key '" + key + "' has arrays nested deeper than " + std::to_string(kMaxArrayDepth));
            }
            const uint32_t element_type = read<uint32_t>("array element type of key '" + key + "'");
            const uint64_t count = read<uint64_t>("array length of key '" + key + "'");
            if (element_type > kFloat64) {
                fail("key '" + key + "' is an array of unknown value type " + std::to_string(element_type));
            }
            // Every element takes at least min_size bytes, which bounds the count before the loop below.
            const uint64_t fixed_size = fixed_value_size(element_type);
            const uint64_t min_size = fixed_size != 0 ? fixed_size : element_type == kString ? 8 : 12;
            if (count > remaining() / min_size) {
                fail("array " + what + " with " + std::to_string(count) + " elements at offset " +
                     std::to_string(pos_) + " runs past end of file (size " + std::to_string(size_) + ")");
            }
            if (fixed_size != 0) {
                skip(count * fixed_size, "array " + what);
            } else {
                for (uint64_t i = 0; i < count; ++i) skip_value(element_type, key, depth + 1);
            }
        } else {
            fail("key '" + key + "' has unknown value type " + std::to_string(type));
        }
    }

  private:
    const uint8_t* base_;
    size_t size_;
    size_t pos_ = 0;
    const std::string& label_;
};

void put_bytes(std::vector<uint8_t>& out, const void* data, size_t nbytes) {
    const auto* bytes = static_cast<const uint8_t*>(data);
    out.insert(out.end(), bytes, bytes + nbytes);
}

template <typename T>
void put(std::vector<uint8_t>& out, T value) {
    put_bytes(out, &value, sizeof(T));
}

void put_string(std::vector<uint8_t>& out, const std::string& text) {
    put<uint64_t>(out, text.size());
    put_bytes(out, text.data(), text.size());
}

void check_name(const std::string& name, const char* what) {
    if (name.empty()) throw Error(std::string("GGUF writer: empty ") + what);
    if (name.size() > kMaxNameLength) {
        throw Error(std::string("GGUF writer: ") + what + " '" + name.substr(0, 64) + "...' is longer than " +
                    std::to_string(kMaxNameLength) + " bytes");
    }
}

}  // namespace

size_t GgufTensor::element_count() const {
    size_t count = 1;
    for (const int64_t dim : shape) count *= static_cast<size_t>(dim);
    return count;
}

std::vector<float> GgufTensor::to_f32() const {
    const size_t count = element_count();
    std::vector<float> values(count);
    if (type == GgufType::F32) {
        std::memcpy(values.data(), data, count * sizeof(float));
    } else {
        for (size_t i = 0; i < count; ++i) {
            uint16_t half;
            std::memcpy(&half, data + 2 * i, sizeof(half));
            values[i] = half_to_float(half);
        }
    }
    return values;
}

// ---------------------------------------------------------------------------------------------------------
// Writer

void GgufWriter::set_value(const std::string& key, uint32_t value_type, std::vector<uint8_t> encoded_value) {
    check_name(key, "metadata key");
    for (KeyValue& entry : metadata_) {
        if (entry.key == key) {  // setting a key again replaces it; the file never holds duplicates
            entry.value_type = value_type;
            entry.encoded_value = std::move(encoded_value);
            return;
        }
    }
    metadata_.push_back({key, value_type, std::move(encoded_value)});
}

void GgufWriter::set_string(const std::string& key, const std::string& value) {
    std::vector<uint8_t> encoded;
    put_string(encoded, value);
    set_value(key, kString, std::move(encoded));
}

void GgufWriter::set_u32(const std::string& key, uint32_t value) {
    std::vector<uint8_t> encoded;
    put(encoded, value);
    set_value(key, kUint32, std::move(encoded));
}

void GgufWriter::set_f32(const std::string& key, float value) {
    std::vector<uint8_t> encoded;
    put(encoded, value);
    set_value(key, kFloat32, std::move(encoded));
}

void GgufWriter::set_bool(const std::string& key, bool value) {
    set_value(key, kBool, {static_cast<uint8_t>(value ? 1 : 0)});
}

void GgufWriter::add_tensor(const std::string& name, const std::vector<int64_t>& shape, const float* data,
                            GgufType type) {
    check_name(name, "tensor name");
    for (const PendingTensor& tensor : tensors_) {
        if (tensor.name == name) throw Error("GGUF writer: duplicate tensor '" + name + "'");
    }
    if (shape.empty() || shape.size() > 4) {
        throw Error("GGUF writer: tensor '" + name + "' has " + std::to_string(shape.size()) +
                    " dims (expected 1..4)");
    }
    if (type != GgufType::F32 && type != GgufType::F16) {
        throw Error("GGUF writer: tensor '" + name + "' has an unsupported type");
    }
    size_t count = 1;
    for (const int64_t dim : shape) {
        if (dim < 1) throw Error("GGUF writer: tensor '" + name + "' has invalid dim " + std::to_string(dim));
        if (static_cast<uint64_t>(dim) > std::numeric_limits<size_t>::max() / 4 / count) {
            throw Error("GGUF writer: tensor '" + name + "' is too large");
        }
        count *= static_cast<size_t>(dim);
    }
    if (data == nullptr) throw Error("GGUF writer: tensor '" + name + "' has no data");

    PendingTensor tensor{name, shape, type, {}};
    if (type == GgufType::F32) {
        tensor.bytes.resize(count * sizeof(float));
        std::memcpy(tensor.bytes.data(), data, tensor.bytes.size());
    } else {
        tensor.bytes.resize(count * sizeof(uint16_t));
        for (size_t i = 0; i < count; ++i) {
            const uint16_t half = float_to_half(data[i]);
            std::memcpy(tensor.bytes.data() + 2 * i, &half, sizeof(half));
        }
    }
    tensors_.push_back(std::move(tensor));
}

uint32_t GgufWriter::alignment() const {
    for (const KeyValue& entry : metadata_) {
        if (entry.key != kAlignmentKey) continue;
        uint32_t alignment = 0;
        if (entry.value_type == kUint32)
            std::memcpy(&alignment, entry.encoded_value.data(), sizeof(alignment));
        if (!is_valid_alignment(alignment)) {
            throw Error(std::string("GGUF writer: ") + kAlignmentKey + " must be a UINT32 power of two >= 8");
        }
        return alignment;
    }
    return kDefaultAlignment;
}

void GgufWriter::write(const std::string& path) const {
    const uint32_t alignment = this->alignment();

    std::vector<uint8_t> header;
    put_bytes(header, kMagic, sizeof(kMagic));
    put<uint32_t>(header, kVersion);
    put<uint64_t>(header, tensors_.size());
    put<uint64_t>(header, metadata_.size());
    for (const KeyValue& entry : metadata_) {
        put_string(header, entry.key);
        put<uint32_t>(header, entry.value_type);
        put_bytes(header, entry.encoded_value.data(), entry.encoded_value.size());
    }
    uint64_t data_offset = 0;
    for (const PendingTensor& tensor : tensors_) {
        put_string(header, tensor.name);
        put<uint32_t>(header, static_cast<uint32_t>(tensor.shape.size()));
        for (auto dim = tensor.shape.rbegin(); dim != tensor.shape.rend(); ++dim) put<uint64_t>(header, *dim);
        put<uint32_t>(header, static_cast<uint32_t>(tensor.type));
        put<uint64_t>(header, data_offset);
        data_offset = align_up(data_offset + tensor.bytes.size(), alignment);
    }
    header.resize(align_up(header.size(), alignment), 0);

    const std::string tmp_path = path + ".tmp";
    std::FILE* file = std::fopen(tmp_path.c_str(), "wb");
    if (file == nullptr) throw Error(path + ": cannot create " + tmp_path + ": " + std::strerror(errno));
    auto fail = [&](const char* action) {
        const std::string reason = std::strerror(errno);
        if (file != nullptr) std::fclose(file);
        std::remove(tmp_path.c_str());
        throw Error(path + ": cannot " + action + " " + tmp_path + ": " + reason);
    };
    auto write_bytes = [&](const void* data, size_t nbytes) {
        if (nbytes != 0 && std::fwrite(data, 1, nbytes, file) != nbytes) fail("write");
    };
    static const uint8_t zeros[4096] = {};
    auto write_padding = [&](size_t nbytes) {
        for (size_t chunk; nbytes > 0; nbytes -= chunk) {
            chunk = std::min(nbytes, sizeof(zeros));
            write_bytes(zeros, chunk);
        }
    };

    write_bytes(header.data(), header.size());
    for (const PendingTensor& tensor : tensors_) {
        write_bytes(tensor.bytes.data(), tensor.bytes.size());
        write_padding(align_up(tensor.bytes.size(), alignment) - tensor.bytes.size());
    }
    const int close_result = std::fclose(file);
    file = nullptr;
    if (close_result != 0) fail("close");
    if (std::rename(tmp_path.c_str(), path.c_str()) != 0) fail("rename");
}

// ---------------------------------------------------------------------------------------------------------
// Reader

GgufFile GgufFile::open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path + ": cannot open: " + std::strerror(errno));
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        const int err = errno;
        ::close(fd);
        throw Error(path + ": cannot stat: " + std::strerror(err));
    }
    if (!S_ISREG(info.st_mode)) {
        ::close(fd);
        throw Error(path + ": not a regular file");
    }
    if (info.st_size == 0) {
        ::close(fd);
        throw Error(path + ": file is empty");
    }
    const auto size = static_cast<size_t>(info.st_size);
    void* address = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    const int err = errno;
    ::close(fd);  // the mapping keeps the file alive
    if (address == MAP_FAILED) throw Error(path + ": cannot mmap: " + std::strerror(err));

    GgufFile file(path);
    file.base_ = static_cast<const uint8_t*>(address);
    file.size_ = size;
    file.storage_ = Storage::Mapped;
    file.parse();  // on failure the destructor unmaps
    return file;
}

GgufFile GgufFile::from_bytes(std::vector<uint8_t> bytes, const std::string& label) {
    if (bytes.empty()) throw Error(label + ": file is empty");
    // A vector only guarantees malloc alignment (16); copy so tensor data is aligned as with open().
    auto* copy = static_cast<uint8_t*>(::operator new (bytes.size(), std::align_val_t{kHeapAlignment}));
    std::memcpy(copy, bytes.data(), bytes.size());

    GgufFile file(label);
    file.base_ = copy;
    file.size_ = bytes.size();
    file.storage_ = Storage::Heap;
    file.parse();
    return file;
}

GgufFile::GgufFile(GgufFile&& other) noexcept {
    *this = std::move(other);
}

GgufFile& GgufFile::operator=(GgufFile&& other) noexcept {
    if (this != &other) {
        release();
        path_ = std::move(other.path_);
        base_ = other.base_;
        size_ = other.size_;
        storage_ = other.storage_;
        metadata_ = std::move(other.metadata_);
        tensors_ = std::move(other.tensors_);
        tensor_index_ = std::move(other.tensor_index_);
        other.base_ = nullptr;
        other.size_ = 0;
        other.storage_ = Storage::None;
    }
    return *this;
}

GgufFile::~GgufFile() {
    release();
}

void GgufFile::evict(const GgufTensor& t) const noexcept {
    if (storage_ != Storage::Mapped) return;
    const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const auto begin = (reinterpret_cast<uintptr_t>(t.data) + page - 1) / page * page;
    const auto end = (reinterpret_cast<uintptr_t>(t.data) + t.nbytes) / page * page;
    // A read-only private file mapping never holds modified pages, so dropping them loses nothing.
    if (begin < end) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

void GgufFile::release() noexcept {
    auto* bytes = const_cast<uint8_t*>(base_);
    if (storage_ == Storage::Mapped) ::munmap(bytes, size_);
    if (storage_ == Storage::Heap) ::operator delete (bytes, std::align_val_t{kHeapAlignment});
    base_ = nullptr;
    size_ = 0;
    storage_ = Storage::None;
}

void GgufFile::parse() {
    Cursor in(base_, size_, path_);
    in.need(sizeof(kMagic), "magic");
    if (std::memcmp(base_, kMagic, sizeof(kMagic)) != 0) in.fail("not a GGUF file (bad magic)");
    in.skip(sizeof(kMagic), "magic");
    const uint32_t version = in.read<uint32_t>("version");
    if (version != kVersion) {
        in.fail("unsupported GGUF version " + std::to_string(version) + " (only version 3 is supported" +
                (version == 0x03000000 ? "; this looks like a big-endian file)" : ")"));
    }
    const uint64_t tensor_count = in.read<uint64_t>("tensor count");
    const uint64_t kv_count = in.read<uint64_t>("metadata count");
    const uint64_t room = in.remaining();
    if (tensor_count > room / kMinTensorInfoSize ||
        kv_count > (room - tensor_count * kMinTensorInfoSize) / kMinKeyValueSize) {
        in.fail("header claims " + std::to_string(tensor_count) + " tensors and " + std::to_string(kv_count) +
                " metadata entries, which cannot fit in the remaining " + std::to_string(room) + " bytes");
    }

    uint32_t alignment = kDefaultAlignment;
    for (uint64_t i = 0; i < kv_count; ++i) {
        const std::string key = in.read_name("metadata key");
        const uint32_t type = in.read<uint32_t>("type of key '" + key + "'");
        const size_t value_offset = in.pos();
        in.skip_value(type, key, 0);
        if (key == kAlignmentKey) {
            uint32_t value = 0;
            if (type == kUint32) std::memcpy(&value, base_ + value_offset, sizeof(value));
            if (!is_valid_alignment(value)) {
                in.fail(std::string(kAlignmentKey) + " must be a UINT32 power of two >= 8 (got " +
                        (type == kUint32 ? std::to_string(value) : value_type_name(type)) + ")");
            }
            alignment = value;
        }
        if (!metadata_.try_emplace(key, MetaEntry{type, value_offset}).second) {
            in.fail("duplicate metadata key '" + key + "'");
        }
    }

    tensors_.reserve(tensor_count);  // bounded by the file size above
    std::vector<uint64_t> offsets;
    offsets.reserve(tensor_count);
    for (uint64_t i = 0; i < tensor_count; ++i) {
        GgufTensor tensor{in.read_name("tensor name"), {}, GgufType::F32, nullptr, 0};
        const std::string what = "tensor '" + tensor.name + "'";
        const uint32_t n_dims = in.read<uint32_t>(what + " dim count");
        if (n_dims < 1 || n_dims > 4)
            in.fail(what + " has " + std::to_string(n_dims) + " dims (expected 1..4)");
        tensor.shape.resize(n_dims);
        uint64_t count = 1;
        for (uint32_t d = 0; d < n_dims; ++d) {
            const uint64_t dim = in.read<uint64_t>(what + " dims");
            if (dim < 1 || dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
                in.fail(what + " has invalid dim " + std::to_string(dim));
            }
            if (dim > std::numeric_limits<size_t>::max() / 4 / count)
                in.fail(what + " element count overflows");
            count *= dim;
            tensor.shape[n_dims - 1 - d] = static_cast<int64_t>(dim);  // the file is fastest-varying first
        }
        const uint32_t type = in.read<uint32_t>(what + " type");
        if (type != static_cast<uint32_t>(GgufType::F32) && type != static_cast<uint32_t>(GgufType::F16)) {
            in.fail(what + " has unsupported ggml type " + std::to_string(type) + " (only F32=0 and F16=1)");
        }
        tensor.type = static_cast<GgufType>(type);
        tensor.nbytes = count * element_size(tensor.type);
        const uint64_t offset = in.read<uint64_t>(what + " data offset");
        if (offset % alignment != 0) {
            in.fail(what + " data offset " + std::to_string(offset) + " is not a multiple of the alignment " +
                    std::to_string(alignment));
        }
        if (!tensor_index_.emplace(tensor.name, tensors_.size()).second) in.fail("duplicate " + what);
        offsets.push_back(offset);
        tensors_.push_back(std::move(tensor));
    }

    // The data section starts at the next aligned offset; a file without tensors may end before it.
    const uint64_t data_start = align_up(in.pos(), alignment);
    for (size_t i = 0; i < tensors_.size(); ++i) {
        GgufTensor& tensor = tensors_[i];
        const uint64_t offset = offsets[i];
        if (data_start > size_ || offset > size_ - data_start ||
            tensor.nbytes > size_ - data_start - offset) {
            const std::string where = offset <= UINT64_MAX - data_start
                                          ? std::to_string(data_start + offset)
                                          : std::to_string(data_start) + "+" + std::to_string(offset);
            in.fail("tensor '" + tensor.name + "' data [offset " + where + ", " +
                    std::to_string(tensor.nbytes) + " bytes] runs past end of file (size " +
                    std::to_string(size_) + ")");
        }
        tensor.data = base_ + data_start + offset;
    }

    // Overlapping tensors would mean a corrupt offset silently aliasing another tensor's weights.
    std::vector<size_t> by_offset(tensors_.size());
    std::iota(by_offset.begin(), by_offset.end(), size_t{0});
    std::sort(by_offset.begin(), by_offset.end(),
              [&](size_t a, size_t b) { return offsets[a] < offsets[b]; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
        const GgufTensor& previous = tensors_[by_offset[i - 1]];
        if (offsets[by_offset[i - 1]] + previous.nbytes > offsets[by_offset[i]]) {
            in.fail("tensors '" + previous.name + "' and '" + tensors_[by_offset[i]].name + "' overlap");
        }
    }
}

const uint8_t* GgufFile::lookup(const std::string& key, uint32_t wanted_type) const {
    const auto entry = metadata_.find(key);
    if (entry == metadata_.end()) return nullptr;
    if (entry->second.value_type != wanted_type) {
        throw Error(path_ + ": metadata key '" + key + "' is " + value_type_name(entry->second.value_type) +
                    ", not " + value_type_name(wanted_type));
    }
    return base_ + entry->second.value_offset;
}

std::optional<std::string> GgufFile::get_string(const std::string& key) const {
    const uint8_t* value = lookup(key, kString);
    if (value == nullptr) return std::nullopt;
    uint64_t length;
    std::memcpy(&length, value, sizeof(length));
    return std::string(reinterpret_cast<const char*>(value + sizeof(length)), length);
}

std::optional<uint32_t> GgufFile::get_u32(const std::string& key) const {
    const uint8_t* value = lookup(key, kUint32);
    if (value == nullptr) return std::nullopt;
    uint32_t result;
    std::memcpy(&result, value, sizeof(result));
    return result;
}

std::optional<float> GgufFile::get_f32(const std::string& key) const {
    const uint8_t* value = lookup(key, kFloat32);
    if (value == nullptr) return std::nullopt;
    float result;
    std::memcpy(&result, value, sizeof(result));
    return result;
}

std::optional<bool> GgufFile::get_bool(const std::string& key) const {
    const uint8_t* value = lookup(key, kBool);
    if (value == nullptr) return std::nullopt;
    return *value != 0;
}

const GgufTensor* GgufFile::find(const std::string& name) const {
    const auto entry = tensor_index_.find(name);
    return entry == tensor_index_.end() ? nullptr : &tensors_[entry->second];
}

}  // namespace animegan::weights
