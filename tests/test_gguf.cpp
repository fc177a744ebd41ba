#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "animegan/error.h"
#include "tests/test_support.h"
#include "weights/gguf.h"

using animegan::Error;
using namespace animegan::weights;

namespace {

// A scratch directory per test, removed afterwards; the pid keeps parallel test runs apart.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        static int counter = 0;
        path = std::filesystem::temp_directory_path() /
               ("animegan_gguf_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

using animegan::testing::read_bytes;
using animegan::testing::write_bytes;

// Deterministic values with both signs, fractions and a wide range, so F16 rounding is exercised.
std::vector<float> sample_values(size_t count, float seed) {
    std::vector<float> values(count);
    for (size_t i = 0; i < count; ++i)
        values[i] = std::sin(seed + 0.37f * static_cast<float>(i)) * (1.0f + i);
    return values;
}

size_t product(const std::vector<int64_t>& shape) {
    size_t count = 1;
    for (const int64_t dim : shape) count *= static_cast<size_t>(dim);
    return count;
}

bool same_bits(float a, float b) {
    return std::memcmp(&a, &b, sizeof(float)) == 0;
}

// The message of the Error that parsing these bytes throws, or "<no error>".
std::string parse_error(const std::vector<uint8_t>& bytes) {
    return animegan::testing::error_message([&] { GgufFile::from_bytes(bytes, "bad.gguf"); });
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// Hand-assembled GGUF bytes, for files the writer would never produce.
struct Builder {
    std::vector<uint8_t> bytes;

    Builder& raw(const void* data, size_t nbytes) {
        const auto* begin = static_cast<const uint8_t*>(data);
        bytes.insert(bytes.end(), begin, begin + nbytes);
        return *this;
    }
    Builder& u8(uint8_t value) { return raw(&value, 1); }
    Builder& u32(uint32_t value) { return raw(&value, 4); }
    Builder& u64(uint64_t value) { return raw(&value, 8); }
    Builder& str(const std::string& text) { return u64(text.size()).raw(text.data(), text.size()); }
    Builder& header(uint64_t tensor_count, uint64_t kv_count, uint32_t version = 3) {
        return raw("GGUF", 4).u32(version).u64(tensor_count).u64(kv_count);
    }
    Builder& kv_u32(const std::string& key, uint32_t value) { return str(key).u32(4).u32(value); }
    // dims in file (ggml) order: fastest varying first
    Builder& tensor(const std::string& name, const std::vector<uint64_t>& dims, uint32_t type,
                    uint64_t offset) {
        str(name).u32(static_cast<uint32_t>(dims.size()));
        for (const uint64_t dim : dims) u64(dim);
        return u32(type).u64(offset);
    }
    Builder& pad(size_t alignment = 32) {
        bytes.resize((bytes.size() + alignment - 1) / alignment * alignment, 0);
        return *this;
    }
    Builder& zeros(size_t nbytes) {
        bytes.resize(bytes.size() + nbytes, 0);
        return *this;
    }
};

// A single valid 3x5 F32 tensor 'w' behind whatever metadata the caller appends.
std::vector<uint8_t> one_tensor_file(Builder metadata = Builder().header(1, 0)) {
    return metadata.tensor("w", {5, 3}, 0, 0).pad().zeros(15 * 4).bytes;
}

const std::vector<std::vector<int64_t>> kShapes = {{7},          {1},          {3, 5},      {2, 3, 5},
                                                   {2, 3, 1, 5}, {3, 1, 7, 2}, {1, 1, 1, 1}};

// A writer holding every kv type and F32 and F16 tensors of every shape above.
GgufWriter reference_writer() {
    GgufWriter writer;
    writer.set_string("general.name", "AnimeGANv2 Hayao");
    writer.set_string("test.empty", "");
    writer.set_string("test.utf8", "\xe5\xae\xae\xe5\xb4\x8e \xe9\xa7\xbf");
    writer.set_u32("test.zero", 0);
    writer.set_u32("test.max", UINT32_MAX);
    writer.set_f32("test.pi", 3.14159265f);
    writer.set_f32("test.negative", -0.0f);
    writer.set_bool("test.yes", true);
    writer.set_bool("test.no", false);
    for (size_t i = 0; i < kShapes.size(); ++i) {
        const std::vector<float> values = sample_values(product(kShapes[i]), static_cast<float>(i));
        writer.add_tensor("f32." + std::to_string(i), kShapes[i], values.data(), GgufType::F32);
        writer.add_tensor("f16." + std::to_string(i), kShapes[i], values.data(), GgufType::F16);
    }
    return writer;
}

// The writer places tensors back to back from data offset 0, each padded to the alignment.
size_t data_section_start(const GgufFile& file, size_t file_size) {
    size_t data_bytes = 0;
    for (const GgufTensor& tensor : file.tensors()) data_bytes += (tensor.nbytes + 31) / 32 * 32;
    return file_size - data_bytes;
}

}  // namespace

TEST_SUITE("gguf") {
TEST_CASE("metadata of every supported type round-trips") {
    TempDir dir;
    const std::string path = dir.file("model.gguf");
    GgufWriter writer = reference_writer();
    writer.set_u32("test.replaced", 1);
    writer.set_u32("test.replaced", 2);  // a second set replaces, it does not duplicate
    writer.write(path);
    CHECK_FALSE(std::filesystem::exists(path + ".tmp"));

    const GgufFile file = GgufFile::open(path);
    CHECK(file.path() == path);
    CHECK(file.get_string("general.name") == "AnimeGANv2 Hayao");
    CHECK(file.get_string("test.empty") == "");
    CHECK(file.get_string("test.utf8") == "\xe5\xae\xae\xe5\xb4\x8e \xe9\xa7\xbf");
    CHECK(file.get_u32("test.zero") == 0u);
    CHECK(file.get_u32("test.max") == UINT32_MAX);
    CHECK(file.get_u32("test.replaced") == 2u);
    CHECK(file.get_f32("test.pi") == 3.14159265f);
    CHECK(same_bits(*file.get_f32("test.negative"), -0.0f));
    CHECK(file.get_bool("test.yes") == true);
    CHECK(file.get_bool("test.no") == false);

    CHECK_FALSE(file.get_string("absent").has_value());
    CHECK_FALSE(file.get_u32("absent").has_value());
    CHECK_FALSE(file.get_f32("absent").has_value());
    CHECK_FALSE(file.get_bool("absent").has_value());

    try {
        (void)file.get_u32("general.name");
        FAIL("expected a type mismatch");
    } catch (const Error& error) {
        const std::string message = error.what();
        CHECK(contains(message, path));
        CHECK(contains(message, "'general.name'"));
        CHECK(contains(message, "STRING"));
        CHECK(contains(message, "UINT32"));
    }
    CHECK_THROWS_AS((void)file.get_string("test.zero"), Error);
    CHECK_THROWS_AS((void)file.get_f32("test.yes"), Error);
    CHECK_THROWS_AS((void)file.get_bool("test.pi"), Error);
}

TEST_CASE("F32 and F16 tensors of 1..4 dims round-trip, aligned, from a file and from bytes") {
    TempDir dir;
    const std::string path = dir.file("model.gguf");
    reference_writer().write(path);
    CHECK(read_bytes(path).size() % 32 == 0);

    std::vector<GgufFile> files;
    files.push_back(GgufFile::open(path));
    files.push_back(GgufFile::from_bytes(read_bytes(path), "bytes"));
    for (const GgufFile& file : files) {
        REQUIRE(file.tensors().size() == 2 * kShapes.size());
        CHECK(file.find("missing") == nullptr);
        for (size_t i = 0; i < kShapes.size(); ++i) {
            const std::vector<float> values = sample_values(product(kShapes[i]), static_cast<float>(i));
            for (const GgufType type : {GgufType::F32, GgufType::F16}) {
                const std::string name = (type == GgufType::F32 ? "f32." : "f16.") + std::to_string(i);
                CAPTURE(name);
                const GgufTensor* tensor = file.find(name);
                REQUIRE(tensor != nullptr);
                CHECK(&file.tensors()[2 * i + (type == GgufType::F16 ? 1 : 0)] == tensor);  // file order kept
                CHECK(tensor->name == name);
                CHECK(tensor->shape == kShapes[i]);
                CHECK(tensor->type == type);
                CHECK(tensor->element_count() == values.size());
                CHECK(tensor->nbytes == values.size() * (type == GgufType::F32 ? 4 : 2));
                CHECK(reinterpret_cast<uintptr_t>(tensor->data) % 32 == 0);
                const std::vector<float> loaded = tensor->to_f32();
                REQUIRE(loaded.size() == values.size());
                for (size_t k = 0; k < values.size(); ++k) {
                    const float expected =
                        type == GgufType::F32 ? values[k] : half_to_float(float_to_half(values[k]));
                    CHECK(same_bits(loaded[k], expected));
                    CHECK(std::fabs(loaded[k] - values[k]) <= std::fabs(values[k]) * 0x1p-11f);
                }
            }
        }
    }
    // Moving keeps the mapping, so tensor pointers stay valid.
    const uint8_t* data = files[0].find("f32.3")->data;
    GgufFile moved = std::move(files[0]);
    CHECK(moved.find("f32.3")->data == data);
    CHECK(moved.get_string("general.name") == "AnimeGANv2 Hayao");
    moved = std::move(files[1]);
    CHECK(moved.path() == "bytes");
    CHECK(moved.find("f16.4")->to_f32().size() == 30);
}

TEST_CASE("dims are stored fastest-varying first and read back in PyTorch order") {
    GgufWriter writer;
    const std::vector<float> values(2 * 3 * 5, 1.0f);
    writer.add_tensor("t", {2, 3, 5}, values.data(), GgufType::F32);
    TempDir dir;
    writer.write(dir.file("t.gguf"));
    const std::vector<uint8_t> bytes = read_bytes(dir.file("t.gguf"));
    // header (24) + name (8 + 1) + n_dims (4), then the dims
    uint64_t dims[3];
    std::memcpy(dims, bytes.data() + 24 + 9 + 4, sizeof(dims));
    CHECK(dims[0] == 5);
    CHECK(dims[1] == 3);
    CHECK(dims[2] == 2);

    const GgufFile file = GgufFile::from_bytes(one_tensor_file(), "hand.gguf");
    CHECK(file.find("w")->shape == std::vector<int64_t>{3, 5});
}

TEST_CASE("general.alignment controls the layout and is validated") {
    TempDir dir;
    GgufWriter writer = reference_writer();
    writer.set_u32("general.alignment", 64);
    writer.write(dir.file("a64.gguf"));
    CHECK(read_bytes(dir.file("a64.gguf")).size() % 64 == 0);
    const GgufFile file = GgufFile::open(dir.file("a64.gguf"));
    CHECK(file.get_u32("general.alignment") == 64u);
    for (const GgufTensor& tensor : file.tensors()) CHECK(reinterpret_cast<uintptr_t>(tensor.data) % 64 == 0);

    for (const uint32_t bad : {0u, 4u, 48u}) {
        writer.set_u32("general.alignment", bad);
        CHECK_THROWS_AS(writer.write(dir.file("bad.gguf")), Error);
    }
    writer.set_string("general.alignment", "32");
    CHECK_THROWS_AS(writer.write(dir.file("bad.gguf")), Error);
    CHECK_FALSE(std::filesystem::exists(dir.file("bad.gguf")));

    for (const uint32_t bad : {0u, 4u, 48u}) {
        const std::string message =
            parse_error(one_tensor_file(Builder().header(1, 1).kv_u32("general.alignment", bad)));
        CHECK(contains(message, "general.alignment must be a UINT32 power of two >= 8"));
    }
    CHECK(contains(
        parse_error(one_tensor_file(Builder().header(1, 1).str("general.alignment").u32(8).str("64"))),
        "general.alignment"));
}

TEST_CASE("F16 conversion rounds to nearest even and handles subnormals, inf and nan") {
    CHECK(float_to_half(1.0f) == 0x3c00);
    CHECK(float_to_half(-2.0f) == 0xc000);
    CHECK(float_to_half(1.0f / 3.0f) == 0x3555);
    CHECK(half_to_float(0x3555) == 0.333251953125f);
    CHECK(float_to_half(65504.0f) == 0x7bff);
    CHECK(float_to_half(65519.0f) == 0x7bff);  // just below the midpoint to 65536
    CHECK(float_to_half(65520.0f) == 0x7c00);  // the midpoint rounds to even, which is inf
    CHECK(float_to_half(1e-7f) == 0x0002);     // subnormal: 1e-7 / 2^-24 = 1.68 -> 2
    CHECK(half_to_float(0x0002) == 0x1p-23f);
    CHECK(float_to_half(0x1p-24f) == 0x0001);
    CHECK(float_to_half(0x1p-25f) == 0x0000);         // tie between 0 and 2^-24: even is 0
    CHECK(float_to_half(0x1.000002p-25f) == 0x0001);  // just above the tie
    CHECK(float_to_half(0x1.ff8p-15f) == 0x03ff);     // the largest subnormal
    CHECK(float_to_half(0x1.ffcp-15f) == 0x0400);     // tie above it: the carry makes the smallest normal
    CHECK(float_to_half(1e-30f) == 0x0000);
    CHECK(float_to_half(-1e-30f) == 0x8000);
    CHECK(float_to_half(1.0f + 0x1p-11f) == 0x3c00);      // tie, even mantissa stays
    CHECK(float_to_half(1.0f + 3 * 0x1p-11f) == 0x3c02);  // tie, odd mantissa rounds up
    CHECK(float_to_half(INFINITY) == 0x7c00);
    CHECK(float_to_half(-INFINITY) == 0xfc00);
    CHECK(float_to_half(-0.0f) == 0x8000);
    CHECK(std::isinf(half_to_float(0x7c00)));
    const uint16_t nan_half = float_to_half(NAN);
    CHECK((nan_half & 0x7c00) == 0x7c00);
    CHECK((nan_half & 0x03ff) != 0);
    CHECK(std::isnan(half_to_float(nan_half)));
    float low_payload_nan;  // a NaN whose payload lives only in bits F16 drops must stay NaN
    const uint32_t low_payload_bits = 0x7f800001;
    std::memcpy(&low_payload_nan, &low_payload_bits, sizeof(low_payload_nan));
    CHECK(std::isnan(half_to_float(float_to_half(low_payload_nan))));

    // Every non-NaN half survives half -> float -> half unchanged.
    for (uint32_t h = 0; h <= 0xffff; ++h) {
        const auto half = static_cast<uint16_t>(h);
        if ((half & 0x7c00) == 0x7c00 && (half & 0x03ff) != 0) continue;
        if (float_to_half(half_to_float(half)) != half)
            FAIL_CHECK("half 0x" << std::hex << h << " does not round-trip");
    }
}

TEST_CASE("the writer rejects bad tensors and unwritable paths") {
    GgufWriter writer;
    const float values[8] = {};
    CHECK_THROWS_AS(writer.add_tensor("", {1}, values, GgufType::F32), Error);
    CHECK_THROWS_AS(writer.add_tensor("t", {}, values, GgufType::F32), Error);
    CHECK_THROWS_AS(writer.add_tensor("t", {1, 1, 1, 1, 1}, values, GgufType::F32), Error);
    CHECK_THROWS_AS(writer.add_tensor("t", {2, 0}, values, GgufType::F32), Error);
    CHECK_THROWS_AS(writer.add_tensor("t", {-1}, values, GgufType::F16), Error);
    CHECK_THROWS_AS(writer.add_tensor("t", {1}, nullptr, GgufType::F32), Error);
    CHECK_THROWS_AS(writer.add_tensor("t", {INT64_MAX, INT64_MAX}, values, GgufType::F32), Error);
    CHECK_THROWS_AS(writer.set_u32("", 1), Error);
    writer.add_tensor("t", {8}, values, GgufType::F32);
    CHECK_THROWS_AS(writer.add_tensor("t", {8}, values, GgufType::F16), Error);

    TempDir dir;
    const std::string path = dir.file("missing_dir/model.gguf");
    try {
        writer.write(path);
        FAIL("expected an I/O error");
    } catch (const Error& error) {
        CHECK(contains(error.what(), path));
        CHECK(contains(error.what(), "No such file or directory"));
    }
}

TEST_CASE("a truncated file always fails to load") {
    TempDir dir;
    reference_writer().write(dir.file("model.gguf"));
    const std::vector<uint8_t> bytes = read_bytes(dir.file("model.gguf"));
    const GgufFile file = GgufFile::from_bytes(bytes, "model.gguf");
    const size_t data_start = data_section_start(file, bytes.size());
    const GgufTensor& last = file.tensors().back();
    const size_t data_end = bytes.size() - ((last.nbytes + 31) / 32 * 32 - last.nbytes);
    REQUIRE(data_start < data_end);

    for (size_t cut = 0; cut < data_start; ++cut) {
        CAPTURE(cut);
        CHECK_THROWS_AS(GgufFile::from_bytes({bytes.begin(), bytes.begin() + cut}, "model.gguf"), Error);
    }
    std::mt19937 rng(1234);
    std::uniform_int_distribution<size_t> in_data(data_start, data_end - 1);
    for (int i = 0; i < 300; ++i) {
        const size_t cut = in_data(rng);
        CAPTURE(cut);
        const std::string message = parse_error({bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(cut)});
        CHECK(contains(message, "runs past end of file (size " + std::to_string(cut) + ")"));
    }
    // Only the last tensor's trailing padding may go missing.
    for (size_t cut = data_end; cut <= bytes.size(); ++cut) {
        CHECK_NOTHROW(
            GgufFile::from_bytes({bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(cut)}, "m"));
    }
}

TEST_CASE("random byte flips in the header throw Error or load consistently, never crash") {
    TempDir dir;
    reference_writer().write(dir.file("model.gguf"));
    const std::vector<uint8_t> original = read_bytes(dir.file("model.gguf"));
    const size_t data_start = data_section_start(GgufFile::from_bytes(original, "m"), original.size());

    std::mt19937 rng(20240607);
    std::uniform_int_distribution<size_t> position(0, data_start - 1);
    std::uniform_int_distribution<int> flip(1, 255);
    std::uniform_int_distribution<int> flips_per_file(1, 4);
    int rejected = 0;
    int loaded = 0;
    for (int iteration = 0; iteration < 3000; ++iteration) {
        std::vector<uint8_t> bytes = original;
        for (int n = flips_per_file(rng); n > 0; --n) bytes[position(rng)] ^= static_cast<uint8_t>(flip(rng));
        try {
            const GgufFile file = GgufFile::from_bytes(std::move(bytes), "fuzz.gguf");
            for (const GgufTensor& tensor : file.tensors()) {
                CHECK(tensor.nbytes == tensor.element_count() * (tensor.type == GgufType::F32 ? 4 : 2));
                CHECK(tensor.to_f32().size() == tensor.element_count());
            }
            for (const char* key : {"general.name", "test.max", "test.pi", "test.yes"}) {
                try {
                    (void)file.get_string(key);
                    (void)file.get_u32(key);
                    (void)file.get_f32(key);
                    (void)file.get_bool(key);
                } catch (const Error&) {  // a flipped value type is a legitimate mismatch
                }
            }
            ++loaded;
        } catch (const Error& error) {
            CHECK(contains(error.what(), "fuzz.gguf: "));
            ++rejected;
        }
    }
    MESSAGE("byte flips: " << rejected << " rejected, " << loaded << " loaded");
    CHECK(rejected > 0);
    CHECK(loaded > 0);  // flips inside string values or tensor names are harmless
}

TEST_CASE("hostile or malformed headers give a clear error without large allocations") {
    CHECK(parse_error(one_tensor_file()) == "<no error>");

    std::vector<uint8_t> bad_magic = one_tensor_file();
    std::memcpy(bad_magic.data(), "GGML", 4);
    CHECK(parse_error(bad_magic) == "bad.gguf: not a GGUF file (bad magic)");
    CHECK(contains(parse_error({'G', 'G'}), "magic at offset 0 (4 bytes) runs past end of file (size 2)"));
    CHECK(contains(parse_error(one_tensor_file(Builder().header(1, 0, 2))), "unsupported GGUF version 2"));
    CHECK(contains(parse_error(one_tensor_file(Builder().header(1, 0, 0x03000000))), "big-endian"));

    CHECK(contains(parse_error(one_tensor_file(Builder().header(uint64_t{1} << 62, 0))), "cannot fit"));
    CHECK(contains(parse_error(one_tensor_file(Builder().header(1, UINT64_MAX))), "cannot fit"));
    CHECK(contains(parse_error(one_tensor_file(Builder().header(1, 1).u64(uint64_t{1} << 63))),
                   "metadata key length 9223372036854775808 at offset 24 exceeds the 65535-byte limit"));
    CHECK(contains(parse_error(one_tensor_file(Builder().header(1, 1).u64(0))), "empty metadata key"));
    CHECK(contains(parse_error(one_tensor_file(Builder().header(1, 1).str("k").u32(8).u64(UINT64_MAX - 3))),
                   "string value of key 'k'"));
    CHECK(contains(parse_error(one_tensor_file(Builder().header(1, 1).str("k").u32(13).u32(0))),
                   "key 'k' has unknown value type 13"));
    CHECK(contains(parse_error(one_tensor_file(Builder().header(1, 1).str("k").u32(7).u8(2))),
                   "key 'k' has invalid bool value 2"));
    CHECK(contains(parse_error(one_tensor_file(Builder().header(1, 2).kv_u32("k", 1).kv_u32("k", 2))),
                   "duplicate metadata key 'k'"));

    auto tensor_file = [](const std::vector<uint64_t>& dims, uint32_t type, uint64_t offset) {
        return Builder().header(1, 0).tensor("w", dims, type, offset).pad().zeros(64).bytes;
    };
    CHECK(contains(parse_error(tensor_file({}, 0, 0)), "tensor 'w' has 0 dims (expected 1..4)"));
    CHECK(contains(parse_error(tensor_file({1, 1, 1, 1, 1}, 0, 0)), "tensor 'w' has 5 dims (expected 1..4)"));
    CHECK(contains(parse_error(tensor_file({4, 0}, 0, 0)), "tensor 'w' has invalid dim 0"));
    CHECK(contains(parse_error(tensor_file({UINT64_MAX}, 0, 0)), "invalid dim"));
    CHECK(contains(parse_error(tensor_file({uint64_t{1} << 40, uint64_t{1} << 40}, 0, 0)),
                   "element count overflows"));
    CHECK(contains(parse_error(tensor_file({uint64_t{1} << 40}, 1, 0)),
                   "tensor 'w' data [offset 64, 2199023255552 bytes] runs past end of file (size 128)"));
    CHECK(contains(parse_error(tensor_file({4}, 2, 0)), "unsupported ggml type 2"));
    CHECK(
        contains(parse_error(tensor_file({4}, 0, 4)), "data offset 4 is not a multiple of the alignment 32"));
    CHECK(contains(parse_error(tensor_file({4}, 0, UINT64_MAX - 31)), "runs past end of file"));
    CHECK(
        contains(parse_error(Builder().header(1, 0).tensor("w", {4}, 0, 0).bytes), "runs past end of file"));

    const std::vector<uint8_t> huge_name = Builder().header(1, 0).u64(uint64_t{1} << 50).zeros(64).bytes;
    CHECK(contains(parse_error(huge_name), "tensor name length 1125899906842624"));
    CHECK(contains(
        parse_error(
            Builder().header(2, 0).tensor("w", {4}, 0, 0).tensor("w", {4}, 0, 32).pad().zeros(64).bytes),
        "duplicate tensor 'w'"));
    CHECK(contains(
        parse_error(
            Builder().header(2, 0).tensor("a", {16}, 0, 0).tensor("b", {4}, 0, 32).pad().zeros(96).bytes),
        "tensors 'a' and 'b' overlap"));
}

TEST_CASE("arrays, including nested ones, are skipped safely and have no getter") {
    Builder metadata = Builder().header(1, 4);
    metadata.str("tokens").u32(9).u32(8).u64(2).str("a").str("bc");  // array of strings
    metadata.str("nested").u32(9).u32(9).u64(2).u32(0).u64(3).u8(1).u8(2).u8(3).u32(4).u64(
        0);                                                     // arrays of arrays
    metadata.str("floats").u32(9).u32(6).u64(2).u32(0).u32(0);  // fixed-size elements
    metadata.kv_u32("after", 7);                                // proves the arrays were stepped over exactly
    const GgufFile file = GgufFile::from_bytes(one_tensor_file(metadata), "arrays.gguf");
    CHECK(file.get_u32("after") == 7u);
    CHECK_THROWS_WITH_AS((void)file.get_string("tokens"),
                         "arrays.gguf: metadata key 'tokens' is ARRAY, not STRING", Error);

    Builder deep = Builder().header(1, 1).str("deep").u32(9);
    for (int depth = 0; depth < 12; ++depth) deep.u32(9).u64(1);
    CHECK(contains(parse_error(one_tensor_file(deep)), "nested deeper than 8"));
    CHECK(contains(
        parse_error(one_tensor_file(Builder().header(1, 1).str("k").u32(9).u32(4).u64(uint64_t{1} << 61))),
        "array value of key 'k' with 2305843009213693952 elements"));
    CHECK(
        contains(parse_error(one_tensor_file(Builder().header(1, 1).str("k").u32(9).u32(8).u64(UINT64_MAX))),
                 "runs past end of file"));
    CHECK(contains(parse_error(one_tensor_file(Builder().header(1, 1).str("k").u32(9).u32(42).u64(1))),
                   "array of unknown value type 42"));
}

TEST_CASE("empty, missing and non-regular files are reported with the path") {
    TempDir dir;
    const std::string empty = dir.file("empty.gguf");
    write_bytes(empty, {});
    const std::string empty_message = empty + ": file is empty";
    CHECK_THROWS_WITH_AS(GgufFile::open(empty), empty_message.c_str(), Error);
    CHECK_THROWS_WITH_AS(GgufFile::from_bytes({}, "x.gguf"), "x.gguf: file is empty", Error);

    const std::string missing = dir.file("missing.gguf");
    const std::string missing_message = missing + ": cannot open: No such file or directory";
    CHECK_THROWS_WITH_AS(GgufFile::open(missing), missing_message.c_str(), Error);
    const std::string directory_message = dir.path.string() + ": not a regular file";
    CHECK_THROWS_WITH_AS(GgufFile::open(dir.path.string()), directory_message.c_str(), Error);

    const std::string garbage = dir.file("garbage.gguf");
    write_bytes(garbage, std::vector<uint8_t>(100, 0xab));
    const std::string garbage_message = garbage + ": not a GGUF file (bad magic)";
    CHECK_THROWS_WITH_AS(GgufFile::open(garbage), garbage_message.c_str(), Error);
}

}  // TEST_SUITE("gguf")
