// MTCNN's entry points for the registry: the importers of its three TFLite nets and the detector loader.
#pragma once

#include <vector>

#include "engine/models/mtcnn/layout.h"
#include "engine/models/registry.h"

namespace animegan::mtcnn {

// Recognizes one MTCNN net in a TFLite graph (which one by its input: 24x24 R-Net, 48x48 O-Net, else P-Net),
// following its data flow: convolutions, PReLU spelled out as RELU / NEG / RELU / NEG / MUL / ADD, max pools,
// fully connected layers, and the softmax spelled out as REDUCE_MAX / SUB / EXP / SUM / DIV. On success fills
// `tensors` (our names and layouts) and `kind`; otherwise returns false with the first difference.
bool recognize_net(const weights::TfliteModel& model, NetKind& kind, models::TensorMap& tensors,
                   std::string& mismatch);

// One file: false for anything but an MTCNN net; an Error for one of its nets, which convert together.
bool import_tflite(const weights::TfliteModel& model, const models::SourceFile& source,
                   const ConvertOptions& options, weights::GgufWriter& out, ConvertResult& result,
                   std::string& mismatch);

// The three nets, any order, into one GGUF; false when a file is not one of them, an Error when a net is
// given twice or missing.
bool import_tflite_set(const std::vector<models::SourceFile>& sources,
                       const std::vector<weights::TfliteModel>& models, const ConvertOptions& options,
                       weights::GgufWriter& out, ConvertResult& result, std::string& mismatch);

std::unique_ptr<models::FaceDetectorNetwork> load_detector(weights::GgufFile file, int threads);

}  // namespace animegan::mtcnn
