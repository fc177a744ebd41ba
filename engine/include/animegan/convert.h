// Converting released weights into our GGUF container (what the animegan-convert tool does).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "animegan/animegan.h"

namespace animegan {

struct ConvertOptions {
    bool f16 = false;                  // store conv weights as float16 (norms and biases stay float32)
    std::string style;                 // empty: the known name of a released file, else the file's stem
    std::optional<Upsample> upsample;  // default: align_corners, as the port's torch.hub model runs
    std::optional<float> norm_eps;     // default 1e-5, PyTorch GroupNorm's
    std::optional<int> norm_groups;    // default 1 (what the port uses); 0 = instance norm
};

struct ConvertResult {
    std::string architecture;  // general.architecture of the result: "animeganv2", "blazeface", ...
    std::string style;
    std::string source_hash;  // git blob id of the input file
    bool recognized = false;  // the input is one of the known released files
    bool style_attention = false;
    size_t tensor_count = 0;
};

// Reads released weights and writes a GGUF the runtime loads. The format is recognized by content: a PyTorch
// .pt checkpoint of the port's Generator, or a TFLite file of the official AnimeGANv2 generator or of the
// BlazeFace face detector. Throws Error naming what did not match (missing, extra or mis-shaped tensors).
ConvertResult convert_to_gguf(const std::string& input_path, const std::string& output_path,
                              const ConvertOptions& options = {});

// The same for a model released as several files: MTCNN's three nets (P-Net, R-Net, O-Net; TFLite files in
// any order) become one GGUF. Throws Error naming a net that is missing, given twice, or a file that is not
// one of them. One path is convert_to_gguf(path).
ConvertResult convert_to_gguf(const std::vector<std::string>& input_paths, const std::string& output_path,
                              const ConvertOptions& options = {});

}  // namespace animegan
