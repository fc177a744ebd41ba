// convert_to_gguf: reads the source once, hashes it, tells its format by content, and hands it to each
// registered network's importer in turn until one recognizes it.
#include <cstring>

#include "animegan/convert.h"
#include "engine/models/registry.h"
#include "weights/file_bytes.h"
#include "weights/sha1.h"

namespace animegan {
namespace {

constexpr size_t kMaxWeightFileBytes = size_t(1) << 31;

bool is_zip(const std::vector<uint8_t>& b) {
    return b.size() >= 4 && std::memcmp(b.data(), "PK\x03\x04", 4) == 0;
}
bool is_tflite(const std::vector<uint8_t>& b) {
    return b.size() >= 8 && std::memcmp(b.data() + 4, "TFL3", 4) == 0;
}

// Runs `import` of every network that has one; throws naming what each found amiss when none recognizes it.
template <class Import>
ConvertResult import_with(const std::string& path, const char* format, Import&& import) {
    ConvertResult result;
    std::string mismatches;
    for (const models::Network* n : models::networks()) {
        std::string mismatch;
        bool supported = false;
        if (import(*n, result, mismatch, supported)) return result;
        if (supported) {
            mismatches +=
                std::string(mismatches.empty() ? "" : "; ") + "not " + n->description + " (" + mismatch + ")";
        }
    }
    throw Error(path + ": unknown " + format + ": " + mismatches);
}

}  // namespace

ConvertResult convert_to_gguf(const std::string& input_path, const std::string& output_path,
                              const ConvertOptions& options) {
    models::SourceFile source;
    source.path = input_path;
    source.bytes = read_file_bytes(input_path, kMaxWeightFileBytes);
    source.git_blob_id = weights::git_blob_id(source.bytes.data(), source.bytes.size());
    weights::GgufWriter writer;
    ConvertResult result;
    if (is_zip(source.bytes)) {
        result = import_with(
            input_path, "PyTorch checkpoint file",
            [&](const models::Network& n, ConvertResult& r, std::string& mismatch, bool& supported) {
                supported = n.import_torch != nullptr;
                return supported && n.import_torch(source, options, writer, r, mismatch);
            });
    } else if (is_tflite(source.bytes)) {
        const weights::TfliteModel model =
            weights::parse_tflite(source.bytes.data(), source.bytes.size(), input_path);
        result = import_with(
            input_path, "TFLite file",
            [&](const models::Network& n, ConvertResult& r, std::string& mismatch, bool& supported) {
                supported = n.import_tflite != nullptr;
                return supported && n.import_tflite(model, source, options, writer, r, mismatch);
            });
    } else {
        throw Error(input_path + ": not a PyTorch zip checkpoint (torch.save) nor a TFLite file");
    }
    result.source_hash = source.git_blob_id;
    writer.set_string("general.architecture", result.architecture);
    writer.set_string("general.name", result.style);
    writer.set_string(result.architecture + ".source.file", models::base_name(input_path));
    writer.set_string(result.architecture + ".source.git_blob_id", source.git_blob_id);
    writer.write(output_path);
    return result;
}

ConvertResult convert_to_gguf(const std::vector<std::string>& input_paths, const std::string& output_path,
                              const ConvertOptions& options) {
    if (input_paths.empty()) throw Error("convert: no input file");
    if (input_paths.size() == 1) return convert_to_gguf(input_paths[0], output_path, options);
    std::vector<models::SourceFile> sources(input_paths.size());
    std::string label;
    for (size_t i = 0; i < input_paths.size(); ++i) {
        models::SourceFile& s = sources[i];
        s.path = input_paths[i];
        s.bytes = read_file_bytes(s.path, kMaxWeightFileBytes);
        s.git_blob_id = weights::git_blob_id(s.bytes.data(), s.bytes.size());
        if (!is_tflite(s.bytes)) {
            throw Error(s.path +
                        ": not a TFLite file (only sets of TFLite files, MTCNN's three nets, convert "
                        "together)");
        }
        label += (i ? " + " : "") + s.path;
    }
    std::vector<weights::TfliteModel> models;  // they point into `sources`, complete by now
    for (const models::SourceFile& s : sources)
        models.push_back(weights::parse_tflite(s.bytes.data(), s.bytes.size(), s.path));
    weights::GgufWriter writer;
    ConvertResult result = import_with(
        label, "set of TFLite files",
        [&](const models::Network& n, ConvertResult& r, std::string& mismatch, bool& supported) {
            supported = n.import_tflite_set != nullptr;
            return supported && n.import_tflite_set(sources, models, options, writer, r, mismatch);
        });
    result.source_hash = sources[0].git_blob_id;
    writer.set_string("general.architecture", result.architecture);
    writer.set_string("general.name", result.style);
    writer.write(output_path);
    return result;
}

}  // namespace animegan
