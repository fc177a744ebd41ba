// The generator's part of a GGUF, shared by the PyTorch and TFLite importers: tensors checked against the
// network, then written with the hyper-parameters.
#include <set>

#include "engine/models/animeganv2/importers.h"
#include "weights/shape_string.h"

namespace animegan::animeganv2 {

size_t write_gguf(const models::TensorMap& tensors, const HyperParams& params, bool f16,
                  const std::string& label, weights::GgufWriter& writer) {
    // Every tensor of the network exactly once with its exact shape, and nothing else.
    const std::vector<weights::TensorSpec> specs = tensor_specs(params.style_attention);
    std::set<std::string> expected;
    for (const weights::TensorSpec& spec : specs) {
        expected.insert(spec.name);
        const auto it = tensors.find(spec.name);
        if (it == tensors.end()) {
            throw Error(label + ": not an AnimeGANv2 generator: missing tensor '" + spec.name + "'");
        }
        if (it->second.shape != spec.shape) {
            throw Error(label + ": tensor '" + spec.name + "' has shape " +
                        weights::shape_string(it->second.shape) + ", expected " +
                        weights::shape_string(spec.shape));
        }
    }
    for (const auto& [name, tensor] : tensors) {
        if (!expected.count(name)) throw Error(label + ": unexpected tensor '" + name + "'");
    }
    check_hyper_params(params, label);

    writer.set_string("animeganv2.upsample_mode", upsample_name(params.upsample));
    writer.set_f32("animeganv2.norm_eps", params.norm_eps);
    writer.set_u32("animeganv2.norm_groups", uint32_t(params.norm_groups));
    writer.set_bool("animeganv2.style_attention", params.style_attention);
    for (const weights::TensorSpec& spec : specs) {
        const models::FloatTensor& t = tensors.at(spec.name);
        // Biases and norm parameters stay float32 even with --f16: they are tiny and feed the statistics.
        const bool half = f16 && t.shape.size() > 1;
        writer.add_tensor(spec.name, t.shape, t.data.data(),
                          half ? weights::GgufType::F16 : weights::GgufType::F32);
    }
    return specs.size();
}

}  // namespace animegan::animeganv2
