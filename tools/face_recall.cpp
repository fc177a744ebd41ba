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

namespace {

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

struct Face {
    float x, y, side;  // centre and side of the face's square
};

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

std::map<std::string, std::vector<Face>> read_truth(const std::string& path) {
    std::ifstream in(path);
    if (!in) fail("cannot read " + path);
    std::map<std::string, std::vector<Face>> truth;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        std::string image, x;
        fields >> image >> x;
        std::vector<Face>& faces = truth[image];
        if (x == "none") continue;
        Face f{};
        f.x = std::stof(x);
        if (!(fields >> f.y >> f.side)) fail(path + ": bad line '" + line + "'");
        faces.push_back(f);
    }
    return truth;
}

// Found faces matched one to one with the true ones, best score first: a detection whose centre lies within
// half a true face's side of its centre, its size within a factor of 2, is that face. Only the first
// `counted` true faces count as found or missed (a composite's pasted ones, not its scene's own); finding
// the others is no false positive either. `report` prints each false positive and the lowest-scoring face.
struct Count {
    int found = 0, total = 0, false_positives = 0;
    void operator+=(const Count& o) {
        found += o.found, total += o.total, false_positives += o.false_positives;
    }
};

Count match(std::vector<animegan::FaceDetection> detections, const std::vector<Face>& truth, size_t counted,
            const std::string& report) {
    std::sort(detections.begin(), detections.end(),
              [](const auto& a, const auto& b) { return a.score > b.score; });
    std::vector<bool> taken(truth.size(), false);
    Count c;
    c.total = int(counted);
    float lowest = 2.f;
    for (const animegan::FaceDetection& d : detections) {
        const float cx = 0.5f * (d.x0 + d.x1), cy = 0.5f * (d.y0 + d.y1),
                    side = std::max(d.x1 - d.x0, d.y1 - d.y0);
        int best = -1;
        float best_distance = 0;
        for (size_t i = 0; i < truth.size(); ++i) {
            const Face& t = truth[i];
            const float distance = std::hypot(cx - t.x, cy - t.y);
            if (taken[i] || distance >= 0.5f * t.side || side < 0.5f * t.side || side > 2.f * t.side)
                continue;
            if (best < 0 || distance < best_distance) best = int(i), best_distance = distance;
        }
        if (best < 0) {
            ++c.false_positives;
            if (!report.empty()) {
                std::fprintf(stderr, "  %s: false positive, score %.4f, box %.0f %.0f %.0f %.0f\n",
                             report.c_str(), d.score, d.x0, d.y0, d.x1, d.y1);
            }
        } else {
            taken[size_t(best)] = true;
            if (size_t(best) < counted) ++c.found, lowest = std::min(lowest, d.score);
        }
    }
    if (!report.empty() && c.found)
        std::fprintf(stderr, "  %s: lowest-scoring face %.4f\n", report.c_str(), lowest);
    return c;
}

// The portraits pasted into a scene on a 4 x 2 grid, scaled so that their faces are `side` pixels, each
// face centred in its cell; the pasted faces' positions go to `faces`.
animegan::Image composite(const animegan::Image& scene, const std::vector<animegan::Image>& portraits,
                          const std::vector<Face>& portrait_faces, int side, std::vector<Face>& faces) {
    animegan::Image out = scene;
    faces.clear();
    for (size_t i = 0; i < portraits.size(); ++i) {
        const double scale = side / portrait_faces[i].side;
        const animegan::Image small =
            animegan::resize_image(portraits[i], std::max(1, int(std::lround(portraits[i].width * scale))),
                                   std::max(1, int(std::lround(portraits[i].height * scale))));
        const float cx = (float(i % 4) + 0.5f) * scene.width / 4,
                    cy = (float(i / 4) + 0.5f) * scene.height / 2;
        const int x0 = int(std::lround(cx - portrait_faces[i].x * scale));
        const int y0 = int(std::lround(cy - portrait_faces[i].y * scale));
        for (int y = std::max(0, -y0); y < small.height && y0 + y < out.height; ++y)
            for (int x = std::max(0, -x0); x < small.width && x0 + x < out.width; ++x)
                std::copy_n(&small.pixels[(size_t(y) * small.width + x) * 3], 3,
                            &out.pixels[(size_t(y0 + y) * out.width + x0 + x) * 3]);
        faces.push_back({cx, cy, float(side)});
    }
    return out;
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
