// The generator's part of a GGUF, shared by the PyTorch and TFLite importers: tensors checked against the
// architecture, then written with the hyper-parameters.
#include <set>

#include "engine/generator_layout.h"
#include "weights/importers.h"

namespace animegan::weights {

size_t write_generator(const TensorMap& tensors, const GeneratorHyperParams& params, bool f16,
                       const std::string& label, GgufWriter& writer) {
    // Every tensor of the architecture exactly once with its exact shape, and nothing else.
    const std::vector<model::TensorSpec> specs = model::generator_tensor_specs(params.style_attention);
    std::set<std::string> expected;
    for (const model::TensorSpec& spec : specs) {
        expected.insert(spec.name);
        const auto it = tensors.find(spec.name);
        if (it == tensors.end()) {
            throw Error(label + ": not an AnimeGANv2 generator: missing tensor '" + spec.name + "'");
        }
        if (it->second.shape != spec.shape) {
            throw Error(label + ": tensor '" + spec.name + "' has shape " +
                        model::shape_string(it->second.shape) + ", expected " +
                        model::shape_string(spec.shape));
        }
    }
    for (const auto& [name, tensor] : tensors) {
        if (!expected.count(name)) throw Error(label + ": unexpected tensor '" + name + "'");
    }
    if (params.norm_groups < 0 || (params.norm_groups != 0 && 32 % params.norm_groups != 0)) {
        throw Error("norm groups must be 0 (instance norm) or divide 32, got " +
                    std::to_string(params.norm_groups));
    }
    if (!(params.norm_eps > 0.f && params.norm_eps < 1.f)) throw Error("norm epsilon must be in (0, 1)");

    writer.set_string("animeganv2.upsample_mode", upsample_name(params.upsample));
    writer.set_f32("animeganv2.norm_eps", params.norm_eps);
    writer.set_u32("animeganv2.norm_groups", uint32_t(params.norm_groups));
    writer.set_bool("animeganv2.style_attention", params.style_attention);
    for (const model::TensorSpec& spec : specs) {
        const FloatTensor& t = tensors.at(spec.name);
        // Biases and norm parameters stay float32 even with --f16: they are tiny and feed the statistics.
        const bool half = f16 && t.shape.size() > 1;
        writer.add_tensor(spec.name, t.shape, t.data.data(), half ? GgufType::F16 : GgufType::F32);
    }
    return specs.size();
}

}  // namespace animegan::weights
