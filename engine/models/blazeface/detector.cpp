// BlazeFace: loading from GGUF, the forward pass (run_raw, read top to bottom), and MediaPipe's
// post-processing (SSD anchors, box decoding, weighted non-maximum suppression, letterbox removal).
#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "engine/models/blazeface/importers.h"
#include "engine/models/blazeface/layout.h"
#include "engine/runtime/fused_conv.h"
#include "weights/gguf.h"

namespace animegan::blazeface {
namespace {

constexpr float kRelu = 0.f;  // LeakyReLU slope that makes it a ReLU

// In tiles the detector sees enlarged textures and takes some for faces. On the shared photos: foliage,
// signal lamps and a train's front scored up to 0.94 in tiles, real faces 0.97 and more, hence kTileMinScore;
// a shirt collar in a tile of the group photo enlarged to 1280 pixels scored 0.99, but only 0.69 when
// confirmed on a crop of twice its size around it (where a face fills half the input, as the front model
// expects), real faces 0.999 and more: so each face only the tiles found is also confirmed that way.
constexpr float kTileMinScore = 0.95f;
constexpr float kConfirmCrop = 2.f, kConfirmScore = 0.95f, kConfirmIou = 0.3f;

// A convolution with TF SAME padding, bound to weights in the file.
struct Conv {
    const float* weight = nullptr;  // [out, in / groups, kernel, kernel]
    const float* bias = nullptr;    // [out]
    int out = 0, kernel = 1, stride = 1, groups = 1;
};

struct Block {
    Conv depthwise;  // [in, 1, 3, 3], stride 1 or 2
    Conv pointwise;  // [out, in, 1, 1]
    int stride = 1;
};

struct Head {
    Conv classifier;  // [anchors, channels, 1, 1]
    Conv regressor;   // [anchors * 16, channels, 1, 1]
    int block = 0, grid = 0, anchors = 0;
    int first_anchor = 0;  // index of this head's first anchor in the outputs
};

// An SSD anchor centre in [0, 1] input coordinates; MediaPipe's face anchors all have size 1 x 1.
struct Anchor {
    float x, y;
};

// Where the scaled image sits inside the 128x128 input.
struct LetterboxPlacement {
    int left, top, width, height;
};

LetterboxPlacement placement(int width, int height) {
    const double scale = double(kBlazeInputSize) / std::max(width, height);
    const int w = std::clamp(int(std::lround(width * scale)), 1, kBlazeInputSize);
    const int h = std::clamp(int(std::lround(height * scale)), 1, kBlazeInputSize);
    return {(kBlazeInputSize - w) / 2, (kBlazeInputSize - h) / 2, w, h};
}

// Binds the detector's convolutions by their name prefix.
class ConvBinder {
  public:
    ConvBinder(const weights::GgufFile& file, std::vector<std::vector<float>>& converted)
        : binder_(file, converted) {
        for (const weights::TensorSpec& s : tensor_specs()) specs_[s.name] = s;
    }

    Conv conv(const std::string& prefix, int stride = 1, int groups = 1) {
        Conv c;
        const weights::TensorSpec& weight = specs_.at(prefix + ".weight");
        c.weight = binder_.bind(weight);
        c.bias = binder_.bind(specs_.at(prefix + ".bias"));
        c.out = int(weight.shape[0]), c.kernel = int(weight.shape[2]), c.stride = stride, c.groups = groups;
        return c;
    }

    void check_all_bound() const { binder_.check_all_bound(); }

  private:
    weights::TensorBinder binder_;
    std::map<std::string, weights::TensorSpec> specs_;
};

float iou(const FaceDetection& a, const FaceDetection& b) {
    const float w = std::min(a.x1, b.x1) - std::max(a.x0, b.x0),
                h = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
    if (w <= 0.f || h <= 0.f) return 0.f;
    const float inter = w * h;
    const float uni = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter;
    return uni > 0.f ? inter / uni : 0.f;
}

// MediaPipe's WEIGHTED non-maximum suppression: take the best remaining detection, gather it and every
// remaining one overlapping it by more than `threshold`, and replace them by their score-weighted average box
// and keypoints, keeping the best score.
std::vector<FaceDetection> weighted_nms(std::vector<FaceDetection> remaining, float threshold) {
    std::stable_sort(remaining.begin(), remaining.end(),
                     [](const FaceDetection& a, const FaceDetection& b) { return a.score > b.score; });
    std::vector<FaceDetection> kept;
    while (!remaining.empty()) {
        const FaceDetection best = remaining.front();
        FaceDetection sum{};
        float total = 0.f;
        std::vector<FaceDetection> rest;
        for (size_t i = 0; i < remaining.size(); ++i) {
            const FaceDetection& d = remaining[i];
            if (i > 0 && iou(d, best) <= threshold) {
                rest.push_back(d);
                continue;
            }
            total += d.score;
            sum.x0 += d.x0 * d.score, sum.y0 += d.y0 * d.score, sum.x1 += d.x1 * d.score,
                sum.y1 += d.y1 * d.score;
            for (int k = 0; k < kBlazeKeypoints; ++k) {
                sum.keypoints[k][0] += d.keypoints[k][0] * d.score;
                sum.keypoints[k][1] += d.keypoints[k][1] * d.score;
            }
        }
        FaceDetection merged = best;
        merged.x0 = sum.x0 / total, merged.y0 = sum.y0 / total, merged.x1 = sum.x1 / total,
        merged.y1 = sum.y1 / total;
        for (int k = 0; k < kBlazeKeypoints; ++k) {
            merged.keypoints[k][0] = sum.keypoints[k][0] / total;
            merged.keypoints[k][1] = sum.keypoints[k][1] / total;
        }
        kept.push_back(merged);
        remaining.swap(rest);
    }
    return kept;
}

}  // namespace

class Detector : public models::FaceDetectorNetwork {
  public:
    weights::GgufFile file;
    std::vector<std::vector<float>> converted;  // F16 tensors widened to F32
    std::string name_;
    float anchor_offset = 0.5f, box_scale = 128.f, score_clip = 100.f;
    Conv stem;                    // 5x5 stride 2, 3 -> 24
    std::vector<Block> blocks;    // backbone.1 .. backbone.16
    std::vector<Head> heads;      // head16, head8
    std::vector<Anchor> anchors;  // 896, in output order
    std::unique_ptr<ThreadPool> threads_;

    explicit Detector(weights::GgufFile f) : file(std::move(f)) {}

    const std::string& name() const override { return name_; }
    int threads() const override { return threads_->size(); }
    std::vector<FaceDetection> detect(const Image& image, const FaceDetectorOptions& options) const override;
    void run_raw(const Tensor& input, std::vector<float>& regressors,
                 std::vector<float>& classificators) const override {
        forward(input, regressors, classificators);
    }

    void bind_all() {
        ConvBinder binder(file, converted);
        stem = binder.conv("backbone.0.conv", 2);
        for (int i = 0; i < kBlazeBlockCount; ++i) {
            const BlazeBlockSpec& s = kBlazeBlocks[i];
            const std::string prefix = blaze_block_name(i + 1);
            blocks.push_back({binder.conv(prefix + ".depthwise", s.stride, s.in),
                              binder.conv(prefix + ".pointwise"), s.stride});
        }
        int first_anchor = 0;
        for (const BlazeHeadSpec& h : kBlazeHeads) {
            heads.push_back({binder.conv(std::string(h.name) + ".classifier"),
                             binder.conv(std::string(h.name) + ".regressor"), h.block, h.grid, h.anchors,
                             first_anchor});
            first_anchor += h.grid * h.grid * h.anchors;
        }
        binder.check_all_bound();
    }

    // SsdAnchorsCalculator with MediaPipe's face config: one anchor centre per cell and anchor, (y, x,
    // anchor) order, head by head; fixed_anchor_size makes every anchor 1 x 1.
    void make_anchors() {
        for (const Head& h : heads) {
            for (int y = 0; y < h.grid; ++y)
                for (int x = 0; x < h.grid; ++x)
                    for (int a = 0; a < h.anchors; ++a)
                        anchors.push_back({(x + anchor_offset) / h.grid, (y + anchor_offset) / h.grid});
        }
    }

    // The same fused convolution as the generator's, padding with zeros as it gathers rows (TF's SAME). The
    // bias is added after the sum (then the activation, if any), as TensorFlow Lite and Arm NN do: adding it
    // first, as our conv kernels do, rounds differently enough to show in the 1e-4 comparison.
    static Tensor conv(ops::Context& ctx, const Conv& c, const Tensor& x, float negative_slope = 1.f) {
        ops::Activation input;
        input.raw = x;
        Tensor y = ops::conv2d_fused(ctx, input, x.height(), x.width(), kernels::ResizeMode::AlignCorners,
                                     {c.weight, nullptr, c.out, c.kernel, c.stride, c.groups,
                                      ops::tf_same_padding(x.height(), x.width(), c.kernel, c.stride)});
        ops::bias_leaky_relu_in_place(ctx, y, c.bias, negative_slope);
        return y;
    }

    void forward(const Tensor& input, std::vector<float>& regressors,
                 std::vector<float>& classificators) const {
        if (input.channels() != 3 || input.height() != kBlazeInputSize || input.width() != kBlazeInputSize) {
            throw Error("face detector input must be [3, 128, 128], got [" +
                        std::to_string(input.channels()) + ", " + std::to_string(input.height()) + ", " +
                        std::to_string(input.width()) + "]");
        }
        BufferPool buffers;
        ops::Context ctx{*threads_, buffers, kernels::active_kernels()};
        Tensor x = conv(ctx, stem, input, kRelu);         // [24, 64, 64]
        std::vector<Tensor> features(blocks.size() + 1);  // kept only where a head reads them
        for (size_t i = 0; i < blocks.size(); ++i) {
            const Block& b = blocks[i];
            // [28, 64, 64] after block 2, [32..42, 32, 32] after 3..5, [48..88, 16, 16] after 6..11, [96, 8,
            // 8] after 12..16
            Tensor y = conv(ctx, b.pointwise, conv(ctx, b.depthwise, x));
            ops::add_channel_padded_in_place(ctx, y, b.stride == 2 ? ops::max_pool_2x2(ctx, x) : x);
            ops::bias_leaky_relu_in_place(ctx, y, nullptr, kRelu);
            x = y;
            for (const Head& h : heads) {
                if (h.block == int(i) + 1) features[i + 1] = x;
            }
        }
        regressors.assign(size_t(kBlazeAnchorCount) * kBlazeCoords, 0.f);
        classificators.assign(kBlazeAnchorCount, 0.f);
        for (const Head& h : heads) {
            const Tensor& feature = features[h.block];
            scatter(h, conv(ctx, h.classifier, feature), 1, classificators);  // [anchors, grid, grid]
            scatter(h, conv(ctx, h.regressor, feature), kBlazeCoords,
                    regressors);  // [anchors * 16, grid, grid]
        }
    }

    // Our [anchors * values, grid, grid] planes into TF's RESHAPE of the NHWC map: [(y, x, anchor), values].
    static void scatter(const Head& h, const Tensor& map, int values, std::vector<float>& out) {
        const size_t plane = map.plane_size();
        for (size_t cell = 0; cell < plane; ++cell)
            for (int a = 0; a < h.anchors; ++a)
                for (int v = 0; v < values; ++v) {
                    const size_t anchor = h.first_anchor + cell * h.anchors + a;
                    out[anchor * values + v] = map.channel(a * values + v)[cell];
                }
    }

    // Detections in the image's pixels: letterbox, forward pass, decoding, and weighted suppression if
    // `suppress`.
    std::vector<FaceDetection> detect_pixels(const Image& image, const FaceDetectorOptions& options,
                                             bool suppress) const;

    // TensorsToDetectionsCalculator: sigmoid of the clipped logit; box centre, size and keypoints are offsets
    // in input pixels (box_scale) from the anchor centre. Results in [0, 1] input coordinates.
    std::vector<FaceDetection> decode(const std::vector<float>& regressors,
                                      const std::vector<float>& classificators, float min_score) const {
        std::vector<FaceDetection> found;
        for (size_t i = 0; i < anchors.size(); ++i) {
            const float logit = std::clamp(classificators[i], -score_clip, score_clip);
            const float score = 1.f / (1.f + std::exp(-logit));
            if (!(score >= min_score && score > 0.f)) continue;  // 0 only when exp overflows: no face
            const float* r = &regressors[i * kBlazeCoords];
            const Anchor& a = anchors[i];
            const float cx = r[0] / box_scale + a.x, cy = r[1] / box_scale + a.y;
            const float w = r[2] / box_scale, h = r[3] / box_scale;
            if (!(w > 0.f && h > 0.f))
                continue;  // a degenerate box is no detection (MediaPipe drops them too)
            FaceDetection d;
            d.x0 = cx - w / 2, d.y0 = cy - h / 2, d.x1 = cx + w / 2, d.y1 = cy + h / 2;
            d.score = score;
            for (int k = 0; k < kBlazeKeypoints; ++k) {
                d.keypoints[k][0] = r[4 + 2 * k] / box_scale + a.x;
                d.keypoints[k][1] = r[5 + 2 * k] / box_scale + a.y;
            }
            found.push_back(d);
        }
        return found;
    }
};

std::unique_ptr<models::FaceDetectorNetwork> load_detector(weights::GgufFile file, int threads) {
    auto d = std::make_unique<Detector>(std::move(file));
    const weights::GgufFile& f = d->file;
    const std::string& path = f.path();
    const uint32_t size = f.get_u32("blazeface.input_size").value_or(0);
    if (size != uint32_t(kBlazeInputSize)) {
        throw Error(path + ": blazeface.input_size is " + std::to_string(size) +
                    "; only the 128x128 model is supported");
    }
    d->name_ = f.get_string("general.name").value_or("BlazeFace");
    d->anchor_offset = f.get_f32("blazeface.anchor_offset").value_or(0.5f);
    d->box_scale = f.get_f32("blazeface.box_scale").value_or(float(kBlazeInputSize));
    d->score_clip = f.get_f32("blazeface.score_clip").value_or(100.f);
    if (!(d->anchor_offset >= 0.f && d->anchor_offset <= 1.f) || !(d->box_scale > 0.f) ||
        !(d->score_clip > 0.f)) {
        throw Error(path + ": blazeface.anchor_offset, box_scale or score_clip out of range");
    }
    d->bind_all();
    d->make_anchors();
    d->threads_ = std::make_unique<ThreadPool>(threads);
    return d;
}

// Black borders, as MediaPipe's CPU ImageToTensorCalculator pads (BORDER_ZERO on the 8-bit image, then the
// range conversion): they become -1 in the network's [-1, 1].
Tensor letterbox(const Image& image) {
    if (image.width <= 0 || image.height <= 0) throw Error("face detector: empty image");
    const LetterboxPlacement p = placement(image.width, image.height);
    const Tensor scaled = image_to_tensor(
        p.width == image.width && p.height == image.height ? image : resize_image(image, p.width, p.height));
    Tensor input(3, kBlazeInputSize, kBlazeInputSize);
    std::fill(input.data(), input.data() + input.size(), -1.f);
    for (int c = 0; c < 3; ++c)
        for (int y = 0; y < p.height; ++y)
            std::copy_n(scaled.channel(c) + size_t(y) * p.width, p.width,
                        input.channel(c) + size_t(p.top + y) * kBlazeInputSize + p.left);
    return input;
}

namespace {

// Moves detections from one image's pixels into the pixels of a larger one where it sits at (dx, dy).
void shift(std::vector<FaceDetection>& faces, float dx, float dy) {
    for (FaceDetection& f : faces) {
        f.x0 += dx, f.x1 += dx, f.y0 += dy, f.y1 += dy;
        for (auto& k : f.keypoints) k[0] += dx, k[1] += dy;
    }
}

// Starts of n windows of `side` evenly covering [0, length), n the fewest that keep neighbours overlapping by
// at least half a window (a face up to half a window wide then lies wholly inside one of them).
std::vector<int> window_starts(int length, int side) {
    if (length <= side) return {0};
    const int n = (length - side + side / 2 - 1) / (side / 2) + 1;
    std::vector<int> starts(n);
    for (int k = 0; k < n; ++k) starts[k] = int(std::lround(double(k) * (length - side) / (n - 1)));
    return starts;
}

Image sub_image(const Image& image, int x0, int y0, int w, int h) {
    Image out;
    out.width = w, out.height = h;
    out.pixels.resize(size_t(w) * h * 3);
    for (int y = 0; y < h; ++y) {
        std::copy_n(&image.pixels[(size_t(y0 + y) * image.width + x0) * 3], size_t(w) * 3,
                    &out.pixels[size_t(y) * w * 3]);
    }
    return out;
}

}  // namespace

std::vector<FaceDetection> Detector::detect_pixels(const Image& image, const FaceDetectorOptions& options,
                                                   bool suppress) const {
    std::vector<float> regressors, classificators;
    forward(letterbox(image), regressors, classificators);
    std::vector<FaceDetection> faces = decode(regressors, classificators, options.min_score);
    // Suppression runs in the letterboxed input's coordinates, as in MediaPipe's graph; then the letterbox is
    // removed.
    if (suppress) faces = weighted_nms(std::move(faces), options.nms_iou);
    const LetterboxPlacement p = placement(image.width, image.height);
    const float sx = float(image.width) / p.width, sy = float(image.height) / p.height;
    auto to_x = [&](float v) { return (v * kBlazeInputSize - p.left) * sx; };
    auto to_y = [&](float v) { return (v * kBlazeInputSize - p.top) * sy; };
    for (FaceDetection& f : faces) {
        f.x0 = to_x(f.x0), f.x1 = to_x(f.x1), f.y0 = to_y(f.y0), f.y1 = to_y(f.y1);
        for (auto& k : f.keypoints) k[0] = to_x(k[0]), k[1] = to_y(k[1]);
    }
    return faces;
}

std::vector<FaceDetection> Detector::detect(const Image& image, const FaceDetectorOptions& options) const {
    if (options.tile_min_side != 0 && options.tile_min_side < kBlazeInputSize) {
        throw Error("face detector: tile_min_side must be 0 or at least " + std::to_string(kBlazeInputSize) +
                    ", got " + std::to_string(options.tile_min_side));
    }
    const int longer = std::max(image.width, image.height);
    if (options.tile_min_side == 0 || longer < 2 * options.tile_min_side) {
        return detect_pixels(image, options, true);
    }
    // Every pass's detections before suppression, in photo pixels, then one suppression over all of them: a
    // face found by several passes becomes one detection, its box the score-weighted average.
    std::vector<FaceDetection> all = detect_pixels(image, options, false);
    const std::vector<FaceDetection> whole = weighted_nms(all, options.nms_iou);
    FaceDetectorOptions tile_options = options;
    tile_options.min_score = std::max(options.min_score, kTileMinScore);
    for (int side = longer / 2; side >= options.tile_min_side; side /= 2) {
        for (int y0 : window_starts(image.height, side)) {
            for (int x0 : window_starts(image.width, side)) {
                const int w = std::min(side, image.width), h = std::min(side, image.height);
                std::vector<FaceDetection> found =
                    detect_pixels(sub_image(image, x0, y0, w, h), tile_options, false);
                shift(found, float(x0), float(y0));
                // A face cut by a tile edge inside the photo gives a partial box; the neighbouring tile,
                // overlapping by half, holds the whole face (if it is small enough to need this level at
                // all).
                for (const FaceDetection& f : found) {
                    const bool cut = (x0 > 0 && f.x0 < x0) || (y0 > 0 && f.y0 < y0) ||
                                     (x0 + w < image.width && f.x1 > x0 + w) ||
                                     (y0 + h < image.height && f.y1 > y0 + h);
                    if (!cut) all.push_back(f);
                }
            }
        }
    }
    // Faces the whole-photo pass found stay (tiles only add faces); the others must be confirmed.
    std::vector<FaceDetection> confirmed;
    for (const FaceDetection& f : weighted_nms(std::move(all), options.nms_iou)) {
        auto same_face = [&](const FaceDetection& w) { return iou(w, f) > options.nms_iou; };
        if (std::any_of(whole.begin(), whole.end(), same_face)) {
            confirmed.push_back(f);
            continue;
        }
        const float side = kConfirmCrop * std::max(f.x1 - f.x0, f.y1 - f.y0);
        const int x0 = std::max(0, int(std::floor(0.5f * (f.x0 + f.x1 - side))));
        const int y0 = std::max(0, int(std::floor(0.5f * (f.y0 + f.y1 - side))));
        const int x1 = std::min(image.width, int(std::ceil(0.5f * (f.x0 + f.x1 + side))));
        const int y1 = std::min(image.height, int(std::ceil(0.5f * (f.y0 + f.y1 + side))));
        if (x1 - x0 < 1 || y1 - y0 < 1) continue;
        std::vector<FaceDetection> check =
            detect_pixels(sub_image(image, x0, y0, x1 - x0, y1 - y0), options, true);
        shift(check, float(x0), float(y0));
        const bool real = std::any_of(check.begin(), check.end(), [&](const FaceDetection& c) {
            return c.score >= kConfirmScore && iou(c, f) > kConfirmIou;
        });
        if (real) confirmed.push_back(f);
    }
    return confirmed;
}

extern const models::Network kNetwork;
const models::Network kNetwork = {"blazeface", "BlazeFace", import_tflite, nullptr, load_detector};

}  // namespace animegan::blazeface
