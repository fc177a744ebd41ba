// Ground truth for face detection on the photos of ../shared: reading the hand annotations
// (tests/data/shared_faces.txt), matching detections to them, and composites with faces of a chosen size.
// Shared by tools/face_recall.cpp and the face tests; public API only.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "animegan/animegan.h"
#include "animegan/face.h"

namespace animegan::face_truth {

struct Face {
    float x, y, side;  // centre and side of the face's square
};

// Faces by image file name; images without faces map to an empty list. Throws Error for a bad file.
inline std::map<std::string, std::vector<Face>> read_truth(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error("cannot read " + path);
    std::map<std::string, std::vector<Face>> truth;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        std::string image, x;
        fields >> image >> x;
        std::vector<Face>& faces = truth[image];
        if (x == "none") continue;
        Face f{};
        if (!(std::istringstream(x) >> f.x) || !(fields >> f.y >> f.side))
            throw Error(path + ": bad line '" + line + "'");
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

inline Count match(std::vector<animegan::FaceDetection> detections, const std::vector<Face>& truth,
                   size_t counted, const std::string& report) {
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
inline animegan::Image composite(const animegan::Image& scene, const std::vector<animegan::Image>& portraits,
                                 const std::vector<Face>& portrait_faces, int side,
                                 std::vector<Face>& faces) {
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

}  // namespace animegan::face_truth
