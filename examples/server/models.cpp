#include "models.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "animegan/animegan.h"
#include "animegan/face.h"

namespace server {

ModelDirectory scan_model_directory(const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) throw animegan::Error(dir + ": cannot open the models directory: " + std::strerror(errno));
    std::vector<std::string> names;
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name.size() > 5 && name.compare(name.size() - 5, 5, ".gguf") == 0) names.push_back(name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());

    ModelDirectory out;
    for (const std::string& name : names) {
        const std::string path = dir + "/" + name;
        try {
            const animegan::Generator g = animegan::Generator::load(path, 1);
            out.generators.push_back({name.substr(0, name.size() - 5), g.info().style, path});
            continue;
        } catch (const animegan::Error& generator_error) {
            try {
                const animegan::FaceDetector detector = animegan::FaceDetector::load(path, 1);
                if (out.detector_path.empty()) {
                    out.detector_path = path;
                    out.detector_name = detector.name();
                } else {
                    out.skipped.push_back(name + ": a second face detector (using " + out.detector_path +
                                          ")");
                }
            } catch (const animegan::Error&) {
                out.skipped.push_back(name + ": " + generator_error.what());
            }
        }
    }
    if (out.generators.empty())
        throw animegan::Error(dir + ": no AnimeGANv2 generator (.gguf made by animegan-convert) in it");
    std::stable_sort(out.generators.begin(), out.generators.end(),
                     [](const GeneratorFile& a, const GeneratorFile& b) { return a.style < b.style; });
    return out;
}

}  // namespace server
