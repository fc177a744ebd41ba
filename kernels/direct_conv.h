// Direct convolution, register-blocked, written once for every SIMD instruction set. Each ISA's source file
// instantiates direct_conv2d<Ops> with its vector operations (Avx2Ops, NeonOps); see the requirements on Ops
// below.
//
// The micro-kernel keeps a block of up to 6 output channels x kBlockVectors vectors of consecutive output
// pixels of one row in accumulators. For every input channel and tap it loads the input vectors once and
// multiplies them by 6 broadcast weights. AVX2 (16 registers) uses 2 vectors: 12 accumulators, 8 loads per
// 12 FMAs, which the two load ports keep up with, and 12 independent chains cover the FMA latency on both FMA
// pipes, with 3 registers left for the inputs and the weight, so nothing spills (4 x 3 blocks measured
// slower: the compiler spills with all 16 registers live). NEON (32 registers) uses 4 vectors: 24
// accumulators.
//
// Input planes are far apart, and their distance is often (nearly) a multiple of 4 KiB (a 128x128 plane is
// 64 KiB, a padded 258x258 one 65 x 4 KiB + 16 bytes), so reading a tile of every input channel straight from
// the planes makes all channels compete for the same few L1 sets. The driver therefore copies the input rows
// that a tile of output columns needs, for a chunk of the group's input channels, into a contiguous 24 KiB
// stack buffer (it fits the 32 KiB L1 of current x86 and AArch64 cores), which stays in L1 while every
// output-channel block of the range runs over it; each block in turn reuses its weights from L1 across the
// tile's 96+ columns. With several chunks, later chunks add to the partial sums stored in the output. Float
// stores and loads are exact, so every output is always bias + the same FMA chain over (input channel, ky,
// kx) in order, whatever the channel range, block or thread.
//
// Stride 2: the packing step splits each row into its even and its odd columns, so the taps become
// unit-stride loads (tap kx reads half kx % 2 at offset kx / 2) and the micro-kernel needs no shuffles. 1x1
// stride-1 convolutions are a GEMM over the flattened plane: they run as one row of height * width pixels.
// Other stride-1 depthwise convolutions (one input channel per group) read their rows in place: there is
// nothing to reuse. Depthwise 3x3 convolutions have loops of their own (below).
#pragma once

#include <algorithm>
#include <array>
#include <cstring>
#include <type_traits>
#include <utility>

#include "kernels/kernels.h"
#include "kernels/streamed_output.h"

namespace animegan::kernels {

// An unnamed namespace gives every ISA's source file its own copy, compiled with its own flags: a shared
// inline function could otherwise be linked from the AVX2 file into code that runs on any CPU.
namespace {

// What Ops provides:
//   using Vec; kLanes (floats per Vec); kBlockVectors (Vecs of pixels per micro-kernel block);
//   kDepthwiseRows (output rows per depthwise block)
//   struct FullVector { Vec load(const float*) const; void store(float*, Vec) const; }
//   struct PartialVector { explicit PartialVector(size_t lanes); load; store }: the first `lanes` lanes
//       only; the others read as 0 and are not written
//   static Vec broadcast(const float*); static Vec set1(float); static Vec fmadd(Vec a, Vec b, Vec c) (a*b+c)
//   static void deinterleave_row(const float* in, int n, float* out): even elements, then odd ones
//   static void prefetch(const float*)
//   static void stream(float* p, Vec): a store that may bypass the caches (p aligned to 32 bytes)
//   static void fence_streamed_stores(): orders those stores before the thread's next ones
constexpr int kPackFloats = 6144;  // packed input tile: 24 KiB
constexpr int kMaxBlock = 6;       // output channels per micro-kernel block
constexpr int kTileColumns = 96;   // output columns per tile (at least; a multiple of the block width)

// One micro-kernel call's operands: an input tile and a block of output channels.
struct ConvTile {
    const float* in;  // input rows of the tile's first channel, at the tile's first column
    size_t row_stride, channel_stride;
    size_t odd_offset;  // stride 2: where each packed row's odd columns start
    int channels;
    const float* weight[kMaxBlock];  // each output channel's [channels][K][K] weights for this chunk
    float* out[kMaxBlock];           // each output channel's row, at the tile's first column
    float bias[kMaxBlock];
    bool accumulate;  // add to the partial sums in out (a later chunk) instead of the bias
};

// Output columns [x, x + kLanes * NX) of OCB output channels, or only the first lanes of one vector with
// Lanes = PartialVector (the row's remainder). The tap loops are unrolled so that weight and input offsets
// are constants.
template <typename Ops, int K, int S, int OCB, int NX, typename Lanes = typename Ops::FullVector>
inline void conv_block(const ConvTile& t, int x, Lanes lanes = {}) {
    using Vec = typename Ops::Vec;
    constexpr int L = Ops::kLanes;
    Vec acc[OCB][NX];
    const float* weight[OCB];
#pragma GCC unroll 8
    for (int j = 0; j < OCB; ++j) {
        weight[j] = t.weight[j];
#pragma GCC unroll 8
        for (int v = 0; v < NX; ++v)
            acc[j][v] = t.accumulate ? lanes.load(t.out[j] + x + v * L) : Ops::set1(t.bias[j]);
    }
    const float* in = t.in + x;  // at stride 2, output x reads column x of the even or the odd half of a row
    for (int ic = 0; ic < t.channels; ++ic, in += t.channel_stride) {
#pragma GCC unroll 8
        for (int ky = 0; ky < K; ++ky) {
            const float* row = in + ky * t.row_stride;
            const int tap = (ic * K + ky) * K;
#pragma GCC unroll 8
            for (int kx = 0; kx < K; ++kx) {
                const float* src_at = row + kx % S * t.odd_offset + kx / S;
                Vec src[NX];
#pragma GCC unroll 8
                for (int v = 0; v < NX; ++v) src[v] = lanes.load(src_at + v * L);
#pragma GCC unroll 8
                for (int j = 0; j < OCB; ++j) {
                    const Vec w = Ops::broadcast(weight[j] + tap + kx);
#pragma GCC unroll 8
                    for (int v = 0; v < NX; ++v) acc[j][v] = Ops::fmadd(w, src[v], acc[j][v]);
                }
            }
        }
    }
#pragma GCC unroll 8
    for (int j = 0; j < OCB; ++j)
#pragma GCC unroll 8
        for (int v = 0; v < NX; ++v) lanes.store(t.out[j] + x + v * L, acc[j][v]);
}

// Output columns [x, n) of a tile: blocks of NX vectors, then of fewer, then a partial vector. (The partial
// vector's loads only touch inputs of its valid lanes, which lie inside the row.)
template <typename Ops, int K, int S, int OCB, int NX = Ops::kBlockVectors>
void conv_tile(const ConvTile& t, int x, int n) {
    for (; x + NX * Ops::kLanes <= n; x += NX * Ops::kLanes) conv_block<Ops, K, S, OCB, NX>(t, x);
    if constexpr (NX > 1) {
        conv_tile<Ops, K, S, OCB, NX - 1>(t, x, n);
    } else if (x < n) {
        conv_block<Ops, K, S, OCB, 1>(t, x, typename Ops::PartialVector(n - x));
    }
}

using TileFn = void (*)(const ConvTile&, int x, int n);

// conv_tile for blocks of 1 .. kMaxBlock output channels, indexed by block size - 1.
template <typename Ops, int K, int S, size_t... I>
constexpr std::array<TileFn, sizeof...(I)> tile_fns(std::index_sequence<I...>) {
    return {conv_tile<Ops, K, S, int(I) + 1>...};
}

// Tile geometry for a shape: output columns per tile and input channels per packed chunk, such that
// channels * K * ((columns - 1) * S + K) <= kPackFloats (conv_direct asserts that one channel of a
// kTileColumns tile fits). Chunks are balanced in size; when one chunk holds every channel (depthwise,
// the 3-channel first layer) the tile widens to fill the buffer. Depends only on the kernel, stride and
// channel count, so a band of rows is tiled like the whole plane.
struct TileShape {
    int columns, channels;
};

inline TileShape tile_shape(int k, int stride, int channels, int block_width) {
    const int floats_per_channel = k * ((kTileColumns - 1) * stride + k);
    const int max_chunk = kPackFloats / floats_per_channel;
    const int chunks = (channels + max_chunk - 1) / max_chunk;
    const int chunk = (channels + chunks - 1) / chunks;
    const int fit_columns = ((kPackFloats / (k * chunk) - k) / stride + 1) / block_width * block_width;
    return {std::max(kTileColumns, fit_columns), chunk};
}

// Copies `rows` rows of `cols` floats for input channels [0, channels) into a contiguous tile; at stride 2
// each row is stored as its even then its odd columns. The rows are short pieces of many far-apart planes,
// too many streams for the hardware prefetcher, so this also prefetches what follows each piece: the next
// tile's (or at a row's end, the next row's) part of it, a whole tile of work ahead.
template <typename Ops, int S>
void pack_tile(const float* in, size_t in_plane, int in_width, int channels, int rows, int cols, float* out) {
    for (int c = 0; c < channels; ++c, in += in_plane) {
        for (int r = 0; r < rows; ++r, out += cols) {
            const float* row = in + size_t(r) * in_width;
            if constexpr (S == 1) {
                std::memcpy(out, row, cols * sizeof(float));
            } else {
                Ops::deinterleave_row(row, cols, out);
            }
            for (int i = cols; i < 2 * cols; i += 64 / sizeof(float)) Ops::prefetch(row + i);
        }
    }
}

template <typename Ops, int K, int S>
void conv_direct(const ConvShape& s, const float* input, const float* weight, const float* bias,
                 float* output, int oc_begin, int oc_end) {
    static constexpr auto kTileFns = tile_fns<Ops, K, S>(std::make_index_sequence<kMaxBlock>());
    static_assert(K * ((kTileColumns - 1) * S + K) <= kPackFloats);
    const int in_per_group = s.in_channels / s.groups, out_per_group = s.out_channels / s.groups;
    const size_t in_plane = s.in_plane(), out_plane = s.out_plane();
    const TileShape tiles = tile_shape(K, S, in_per_group, Ops::kBlockVectors * Ops::kLanes);
    alignas(64) float packed[kPackFloats];

    for (int g = oc_begin / out_per_group; g * out_per_group < oc_end; ++g) {
        const int g_begin = std::max(oc_begin, g * out_per_group);
        const int g_end = std::min(oc_end, (g + 1) * out_per_group);
        const float* group_in = input + size_t(g) * in_per_group * in_plane;
        for (int oy = 0; oy < s.out_height; ++oy) {
            for (int x0 = 0; x0 < s.out_width; x0 += tiles.columns) {
                const int n = std::min(tiles.columns, s.out_width - x0), cols = (n - 1) * S + K;
                for (int c0 = 0; c0 < in_per_group; c0 += tiles.channels) {
                    const int chunk = std::min(tiles.channels, in_per_group - c0);
                    const float* tile_in =
                        group_in + c0 * in_plane + size_t(oy) * S * s.in_width + size_t(x0) * S;
                    ConvTile t{tile_in, size_t(s.in_width), in_plane, 0, chunk, {}, {}, {}, c0 > 0};
                    if (S > 1 || in_per_group > 1) {
                        pack_tile<Ops, S>(tile_in, in_plane, s.in_width, chunk, K, cols, packed);
                        t.in = packed, t.row_stride = cols, t.channel_stride = size_t(K) * cols;
                        t.odd_offset = (cols + 1) / 2;
                    }
                    // As few blocks as possible, of balanced sizes: 32 channels as 6+6+5+5+5+5, not 5x6+2.
                    const int count = g_end - g_begin, blocks = (count + kMaxBlock - 1) / kMaxBlock;
                    for (int b = 0, oc = g_begin; b < blocks; ++b) {
                        const int block = count / blocks + (b < count % blocks);
                        for (int j = 0; j < block; ++j, ++oc) {
                            t.weight[j] = weight + (size_t(oc) * in_per_group + c0) * K * K;
                            t.out[j] = output + oc * out_plane + size_t(oy) * s.out_width + x0;
                            t.bias[j] = bias ? bias[oc] : 0.f;
                        }
                        kTileFns[block - 1](t, 0, n);
                    }
                }
            }
        }
    }
}

// ---- Depthwise 3x3 (one input and one output channel per group) ----------------------------------------
//
// Each channel's 9 taps stay in registers while a block of R output rows is swept along the row one vector
// at a time: every input vector (input row i, tap column kx) is loaded once and multiplied into the 1 to 3
// output rows it feeds, so R rows take (R * S + 3 - S) * 3 loads for their 9 R multiply-adds, and the R
// accumulators are independent chains. Each output is bias + the taps in (ky, kx) order, as in conv_direct.
// Stride 2 reads rows split into even and odd columns by pack_tile, a tile of columns at a time, so the taps
// are unit-stride loads again. AVX2 (16 registers) uses R = 4: 9 taps, 4 accumulators, 1 input vector.
// The loops wait on memory, not on the multiply-adds, so at stride 1 an output too large to stay cached
// (kernels/streamed_output.h) is written with non-temporal stores: 32 MB over 512 channels at 128x128 in 3.3
// instead of 5.1 ms, one thread.

// Memory a later block will use, prefetched a few lines per vector of this one: at stride 1 a block's new
// input rows and its output rows are contiguous, but the hardware prefetcher does not follow the 10 streams
// a block reads and writes at once (whole 128x128 planes ran 30% slower than a row at a time without this).
struct DepthwiseAhead {
    const float* at = nullptr;
    size_t lines = 0;  // 64-byte lines
};

struct DepthwiseRows {
    const float* in;  // the block's first input row, at its first column (stride 2: a packed tile)
    size_t in_stride, odd_offset;
    float* out;  // the block's first output row, at its first column
    size_t out_stride;
    int columns;
    DepthwiseAhead ahead[2];  // stride 1: a later block's new input rows and its output rows
    bool stream;              // whole vectors go past the caches (see conv_streams_output)
};

template <typename Ops, int S, int R, typename Lanes>
inline void depthwise_vector(const typename Ops::Vec (&w)[9], typename Ops::Vec bias, const float* in,
                             size_t in_stride, size_t odd_offset, float* out, size_t out_stride, bool stream,
                             Lanes lanes) {
    using Vec = typename Ops::Vec;
    Vec acc[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[r] = bias;
#pragma GCC unroll 16
    for (int i = 0; i < (R - 1) * S + 3; ++i) {
#pragma GCC unroll 3
        for (int kx = 0; kx < 3; ++kx) {
            const Vec src = lanes.load(in + i * in_stride + kx % S * odd_offset + kx / S);
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) {
                const int ky = i - r * S;
                if (ky >= 0 && ky < 3) acc[r] = Ops::fmadd(w[ky * 3 + kx], src, acc[r]);
            }
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
        if (std::is_same_v<Lanes, typename Ops::FullVector> && stream) {
            Ops::stream(out + r * out_stride, acc[r]);
        } else {
            lanes.store(out + r * out_stride, acc[r]);
        }
    }
}

// R output rows of one channel, all columns. The block's fields are copied to locals: read through the
// reference, the compiler would reload them after every store.
template <typename Ops, int S, int R>
void depthwise_rows(const float* weight, float bias, const DepthwiseRows& b) {
    using Vec = typename Ops::Vec;
    constexpr int L = Ops::kLanes, kLineFloats = 64 / sizeof(float);
    Vec w[9];
#pragma GCC unroll 9
    for (int i = 0; i < 9; ++i) w[i] = Ops::broadcast(weight + i);
    const Vec bias_v = Ops::set1(bias);
    const float* in = b.in;
    float* out = b.out;
    const size_t in_stride = b.in_stride, odd_offset = b.odd_offset, out_stride = b.out_stride;
    const bool stream = b.stream;
    const int columns = b.columns;
    // Both prefetch regions, as one list of lines: a few per vector.
    const size_t lines = b.ahead[0].lines + b.ahead[1].lines, vectors = size_t(columns + L - 1) / L;
    const size_t per_vector = (lines + vectors - 1) / vectors;
    size_t next_line = 0;
    int x = 0;
    for (; x + L <= columns; x += L) {
        depthwise_vector<Ops, S, R>(w, bias_v, in + x, in_stride, odd_offset, out + x, out_stride, stream,
                                    typename Ops::FullVector{});
        for (size_t end = std::min(lines, next_line + per_vector); next_line < end; ++next_line) {
            const bool first = next_line < b.ahead[0].lines;
            Ops::prefetch(first ? b.ahead[0].at + next_line * kLineFloats
                                : b.ahead[1].at + (next_line - b.ahead[0].lines) * kLineFloats);
        }
    }
    if (x < columns) {
        depthwise_vector<Ops, S, R>(w, bias_v, in + x, in_stride, odd_offset, out + x, out_stride, false,
                                    typename Ops::PartialVector(columns - x));
    }
}

using DepthwiseFn = void (*)(const float* weight, float bias, const DepthwiseRows&);

template <typename Ops, int S, size_t... I>
constexpr std::array<DepthwiseFn, sizeof...(I)> depthwise_fns(std::index_sequence<I...>) {
    return {depthwise_rows<Ops, S, int(I) + 1>...};
}

template <typename Ops, int S>
void depthwise_conv3x3(const ConvShape& s, const float* input, const float* weight, const float* bias,
                       float* output, int oc_begin, int oc_end) {
    constexpr int R = Ops::kDepthwiseRows;
    static constexpr auto kRowFns = depthwise_fns<Ops, S>(std::make_index_sequence<R>());
    // Stride 2: output columns per packed tile, so that a block's rows fit the buffer.
    constexpr int kTile = (kPackFloats / ((R - 1) * S + 3) - 3) / S + 1;
    // Stride 1 prefetches the rows of the block this many blocks ahead (a block of 128-pixel rows takes
    // about as long as one memory access).
    constexpr int kAhead = 3;
    const size_t in_plane = s.in_plane(), out_plane = s.out_plane();
    const int blocks = (s.out_height + R - 1) / R;  // per channel
    // Stride 1 only: stride 2's tiles of kTile columns need not start on a whole vector.
    const bool stream = S == 1 && conv_streams_output(s, output);
    for (int c = oc_begin; c < oc_end; ++c) {
        const float* in = input + c * in_plane;
        float* out = output + c * out_plane;
        const float b = bias ? bias[c] : 0.f;
        for (int oy = 0; oy < s.out_height; oy += R) {
            const int rows = std::min(R, s.out_height - oy);
            const float* in_rows = in + size_t(oy) * S * s.in_width;
            float* out_rows = out + size_t(oy) * s.out_width;
            if constexpr (S == 1) {
                // The block kAhead blocks later, in this channel or a following one of the range.
                const int later = oy / R + kAhead, later_c = c + later / blocks;
                DepthwiseAhead next_in, next_out;
                if (later_c < oc_end) {
                    const int later_y = later % blocks * R;
                    next_in = {input + later_c * in_plane + size_t(later_y) * s.in_width,
                               size_t(R + 2) * s.in_width * sizeof(float) / 64};
                    if (!stream) {  // streamed lines are written without being read
                        next_out = {output + later_c * out_plane + size_t(later_y) * s.out_width,
                                    size_t(R) * s.out_width * sizeof(float) / 64};
                    }
                }
                kRowFns[rows - 1](weight + 9 * c, b,
                                  {in_rows,
                                   size_t(s.in_width),
                                   0,
                                   out_rows,
                                   size_t(s.out_width),
                                   s.out_width,
                                   {next_in, next_out},
                                   stream});
            } else {
                alignas(64) float packed[kPackFloats];
                for (int x0 = 0; x0 < s.out_width; x0 += kTile) {
                    const int n = std::min(kTile, s.out_width - x0), cols = (n - 1) * S + 3;
                    pack_tile<Ops, S>(in_rows + x0 * S, in_plane, s.in_width, 1, (rows - 1) * S + 3, cols,
                                      packed);
                    kRowFns[rows - 1](weight + 9 * c, b,
                                      {packed,
                                       size_t(cols),
                                       size_t(cols + 1) / 2,
                                       out_rows + x0,
                                       size_t(s.out_width),
                                       n,
                                       {},
                                       false});
                }
            }
        }
    }
    if (stream) Ops::fence_streamed_stores();
}

using ConvFn = void (*)(const ConvShape&, const float* input, const float* weight, const float* bias,
                        float* output, int oc_begin, int oc_end);

// conv_direct for square odd kernels K = 1, 3, ..., 2 * sizeof...(I) - 1 at stride 1 and 2, indexed by
// [K / 2][stride - 1].
template <typename Ops, size_t... I>
constexpr std::array<std::array<ConvFn, 2>, sizeof...(I)> odd_kernel_fns(std::index_sequence<I...>) {
    return {{{conv_direct<Ops, 2 * int(I) + 1, 1>, conv_direct<Ops, 2 * int(I) + 1, 2>}...}};
}

constexpr int kMaxDirectKernel = 7;

// KernelTable::conv2d for an ISA: square odd kernels up to kMaxDirectKernel at stride 1 or 2 run direct_conv
// (the generator's 1x1, 3x3 and 7x7 layers, BlazeFace's 5x5 stem), and 2x2 at stride 1 (MTCNN), any other
// shape the scalar reference.
template <typename Ops>
void direct_conv2d(const ConvShape& s, const float* input, const float* weight, const float* bias,
                   float* output, int oc_begin, int oc_end) {
    static constexpr auto kByKernel =
        odd_kernel_fns<Ops>(std::make_index_sequence<(kMaxDirectKernel + 1) / 2>());
    const int k = s.kernel_h;
    if (k == 2 && s.kernel_w == 2 && s.stride == 1)  // MTCNN's 2x2 convolutions
        return conv_direct<Ops, 2, 1>(s, input, weight, bias, output, oc_begin, oc_end);
    if (s.kernel_w != k || k % 2 == 0 || k > kMaxDirectKernel || (s.stride != 1 && s.stride != 2))
        return scalar_kernels().conv2d(s, input, weight, bias, output, oc_begin, oc_end);
    if (k == 3 && s.groups == s.in_channels && s.groups == s.out_channels) {
        return s.stride == 1 ? depthwise_conv3x3<Ops, 1>(s, input, weight, bias, output, oc_begin, oc_end)
                             : depthwise_conv3x3<Ops, 2>(s, input, weight, bias, output, oc_begin, oc_end);
    }
    if (k == 1 && s.stride == 1) {
        const int pixels = s.out_height * s.out_width;
        const ConvShape flat{s.in_channels, 1,           pixels, s.out_channels, 1, pixels, 1, 1, 1, s.groups,
                             s.out_plane(), s.in_plane()};
        return conv_direct<Ops, 1, 1>(flat, input, weight, bias, output, oc_begin, oc_end);
    }
    kByKernel[k / 2][s.stride - 1](s, input, weight, bias, output, oc_begin, oc_end);
}

}  // namespace
}  // namespace animegan::kernels
