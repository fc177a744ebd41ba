// BlazeFace's entry points for the registry: the TFLite importer and the detector loader.
#pragma once

#include "engine/models/registry.h"

namespace animegan::blazeface {

bool import_tflite(const weights::TfliteModel& model, const models::SourceFile& source,
                   const ConvertOptions& options, weights::GgufWriter& out, ConvertResult& result,
                   std::string& mismatch);

std::unique_ptr<models::FaceDetectorNetwork> load_detector(weights::GgufFile file, int threads);

// The network input: the image scaled to fit 128x128 keeping its aspect ratio, centred, black borders.
Tensor letterbox(const Image& image);

}  // namespace animegan::blazeface
