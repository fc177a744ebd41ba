// Bad input gets a clear animegan::Error, never a crash or a huge allocation: broken images, hostile image
// headers, weight files that are truncated, corrupted, mis-shaped or for another model. Run under ASan +
// UBSan.
#include <doctest/doctest.h>

#include <random>

#include "animegan/animegan.h"
#include "animegan/convert.h"
#include "engine/models/animeganv2/layout.h"
#include "tests/test_support.h"
#include "weights/gguf.h"

using namespace animegan;

namespace {

std::vector<uint8_t> be32(uint32_t v) {
    return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
}

// A PNG signature and IHDR claiming the given size, followed by nothing useful.
std::vector<uint8_t> png_header(uint32_t width, uint32_t height) {
    std::vector<uint8_t> b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    for (uint8_t x : be32(width)) b.push_back(x);
    for (uint8_t x : be32(height)) b.push_back(x);
    for (uint8_t x : {8, 2, 0, 0, 0, 0, 0, 0, 0}) b.push_back(x);  // depth 8, RGB, crc (unchecked)
    return b;
}

// Writes a GGUF for the generator with every tensor right, then lets `edit` break one thing.
std::string write_model(
    const std::string& path,
    const std::function<void(weights::GgufWriter&, std::vector<weights::TensorSpec>&)>& edit) {
    weights::GgufWriter w;
    w.set_string("general.architecture", "animeganv2");
    w.set_string("animeganv2.upsample_mode", "align_corners");
    std::vector<weights::TensorSpec> specs = animeganv2::tensor_specs(false);
    edit(w, specs);
    for (const auto& s : specs) {
        size_t n = 1;
        for (int64_t d : s.shape) n *= size_t(d);
        const std::vector<float> zeros(n, 0.1f);
        w.add_tensor(s.name, s.shape, zeros.data(), weights::GgufType::F32);
    }
    w.write(path);
    return path;
}

}  // namespace

TEST_SUITE("bad_input") {

TEST_CASE("images that are missing, empty, not images, truncated or absurd") {
    const std::string dir = testing::scratch_dir("bad_images");
    testing::check_error_mentions([&] { load_image(dir + "/missing.png"); }, "cannot open");
    testing::write_bytes(dir + "/empty.png", {});
    testing::check_error_mentions([&] { load_image(dir + "/empty.png"); }, "empty");
    testing::write_bytes(dir + "/text.jpg", std::vector<uint8_t>(100, 'x'));
    testing::check_error_mentions([&] { load_image(dir + "/text.jpg"); }, "not a readable image");
    testing::write_bytes(dir + "/zero.png", png_header(0, 0));
    CHECK_THROWS_AS(load_image(dir + "/zero.png"), Error);
    testing::write_bytes(dir + "/huge.png", png_header(100000, 100000));
    CHECK_THROWS_AS(load_image(dir + "/huge.png"), Error);

    Image img;
    img.width = 40;
    img.height = 30;
    img.pixels.resize(40 * 30 * 3);
    for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = uint8_t(i * 7);
    for (const char* ext : {"png", "jpg", "bmp"}) {
        const std::string path = dir + "/ok." + ext;
        save_image(path, img);
        const std::vector<uint8_t> bytes = testing::read_bytes(path);
        for (size_t cut : {size_t(1), size_t(8), size_t(30), bytes.size() / 2}) {
            testing::write_bytes(dir + "/cut", std::vector<uint8_t>(bytes.begin(), bytes.begin() + cut));
            try {
                load_image(dir + "/cut");  // a decoder may return a partial image; it must not crash
            } catch (const Error&) {
            }
        }
    }
}

TEST_CASE("generator input sizes out of range") {
    const std::string dir = testing::scratch_dir("bad_sizes");
    const Generator g = Generator::load(write_model(dir + "/m.gguf", [](auto&, auto&) {}), 1);
    testing::check_error_mentions([&] { g.forward(Tensor(3, 7, 64)); }, "too small");
    // Past the loader's 100 megapixels (the tensor's pages are never touched).
    testing::check_error_mentions([&] { g.forward(Tensor(3, 10001, 10001)); }, "too large");
    testing::check_error_mentions([&] { g.forward(Tensor(1, 64, 64)); }, "3 channels");
}

TEST_CASE("model files with missing, mis-shaped, extra tensors or wrong metadata") {
    const std::string dir = testing::scratch_dir("bad_models");
    testing::check_error_mentions([&] { Generator::load(dir + "/missing.gguf"); }, "missing.gguf");
    testing::check_error_mentions(
        [&] {
            Generator::load(
                write_model(dir + "/a.gguf", [](auto&, auto& specs) { specs.erase(specs.begin() + 5); }));
        },
        "missing tensor");
    testing::check_error_mentions(
        [&] {
            Generator::load(write_model(dir + "/b.gguf", [](auto&, auto& specs) { specs[3].shape[0] += 1; }));
        },
        "has shape");
    testing::check_error_mentions(
        [&] {
            Generator::load(write_model(dir + "/c.gguf", [](auto&, auto& specs) {
                specs.push_back({"extra.weight", {4}});
            }));
        },
        "unexpected tensor");
    testing::check_error_mentions(
        [&] {
            Generator::load(write_model(
                dir + "/d.gguf", [](auto& w, auto&) { w.set_string("general.architecture", "llama"); }));
        },
        "architecture");
    testing::check_error_mentions(
        [&] {
            Generator::load(write_model(dir + "/e.gguf", [](auto& w, auto&) {
                w.set_string("animeganv2.upsample_mode", "nearest");
            }));
        },
        "upsample");
    testing::check_error_mentions(
        [&] {
            Generator::load(
                write_model(dir + "/f.gguf", [](auto& w, auto&) { w.set_u32("animeganv2.norm_groups", 3); }));
        },
        "norm_groups");
}

TEST_CASE("truncated and corrupted model files") {
    const std::string dir = testing::scratch_dir("corrupt_models");
    const std::vector<uint8_t> good =
        testing::read_bytes(write_model(dir + "/good.gguf", [](auto&, auto&) {}));
    std::mt19937 rng(11);
    for (int trial = 0; trial < 60; ++trial) {
        std::vector<uint8_t> bad = good;
        if (trial % 2 == 0) {
            bad.resize(rng() % good.size());
        } else {
            // Flip bytes in the header and tensor table, where they change meaning rather than values.
            for (int k = 0; k < 4; ++k)
                bad[rng() % std::min<size_t>(bad.size(), 4096)] ^= uint8_t(1 + rng() % 255);
        }
        testing::write_bytes(dir + "/bad.gguf", bad);
        try {
            Generator::load(dir + "/bad.gguf", 1);
        } catch (const Error&) {
        }
    }
    // A cut through the header is always an error.
    testing::write_bytes(dir + "/cut.gguf", std::vector<uint8_t>(good.begin(), good.begin() + 100));
    CHECK_THROWS_AS(Generator::load(dir + "/cut.gguf"), Error);
}

TEST_CASE("converter inputs that are not generator checkpoints") {
    const std::string dir = testing::scratch_dir("bad_checkpoints");
    testing::check_error_mentions([&] { convert_to_gguf(dir + "/none.pt", dir + "/o.gguf"); }, "cannot open");
    testing::write_bytes(dir + "/text.pt", std::vector<uint8_t>(64, 'a'));
    testing::check_error_mentions([&] { convert_to_gguf(dir + "/text.pt", dir + "/o.gguf"); },
                                  "not a PyTorch");

    const std::string reason = testing::torch_unavailable_reason();
    if (!reason.empty()) {
        MESSAGE("skipped the .pt cases: " << reason);
        return;
    }
    const std::string script = dir + "/make.py";
    testing::write_bytes(script, [] {
        const std::string s =
            "import sys, torch\n"
            "sys.path.insert(0, '" ANIMEGAN_SOURCE_DIR
            "/tools')\n"
            "import torch_reference as ref\n"
            "sd = ref.Generator('align_corners', False).state_dict()\n"
            "torch.save(sd, sys.argv[1] + '/good.pt')\n"
            "bad = dict(sd); bad['block_b.1.1.weight'] = torch.zeros(128, 128, 3, 2)\n"
            "torch.save(bad, sys.argv[1] + '/shape.pt')\n"
            "miss = dict(sd); del miss['block_e.2.2.bias']\n"
            "torch.save(miss, sys.argv[1] + '/missing.pt')\n"
            "torch.save({'x': torch.zeros(3)}, sys.argv[1] + '/other.pt')\n";
        return std::vector<uint8_t>(s.begin(), s.end());
    }());
    REQUIRE(testing::run_command("/usr/bin/python3 " + script + " " + dir + " > " + dir + "/make.log 2>&1") ==
            0);
    CHECK_NOTHROW(convert_to_gguf(dir + "/good.pt", dir + "/good.gguf"));
    testing::check_error_mentions([&] { convert_to_gguf(dir + "/shape.pt", dir + "/o.gguf"); },
                                  "block_b.1.1.weight");
    testing::check_error_mentions([&] { convert_to_gguf(dir + "/missing.pt", dir + "/o.gguf"); },
                                  "block_e.2.2.bias");
    testing::check_error_mentions([&] { convert_to_gguf(dir + "/other.pt", dir + "/o.gguf"); },
                                  "missing tensor");

    const std::vector<uint8_t> good = testing::read_bytes(dir + "/good.pt");
    std::mt19937 rng(12);
    int rejected = 0;
    for (int trial = 0; trial < 40; ++trial) {
        std::vector<uint8_t> bad = good;
        if (trial % 2 == 0) {
            bad.resize(rng() % good.size());
        } else {
            for (int k = 0; k < 8; ++k) bad[rng() % bad.size()] ^= uint8_t(1 + rng() % 255);
        }
        testing::write_bytes(dir + "/bad.pt", bad);
        try {
            convert_to_gguf(dir + "/bad.pt", dir + "/bad.gguf");
        } catch (const Error&) {
            ++rejected;
        }
    }
    CHECK(rejected >= 20);  // every truncation must be caught; flips inside tensor data may pass
}

}  // TEST_SUITE("bad_input")
