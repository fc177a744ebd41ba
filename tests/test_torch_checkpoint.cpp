// Tests for reading PyTorch .pt checkpoints: the ZIP reader, the pickle subset, tensor views, half floats,
// SHA-1 / git blob ids, and robustness against truncated or corrupted files. Real checkpoints are written at
// test time by /usr/bin/python3 with torch (skipped with a message when torch is missing); hostile inputs
// are built by hand so they run everywhere.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "animegan/error.h"
#include "tests/test_support.h"
#include "weights/float16.h"
#include "weights/sha1.h"
#include "weights/torch_checkpoint.h"
#include "weights/zip_reader.h"

namespace {

namespace fs = std::filesystem;
using animegan::weights::git_blob_id;
using animegan::weights::read_torch_checkpoint;
using animegan::weights::read_torch_checkpoint_bytes;
using animegan::weights::sha1_hex;
using animegan::weights::TorchTensor;
using animegan::weights::ZipReader;
using Bytes = std::vector<uint8_t>;

void write_file(const fs::path& path, const std::string& content) {
    std::ofstream(path, std::ios::binary) << content;
}

Bytes to_bytes(const std::string& text) {
    return Bytes(text.begin(), text.end());
}

std::vector<TorchTensor> read_bytes(const Bytes& bytes) {
    return read_torch_checkpoint_bytes(bytes.data(), bytes.size(), "test.pt");
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

bool same_bits(float a, float b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

std::string le(uint64_t value, int bytes) {
    std::string out;
    for (int i = 0; i < bytes; ++i) out.push_back(char((value >> (8 * i)) & 0xFF));
    return out;
}

// ---- A minimal stored-ZIP writer for hand-made archives. `local_padding` adds an extra field to each
// local header only, the way PyTorch aligns its tensor data.
struct TestEntry {
    std::string name;
    std::string data;
    uint16_t method = 0;
};

Bytes make_zip(const std::vector<TestEntry>& entries, size_t local_padding = 0,
               const std::string& comment = "") {
    std::string body, central;
    for (const TestEntry& entry : entries) {
        const size_t offset = body.size();
        const std::string extra =
            local_padding ? le(0x4246, 2) + le(local_padding - 4, 2) + std::string(local_padding - 4, 'Z')
                          : std::string();
        body += le(0x04034b50, 4) + le(20, 2) + le(0, 2) + le(entry.method, 2) + le(0, 4) + le(0, 4) +
                le(entry.data.size(), 4) + le(entry.data.size(), 4) + le(entry.name.size(), 2) +
                le(extra.size(), 2) + entry.name + extra + entry.data;
        central += le(0x02014b50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(entry.method, 2) + le(0, 4) +
                   le(0, 4) + le(entry.data.size(), 4) + le(entry.data.size(), 4) + le(entry.name.size(), 2) +
                   le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(offset, 4) + entry.name;
    }
    const size_t cd_offset = body.size();
    body += central;
    body += le(0x06054b50, 4) + le(0, 2) + le(0, 2) + le(entries.size(), 2) + le(entries.size(), 2) +
            le(central.size(), 4) + le(cd_offset, 4) + le(comment.size(), 2) + comment;
    return to_bytes(body);
}

// ---- Pickle fragments for hand-made data.pkl streams.
std::string unicode(const std::string& text) {
    return "X" + le(text.size(), 4) + text;
}
std::string op(int code) {
    return std::string(1, char(code));
}
std::string long1(const std::string& twos_complement) {
    return op(0x8a) + op(int(twos_complement.size())) + twos_complement;
}
// BININT when the value fits 32 bits, else an 8-byte LONG1.
std::string integer(int64_t value) {
    if (value == int32_t(value)) return "J" + le(uint32_t(value), 4);
    return long1(le(uint64_t(value), 8));
}
std::string global(const std::string& module, const std::string& name) {
    return "c" + module + "\n" + name + "\n";
}
std::string int_tuple(const std::vector<int64_t>& values) {
    std::string out = "(";
    for (int64_t value : values) out += integer(value);
    return out + "t";
}
std::string short_unicode(const std::string& text) {
    return op(0x8c) + op(int(text.size())) + text;
}

// {"w": _rebuild_tensor_v2(storage, offset, shape, stride, False, {})} as torch.save would pickle it.
std::string tensor_pickle(const std::string& storage_type, int64_t numel, int64_t offset,
                          const std::vector<int64_t>& shape, const std::vector<int64_t>& stride) {
    return "\x80\x02}(" + unicode("w") + global("torch._utils", "_rebuild_tensor_v2") + "((" +
           unicode("storage") + global("torch", storage_type) + unicode("0") + unicode("cpu") +
           integer(numel) + "tQ" + integer(offset) + int_tuple(shape) + int_tuple(stride) + "\x89}tRu.";
}

std::string float_bytes(const std::vector<float>& values) {
    std::string out(values.size() * 4, '\0');
    std::memcpy(&out[0], values.data(), out.size());  // the test hosts are little-endian, like the format
    return out;
}

Bytes checkpoint(const std::string& pickle, const std::string& storage = float_bytes({1, 2, 3, 4})) {
    return make_zip({{"archive/data.pkl", pickle}, {"archive/data/0", storage}}, 64);
}

std::string bytes_error(const Bytes& bytes) {
    return animegan::testing::error_message([&] { read_bytes(bytes); });
}
std::string pickle_error(const std::string& pickle) {
    return bytes_error(checkpoint(pickle));
}
std::string file_error(const fs::path& path) {
    return animegan::testing::error_message([&] { read_torch_checkpoint(path.string()); });
}
// The error for {"w": a float tensor view} over a storage of `numel` elements (4 floats are stored).
std::string view_error(int64_t numel, int64_t offset, const std::vector<int64_t>& shape,
                       const std::vector<int64_t>& stride) {
    return pickle_error(tensor_pickle("FloatStorage", numel, offset, shape, stride));
}

// Every mangled input must either parse or throw animegan::Error: never crash, overread (ASan), or throw
// anything else.
void expect_clean_outcome(const Bytes& bytes, const std::string& what) {
    try {
        read_bytes(bytes);
    } catch (const animegan::Error&) {
    } catch (const std::exception& other) {
        FAIL_CHECK(what << ": unexpected exception " << std::string(other.what()));
    }
}

void fuzz(const Bytes& valid, size_t begin, size_t end, unsigned seed, int rounds) {
    std::mt19937 random(seed);
    for (int round = 0; round < rounds; ++round) {
        const size_t cut = std::uniform_int_distribution<size_t>(0, valid.size() - 1)(random);
        expect_clean_outcome(Bytes(valid.begin(), valid.begin() + std::ptrdiff_t(cut)),
                             "truncated at " + std::to_string(cut));

        Bytes flipped = valid;
        const int flips = std::uniform_int_distribution<int>(1, 4)(random);
        for (int i = 0; i < flips; ++i) {
            const size_t at = std::uniform_int_distribution<size_t>(begin, end - 1)(random);
            flipped[at] ^= uint8_t(std::uniform_int_distribution<int>(1, 255)(random));
        }
        expect_clean_outcome(flipped, "round " + std::to_string(round) + " with flipped bytes");
    }
}

// ---- Checkpoints written by real torch, plus the values they must decode to.
class TorchFixtures {
  public:
    static const TorchFixtures& get() {
        static const TorchFixtures fixtures;
        return fixtures;
    }
    ~TorchFixtures() {
        std::error_code ignored;
        if (!dir_.empty()) fs::remove_all(dir_, ignored);
    }
    // True when the fixtures exist. Otherwise says why: a message when torch is not installed, a failure
    // when the generator script itself broke.
    bool ready() const {
        if (!torch_installed_) MESSAGE("skipped: /usr/bin/python3 cannot import torch");
        if (torch_installed_ && !generated_) FAIL_CHECK("fixture script failed:\n" << log_);
        return generated_;
    }
    fs::path path(const std::string& file) const { return dir_ / file; }

  private:
    TorchFixtures() {
        torch_installed_ = std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0;
        if (!torch_installed_) return;
        dir_ = fs::temp_directory_path() /
               ("animegan_torch_checkpoint_" + std::to_string(std::random_device{}()));
        fs::create_directories(dir_);
        write_file(dir_ / "make_fixtures.py", kScript);
        const std::string command = "/usr/bin/python3 '" + (dir_ / "make_fixtures.py").string() + "' '" +
                                    dir_.string() + "' >'" + (dir_ / "log.txt").string() + "' 2>&1";
        generated_ = std::system(command.c_str()) == 0;
        const Bytes log = animegan::testing::read_bytes(dir_ / "log.txt");
        log_.assign(log.begin(), log.end());
    }

    static constexpr const char* kScript = R"PY(
import collections, struct, sys, zipfile, zlib
import torch

out = sys.argv[1]
torch.manual_seed(1234)

def dump(stem, state):
    # Expected values: one manifest line per tensor (key|is_half|shape) and its values as raw float32 LE.
    with open('%s/%s.manifest' % (out, stem), 'w') as manifest:
        index = 0
        for key, value in state.items():
            if not isinstance(value, torch.Tensor):
                continue
            shape = ','.join(str(s) for s in value.shape)
            manifest.write('%s|%d|%s\n' % (key, value.dtype == torch.float16, shape))
            raw = value.detach().float().contiguous().numpy().astype('<f4').tobytes()
            with open('%s/%s.%d.f32' % (out, stem, index), 'wb') as f:
                f.write(raw)
            index += 1

def save(stem, obj, **kwargs):
    torch.save(obj, '%s/%s.pt' % (out, stem), **kwargs)

base = torch.randn(4, 6)
half = torch.randn(5, 7).half()
state = collections.OrderedDict()
state['block_c.1.layers.1.1.weight'] = torch.nn.Parameter(torch.randn(8, 3, 3, 3))
state['block_c.1.layers.1.1.bias'] = torch.randn(8)
state['transposed'] = base.t()                         # strides (1, 6)
state['sliced'] = base[1:3, 2:5]                       # same storage, offset 8
state['expanded'] = torch.randn(3, 1).expand(3, 4)     # stride 0
state['scalar'] = torch.tensor(2.5)                    # 0-dim
state['one'] = torch.tensor([-1.25])
state['specials'] = torch.tensor([float('inf'), float('-inf'), float('nan'), -0.0, 1e-45, 3.4e38])
state['half'] = half
state['half_view'] = half[1:, ::2]                     # half view with offset and stride
state['half_all'] = torch.arange(65536, dtype=torch.int32).to(torch.int16).view(torch.float16)
state['empty'] = torch.zeros(0, 3)
state['steps'] = 7                                     # not a tensor: skipped
save('main', state)
save('protocol4', state, pickle_protocol=4)
save('protocol5', state, pickle_protocol=5)
dump('main', state)

small = collections.OrderedDict([('conv.weight', torch.randn(2, 3, 1, 1)),
                                 ('conv.bias', torch.randn(2).half())])
save('nested', {'epoch': 3, 'state_dict': small, 'optimizer': {'lr': 0.1, 'betas': (0.5, 0.999)},
                'big': 2 ** 40, 'negative': -5, 'tag': 'x'})
save('plain', dict(small))
dump('small', small)

module = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.GroupNorm(1, 4))
save('module', module.state_dict())                    # OrderedDict with _metadata set by BUILD
dump('module', module.state_dict())

save('long', {'w': torch.randn(2), 'count': torch.tensor([1, 2])})
save('counter', {'w': torch.randn(2), 'c': collections.Counter()})
save('ambiguous', {'a': {'w': torch.randn(2)}, 'b': {'w': torch.randn(2)}})
save('list', [torch.randn(2)])

with zipfile.ZipFile('%s/main.pt' % out) as source:
    entries = [(info.filename, source.read(info)) for info in source.infolist()]

def repack(stem, extra=(), deflate=()):
    # Re-written by Python's zipfile: no 64-byte alignment, sizes in the local headers.
    with zipfile.ZipFile('%s/%s.pt' % (out, stem), 'w') as z:
        for name, data in list(entries) + list(extra):
            z.writestr(name, data, zipfile.ZIP_DEFLATED if name in deflate else zipfile.ZIP_STORED)

repack('little', extra=[('main/byteorder', b'little')])
repack('bigendian', extra=[('main/byteorder', b'big')])
repack('deflated', deflate=('main/data/3',))

def write_zip64(path):
    # Every size and offset goes through ZIP64 extra fields and the ZIP64 end records.
    body, central = bytearray(), bytearray()
    for name, data in entries:
        encoded = name.encode()
        crc = zlib.crc32(data)
        offset = len(body)
        local_extra = struct.pack('<HHQQ', 1, 16, len(data), len(data))
        body += struct.pack('<IHHHHHIIIHH', 0x04034b50, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                            len(encoded), len(local_extra)) + encoded + local_extra + data
        central_extra = struct.pack('<HHQQQ', 1, 24, len(data), len(data), offset)
        central += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 45, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF,
                               0xFFFFFFFF, len(encoded), len(central_extra), 0, 0, 0, 0, 0xFFFFFFFF)
        central += encoded + central_extra
    cd_offset = len(body)
    body += central
    record = len(body)
    body += struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 45, 45, 0, 0, len(entries), len(entries),
                        len(central), cd_offset)
    body += struct.pack('<IIQI', 0x07064b50, 0, record, 1)
    body += struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    with open(path, 'wb') as f:
        f.write(body)
    with zipfile.ZipFile(path) as check:               # the fixture itself must be a valid zip
        assert check.testzip() is None

write_zip64('%s/zip64.pt' % out)
)PY";

    bool torch_installed_ = false;
    bool generated_ = false;
    fs::path dir_;
    std::string log_;
};

struct Expected {
    std::string name;
    bool half = false;
    std::vector<int64_t> shape;
    std::vector<float> data;
};

std::vector<Expected> load_expected(const std::string& stem) {
    const TorchFixtures& fixtures = TorchFixtures::get();
    std::vector<Expected> expected;
    std::ifstream manifest(fixtures.path(stem + ".manifest"));
    std::string line;
    while (std::getline(manifest, line)) {
        Expected tensor;
        std::istringstream fields(line);
        std::string half, shape;
        std::getline(fields, tensor.name, '|');
        std::getline(fields, half, '|');
        std::getline(fields, shape);
        tensor.half = half == "1";
        std::istringstream dims(shape);
        for (std::string dim; std::getline(dims, dim, ',');) tensor.shape.push_back(std::stoll(dim));
        const Bytes raw = animegan::testing::read_bytes(
            fixtures.path(stem + "." + std::to_string(expected.size()) + ".f32"));
        tensor.data.resize(raw.size() / 4);
        if (!raw.empty()) std::memcpy(tensor.data.data(), raw.data(), raw.size());
        expected.push_back(std::move(tensor));
    }
    return expected;
}

void check_matches(const std::vector<TorchTensor>& actual, const std::vector<Expected>& expected) {
    REQUIRE(actual.size() == expected.size());
    for (size_t i = 0; i < actual.size(); ++i) {
        CAPTURE(expected[i].name);
        CHECK(actual[i].name == expected[i].name);
        CHECK(actual[i].shape == expected[i].shape);
        CHECK(actual[i].source_was_half == expected[i].half);
        REQUIRE(actual[i].data.size() == expected[i].data.size());
        // Bit-exact, except that NaNs only need to stay NaN: torch quiets signalling NaNs when widening
        // halves.
        size_t mismatches = 0;
        for (size_t j = 0; j < actual[i].data.size(); ++j) {
            const float a = actual[i].data[j], b = expected[i].data[j];
            mismatches += !same_bits(a, b) && !(std::isnan(a) && std::isnan(b));
        }
        CHECK(mismatches == 0);
    }
}

}  // namespace

TEST_SUITE("torch_checkpoint") {
TEST_CASE("sha1 and git blob ids match known digests and git hash-object") {
    auto sha1 = [](const std::string& text) {
        return sha1_hex(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    };
    auto blob = [](const std::string& text) {
        return git_blob_id(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    };
    CHECK(sha1("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK(sha1("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    // Spans many blocks, and 56..63 leftover bytes force the length into an extra padding block.
    CHECK(sha1(std::string(1000000, 'a')) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    CHECK(sha1(std::string(56, 'a')) == "c2db330f6083854c99d4b5bfb6e8f29f201be699");
    // Values printed by `printf ... | git hash-object --stdin`.
    CHECK(blob("") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    CHECK(blob("abc") == "f2ba8f84ab5c1bce84a7b441cb1959cfc7093b7f");
    CHECK(blob("hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a");
    CHECK(blob(std::string(200, 'x')) == "debcf03c10222209e6ac75be3fa2c1796d204d91");

    const TorchFixtures& fixtures = TorchFixtures::get();
    if (!fixtures.ready()) return;
    if (std::system("git --version >/dev/null 2>&1") != 0) {
        MESSAGE("skipped git hash-object comparison: git is not installed");
        return;
    }
    const fs::path file = fixtures.path("main.pt");
    FILE* pipe = popen(("git hash-object '" + file.string() + "'").c_str(), "r");
    REQUIRE(pipe != nullptr);
    char line[64] = {};
    const bool got = std::fgets(line, sizeof line, pipe) != nullptr;
    pclose(pipe);
    REQUIRE(got);
    const Bytes bytes = animegan::testing::read_bytes(file);
    CHECK(git_blob_id(bytes.data(), bytes.size()) == std::string(line, 40));
}

TEST_CASE("zip reader: local extra padding, archive comment and lookups") {
    const Bytes zip = make_zip({{"top/a.txt", "hello"}, {"top/empty", ""}}, 40, "a comment");
    const ZipReader reader(zip.data(), zip.size(), "t.zip");
    REQUIRE(reader.entries().size() == 2);
    REQUIRE(reader.find("top/a.txt") != nullptr);
    CHECK(reader.find("top/missing") == nullptr);
    const auto data = reader.read(*reader.find("top/a.txt"));
    CHECK(std::string(reinterpret_cast<const char*>(data.data), data.size) == "hello");
    CHECK(reader.read(*reader.find("top/empty")).size == 0);
}

TEST_CASE("zip reader: compressed entries and damaged headers are named in errors") {
    const Bytes zip = make_zip({{"top/data/7", "xx", 8}});
    const ZipReader reader(zip.data(), zip.size(), "t.zip");
    const std::string message = animegan::testing::error_message([&] { reader.read(reader.entries()[0]); });
    CHECK(contains(message, "t.zip"));
    CHECK(contains(message, "'top/data/7'"));
    CHECK(contains(message, "compressed"));

    Bytes wrong_offset = make_zip({{"a", "data"}});
    wrong_offset[wrong_offset.size() - 22 - 1 - 3] = 0x7F;  // high byte of the local header offset
    const ZipReader damaged(wrong_offset.data(), wrong_offset.size(), "t.zip");
    CHECK(contains(animegan::testing::error_message([&] { damaged.read(damaged.entries()[0]); }),
                   "local header"));

    Bytes wrong_count = make_zip({{"a", "data"}});
    wrong_count[wrong_count.size() - 22 + 10] = 0xFF;  // total entries
    CHECK(contains(
        animegan::testing::error_message([&] { ZipReader(wrong_count.data(), wrong_count.size(), "t.zip"); }),
        "entry count"));
}

TEST_CASE("reads a hand-made checkpoint with a strided view into its storage") {
    // A 2x2 view with offset 1 and strides (1, 2) over storage [1, 2, 3, 4, 5]: [[2, 4], [3, 5]].
    const Bytes bytes =
        checkpoint(tensor_pickle("FloatStorage", 5, 1, {2, 2}, {1, 2}), float_bytes({1, 2, 3, 4, 5}));
    const std::vector<TorchTensor> tensors = read_bytes(bytes);
    REQUIRE(tensors.size() == 1);
    CHECK(tensors[0].name == "w");
    CHECK(tensors[0].shape == std::vector<int64_t>{2, 2});
    CHECK(tensors[0].data == std::vector<float>{2, 4, 3, 5});
    CHECK_FALSE(tensors[0].source_was_half);
}

TEST_CASE("alternative opcodes: framing, STACK_GLOBAL, memo variants, short strings, LONG1, floats") {
    const std::string rebuild =
        short_unicode("torch._utils") + short_unicode("_rebuild_tensor_v2") + op(0x93);
    const std::string ordered_dict =
        short_unicode("collections") + short_unicode("OrderedDict") + op(0x93) + ")R";
    const std::string pickle =
        op(0x80) + op(4) + op(0x95) + le(0, 8) + "}" + op(0x94) + "(" +  // FRAME, dict, MEMOIZE as 0
        "U" + op(1) + "w" + rebuild + "r" + le(70000, 4) +               // key, global kept at 70000
        "((" + short_unicode("storage") + short_unicode("torch") + short_unicode("FloatStorage") + op(0x93) +
        "T" + le(1, 4) + "0" + short_unicode("cpu") + "M" + le(5, 2) + "tQ" + op(0x94) +  // storage as 2
        long1("") + long1(std::string("\x04", 1)) + op(0x85) + long1(std::string("\x01\x00", 2)) + op(0x85) +
        op(0x88) + ordered_dict + "tR" +  // w = storage[0:4]
        unicode("w2") + "j" + le(70000, 4) + "(" + "h" + op(2) + "K" + op(3) + "K" + op(2) + op(0x85) + "K" +
        op(1) + op(0x85) + op(0x89) + "}" + "tR" +                                  // w2 = storage[3:5]
        op(0x8d) + le(1, 8) + "v" + "G" + std::string("\x3f\xf8\0\0\0\0\0\0", 8) +  // "v": 1.5, skipped
        "u.";
    const std::vector<TorchTensor> tensors = read_bytes(checkpoint(pickle, float_bytes({1, 2, 3, 4, 5})));
    REQUIRE(tensors.size() == 2);
    CHECK(tensors[0].name == "w");
    CHECK(tensors[0].data == std::vector<float>{1, 2, 3, 4});
    CHECK(tensors[1].name == "w2");
    CHECK(tensors[1].data == std::vector<float>{4, 5});
}

TEST_CASE("half storage, 0-dim and empty tensors from hand-made pickles") {
    const std::string halves = le(0x3C00, 2) + le(0xC000, 2) + le(0x0001, 2) + le(0x7C00, 2);
    const std::vector<TorchTensor> half =
        read_bytes(checkpoint(tensor_pickle("HalfStorage", 4, 0, {4}, {1}), halves));
    REQUIRE(half.size() == 1);
    CHECK(half[0].source_was_half);
    CHECK(half[0].data[0] == 1.0f);
    CHECK(half[0].data[1] == -2.0f);
    CHECK(half[0].data[2] == std::ldexp(1.0f, -24));
    CHECK(std::isinf(half[0].data[3]));

    const std::vector<TorchTensor> scalar =
        read_bytes(checkpoint(tensor_pickle("FloatStorage", 4, 3, {}, {})));
    REQUIRE(scalar.size() == 1);
    CHECK(scalar[0].shape.empty());
    CHECK(scalar[0].data == std::vector<float>{4});

    const std::vector<TorchTensor> empty =
        read_bytes(checkpoint(tensor_pickle("FloatStorage", 0, 0, {0, 3}, {3, 1}), ""));
    REQUIRE(empty.size() == 1);
    CHECK(empty[0].shape == std::vector<int64_t>{0, 3});
    CHECK(empty[0].data.empty());
}

TEST_CASE("tensor views must stay inside their storage") {
    CHECK(contains(view_error(4, 0, {5}, {1}), "reaches element 4 of a storage of 4 elements"));
    CHECK(contains(view_error(4, 3, {2}, {1}), "reaches element 4"));
    CHECK(contains(view_error(4, 0, {2, 2}, {3, 1}), "reaches element 4"));
    CHECK(contains(view_error(4, 0, {2}, {0x7FFFFFFF}), "reaches element 2147483647"));
    CHECK(contains(view_error(8, 0, {8}, {1}), "too few for 8 elements"));
    CHECK(contains(view_error(4, 0, {2}, {-1}), "negative size or stride"));
    CHECK(contains(view_error(4, 0, {-2}, {1}), "negative size or stride"));
    CHECK(contains(view_error(4, -1, {2}, {1}), "negative storage offset"));
    CHECK(contains(view_error(4, 0, {2, 2}, {1}), "sizes and strides"));
    CHECK(contains(view_error(4, 0, std::vector<int64_t>(65, 1), std::vector<int64_t>(65, 1)), "dimensions"));
    // Stride 0 lets a tiny storage describe a huge tensor; the element cap must stop it before
    // allocating.
    CHECK(contains(view_error(4, 0, {1 << 20, 1 << 20}, {0, 0}), "too many elements"));
    CHECK(contains(view_error(4, 0, {2, 2, 2, 2, 2}, std::vector<int64_t>(5, int64_t(1) << 62)), "beyond"));
    std::string wrong_storage = tensor_pickle("FloatStorage", 4, 0, {4}, {1});
    wrong_storage.replace(wrong_storage.find(unicode("0")), unicode("0").size(), unicode("9"));
    CHECK(contains(pickle_error(wrong_storage), "'9' is missing"));
}

TEST_CASE("only allow-listed globals and float/half storages are accepted") {
    const std::string message = pickle_error("\x80\x02" + global("os", "system") + unicode("ls") + "\x85R.");
    CHECK(contains(message, "test.pt: data.pkl: unsupported global 'os.system'"));
    CHECK(contains(pickle_error("\x80\x02" + global("__torch__.Model", "x") + "."), "TorchScript"));
    const std::string long_message = pickle_error(tensor_pickle("LongStorage", 2, 0, {2}, {1}));
    CHECK(contains(long_message, "tensor 'w' is stored as torch.LongStorage"));
    CHECK(contains(pickle_error("\x80\x02" + global("torch", "FloatStorage") + ")R."),
                   "called like a function"));
    CHECK(contains(pickle_error("\x80\x02"
                                "ctorch\nFloatStorage"),
                   "not terminated"));
}

TEST_CASE("hostile pickles fail cleanly") {
    struct Case {
        std::string pickle;
        std::string error;
    };
    const size_t big = size_t(1) << 20;  // the interpreter's object, stack and memo limits
    const std::vector<Case> cases = {
        {"\x80\x02]q" + op(0) + "h" + op(0) + "a.", "not a dict"},                 // list containing itself
        {"\x80\x02}q" + op(0) + unicode("a") + "h" + op(0) + "s.", "no tensors"},  // dict containing itself
        {"\x80\x02X\xff\xff\xff\xff", "truncated"},
        {"\x80\x02" + op(0x8d) + le(uint64_t(1) << 63, 8), "truncated"},
        {"\x80\x02T\xff\xff\xff\xff", "negative string length"},
        {"\x80\x02" + op(0x8a) + op(9) + std::string(9, '\1') + ".", "wider than 64 bits"},
        {"\x80\x02s.", "underflow"},
        {"\x80\x02}(s.", "underflow"},  // SETITEM may not pop below a MARK
        {"\x80\x02t.", "missing MARK"},
        {"\x80\x02h\x05.", "memo entry 5"},
        {"\x80\x02\xff", "opcode 0xff"},
        {"\x80\x09.", "protocol 9"},
        {"\x80\x02}", "truncated"},
        {"\x80\x02}(]u.", "odd number"},
        {"\x80\x02}]a.", "wrong kind"},
        {"\x80\x02" + global("collections", "OrderedDict") + "K" + op(1) + "\x85R.", "with arguments"},
        {"\x80\x02" + std::string(2 * big, '('), "too deep"},
        {"\x80\x02N" + std::string(big + 1, char(0x94)), "memo is too large"},
        {"\x80\x02" + std::string(big / 2, ']') + std::string(big / 2 + 1, 'N'), "too many objects"},
        {"\x80\x02" + short_unicode("os") + "K" + op(1) + op(0x93), "not strings"},
        {"\x80\x02((" + unicode("storage") + ")tQ.", "malformed persistent id"},
        {"\x80\x02]N" + op(0x62) + ".", "BUILD"},
        {"\x80\x02" + global("torch._utils", "_rebuild_tensor_v2") + "(K" + op(0) + "tR.", "wrong number"},
        {"\x80\x02" + global("torch._utils", "_rebuild_parameter") + "(K" + op(0) + "tR.",
         "_rebuild_parameter"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.error);
        CHECK(contains(pickle_error(c.pickle), c.error));
    }
}

TEST_CASE("archive-level problems are reported with the file name") {
    const std::string valid = tensor_pickle("FloatStorage", 4, 0, {4}, {1});
    const std::string floats = float_bytes({1, 2, 3, 4});
    const Bytes big =
        make_zip({{"archive/data.pkl", valid}, {"archive/data/0", floats}, {"archive/byteorder", "big"}});
    CHECK(contains(bytes_error(big), "test.pt: big-endian"));
    const Bytes odd =
        make_zip({{"archive/data.pkl", valid}, {"archive/data/0", floats}, {"archive/byteorder", "pdp"}});
    CHECK(contains(bytes_error(odd), "unknown byteorder 'pdp'"));
    const Bytes little = make_zip({{"data.pkl", valid}, {"data/0", floats}, {"byteorder", "little"}});
    CHECK(read_bytes(little).size() == 1);  // no top folder at all is accepted too
    CHECK(contains(bytes_error(make_zip({{"archive/other.pkl", valid}})), "no data.pkl"));
    CHECK(contains(bytes_error(make_zip({{"a/data.pkl", valid}, {"b/data.pkl", valid}})),
                   "more than one data.pkl"));
    const Bytes compressed = make_zip({{"archive/data.pkl", valid}, {"archive/data/0", floats, 8}});
    CHECK(contains(bytes_error(compressed), "test.pt: zip entry 'archive/data/0' is compressed"));
    CHECK(contains(bytes_error(to_bytes("definitely not a zip archive, just text")), "not a zip archive"));
    CHECK(contains(bytes_error(to_bytes("\x80\x02}q" + op(0) + ".")), "legacy"));
    CHECK(contains(bytes_error(Bytes()), "test.pt: not a zip archive"));
}

TEST_CASE("missing, empty and non-zip files") {
    const fs::path dir =
        fs::temp_directory_path() / ("animegan_pt_files_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir);
    write_file(dir / "empty.pt", "");
    write_file(dir / "text.pt", "hello, this is not a checkpoint\n");
    CHECK(contains(file_error(dir / "missing.pt"), "missing.pt: cannot open file"));
    CHECK(contains(file_error(dir / "empty.pt"), "empty.pt: not a zip archive"));
    CHECK(contains(file_error(dir / "text.pt"), "text.pt: not a zip archive"));
    CHECK(contains(file_error(dir), "cannot read file"));
    std::error_code ignored;
    fs::remove_all(dir, ignored);
}

TEST_CASE("corrupted hand-made checkpoints never crash") {
    const Bytes valid =
        checkpoint(tensor_pickle("HalfStorage", 4, 0, {2, 2}, {1, 2}), std::string(8, '\x3c'));
    REQUIRE(read_bytes(valid).size() == 1);
    fuzz(valid, 0, valid.size(), 7, 1500);
}

TEST_CASE("reads a state dict written by torch.save: views, halves, scalars, specials") {
    const TorchFixtures& fixtures = TorchFixtures::get();
    if (!fixtures.ready()) return;
    const std::vector<Expected> expected = load_expected("main");
    REQUIRE(expected.size() == 12);
    for (const std::string file : {"main.pt", "protocol4.pt", "protocol5.pt", "zip64.pt", "little.pt"}) {
        CAPTURE(file);
        const std::vector<TorchTensor> tensors = read_torch_checkpoint(fixtures.path(file).string());
        check_matches(tensors, expected);
    }
    const std::vector<TorchTensor> tensors = read_torch_checkpoint(fixtures.path("main.pt").string());
    CHECK(tensors[5].name == "scalar");
    CHECK(tensors[5].shape.empty());
    CHECK(tensors[5].data == std::vector<float>{2.5f});
    CHECK(tensors[0].shape == std::vector<int64_t>{8, 3, 3, 3});
}

TEST_CASE("nested, plain-dict and module state dicts from torch.save") {
    const TorchFixtures& fixtures = TorchFixtures::get();
    if (!fixtures.ready()) return;
    check_matches(read_torch_checkpoint(fixtures.path("nested.pt").string()), load_expected("small"));
    std::vector<Expected> plain = load_expected("small");
    check_matches(read_torch_checkpoint(fixtures.path("plain.pt").string()), plain);
    check_matches(read_torch_checkpoint(fixtures.path("module.pt").string()), load_expected("module"));
}

TEST_CASE("checkpoints torch writes that cannot be used give clear errors") {
    const TorchFixtures& fixtures = TorchFixtures::get();
    if (!fixtures.ready()) return;
    auto error_for = [&](const char* file) { return file_error(fixtures.path(file)); };
    CHECK(contains(error_for("bigendian.pt"), "big-endian"));
    CHECK(contains(error_for("deflated.pt"), "'main/data/3' is compressed"));
    CHECK(contains(error_for("long.pt"), "tensor 'count' is stored as torch.LongStorage"));
    CHECK(contains(error_for("counter.pt"), "unsupported global 'collections.Counter'"));
    CHECK(contains(error_for("ambiguous.pt"), "several nested dicts hold tensors ('a', 'b')"));
    CHECK(contains(error_for("list.pt"), "not a dict"));
    CHECK(contains(error_for("list.pt"), "list.pt: "));
}

TEST_CASE("truncated and corrupted torch.save files never crash") {
    const TorchFixtures& fixtures = TorchFixtures::get();
    if (!fixtures.ready()) return;
    const Bytes valid = animegan::testing::read_bytes(fixtures.path("main.pt"));
    const ZipReader zip(valid.data(), valid.size(), "main.pt");
    const auto pickle = zip.read(*zip.find("main/data.pkl"));
    const size_t pickle_begin = size_t(pickle.data - valid.data());
    fuzz(valid, 0, valid.size(), 1, 300);                               // anywhere
    fuzz(valid, pickle_begin, pickle_begin + pickle.size, 2, 600);      // in the pickle
    fuzz(valid, valid.size() - 1200, valid.size(), 3, 300);             // central directory
    for (size_t cut = valid.size() - 100; cut < valid.size(); ++cut) {  // inside the end records
        expect_clean_outcome(Bytes(valid.begin(), valid.begin() + std::ptrdiff_t(cut)), "cut near the end");
    }
}
}  // TEST_SUITE("torch_checkpoint")
