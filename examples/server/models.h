// The models directory: every AnimeGANv2 generator (.gguf) in it, named by its style, and the first face
// detector (for the face pass). Files that are neither are listed with the reason and otherwise ignored.
#pragma once

#include <string>
#include <vector>

namespace server {

struct GeneratorFile {
    std::string id;     // file name without .gguf: what the API's `style` parameter takes
    std::string style;  // the model's own name (general.name), shown on the page
    std::string path;
};

struct ModelDirectory {
    std::vector<GeneratorFile> generators;  // sorted by style name
    std::string detector_path;              // empty when there is none: no face pass
    std::string detector_name;
    std::vector<std::string> skipped;  // "file: reason"
};

// Throws animegan::Error when the directory cannot be read or holds no generator.
ModelDirectory scan_model_directory(const std::string& dir);

}  // namespace server
