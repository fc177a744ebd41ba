// GGUF v3, the ggml weight container: a writer for the converters and a validating, memory-mapped reader
// for the engine. Only what AnimeGANv2 needs is supported: F32/F16 tensors of 1..4 dims and scalar or string
// metadata (arrays are parsed and skipped safely, but have no getter).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "weights/float16.h"

namespace animegan::weights {

enum class GgufType : uint32_t { F32 = 0, F16 = 1 };

struct GgufTensor {
    std::string name;
    std::vector<int64_t> shape;  // PyTorch order (outermost first); the file stores it reversed
    GgufType type;
    const uint8_t* data;  // points into the mapping, aligned to the file's alignment (up to the page size)
    size_t nbytes;

    size_t element_count() const;
    std::vector<float> to_f32() const;  // F16 is widened exactly
};

class GgufWriter {
  public:
    void set_string(const std::string& key, const std::string& value);
    void set_u32(const std::string& key, uint32_t value);  // "general.alignment" here changes the layout
    void set_f32(const std::string& key, float value);
    void set_bool(const std::string& key, bool value);
    // shape in PyTorch order; data is row-major f32 and is copied; stored as F16 (round to nearest even)
    // when type == F16. Throws animegan::Error on a bad name or shape.
    void add_tensor(const std::string& name, const std::vector<int64_t>& shape, const float* data,
                    GgufType type);
    // Writes to path + ".tmp" then renames, so a crash never leaves a half-written model behind.
    // Throws animegan::Error on I/O failure or an invalid "general.alignment".
    void write(const std::string& path) const;

  private:
    struct KeyValue {
        std::string key;
        uint32_t value_type;
        std::vector<uint8_t> encoded_value;
    };
    struct PendingTensor {
        std::string name;
        std::vector<int64_t> shape;
        GgufType type;
        std::vector<uint8_t> bytes;
    };
    void set_value(const std::string& key, uint32_t value_type, std::vector<uint8_t> encoded_value);
    uint32_t alignment() const;

    std::vector<KeyValue> metadata_;
    std::vector<PendingTensor> tensors_;
};

// A parsed GGUF file. Everything is validated against the file size in open()/from_bytes(), so the
// accessors never read out of bounds. Move-only; tensor data pointers stay valid across moves.
class GgufFile {
  public:
    static GgufFile open(const std::string& path);  // mmap the file read-only
    static GgufFile from_bytes(std::vector<uint8_t> bytes, const std::string& label);  // tests / fuzzing

    GgufFile(GgufFile&& other) noexcept;
    GgufFile& operator=(GgufFile&& other) noexcept;
    GgufFile(const GgufFile&) = delete;
    GgufFile& operator=(const GgufFile&) = delete;
    ~GgufFile();

    const std::string& path() const { return path_; }

    // nullopt if the key is absent; throws animegan::Error if it holds another type.
    std::optional<std::string> get_string(const std::string& key) const;
    std::optional<uint32_t> get_u32(const std::string& key) const;
    std::optional<float> get_f32(const std::string& key) const;
    std::optional<bool> get_bool(const std::string& key) const;

    const GgufTensor* find(const std::string& name) const;  // nullptr if absent
    const std::vector<GgufTensor>& tensors() const { return tensors_; }

    // Gives back the memory of the file pages that lie wholly inside t's data, for a tensor the caller has
    // transformed into storage of its own and will not read again (the pages were read in by then). Reading
    // it later stays valid: the pages come back from the file. Does nothing for in-memory files.
    void evict(const GgufTensor& t) const noexcept;

  private:
    enum class Storage { None, Mapped, Heap };
    struct MetaEntry {
        uint32_t value_type;
        size_t value_offset;  // where the value starts in the file; already bounds-checked
    };

    explicit GgufFile(std::string path) : path_(std::move(path)) {}
    void parse();
    void release() noexcept;
    const uint8_t* lookup(const std::string& key, uint32_t wanted_type) const;

    std::string path_;
    const uint8_t* base_ = nullptr;
    size_t size_ = 0;
    Storage storage_ = Storage::None;
    std::unordered_map<std::string, MetaEntry> metadata_;
    std::vector<GgufTensor> tensors_;
    std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace animegan::weights
