// What each network folder (engine/models/<network>/) offers the rest of the engine, and the one list of them
// (registry.cpp). The converter asks every network in turn whether it recognizes a source file; the face
// detector loader picks the network named by a GGUF's general.architecture. A new network is a new folder
// that defines its Network, plus its line in registry.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "animegan/convert.h"
#include "animegan/face.h"
#include "weights/gguf.h"
#include "weights/tflite_reader.h"

namespace animegan::models {

// A source file being converted, read once.
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

// An importer recognizes its network in a parsed source file. It returns false, saying in `mismatch` what did
// not match, when the file holds another network; once it has recognized the file, any problem is an Error.
// On success it has written the tensors and the network's metadata to `out` and filled `result`.
using TfliteImporter = bool (*)(const weights::TfliteModel& model, const SourceFile& source,
                                const ConvertOptions& options, weights::GgufWriter& out,
                                ConvertResult& result, std::string& mismatch);
using TorchImporter = bool (*)(const SourceFile& source, const ConvertOptions& options,
                               weights::GgufWriter& out, ConvertResult& result, std::string& mismatch);

// One face-detection network behind animegan::FaceDetector.
class FaceDetectorNetwork {
  public:
    virtual ~FaceDetectorNetwork() = default;
    virtual const std::string& name() const = 0;
    virtual int threads() const = 0;
    virtual std::vector<FaceDetection> detect(const Image& image,
                                              const FaceDetectorOptions& options) const = 0;
    // The network's raw outputs for one input, as FaceDetector::run_raw documents them.
    virtual void run_raw(const Tensor& input, std::vector<float>& regressors,
                         std::vector<float>& classificators) const = 0;
};
using FaceDetectorLoader = std::unique_ptr<FaceDetectorNetwork> (*)(weights::GgufFile file, int threads);

// A network released as several TFLite files (MTCNN's three nets): recognizes the set, like TfliteImporter;
// models[i] is sources[i] parsed.
using TfliteSetImporter = bool (*)(const std::vector<SourceFile>& sources,
                                   const std::vector<weights::TfliteModel>& models,
                                   const ConvertOptions& options, weights::GgufWriter& out,
                                   ConvertResult& result, std::string& mismatch);

struct Network {
    const char* architecture;  // general.architecture of its GGUF files
    const char* description;   // for messages, e.g. "the AnimeGANv2 generator"
    TfliteImporter import_tflite = nullptr;
    TorchImporter import_torch = nullptr;
    FaceDetectorLoader load_face_detector = nullptr;  // set for face detectors
    TfliteSetImporter import_tflite_set = nullptr;    // set for networks released as several files
};

// Every network the engine knows, in the order the converter tries them.
const std::vector<const Network*>& networks();

// "photo.jpg" from "dir/photo.jpg", and "photo" from either.
std::string base_name(const std::string& path);
std::string file_stem(const std::string& path);

}  // namespace animegan::models
