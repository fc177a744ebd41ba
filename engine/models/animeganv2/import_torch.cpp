// Maps a PyTorch state dict of the port's Generator onto our GGUF: the tensor names stay the state-dict
// names, the hyper-parameters the state dict cannot say (upsample mode, norm groups, epsilon) come from the
// options, and the released files are recognized by their git blob ids.
#include <map>

#include "engine/models/animeganv2/importers.h"
#include "weights/torch_checkpoint.h"

namespace animegan::animeganv2 {
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

}  // namespace

// The only PyTorch importer: it takes every zip checkpoint, so it never answers "not mine".
bool import_torch(const models::SourceFile& source, const ConvertOptions& options,
                  weights::GgufWriter& writer, ConvertResult& result, std::string& /*mismatch*/) {
    const std::string& input_path = source.path;
    result.architecture = "animeganv2";
    result.style = models::file_stem(input_path);
    for (const KnownRelease& k : kKnownReleases) {
        if (source.git_blob_id == k.git_blob_id) {
            result.recognized = true;
            result.style = k.style;
        }
    }
    if (!options.style.empty()) result.style = options.style;

    std::vector<weights::TorchTensor> tensors =
        weights::read_torch_checkpoint_bytes(source.bytes.data(), source.bytes.size(), input_path);
    models::TensorMap by_name;
    for (weights::TorchTensor& t : tensors) by_name[t.name] = {std::move(t.shape), std::move(t.data)};

    HyperParams params;
    params.upsample = options.upsample.value_or(Upsample::AlignCorners);
    params.norm_eps = options.norm_eps.value_or(1e-5f);
    params.norm_groups = options.norm_groups.value_or(1);
    params.style_attention = by_name.count("attn_c.fc.0.weight") > 0;
    result.style_attention = params.style_attention;
    result.tensor_count = write_gguf(by_name, params, options.f16, input_path, writer);
    return true;
}

}  // namespace animegan::animeganv2
