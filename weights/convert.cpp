// convert_to_gguf: reads the source once, hashes it, recognizes its format by content, runs the importer.
#include <cstring>

#include "animegan/convert.h"
#include "engine/file_bytes.h"
#include "weights/importers.h"
#include "weights/sha1.h"

namespace animegan {
namespace weights {

std::string base_name(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string file_stem(const std::string& path) {
    const std::string name = base_name(path);
    const size_t dot = name.find_last_of('.');
    return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

namespace {

constexpr size_t kMaxWeightFileBytes = size_t(1) << 31;

bool is_zip(const std::vector<uint8_t>& b) {
    return b.size() >= 4 && std::memcmp(b.data(), "PK\x03\x04", 4) == 0;
}
bool is_tflite(const std::vector<uint8_t>& b) {
    return b.size() >= 8 && std::memcmp(b.data() + 4, "TFL3", 4) == 0;
}

ConvertResult import_tflite(const SourceFile& source, const ConvertOptions& options, GgufWriter& out) {
    const TfliteModel model = parse_tflite(source.bytes.data(), source.bytes.size(), source.path);
    ConvertResult result;
    std::string not_animegan, not_blazeface;
    if (import_tflite_animegan(model, source, options, out, result, not_animegan)) return result;
    if (import_tflite_blazeface(model, source, options, out, result, not_blazeface)) return result;
    throw Error(source.path + ": unknown TFLite graph: not the AnimeGANv2 generator (" + not_animegan +
                ") nor BlazeFace (" + not_blazeface + ")");
}

}  // namespace
}  // namespace weights

ConvertResult convert_to_gguf(const std::string& input_path, const std::string& output_path,
                              const ConvertOptions& options) {
    weights::SourceFile source;
    source.path = input_path;
    source.bytes = read_file_bytes(input_path, weights::kMaxWeightFileBytes);
    source.git_blob_id = weights::git_blob_id(source.bytes.data(), source.bytes.size());
    weights::GgufWriter writer;
    ConvertResult result;
    if (weights::is_zip(source.bytes)) {
        result = weights::import_torch_generator(source, options, writer);
    } else if (weights::is_tflite(source.bytes)) {
        result = weights::import_tflite(source, options, writer);
    } else {
        throw Error(input_path + ": not a PyTorch zip checkpoint (torch.save) nor a TFLite file");
    }
    result.source_hash = source.git_blob_id;
    writer.set_string("general.architecture", result.architecture);
    writer.set_string("general.name", result.style);
    writer.set_string(result.architecture + ".source.file", weights::base_name(input_path));
    writer.set_string(result.architecture + ".source.git_blob_id", source.git_blob_id);
    writer.write(output_path);
    return result;
}

}  // namespace animegan
