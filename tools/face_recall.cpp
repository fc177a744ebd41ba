// animegan-face-recall: how many faces each face detector finds, and how many things it takes for faces, on
// the photos of ../shared (hand-annotated in tests/data/shared_faces.txt) and on composites: the portraits
// scaled so that their faces are 12, 16, 20, 24, 32 and 48 pixels, pasted into the scene photos (which hold
// no face). Prints one Markdown table row per detector configuration.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "animegan/animegan.h"
#include "animegan/face.h"
#include "face_truth.h"

namespace {

using namespace animegan::face_truth;

const char* kUsage =
    "usage: animegan-face-recall --detector LABEL=FILE[,tiles=N][,min_face=N][,min_score=S] ... [options]\n"
    "\n"
    "options:\n"
    "  --images DIR      the shared photos (default ../shared/images)\n"
    "  --truth FILE      the annotated faces (default tests/data/shared_faces.txt)\n"
    "  --sizes LIST      face sizes of the composites in pixels (default 12,16,20,24,32,48)\n"
    "  --out DIR         also write the composites there, to look at\n"
    "  --threads N       detector threads (default: all cores)\n"
    "  -v, --verbose     list every false positive and each image's lowest-scoring face\n";

[[noreturn]] void fail(const std::string& message) {
    std::fprintf(stderr, "animegan-face-recall: %s\n", message.c_str());
    std::exit(1);
}

struct Config {
    std::string label, path;
    animegan::FaceDetectorOptions options;
};

Config parse_config(const std::string& text) {
    Config c;
    const size_t eq = text.find('=');
    if (eq == std::string::npos) fail("--detector needs LABEL=FILE, got '" + text + "'");
    c.label = text.substr(0, eq);
    std::stringstream rest(text.substr(eq + 1));
    std::getline(rest, c.path, ',');
    for (std::string option; std::getline(rest, option, ',');) {
        const size_t e = option.find('=');
        const std::string key = option.substr(0, e),
                          value = e == std::string::npos ? "" : option.substr(e + 1);
        if (key == "tiles")
            c.options.tile_min_side = std::atoi(value.c_str());
        else if (key == "min_face")
            c.options.min_face_size = std::atoi(value.c_str());
        else if (key == "min_score")
            c.options.min_score = float(std::atof(value.c_str()));
        else
            fail("unknown detector option '" + key + "' (tiles, min_face, min_score)");
    }
    return c;
}

std::string cell(const Count& c) {
    std::string s = std::to_string(c.found) + "/" + std::to_string(c.total);
    if (c.false_positives) s += ", " + std::to_string(c.false_positives) + " FP";
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    std::string images = "../shared/images", truth_path = "tests/data/shared_faces.txt", out_dir;
    std::vector<int> sizes = {12, 16, 20, 24, 32, 48};
    std::vector<Config> configs;
    int threads = 0;
    bool verbose = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) fail(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "-h" || arg == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (arg == "-v" || arg == "--verbose") {
            verbose = true;
        } else if (arg == "--detector") {
            configs.push_back(parse_config(value()));
        } else if (arg == "--images") {
            images = value();
        } else if (arg == "--truth") {
            truth_path = value();
        } else if (arg == "--out") {
            out_dir = value();
        } else if (arg == "--threads") {
            threads = std::atoi(value().c_str());
        } else if (arg == "--sizes") {
            sizes.clear();
            std::stringstream list(value());
            for (std::string s; std::getline(list, s, ',');) sizes.push_back(std::atoi(s.c_str()));
        } else {
            fail("unknown argument '" + arg + "' (see --help)");
        }
    }
    if (configs.empty()) fail("no --detector given (see --help)");
    try {
        const std::map<std::string, std::vector<Face>> truth = read_truth(truth_path);
        std::map<std::string, animegan::Image> photos;
        for (const auto& [name, faces] : truth) photos[name] = animegan::load_image(images + "/" + name);
        std::vector<animegan::Image> portraits;
        std::vector<Face> portrait_faces;
        std::vector<std::string> scenes;
        for (const auto& [name, faces] : truth) {
            if (name.rfind("portrait_", 0) == 0 && faces.size() == 1) {
                portraits.push_back(photos[name]);
                portrait_faces.push_back(faces[0]);
            }
            if (name.rfind("scene_", 0) == 0) scenes.push_back(name);
        }
        // Composites: [size][scene], with their true faces.
        std::vector<std::vector<animegan::Image>> composites(sizes.size());
        std::vector<std::vector<std::vector<Face>>> composite_faces(sizes.size());
        for (size_t s = 0; s < sizes.size(); ++s) {
            for (const std::string& scene : scenes) {
                composite_faces[s].emplace_back();
                composites[s].push_back(
                    composite(photos[scene], portraits, portrait_faces, sizes[s], composite_faces[s].back()));
                const std::vector<Face>& own = truth.at(scene);  // after the pasted ones: not counted
                composite_faces[s].back().insert(composite_faces[s].back().end(), own.begin(), own.end());
                if (!out_dir.empty()) {
                    animegan::save_image(out_dir + "/" + scene.substr(0, scene.find('.')) + "_faces" +
                                             std::to_string(sizes[s]) + ".jpg",
                                         composites[s].back());
                }
            }
        }

        std::printf("| detector | crowd_party | group_three | portraits | scene_car + scene_station |");
        for (int s : sizes) std::printf(" %d px |", s);
        std::printf(" smallest found in 15/16 | crowd_party detect ms |\n|---|---|---|---|---|");
        for (size_t s = 0; s < sizes.size(); ++s) std::printf("---|");
        std::printf("---|---|\n");
        for (const Config& c : configs) {
            const animegan::FaceDetector detector = animegan::FaceDetector::load(c.path, threads);
            auto run = [&](const animegan::Image& image, const std::vector<Face>& faces,
                           const std::string& name, size_t counted) {
                return match(detector.detect(image, c.options), faces, counted,
                             verbose ? c.label + ", " + name : std::string());
            };
            Count crowd, group, portrait_count, scene_count;
            const auto start = std::chrono::steady_clock::now();
            crowd = run(photos["crowd_party.jpg"], truth.at("crowd_party.jpg"), "crowd_party.jpg",
                        truth.at("crowd_party.jpg").size());
            const double crowd_ms =
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
            group = run(photos["group_three.jpg"], truth.at("group_three.jpg"), "group_three.jpg",
                        truth.at("group_three.jpg").size());
            for (const auto& [name, faces] : truth) {
                if (name.rfind("portrait_", 0) == 0) portrait_count += run(photos[name], faces, name, 1);
                if (name.rfind("scene_", 0) == 0) scene_count += run(photos[name], faces, name, faces.size());
            }
            std::printf("| %s | %s | %s | %s | %s |", c.label.c_str(), cell(crowd).c_str(),
                        cell(group).c_str(), cell(portrait_count).c_str(), cell(scene_count).c_str());
            int smallest = 0;
            for (size_t s = 0; s < sizes.size(); ++s) {
                Count total;
                for (size_t k = 0; k < composites[s].size(); ++k) {
                    total +=
                        run(composites[s][k], composite_faces[s][k],
                            scenes[k] + " + faces of " + std::to_string(sizes[s]) + " px", portraits.size());
                }
                std::printf(" %s |", cell(total).c_str());
                // Reliably: all but one of the faces at this size and every larger one.
                if (total.found + 1 >= total.total) {
                    if (!smallest) smallest = sizes[s];
                } else {
                    smallest = 0;
                }
            }
            std::printf(" %s | %.0f |\n", smallest ? (std::to_string(smallest) + " px").c_str() : "-",
                        crowd_ms);
            std::fflush(stdout);
        }
    } catch (const std::exception& e) {
        fail(e.what());
    }
    return 0;
}
