// The importers behind convert_to_gguf: each maps one source format onto our GGUF tensors and metadata.
// convert.cpp reads the file, recognizes its format by content and calls the matching importer.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "animegan/convert.h"
#include "weights/gguf.h"
#include "weights/tflite_reader.h"

namespace animegan::weights {

struct SourceFile {
    std::string path;
    std::vector<uint8_t> bytes;
    std::string git_blob_id;
};

struct FloatTensor {
    std::vector<int64_t> shape;  // PyTorch order
    std::vector<float> data;
};
using TensorMap = std::map<std::string, FloatTensor>;  // by PyTorch state-dict name

struct GeneratorHyperParams {
    Upsample upsample = Upsample::AlignCorners;
    float norm_eps = 1e-5f;
    int norm_groups = 1;  // 0 = instance norm
    bool style_attention = false;
};

// Checks generator tensors against the architecture (every tensor exactly once, exact shapes, nothing extra;
// errors name `label`) and adds them and the hyper-parameters to `out`. Returns the number of tensors.
size_t write_generator(const TensorMap& tensors, const GeneratorHyperParams& params, bool f16,
                       const std::string& label, GgufWriter& out);

// A PyTorch zip checkpoint of the port's Generator.
ConvertResult import_torch_generator(const SourceFile& source, const ConvertOptions& options,
                                     GgufWriter& out);

// A TFLite graph: tries each known model in turn. A recognizer returns false and explains the first thing
// that did not match in `mismatch` when the graph is not its model; once it has recognized the graph, any
// problem is an Error.
bool import_tflite_animegan(const TfliteModel& model, const SourceFile& source, const ConvertOptions& options,
                            GgufWriter& out, ConvertResult& result, std::string& mismatch);
bool import_tflite_blazeface(const TfliteModel& model, const SourceFile& source,
                             const ConvertOptions& options, GgufWriter& out, ConvertResult& result,
                             std::string& mismatch);

// The style name: options.style, else the name of a known release, else the file's stem.
std::string file_stem(const std::string& path);
std::string base_name(const std::string& path);

}  // namespace animegan::weights
