// Dense 1x1 stride-1 convolution as a GEMM with packed weights, written once for every SIMD instruction set
// (each ISA's source file instantiates conv1x1_packed<Ops>; Ops as in kernels/direct_conv.h).
//
// out[oc][p] = bias[oc] + sum over k of W[oc][k] * in[k][p]: the input planes [K][pixels] are the right-hand
// operand as they are, the weights the left-hand one. conv1x1_pack_weights (conv1x1.cpp) stores W once, at
// load time, as panels of kConv1x1PanelRows output channels, [panel][K][kConv1x1PanelRows] (the last panel
// padded with zeros), so the micro-kernel broadcasts 6 consecutive floats per k.
//
// The loops follow the usual GEMM blocking (Goto & van de Geijn). For each block of NR = kBlockVectors *
// kLanes consecutive pixels (16 on AVX2 and NEON) and each chunk of at most kConv1x1MaxDepth input channels,
// the block's values of those channels are copied into a contiguous [depth][NR] panel (16 KiB at most): the
// input planes are far apart, often by a multiple of 4 KiB, and read in place they would all compete for the
// same few L1 sets. The panel then stays in L1 while every block of 6 output channels of the call's range
// runs over it, each streaming its 6-channel weight panel from L2 (up to 512 KiB for the generator's largest
// layers) through 6 broadcasts per k. The micro-kernel keeps 6 x NR outputs in registers (AVX2: 12
// accumulators, 8 loads per 12 FMAs; NEON: 24 accumulators). While packing, the next pixel block's lines of
// the same planes are prefetched: they are needed only after every output block has run.
//
// With several depth chunks, later chunks add to the partial sums stored in the output. Float stores and
// loads are exact, and the chunks depend only on K, so every output is bias + the same FMA chain over k = 0,
// 1, ..., K - 1, whatever the channel range, pixel range (band of rows) or thread.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

#include "kernels/kernels.h"
#include "kernels/outer_product.h"

namespace animegan::kernels {

constexpr int kConv1x1PanelRows = 6;    // output channels per packed weight panel and micro-kernel call
constexpr int kConv1x1MaxDepth = 256;   // input channels per packed input panel
constexpr int kConv1x1PanelBlocks = 4;  // micro-kernel blocks of pixels per packed input panel

// An unnamed namespace gives every ISA's source file its own copy, compiled with its own flags (see
// direct_conv.h).
namespace {

// One micro-kernel call: ROWS output channels x NX vectors of pixels over `depth` input channels.
struct Conv1x1Tile {
    const float* weight;  // packed: [depth][kConv1x1PanelRows], at the tile's first row
    const float* in;      // the first input channel's pixels: a packed panel, or the input plane itself
    size_t in_stride;     // between input channels
    int depth;
    float* out;  // the first row's output at the block's first pixel; rows out_stride apart
    size_t out_stride;
    const float* bias;  // the first row's bias, or null
    bool accumulate;    // add to the partial sums in out (a later depth chunk) instead of the bias
    int columns;        // valid pixels of the block: NX * kLanes, or fewer at the end of the range
};

// A whole block (kFullBlock), or the last one, whose loads and stores touch the valid columns only; the
// arithmetic of the valid lanes is the same.
template <typename Ops, int ROWS, int NX, bool kFullBlock>
void conv1x1_block(const Conv1x1Tile& t) {
    using Vec = typename Ops::Vec;
    constexpr int L = Ops::kLanes;
    auto lanes_of = [&](int v) { return size_t(std::clamp(t.columns - v * L, 0, L)); };
    auto load = [&](const float* p, int v) {
        if constexpr (kFullBlock) return typename Ops::FullVector{}.load(p);
        return typename Ops::PartialVector(lanes_of(v)).load(p);
    };
    Vec acc[ROWS][NX];
#pragma GCC unroll 8
    for (int j = 0; j < ROWS; ++j) {
#pragma GCC unroll 8
        for (int v = 0; v < NX; ++v) {
            acc[j][v] = t.accumulate ? load(t.out + j * t.out_stride + v * L, v)
                                     : Ops::set1(t.bias ? t.bias[j] : 0.f);
        }
    }
    accumulate_outer_products<Ops, ROWS, NX>(acc, t.weight, kConv1x1PanelRows, t.in, t.in_stride, t.depth,
                                             load);
#pragma GCC unroll 8
    for (int j = 0; j < ROWS; ++j) {
#pragma GCC unroll 8
        for (int v = 0; v < NX; ++v) {
            float* out = t.out + j * t.out_stride + v * L;
            if constexpr (kFullBlock) {
                typename Ops::FullVector{}.store(out, acc[j][v]);
            } else if (lanes_of(v) > 0) {
                typename Ops::PartialVector(lanes_of(v)).store(out, acc[j][v]);
            }
        }
    }
}

using Conv1x1BlockFn = void (*)(const Conv1x1Tile&);

// conv1x1_block for 1 .. kConv1x1PanelRows rows, [rows - 1][full block].
template <typename Ops, int NX, size_t... I>
constexpr std::array<std::array<Conv1x1BlockFn, 2>, sizeof...(I)> conv1x1_block_fns(
    std::index_sequence<I...>) {
    return {{{conv1x1_block<Ops, int(I) + 1, NX, false>, conv1x1_block<Ops, int(I) + 1, NX, true>}...}};
}

// Copies `columns` (at most kConv1x1PanelBlocks * NR) pixels of `depth` planes into micro-panels of NR
// pixels, [block][depth][NR], zero-padding the last one.
template <typename Ops>
void conv1x1_pack_panel(const float* in, size_t in_plane, int depth, int columns, float* panel) {
    constexpr int NR = Ops::kBlockVectors * Ops::kLanes;
    for (int k = 0; k < depth; ++k, in += in_plane) {
        float* to = panel + k * NR;
        int x = 0;
        for (; x + NR <= columns; x += NR, to += size_t(depth) * NR) {
#pragma GCC unroll 8
            for (int v = 0; v < Ops::kBlockVectors; ++v)
                Ops::store(to + v * Ops::kLanes, Ops::load(in + x + v * Ops::kLanes));
        }
        if (x < columns) {
            std::copy(in + x, in + columns, to);
            std::fill(to + (columns - x), to + NR, 0.f);
        }
    }
}

// Prefetches `lines` lines from each of `count` planes, starting at p.
template <typename Ops>
void conv1x1_prefetch(const float* p, size_t plane, int count, int lines) {
    for (int i = 0; i < count; ++i, p += plane) {
        for (int x = 0; x < lines; ++x) Ops::prefetch(p + x * (64 / int(sizeof(float))));
    }
}

// The GEMM: packed input panels, blocks of 6 output channels x NR pixels.
template <typename Ops>
void conv1x1_gemm(const ConvShape& s, const float* input, const float* packed_weight, const float* bias,
                  float* output, int oc_begin, int oc_end) {
    constexpr int NX = Ops::kBlockVectors, NR = NX * Ops::kLanes, P = kConv1x1PanelRows;
    constexpr int NC = kConv1x1PanelBlocks * NR;
    static constexpr auto kBlockFns = conv1x1_block_fns<Ops, NX>(std::make_index_sequence<P>());
    const int depth_total = s.in_channels;
    const int chunks = (depth_total + kConv1x1MaxDepth - 1) / kConv1x1MaxDepth;
    const int chunk = (depth_total + chunks - 1) / chunks;
    const size_t pixels = size_t(s.out_height) * s.out_width, in_plane = s.in_plane(),
                 out_plane = s.out_plane();
    const int calls_per_block = (oc_end - 1) / P - oc_begin / P + 1;
    alignas(64) float panel[kConv1x1MaxDepth * NC];

    for (size_t p0 = 0; p0 < pixels; p0 += NC) {
        const int columns = int(std::min(pixels - p0, size_t(NC)));
        const int blocks = (columns + NR - 1) / NR;
        const bool last = p0 + NC >= pixels;
        for (int k0 = 0; k0 < depth_total; k0 += chunk) {
            const int depth = std::min(chunk, depth_total - k0);
            conv1x1_pack_panel<Ops>(input + k0 * in_plane + p0, in_plane, depth, columns, panel);
            const int calls = blocks * calls_per_block;
            int call = 0;
            for (int b = 0; b < blocks; ++b) {
                const int x = b * NR, block_columns = std::min(NR, columns - x);
                // Blocks follow the weight panels; a range that starts or ends inside a panel runs part of
                // it.
                for (int oc = oc_begin; oc < oc_end; ++call) {
                    const int row = oc % P, rows = std::min(P - row, oc_end - oc);
                    float* out = output + oc * out_plane + p0 + x;
                    const Conv1x1Tile t{packed_weight + (size_t(oc / P) * depth_total + k0) * P + row,
                                        panel + size_t(b) * depth * NR,
                                        NR,
                                        depth,
                                        out,
                                        out_plane,
                                        bias ? bias + oc : nullptr,
                                        k0 > 0,
                                        block_columns};
                    kBlockFns[rows - 1][block_columns == NR](t);
                    // What the next block uses, spread over the calls: its lines of the input planes, which
                    // the next pixel panel packs, and of the output planes. The planes are far apart, a
                    // stream each, too many for the hardware prefetcher.
                    if (!last || b + 1 < blocks) {
                        if (k0 == 0) conv1x1_prefetch<Ops>(out + NR, out_plane, rows, NR / 16);
                    }
                    if (!last) {
                        const int first = depth * call / calls, end = depth * (call + 1) / calls;
                        conv1x1_prefetch<Ops>(input + (k0 + first) * in_plane + p0 + NC, in_plane,
                                              end - first, NC / 16);
                    }
                    oc += rows;
                }
            }
        }
    }
}

// At most kConv1x1FewRows output channels (the generator's 32-to-3 output layer): a packed panel would be
// used by one block only, so the blocks read the input planes in place, over all input channels at once,
// and are twice as wide, to have as many accumulators as the GEMM's.
constexpr int kConv1x1FewRows = kConv1x1PanelRows / 2;

template <typename Ops>
void conv1x1_few_outputs(const ConvShape& s, const float* input, const float* packed_weight,
                         const float* bias, float* output, int oc_begin, int oc_end) {
    constexpr int NX = 2 * Ops::kBlockVectors, NR = NX * Ops::kLanes, P = kConv1x1PanelRows;
    static constexpr auto kBlockFns = conv1x1_block_fns<Ops, NX>(std::make_index_sequence<kConv1x1FewRows>());
    const size_t pixels = size_t(s.out_height) * s.out_width, in_plane = s.in_plane(),
                 out_plane = s.out_plane();
    for (size_t p0 = 0; p0 < pixels; p0 += NR) {
        const int columns = int(std::min(pixels - p0, size_t(NR)));
        for (int oc = oc_begin; oc < oc_end;) {
            const int row = oc % P, rows = std::min({P - row, oc_end - oc, kConv1x1FewRows});
            const Conv1x1Tile t{packed_weight + size_t(oc / P) * s.in_channels * P + row,
                                input + p0,
                                in_plane,
                                s.in_channels,
                                output + oc * out_plane + p0,
                                out_plane,
                                bias ? bias + oc : nullptr,
                                false,
                                columns};
            kBlockFns[rows - 1][columns == NR](t);
            oc += rows;
        }
    }
}

// KernelTable::conv1x1 for an ISA. Both ways compute every output as bias + the same FMA chain over k.
template <typename Ops>
void conv1x1_packed(const ConvShape& s, const float* input, const float* packed_weight, const float* bias,
                    float* output, int oc_begin, int oc_end) {
    if (oc_end - oc_begin <= kConv1x1FewRows)
        return conv1x1_few_outputs<Ops>(s, input, packed_weight, bias, output, oc_begin, oc_end);
    conv1x1_gemm<Ops>(s, input, packed_weight, bias, output, oc_begin, oc_end);
}

}  // namespace
}  // namespace animegan::kernels
