// Public API of the AnimeGANv2 engine: load a converted model (GGUF), stylize images.
//
//   animegan::Generator gen = animegan::Generator::load("hayao.gguf");
//   animegan::Image photo = animegan::load_image("photo.jpg");
//   animegan::save_image("anime.png", gen.stylize(photo));
//
// Every failure throws animegan::Error with a one-line reason.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "animegan/error.h"
#include "animegan/tensor.h"

namespace animegan {

// 8-bit RGB, interleaved, rows top to bottom.
struct Image {
    int width = 0, height = 0;
    std::vector<uint8_t> pixels;  // width * height * 3
};

// Largest image load_image accepts; it checks the header before decoding, so a hostile header cannot make it
// allocate. 100 megapixels is well past any camera photo.
constexpr int64_t kMaxImagePixels = 100'000'000;

// Reads JPEG, PNG and BMP files. Files from strangers are fine: the structure is checked before decoding, and
// anything malformed, truncated or in another format throws Error (see engine/image/image_check.cpp).
Image load_image(const std::string& path);
// The size from the file's header, without decoding the pixels (the same checks of the header as load_image):
// lets a caller check a run before paying for the decode.
struct ImageSize {
    int width = 0, height = 0;
    size_t file_bytes = 0;
};
ImageSize read_image_size(const std::string& path);
// The same from bytes in memory (an upload), with the same checks and limits; `label` names the source in
// error messages.
Image decode_image(const uint8_t* data, size_t size, const std::string& label = "image");
// Encodes to "png" or "jpeg" in memory (jpeg_quality 1..100); throws Error for any other format.
std::vector<uint8_t> encode_image(const Image& image, const std::string& format, int jpeg_quality = 92);
void save_image(const std::string& path, const Image& image);  // .png, .jpg/.jpeg or .bmp, by extension
// Throws Error unless save_image(path, ...) can write there: a known extension, an existing directory where
// files can be created (checked by creating and removing a probe file), and not a directory itself. For
// checking an output path before a long run.
void check_output_path(const std::string& path);
Image resize_image(const Image& image, int width, int height);  // bilinear, for downscaling large photos
Image side_by_side(const Image& left, const Image& right);      // right scaled to left's height

// How the decoder upsamples between blocks; fixed by the weights (the port and TF releases differ).
enum class Upsample { AlignCorners, HalfPixel, TfLegacy };
const char* upsample_name(Upsample mode);  // "align_corners", "half_pixel", "tf_legacy"

struct ModelInfo {
    std::string style;        // human name, e.g. "Face Paint v2"
    std::string source_file;  // file the weights were converted from
    std::string source_hash;  // its git blob id
    Upsample upsample = Upsample::AlignCorners;
    float norm_eps = 1e-5f;
    int norm_groups = 1;           // 0 = one group per channel (instance norm)
    bool style_attention = false;  // channel-attention blocks after blocks C and D
};

// Called at each normalization layer, in execution order (norm_index 0, 1, ...), with the per-group mean and
// variance of its input that the pass measured over the whole image; it may replace them before they are
// applied. Lets a caller smooth the statistics over video frames, or run with statistics gathered elsewhere.
using NormStatisticsHook =
    std::function<void(int norm_index, std::vector<double>& mean, std::vector<double>& variance)>;

struct RunOptions {
    // Called after each stage with its name and duration, for progress display.
    std::function<void(const std::string& stage, double milliseconds)> on_stage;
    NormStatisticsHook on_norm_statistics;
    // Run on the calling thread alone instead of the generator's threads. Such calls may run at the same time
    // from several threads on one generator (the face pass stylizes several faces at once this way).
    bool calling_thread_only = false;
    // The memory a run may hold, in bytes, counting everything: the input and output images (or tensors),
    // activations, scratch, the loaded weights and the process's own baseline. The whole image runs at once
    // when that fits (the fastest way), else it streams in bands of rows, whose memory grows with the width
    // only. 0: default_memory_limit(); more than the machine's (or its container's) memory counts as that.
    size_t memory_limit = 0;
    // When streaming, estimate the norm statistics from a first pass over samples of the photo, then make the
    // output in one streaming pass, instead of measuring them exactly with a pass per norm layer (several
    // times slower). README.md gives the error. No effect when the whole image fits.
    bool fast = false;
    // Fast mode: how many small crops of the photo the statistics are measured on (0: 256). More is closer to
    // exact and costs more; on a photo they would cover more than half of, the statistics are measured
    // exactly.
    int fast_samples = 0;
    // Called from the calling thread as the run progresses, with the fraction of its work done (0 to 1).
    std::function<void(double fraction)> on_progress;
};

// How a run of a given size goes under given options: Generator::plan.
struct RunPlan {
    enum class Mode { FullFrame, StreamingExact, StreamingFast };
    Mode mode = Mode::FullFrame;
    size_t limit_bytes = 0;    // the memory limit in force
    size_t peak_bytes = 0;     // what the run is expected to hold at most, everything counted
    size_t minimum_bytes = 0;  // the smallest limit with which an image of this size runs at all
    size_t base_bytes = 0;     // of those, held whatever the size: the loaded model and the process itself
    int passes = 1;            // over the image: 1 for the full frame, one per norm layer and more for exact
    double relative_cost = 1;  // estimated work over that of one pass
    int band_rows = 0;         // streaming: output rows per band
    std::vector<std::string> sweeps;  // streaming: what each pass computes, from where, what it keeps
};
const char* mode_name(RunPlan::Mode mode);  // "full frame", "streaming (exact)", "streaming (fast)"

// Half the machine's memory, or half the container's limit (cgroup memory.max) when lower: leaves the other
// half to the system and other programs, and runs the whole image at once (fastest) whenever it fits there.
size_t default_memory_limit();

// Smallest input side the generator accepts; the largest image is the loader's kMaxImagePixels.
constexpr int kMinSide = 8;
constexpr int64_t kMaxInputPixels = kMaxImagePixels;

class Generator {
  public:
    // Memory-maps the GGUF file and checks that every tensor the architecture needs is present with its exact
    // shape. threads <= 0 uses every hardware thread.
    static Generator load(const std::string& gguf_path, int threads = 0);
    Generator(Generator&&) noexcept;
    Generator& operator=(Generator&&) noexcept;
    ~Generator();

    const ModelInfo& info() const;
    void set_threads(int threads);
    int threads() const;

    // Photo in, stylized photo of the same size out. Within options.memory_limit: throws Error at once,
    // before allocating, when even streaming needs more (the message gives the limit that would do).
    Image stylize(const Image& photo, const RunOptions& options = {}) const;

    // The network itself: input [3, H, W] in [-1, 1], output [3, H, W] in [-1, 1]. The same memory rule.
    Tensor forward(const Tensor& input, const RunOptions& options = {}) const;

    // How stylize (tensor: forward) would run a width x height image; throws Error like them when no way
    // fits the limit.
    RunPlan plan(int width, int height, const RunOptions& options = {}, bool tensor = false) const;

    // Peak bytes of activation buffers held during the last forward pass.
    size_t last_peak_activation_bytes() const;

  private:
    struct Impl;
    explicit Generator(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Instruction set of the kernels in use ("scalar", "avx2", "neon"): the best this CPU runs, or the one named
// by the ANIMEGAN_ISA environment variable.
const char* kernels_isa();

Tensor image_to_tensor(const Image& image);   // [3, H, W] in [-1, 1]
Image tensor_to_image(const Tensor& tensor);  // clamps to [0, 255]

}  // namespace animegan
