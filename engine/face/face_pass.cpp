// The face pass: scene stylization, face detection, per-face aligned crops stylized at a size that fits each
// face, and Poisson blending of each face back into the stylized scene. Faces are stylized several at a time
// (one single-threaded network pass per thread) and blended in waves of faces whose blend regions do not
// overlap, so the result does not depend on the thread count.
#include "animegan/face_pass.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <string>

#include "engine/face/face_blend.h"
#include "engine/face/warp.h"
#include "engine/runtime/thread_pool.h"

namespace animegan {
namespace {

using facewarp::Affine;
using facewarp::Rect;

// Largest crop cut from the photo: a face filling a huge photo gains nothing from more pixels than this
// before being resized to the side it is stylized at.
constexpr int kMaxCropSide = 4096;

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

void check_options(const FacePassOptions& o) {
    if (o.face_size < kMinSide || o.face_size > 4096) {
        throw Error("face pass: face_size must be in [" + std::to_string(kMinSide) + ", 4096], got " +
                    std::to_string(o.face_size));
    }
    if (o.min_style_side < kMinSide) {
        throw Error("face pass: min_style_side must be at least " + std::to_string(kMinSide));
    }
    if (!(o.style_scale >= 0.25f && o.style_scale <= 8.f))
        throw Error("face pass: style_scale must be in [0.25, 8]");
    if (!(o.crop_scale >= 1.2f && o.crop_scale <= 8.f))
        throw Error("face pass: crop_scale must be in [1.2, 8]");
    if (o.min_face_px < 1) throw Error("face pass: min_face_px must be at least 1");
    if (!(o.style_budget >= 0.f)) throw Error("face pass: style_budget must not be negative");
}

// Pixels of the crop cut from the photo: about the crop's extent in photo pixels, so cutting it is a rotation
// without scaling and every later resize (to the stylized side and back) is done by resize_image's filters.
int crop_side(const FaceDetection& f, float crop_scale) {
    const double extent = crop_scale * facewarp::face_extent(f);
    return std::clamp(int(std::lround(extent)), kMinSide, kMaxCropSide);
}

// The side each face crop is stylized at: style_scale times its side, at least min_style_side, at most
// face_size, while all faces together stay within the budget (their pixels over the photo's); when they do
// not, the scale drops towards 1 (the photo's own resolution), then the minimum side goes; no face is ever
// stylized below its own resolution (a smaller run would only blur it).
std::vector<int> style_sides(const std::vector<int>& crops, const FacePassOptions& o, double photo_pixels) {
    const int largest = o.face_size, smallest = std::min(o.min_style_side, o.face_size);
    auto sides = [&](double scale, int lo) {
        std::vector<int> s;
        for (int c : crops)
            s.push_back(std::clamp(std::max(int(std::lround(scale * c)), std::min(lo, c)), 1, largest));
        return s;
    };
    auto fits = [&](const std::vector<int>& s) {
        double pixels = 0;
        for (int side : s) pixels += double(side) * side;
        return o.style_budget <= 0.f || pixels <= o.style_budget * photo_pixels;
    };
    const double top = std::max(1.f, o.style_scale);
    if (fits(sides(top, smallest))) return sides(top, smallest);
    if (!fits(sides(1.0, smallest))) return sides(1.0, 0);
    double lo = 1.0, hi = top;  // fits at lo, not at hi
    for (int i = 0; i < 20; ++i) {
        const double mid = 0.5 * (lo + hi);
        (fits(sides(mid, smallest)) ? lo : hi) = mid;
    }
    return sides(lo, smallest);
}

bool overlap(const Rect& a, const Rect& b) {
    return a.x0 < b.x0 + b.w && b.x0 < a.x0 + a.w && a.y0 < b.y0 + b.h && b.y0 < a.y0 + a.h;
}

// One face to blend: its crop, the side it is stylized at, and what happened to it.
struct FaceJob {
    int face;  // index into the report's faces
    int side, style_side;
    Affine crop_to_photo;
    Rect region;  // every pixel its blend reads or writes
    Image styled;
    double stylize_ms = 0, blend_ms = 0, seam = 0;
};

}  // namespace

Image stylize_with_faces(const Generator& scene, const Generator* face_model, const FaceDetector& detector,
                         const Image& photo, const FacePassOptions& options, FacePassReport* report) {
    check_options(options);
    FacePassReport local;
    FacePassReport& rep = report ? *report : local;
    rep = FacePassReport();

    auto t = std::chrono::steady_clock::now();
    Image result = scene.stylize(photo, options.run);
    rep.scene_ms = ms_since(t);
    t = std::chrono::steady_clock::now();
    rep.faces = detector.detect(photo, options.detector);
    rep.detect_ms = ms_since(t);

    std::vector<FaceJob> jobs;
    rep.style_side.assign(rep.faces.size(), 0);
    for (size_t i = 0; i < rep.faces.size(); ++i) {
        const FaceDetection& face = rep.faces[i];
        if (std::min(face.x1 - face.x0, face.y1 - face.y0) < float(options.min_face_px)) continue;
        FaceJob job;
        job.face = int(i);
        job.side = crop_side(face, options.crop_scale);
        job.crop_to_photo = facewarp::face_crop_transform(face, options.crop_scale, job.side);
        job.region = facewarp::mask_rect(job.crop_to_photo, job.side, facewarp::feather_sigma(job.side));
        jobs.push_back(std::move(job));
    }
    std::vector<int> crops;
    for (const FaceJob& job : jobs) crops.push_back(job.side);
    const std::vector<int> sides = style_sides(crops, options, double(photo.width) * photo.height);
    for (size_t k = 0; k < jobs.size(); ++k) {
        jobs[k].style_side = sides[k];
        rep.style_side[size_t(jobs[k].face)] = sides[k];
    }

    // Stylize: with at least as many faces as threads, each face runs single-threaded and the faces are
    // spread over the threads, largest first (network threads scale worse, most of all on small crops);
    // fewer faces run one after another on all threads.
    const Generator& face_generator = face_model ? *face_model : scene;
    ThreadPool pool(face_generator.threads());
    const bool one_per_thread = pool.size() > 1 && jobs.size() >= size_t(pool.size());
    std::vector<size_t> largest_first(jobs.size());
    std::iota(largest_first.begin(), largest_first.end(), size_t(0));
    std::stable_sort(largest_first.begin(), largest_first.end(),
                     [&](size_t a, size_t b) { return jobs[a].style_side > jobs[b].style_side; });
    RunOptions run;
    run.calling_thread_only = one_per_thread;
    auto stylize = [&](size_t k) {
        FaceJob& job = jobs[largest_first[k]];
        const auto start = std::chrono::steady_clock::now();
        const Image crop = facewarp::warp_crop(photo, job.crop_to_photo, job.side);
        const Image styled = face_generator.stylize(
            job.style_side == job.side ? crop : resize_image(crop, job.style_side, job.style_side), run);
        job.styled = job.style_side == job.side ? styled : resize_image(styled, job.side, job.side);
        job.stylize_ms = ms_since(start);
    };
    t = std::chrono::steady_clock::now();
    if (one_per_thread) {
        parallel_tasks_rethrowing(pool, jobs.size(), [&](int, size_t k) { stylize(k); });
    } else {
        for (size_t k = 0; k < jobs.size(); ++k) stylize(k);
    }
    rep.stylize_faces_ms = ms_since(t);

    // Blend, best face first: each face waits for every earlier face whose region overlaps its own (it must
    // see them as its surroundings); faces of one wave touch disjoint pixels and blend at the same time.
    t = std::chrono::steady_clock::now();
    std::vector<int> wave(jobs.size(), 0);
    for (size_t k = 0; k < jobs.size(); ++k) {
        for (size_t j = 0; j < k; ++j) {
            if (overlap(jobs[j].region, jobs[k].region)) wave[k] = std::max(wave[k], wave[j] + 1);
        }
    }
    const int waves = jobs.empty() ? 0 : *std::max_element(wave.begin(), wave.end()) + 1;
    for (int w = 0; w < waves; ++w) {
        std::vector<size_t> members;
        for (size_t k = 0; k < jobs.size(); ++k) {
            if (wave[k] == w) members.push_back(k);
        }
        parallel_tasks_rethrowing(pool, members.size(), [&](int, size_t m) {
            FaceJob& job = jobs[members[m]];
            const auto start = std::chrono::steady_clock::now();
            job.seam = faceblend::blend_face(result, job.styled, job.crop_to_photo);
            job.blend_ms = ms_since(start);
        });
    }
    rep.blend_ms = ms_since(t);

    for (const FaceJob& job : jobs) {
        rep.blended.push_back(job.face);
        rep.face_stylize_ms.push_back(job.stylize_ms);
        rep.face_blend_ms.push_back(job.blend_ms);
        rep.seam_metric.push_back(job.seam);
    }
    return result;
}

}  // namespace animegan
