// Placeholder until the animegan TFLite importer lands.
#include "weights/importers.h"

namespace animegan::weights {

bool import_tflite_animegan(const TfliteModel&, const SourceFile&, const ConvertOptions&, GgufWriter&, ConvertResult&,
                      std::string& mismatch) {
    mismatch = "importer not implemented yet";
    return false;
}

}  // namespace animegan::weights
