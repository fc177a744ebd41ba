// Faces on video. Running the still-photo face pass on every frame makes the face crops jitter: each
// detection's box and keypoints are off by a pixel or two in a new direction every frame, and the face model
// restylizes a slightly different crop. Here each face is a track: detections (every k-th frame) update an
// alpha-beta filter over its box and keypoints, frames in between follow its predicted motion, and the face
// model's output gets a stabilizer of its own per track, like the scene's.
#include "engine/video/face_tracks.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "animegan/video.h"
#include "engine/face/face_blend.h"
#include "engine/face/warp.h"

namespace animegan::video {
namespace {

constexpr int kCoords = 16;  // box x0 y0 x1 y1, then the six keypoints' x y
using State = std::array<float, kCoords>;

// Filter gains: how far a detection moves the track's position (alpha) and velocity (beta). Detections jitter
// by a few percent of the box; halving the step removes most of that and still follows a moving face.
constexpr float kAlpha = 0.5f, kBeta = 0.2f;
constexpr float kMatchIou =
    0.3f;                      // a detection continues the track whose predicted box it overlaps this much
constexpr int kMaxMissed = 2;  // detection rounds a track survives without a detection

State to_state(const FaceDetection& f) {
    State s{f.x0, f.y0, f.x1, f.y1};
    for (int k = 0; k < 6; ++k) s[4 + 2 * k] = f.keypoints[k][0], s[5 + 2 * k] = f.keypoints[k][1];
    return s;
}

FaceDetection to_detection(const State& s, float score) {
    FaceDetection f{};
    f.x0 = s[0], f.y0 = s[1], f.x1 = s[2], f.y1 = s[3];
    f.score = score;
    for (int k = 0; k < 6; ++k) f.keypoints[k][0] = s[4 + 2 * k], f.keypoints[k][1] = s[5 + 2 * k];
    return f;
}

float iou(const State& a, const State& b) {
    const float w = std::min(a[2], b[2]) - std::max(a[0], b[0]),
                h = std::min(a[3], b[3]) - std::max(a[1], b[1]);
    if (w <= 0 || h <= 0) return 0;
    const float inter = w * h;
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

struct Track {
    State position{}, velocity{};  // velocity per frame
    float score = 0;
    int missed = 0;
    int64_t updated_frame = 0;
    std::unique_ptr<TemporalStabilizer> stabilizer;
};

}  // namespace

struct FaceTracks::Impl {
    const FaceDetector& detector;
    const Generator& face_model;
    FacePassOptions options;
    int detect_every;
    bool smooth;
    std::vector<Track> tracks;
    int64_t frame = 0, started = 0;

    Impl(const FaceDetector& d, const Generator& g, const FacePassOptions& o, int k, bool s)
        : detector(d), face_model(g), options(o), detect_every(k), smooth(s) {}

    void update(const std::vector<FaceDetection>& found) {
        std::vector<bool> used(found.size(), false);
        for (Track& t : tracks) {
            int best = -1;
            float best_iou = kMatchIou;
            for (size_t i = 0; i < found.size(); ++i) {
                const float o = used[i] ? 0.f : iou(t.position, to_state(found[i]));
                if (o > best_iou) best_iou = o, best = int(i);
            }
            if (best < 0) {
                ++t.missed;
                continue;
            }
            used[size_t(best)] = true;
            const State z = to_state(found[size_t(best)]);
            const float dt = float(std::max<int64_t>(1, frame - t.updated_frame));
            for (int c = 0; c < kCoords; ++c) {
                const float residual = z[c] - t.position[c];
                t.position[c] += (smooth ? kAlpha : 1.f) * residual;
                t.velocity[c] = smooth ? t.velocity[c] + kBeta * residual / dt : 0.f;
            }
            t.score = found[size_t(best)].score;
            t.missed = 0;
            t.updated_frame = frame;
        }
        tracks.erase(std::remove_if(tracks.begin(), tracks.end(),
                                    [](const Track& t) { return t.missed >= kMaxMissed; }),
                     tracks.end());
        for (size_t i = 0; i < found.size(); ++i) {
            if (used[i]) continue;
            Track t;
            t.position = to_state(found[i]);
            t.score = found[i].score;
            t.updated_frame = frame;
            if (smooth) t.stabilizer = std::make_unique<TemporalStabilizer>();
            tracks.push_back(std::move(t));
            ++started;
        }
    }

    void blend(const Image& input, Image& stylized, Track& t) {
        const FaceDetection face = to_detection(t.position, t.score);
        if (std::min(face.x1 - face.x0, face.y1 - face.y0) < float(options.min_face_px)) return;
        const double extent = options.crop_scale * std::max(face.x1 - face.x0, face.y1 - face.y0);
        const int side = std::clamp(int(std::lround(extent)), kMinSide, 4096);
        const facewarp::Affine crop_to_photo = facewarp::face_crop_transform(face, options.crop_scale, side);
        const Image crop = resize_image(facewarp::warp_crop(input, crop_to_photo, side), options.face_size,
                                        options.face_size);
        RunOptions run;
        if (t.stabilizer) {
            t.stabilizer->begin_frame(crop);
            run.on_norm_statistics = t.stabilizer->statistics_hook();
        }
        Image styled = face_model.stylize(crop, run);
        if (t.stabilizer) t.stabilizer->end_frame(styled);
        faceblend::blend_face(stylized, side == options.face_size ? styled : resize_image(styled, side, side),
                              crop_to_photo);
    }
};

FaceTracks::FaceTracks(const FaceDetector& detector, const Generator& face_model,
                       const FacePassOptions& options, int detect_every, bool smooth)
    : impl_(std::make_unique<Impl>(detector, face_model, options, detect_every, smooth)) {
    if (options.face_size < kMinSide || options.face_size > 4096)
        throw Error("face pass: face_size must be in [" + std::to_string(kMinSide) + ", 4096]");
    if (!(options.crop_scale >= 1.2f && options.crop_scale <= 8.f))
        throw Error("face pass: crop_scale must be in [1.2, 8]");
}
FaceTracks::~FaceTracks() = default;

void FaceTracks::apply(const Image& input, Image& stylized, bool new_scene) {
    Impl& s = *impl_;
    if (new_scene) s.tracks.clear();
    // Between detections a track moves on at its estimated velocity.
    for (Track& t : s.tracks) {
        for (int c = 0; c < kCoords; ++c) t.position[c] += t.velocity[c];
    }
    if (new_scene || s.frame % s.detect_every == 0) s.update(s.detector.detect(input, s.options.detector));
    // Left to right, so overlapping faces blend in the same order every frame.
    std::sort(s.tracks.begin(), s.tracks.end(),
              [](const Track& a, const Track& b) { return a.position[0] < b.position[0]; });
    for (Track& t : s.tracks) s.blend(input, stylized, t);
    ++s.frame;
}

int64_t FaceTracks::tracks_started() const {
    return impl_->started;
}

}  // namespace animegan::video
