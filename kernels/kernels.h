// The kernel interface: every compute routine the engine calls, gathered in one dispatch table that is
// filled once at start-up for the best instruction set the CPU (and OS) supports.
//
// Kernels work on float32 planes in [C, H, W] order and on a range of channels (or elements), so the engine
// can split the work across threads; each output element is written by exactly one call, which keeps results
// identical for any thread count. Kernels never allocate and never throw: the engine checks shapes first.
#pragma once

#include <cstddef>
#include <cstdint>

namespace animegan::kernels {

// A convolution over an input that is already padded: out_h = (in_h - kernel_h) / stride + 1.
struct ConvShape {
    int in_channels, in_height, in_width;
    int out_channels, out_height, out_width;
    int kernel_h, kernel_w, stride, groups;
    // Floats between consecutive output channels; 0 means dense planes (out_height * out_width). A larger
    // stride lets a band of output rows be written straight into its place in the full output tensor.
    size_t out_plane_stride = 0;
    // The same for the input: a larger stride lets a few rows of a gathered band be convolved on their own.
    size_t in_plane_stride = 0;

    size_t out_plane() const { return out_plane_stride ? out_plane_stride : size_t(out_height) * out_width; }
    size_t in_plane() const { return in_plane_stride ? in_plane_stride : size_t(in_height) * in_width; }
};

enum class PadMode : uint8_t { Reflect, Zero, Replicate };

struct PadShape {
    int height, width;             // input plane
    int top, bottom, left, right;  // output is (height + top + bottom) x (width + left + right)
    PadMode mode;
};

enum class ResizeMode : uint8_t {
    AlignCorners,  // src = dst * (in - 1) / (out - 1)
    HalfPixel,     // src = (dst + 0.5) * in / out - 0.5, clamped at 0 (PyTorch align_corners=False)
    TfLegacy,  // src = dst * in / out (TF1 resize_bilinear, align_corners=False, half_pixel_centers=False)
};

struct ResizeShape {
    int in_height, in_width, out_height, out_width;
    ResizeMode mode;
};

// Max pooling of kernel x kernel windows at `stride`: the window of output (oy, ox) starts at input row
// oy * stride and column ox * stride; windows cut by the bottom or right edge keep the taps inside (TF SAME
// pooling where the padding falls after the plane, as for every stride-2 pool of MTCNN; with
// out = (in - kernel) / stride + 1 it is VALID).
struct PoolShape {
    int in_height, in_width, out_height, out_width;
    int kernel, stride;
};

// One function per slot. Each SIMD table starts as a copy of the scalar one and replaces the slots it has a
// variant for (by name, in its source file), so a slot it leaves alone runs the scalar loops.
struct KernelTable {
    const char* isa;  // "scalar", "avx2", "neon"

    // output[oc] = bias[oc] (or 0) + sum over the group's input channels and taps, for oc in [oc_begin,
    // oc_end). weight is [out_channels, in_channels / groups, kernel_h, kernel_w]; bias may be null. The SIMD
    // tables run square odd kernels up to 7x7 at stride 1 or 2, and 2x2 at stride 1 (MTCNN), as a
    // register-blocked direct convolution (kernels/direct_conv.h); any other shape goes to the scalar loops.
    void (*conv2d)(const ConvShape& shape, const float* input, const float* weight, const float* bias,
                   float* output, int oc_begin, int oc_end);

    // Per-channel sum and sum of squares in double (exact enough to make variance from), channels
    // [c_begin, c_end) of planes of plane_size elements.
    void (*channel_moments)(const float* x, size_t plane_size, int c_begin, int c_end, double* sum,
                            double* sum_squares);

    // out = in * scale[c] + shift[c], then LeakyReLU with `negative_slope` (1 means identity); out may be in.
    // Serves the norm's affine step (fused with its activation, also while gathering a conv's input rows) and
    // channel attention's rescale.
    void (*scale_shift_leaky_relu)(const float* in, float* out, size_t plane_size, const float* scale,
                                   const float* shift, float negative_slope, int c_begin, int c_end);

    void (*pad)(const PadShape& shape, const float* input, float* output, int c_begin, int c_end);

    void (*resize_bilinear)(const ResizeShape& shape, const float* input, float* output, int c_begin,
                            int c_end);

    // out[i] = a[i] + b[i] for i in [begin, end)
    void (*add)(const float* a, const float* b, float* out, size_t begin, size_t end);

    // out[i] = a[i] + (b[i] - a[i]) * t for i in [0, n): the vertical step of a resize, row by row.
    void (*lerp)(const float* a, const float* b, float t, float* out, size_t n);

    // x[i] = tanh(x[i]) in place for i in [begin, end)
    void (*tanh)(float* x, size_t begin, size_t end);

    // 2x2 max pooling with stride 2 over planes of height x width, channels [c_begin, c_end). The output is
    // ceil(height / 2) x ceil(width / 2): on an odd side the last window is clipped to the plane, which is
    // TensorFlow's SAME padding for this pool (padding never wins the max).
    void (*max_pool_2x2)(int height, int width, const float* input, float* output, int c_begin, int c_end);

    // Winograd convolution for dense (groups = 1) stride-1 convolutions with 3x3 kernels (F(4x4, 3x3): 4x
    // fewer multiply-adds than conv2d) and 7x7 kernels (F(2x2, 7x7): 3.1x fewer), at some 10x conv2d's
    // rounding error (kernels/winograd.h). It reads weights transformed once by winograd_transform_weights
    // (below) and needs winograd_scratch_floats(shape) floats of scratch of its own (one per thread).
    // Otherwise conv_winograd is conv2d: same padded input, shape and channel range.
    void (*conv_winograd)(const ConvShape& shape, const float* input, const float* transformed,
                          const float* bias, float* output, int oc_begin, int oc_end, float* scratch);

    // Dense (groups = 1) 1x1 stride-1 convolution as a GEMM over the input planes (kernels/conv1x1.h), from
    // weights packed once by conv1x1_pack_weights (below). Otherwise conv1x1 is conv2d: same input, shape
    // and channel range.
    void (*conv1x1)(const ConvShape& shape, const float* input, const float* packed_weight, const float* bias,
                    float* output, int oc_begin, int oc_end);

    // Max pooling (PoolShape) of channels [c_begin, c_end): MTCNN's 2x2 and 3x3 stride-2 pools.
    void (*max_pool)(const PoolShape& shape, const float* input, float* output, int c_begin, int c_end);

    // Float16 activation storage (IEEE binary16, kernels/float16.h's rounding to nearest even, to the bit):
    // out[i] = half(in[i]) for i in [0, n); and the gather's transform reading half rows: out[i] =
    // float(in[i]) * scale + shift, then LeakyReLU with negative_slope (scale 1, shift 0, slope 1: a plain
    // widening). AVX2 converts with F16C, NEON natively.
    void (*float_to_half)(const float* in, uint16_t* out, size_t n);
    void (*half_scale_shift_leaky_relu)(const uint16_t* in, float* out, size_t n, float scale, float shift,
                                        float negative_slope);
};

// The Winograd convolution's ISA-independent parts (kernels/winograd.cpp), the same for every table, so
// weights transformed once suit whichever table runs. kernel is 3 or 7.
size_t winograd_weight_floats(int kernel, int out_channels, int in_channels);
// weight [out_channels][in_channels][kernel][kernel] -> winograd_weight_floats floats, computed in double
// and rounded once.
void winograd_transform_weights(int kernel, const float* weight, int out_channels, int in_channels,
                                float* transformed);
size_t winograd_scratch_floats(const ConvShape& shape);

// conv1x1's packed weights (kernels/conv1x1.cpp), the same for every table: weight
// [out_channels][in_channels]
// -> conv1x1_weight_floats floats.
size_t conv1x1_weight_floats(int out_channels, int in_channels);
void conv1x1_pack_weights(const float* weight, int out_channels, int in_channels, float* packed);

// The scalar reference: plain C++ loops, the fallback on every CPU and the base every SIMD table starts from.
// The tests hold every table, this one included, to naive loops written from the definitions
// (tests/test_kernels.cpp).
const KernelTable& scalar_kernels();

// Every table this build contains that the running CPU can execute, scalar first.
int available_kernel_tables(const KernelTable** tables, int capacity);

// The table in use: chosen once, on first call, as the best available one, unless the environment variable
// ANIMEGAN_ISA names another (scalar, avx2, neon); naming one the CPU lacks is an error at start-up.
const KernelTable& active_kernels();

}  // namespace animegan::kernels
