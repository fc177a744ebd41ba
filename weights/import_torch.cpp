// Maps a PyTorch state dict of the port's Generator onto our GGUF: the tensor names stay the state-dict
// names, the hyper-parameters the state dict cannot say (upsample mode, norm groups, epsilon) come from the
// options, and the released files are recognized by their git blob ids.
#include <cstring>
#include <map>
#include <set>

#include "animegan/convert.h"
#include "engine/file_bytes.h"
#include "engine/generator_layout.h"
#include "weights/gguf.h"
#include "weights/sha1.h"
#include "weights/torch_checkpoint.h"

namespace animegan {
namespace {

struct KnownRelease {
    const char* git_blob_id;
    const char* file_name;
    const char* style;
};

// The four weight files released with the PyTorch port (what `git hash-object FILE` prints for each).
constexpr KnownRelease kKnownReleases[] = {
    {"d75102f8f201ddaf8dbe6b913b1a97585b55f838", "face_paint_512_v2.pt", "Face Paint 512 v2"},
    {"19c1a1da4d9580186109a2b055d91044e5127de6", "face_paint_512_v1.pt", "Face Paint 512 v1"},
    {"3b7ea61b02254980831cc3bc77af30666dbc999c", "celeba_distill.pt", "CelebA Distill"},
    {"58086c9db9fc7a9e5c2876ca31b8079599352643", "paprika.pt", "Paprika"},
};

constexpr size_t kMaxWeightFileBytes = size_t(1) << 31;

std::string base_name(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string stem(const std::string& path) {
    const std::string name = base_name(path);
    const size_t dot = name.find_last_of('.');
    return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

std::string describe(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

bool is_zip(const std::vector<uint8_t>& b) {
    return b.size() >= 4 && std::memcmp(b.data(), "PK\x03\x04", 4) == 0;
}
bool is_tflite(const std::vector<uint8_t>& b) {
    return b.size() >= 8 && std::memcmp(b.data() + 4, "TFL3", 4) == 0;
}

}  // namespace

ConvertResult convert_to_gguf(const std::string& input_path, const std::string& output_path,
                              const ConvertOptions& options) {
    const std::vector<uint8_t> bytes = read_file_bytes(input_path, kMaxWeightFileBytes);
    if (is_tflite(bytes)) throw Error(input_path + ": TFLite files are not supported by this converter yet");
    if (!is_zip(bytes)) {
        throw Error(input_path + ": not a PyTorch zip checkpoint (expected a file written by torch.save)");
    }
    ConvertResult result;
    result.source_hash = weights::git_blob_id(bytes.data(), bytes.size());
    result.style = stem(input_path);
    for (const KnownRelease& k : kKnownReleases) {
        if (result.source_hash == k.git_blob_id) {
            result.recognized = true;
            result.style = k.style;
        }
    }
    if (!options.style.empty()) result.style = options.style;

    const std::vector<weights::TorchTensor> tensors =
        weights::read_torch_checkpoint_bytes(bytes.data(), bytes.size(), input_path);
    std::map<std::string, const weights::TorchTensor*> by_name;
    for (const weights::TorchTensor& t : tensors) by_name[t.name] = &t;
    result.style_attention = by_name.count("attn_c.fc.0.weight") > 0;

    // Every tensor of the architecture exactly once with its exact shape, and nothing else.
    const std::vector<model::TensorSpec> specs = model::generator_tensor_specs(result.style_attention);
    std::set<std::string> expected;
    for (const model::TensorSpec& spec : specs) {
        expected.insert(spec.name);
        const auto it = by_name.find(spec.name);
        if (it == by_name.end()) {
            throw Error(input_path + ": not an AnimeGANv2 generator state dict: missing tensor '" +
                        spec.name + "'");
        }
        if (it->second->shape != spec.shape) {
            throw Error(input_path + ": tensor '" + spec.name + "' has shape " + describe(it->second->shape) +
                        ", expected " + describe(spec.shape));
        }
    }
    for (const weights::TorchTensor& t : tensors) {
        if (!expected.count(t.name)) throw Error(input_path + ": unexpected tensor '" + t.name + "'");
    }

    const int norm_groups = options.norm_groups.value_or(1);
    if (norm_groups < 0 || (norm_groups != 0 && 32 % norm_groups != 0)) {
        throw Error("norm groups must be 0 (instance norm) or divide 32, got " + std::to_string(norm_groups));
    }
    const float eps = options.norm_eps.value_or(1e-5f);
    if (!(eps > 0.f && eps < 1.f)) throw Error("norm epsilon must be in (0, 1)");

    weights::GgufWriter writer;
    writer.set_string("general.architecture", "animeganv2");
    writer.set_string("general.name", result.style);
    writer.set_string("animeganv2.source.file", base_name(input_path));
    writer.set_string("animeganv2.source.git_blob_id", result.source_hash);
    writer.set_string("animeganv2.upsample_mode",
                      upsample_name(options.upsample.value_or(Upsample::AlignCorners)));
    writer.set_f32("animeganv2.norm_eps", eps);
    writer.set_u32("animeganv2.norm_groups", uint32_t(norm_groups));
    writer.set_bool("animeganv2.style_attention", result.style_attention);
    for (const model::TensorSpec& spec : specs) {
        const weights::TorchTensor& t = *by_name.at(spec.name);
        // Biases and norm parameters stay float32 even with --f16: they are tiny and feed the statistics.
        const bool half = options.f16 && t.shape.size() > 1;
        writer.add_tensor(spec.name, t.shape, t.data.data(),
                          half ? weights::GgufType::F16 : weights::GgufType::F32);
    }
    writer.write(output_path);
    result.tensor_count = specs.size();
    return result;
}

}  // namespace animegan
