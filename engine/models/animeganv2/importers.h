// The generator's importers (PyTorch .pt of the port, TFLite of the official release) and the GGUF part they
// share.
#pragma once

#include "engine/models/animeganv2/layout.h"
#include "engine/models/registry.h"

namespace animegan::animeganv2 {

// Checks the tensors against the network (every tensor exactly once, exact shapes, nothing extra; errors name
// `label`) and the hyper-parameters, and adds both to `out`. Returns the number of tensors.
size_t write_gguf(const models::TensorMap& tensors, const HyperParams& params, bool f16,
                  const std::string& label, weights::GgufWriter& out);

bool import_torch(const models::SourceFile& source, const ConvertOptions& options, weights::GgufWriter& out,
                  ConvertResult& result, std::string& mismatch);
bool import_tflite(const weights::TfliteModel& model, const models::SourceFile& source,
                   const ConvertOptions& options, weights::GgufWriter& out, ConvertResult& result,
                   std::string& mismatch);

}  // namespace animegan::animeganv2
