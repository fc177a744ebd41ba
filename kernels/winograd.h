// Winograd F(4x4, 3x3) for dense 3x3 stride-1 convolutions: each 4x4 block of output pixels (a tile) comes
// from its 6x6 input patch d as Y = A^T [(G g G^T) . (B^T d B)] A, so the 3x3 taps over 16 pixels (144
// multiplies per channel pair) become 36 element-wise products: 2.25x fewer multiply-adds than direct
// convolution, paid for with transforms whose cost grows with channels (not with channel pairs) and with
// accuracy: the transforms scale values by up to 100 and 64, so the error is about 4e-6 per input channel on
// values in [-1, 1] (tests/test_kernels.cpp), some 10x the direct convolution's. F(6x6, 3x3) would
// save 5.06x, but its larger transform constants cost roughly another decimal digit (Lavin & Gray 2016); not
// tried here.
//
// The layout, per call (a band of output rows the engine gives the kernel):
//   transformed weights U: [36][out blocks][in_channels][kWinogradOcBlock], made once at load time; the last
//                          block of output channels is padded with zeros.
//   per block of up to T tiles of one tile row (T from the channel count, see WinogradScratch):
//     input transform  -> V [36][in_channels][T]  (kept in L2 while every output block runs)
//     per group of kWinogradOcGroup output blocks:
//       36 x (T / 16) x kWinogradOcGroup micro-kernel calls -> M [36][group's channels][T]  (L1 / L2)
//       output transform + bias -> the output rows
// The GEMM's micro-kernel keeps 6 output channels x 16 tiles of one of the 36 points in registers over all
// input channels, like the direct convolution's 6 x 16 pixel block; its weights are 6 consecutive floats per
// input channel and its inputs 16 consecutive floats, so both stream through unit-stride loads. A group's
// blocks run back to back on the same 16 tiles, so that panel of V is read from L2 once per group, not once
// per block.
//
// Every output element is bias + the same arithmetic whatever channel range, band or thread computes it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "kernels/kernels.h"

namespace animegan::kernels {

constexpr int kWinogradTile = 4;     // output tile side
constexpr int kWinogradPatch = 6;    // input patch side: tile + kernel - 1
constexpr int kWinogradPoints = 36;  // kWinogradPatch squared
constexpr int kWinogradOcBlock = 6;  // output channels per weight block and micro-kernel call
constexpr int kWinogradOcGroup = 4;  // weight blocks per pass over V: each V panel serves them from L1
constexpr int kWinogradGroupChannels = kWinogradOcBlock * kWinogradOcGroup;
constexpr int kWinogradChunk = 16;         // tiles per micro-kernel call
constexpr int kWinogradMaxTileBlock = 64;  // tiles per transformed input block, at most

// One input-transform row buffer: the 4 * tiles + 2 columns of a tile block, plus what the column
// de-interleaving loads read past the last tile of a chunk.
constexpr int kWinogradRowFloats = kWinogradTile * kWinogradMaxTileBlock + 8;

// The ISA-independent parts (winograd.cpp), shared by every table.
size_t winograd_weight_floats(int out_channels, int in_channels);
// weight [out_channels][in_channels][3][3] -> U, computed in double and rounded once.
void winograd_transform_weights(const float* weight, int out_channels, int in_channels, float* transformed);
size_t winograd_scratch_floats(const ConvShape& shape);

// The kernel is a template over a small struct of vector operations, instantiated by each ISA's source file.
// An unnamed namespace gives every such file its own copy compiled with its own flags: a shared inline
// function could otherwise be linked from the AVX2 file into the scalar path and fault on an older CPU.
namespace {

struct ScalarWinogradOps {
    using Vec = float;
    static constexpr int kLanes = 1;
    static float load(const float* p) { return *p; }
    static void store(float* p, float v) { *p = v; }
    static float broadcast(const float* p) { return *p; }
    static float set1(float v) { return v; }
    static float add(float a, float b) { return a + b; }
    static float sub(float a, float b) { return a - b; }
    static float mul(float a, float b) { return a * b; }
    static float fmadd(float a, float b, float c) { return a * b + c; }
    // Lane t of columns[k] = row[4t + k], k < 6: the six input columns of consecutive tiles.
    static void load_tile_columns(const float* row, float columns[6]) { std::copy(row, row + 6, columns); }
    // row[4t + q] = lane t of columns[q], q < 4: the four output columns of consecutive tiles.
    static void store_tile_columns(float* row, const float columns[4]) {
        std::copy(columns, columns + 4, row);
    }
};

// B^T applied to six values along a column (or a row) of an input patch.
template <typename Ops, typename Vec>
inline void winograd_input_1d(const Vec d[6], Vec out[6]) {
    const Vec four = Ops::set1(4.f), minus_four = Ops::set1(-4.f), minus_five = Ops::set1(-5.f);
    out[0] = Ops::fmadd(four, d[0], Ops::fmadd(minus_five, d[2], d[4]));
    const Vec a = Ops::fmadd(minus_four, d[2], d[4]), b = Ops::fmadd(minus_four, d[1], d[3]);
    out[1] = Ops::add(a, b);
    out[2] = Ops::sub(a, b);
    const Vec c = Ops::sub(d[4], d[2]), e = Ops::mul(Ops::set1(2.f), Ops::sub(d[3], d[1]));
    out[3] = Ops::add(c, e);
    out[4] = Ops::sub(c, e);
    out[5] = Ops::fmadd(four, d[1], Ops::fmadd(minus_five, d[3], d[5]));
}

// A^T applied to six values along a column (or a row) of a point block.
template <typename Ops, typename Vec>
inline void winograd_output_1d(const Vec m[6], Vec out[4]) {
    const Vec sum12 = Ops::add(m[1], m[2]), diff12 = Ops::sub(m[1], m[2]);
    const Vec sum34 = Ops::add(m[3], m[4]), diff34 = Ops::sub(m[3], m[4]);
    out[0] = Ops::add(Ops::add(m[0], sum12), sum34);
    out[1] = Ops::fmadd(Ops::set1(2.f), diff34, diff12);
    out[2] = Ops::fmadd(Ops::set1(4.f), sum34, sum12);
    out[3] = Ops::add(Ops::fmadd(Ops::set1(8.f), diff34, diff12), m[5]);
}

// The scratch a call carves up (winograd_scratch_floats adds the sizes up).
struct WinogradScratch {
    int tile_block;  // T: tiles per block, a multiple of kWinogradChunk
    // V's points are a padding cache line apart: with whole [channels][T] panels they would
    // be a multiple of 4 KiB apart, and the 36 stores of one transformed patch would share an L1 set.
    size_t point_stride;
    float* points;         // V [36][point_stride]: [channels][T] each
    float* products;       // M [36][kWinogradGroupChannels][T]
    float* vertical_rows;  // the 6 rows of B^T d, kWinogradRowFloats each
    float* zero_row;       // stands in for input rows below the band
    float* partial_row;    // output tiles cut by the right edge, before their valid columns are copied

    WinogradScratch(float* scratch, int channels)
        : tile_block(tiles_per_block(channels)), point_stride(point_floats(channels)) {
        points = scratch;
        products = points + kWinogradPoints * point_stride;
        vertical_rows = products + kWinogradPoints * kWinogradGroupChannels * tile_block;
        zero_row = vertical_rows + kWinogradPatch * kWinogradRowFloats;
        partial_row = zero_row + kWinogradRowFloats;
    }
    // V is re-read once per output group, so it should stay in the 512 KiB L2 (Zen 3; 1 MiB and more on other
    // current cores) next to the weights streaming through: about 288 KiB. Measured with 16, 32 and 64 tiles:
    // at 128 channels 64 tiles (1.2 MB) were clearly slower, the rest was within this machine's noise.
    // 256 channels get the minimum, one micro-kernel chunk.
    static int tiles_per_block(int channels) {
        const int tiles = 2048 / std::max(channels, 1) / kWinogradChunk * kWinogradChunk;
        return std::clamp(tiles, kWinogradChunk, kWinogradMaxTileBlock);
    }
    static size_t point_floats(int channels) { return size_t(channels) * tiles_per_block(channels) + 16; }
    static size_t floats(int channels) {
        return kWinogradPoints * point_floats(channels) +
               kWinogradPoints * kWinogradGroupChannels * tiles_per_block(channels) +
               (kWinogradPatch + 2) * kWinogradRowFloats;
    }
};

// V for `tiles` tiles of tile row `tile_y` starting at tile `tile_x`, all input channels; tiles past `tiles`
// up to `padded_tiles` (the micro-kernel's chunks) come out as zeros. Input rows and columns past the band
// read as zeros: they only feed outputs past the edge, which are never stored.
template <typename Ops>
void winograd_input_block(const ConvShape& s, const float* input, int tile_y, int tile_x, int tiles,
                          int padded_tiles, const WinogradScratch& w) {
    using Vec = typename Ops::Vec;
    constexpr int L = Ops::kLanes;
    const int x0 = tile_x * kWinogradTile, y0 = tile_y * kWinogradTile;
    const int columns = std::min(tiles * kWinogradTile + 2, s.in_width - x0);
    const int filled = padded_tiles * kWinogradTile + 4;  // what load_tile_columns reads
    const size_t in_plane = size_t(s.in_height) * s.in_width;
    for (int c = 0; c < s.in_channels; ++c) {
        const float* input_rows[kWinogradPatch];
        for (int j = 0; j < kWinogradPatch; ++j) {
            const int y = y0 + j;
            input_rows[j] = y < s.in_height ? input + c * in_plane + size_t(y) * s.in_width + x0 : w.zero_row;
        }
        // Vertical pass, B^T d, over whole rows: unit-stride vectors across columns, then a scalar tail.
        auto vertical = [&](auto ops, int x) {
            using Lane = decltype(ops);
            typename Lane::Vec d[6], out[6];
            for (int j = 0; j < 6; ++j) d[j] = Lane::load(input_rows[j] + x);
            winograd_input_1d<Lane>(d, out);
            for (int i = 0; i < 6; ++i) Lane::store(w.vertical_rows + i * kWinogradRowFloats + x, out[i]);
        };
        int x = 0;
        for (; x + L <= columns; x += L) vertical(Ops{}, x);
        for (; x < columns; ++x) vertical(ScalarWinogradOps{}, x);
        for (int i = 0; i < 6; ++i)
            std::fill(w.vertical_rows + i * kWinogradRowFloats + columns,
                      w.vertical_rows + i * kWinogradRowFloats + filled, 0.f);
        // Horizontal pass, (B^T d) B, vectorized across tiles: de-interleaving loads give each column of L
        // tiles.
        for (int t = 0; t < padded_tiles; t += L) {
            for (int i = 0; i < 6; ++i) {
                Vec d[6], out[6];
                Ops::load_tile_columns(w.vertical_rows + i * kWinogradRowFloats + t * kWinogradTile, d);
                winograd_input_1d<Ops>(d, out);
                for (int j = 0; j < 6; ++j)
                    Ops::store(w.points + (i * 6 + j) * w.point_stride + c * w.tile_block + t, out[j]);
            }
        }
    }
}

// M[point][j][t] = sum over c of U[point][block][c][j] * V[point][c][t] for 16 tiles: 6 x 16 / L
// accumulators over every input channel. V's and M's rows are `stride` floats apart.
template <typename Ops>
inline void winograd_gemm_chunk(const float* points, const float* weights, int channels, float* products,
                                int stride) {
    using Vec = typename Ops::Vec;
    constexpr int NX = kWinogradChunk / Ops::kLanes;
    Vec acc[kWinogradOcBlock][NX];
#pragma GCC unroll 8
    for (int j = 0; j < kWinogradOcBlock; ++j)
#pragma GCC unroll 16
        for (int v = 0; v < NX; ++v) acc[j][v] = Ops::set1(0.f);
    for (int c = 0; c < channels; ++c, points += stride, weights += kWinogradOcBlock) {
        Vec x[NX];
#pragma GCC unroll 16
        for (int v = 0; v < NX; ++v) x[v] = Ops::load(points + v * Ops::kLanes);
#pragma GCC unroll 8
        for (int j = 0; j < kWinogradOcBlock; ++j) {
            const Vec u = Ops::broadcast(weights + j);
#pragma GCC unroll 16
            for (int v = 0; v < NX; ++v) acc[j][v] = Ops::fmadd(u, x[v], acc[j][v]);
        }
    }
#pragma GCC unroll 8
    for (int j = 0; j < kWinogradOcBlock; ++j)
#pragma GCC unroll 16
        for (int v = 0; v < NX; ++v) Ops::store(products + j * stride + v * Ops::kLanes, acc[j][v]);
}

// Y = A^T M A + bias for one output channel (row j of the group's products), written into the output rows of
// tile row tile_y; only pixels inside out_height x out_width are stored.
template <typename Ops>
void winograd_output_block(const ConvShape& s, const WinogradScratch& w, int j, float bias,
                           float* out_plane_at, int tile_y, int tile_x, int tiles) {
    using Vec = typename Ops::Vec;
    constexpr int L = Ops::kLanes;
    const int y0 = tile_y * kWinogradTile, rows = std::min(kWinogradTile, s.out_height - y0);
    for (int t = 0; t < tiles; t += L) {
        Vec by_row[6][4];  // A^T applied along each row of the 6x6 point block
        for (int i = 0; i < 6; ++i) {
            Vec m[6];
            for (int k = 0; k < 6; ++k)
                m[k] = Ops::load(w.products + ((i * 6 + k) * kWinogradGroupChannels + j) * w.tile_block + t);
            winograd_output_1d<Ops>(m, by_row[i]);
        }
        const int x = (tile_x + t) * kWinogradTile, valid = std::min(L * kWinogradTile, s.out_width - x);
        Vec result[4][4];  // [row][column] of each tile's 4x4 outputs
        for (int q = 0; q < 4; ++q) {
            Vec column[6], y[4];
            for (int i = 0; i < 6; ++i) column[i] = by_row[i][q];
            winograd_output_1d<Ops>(column, y);
            for (int p = 0; p < 4; ++p) result[p][q] = Ops::add(y[p], Ops::set1(bias));
        }
        for (int p = 0; p < rows; ++p) {
            float* dst = out_plane_at + size_t(y0 + p) * s.out_width + x;
            if (valid == L * kWinogradTile) {
                Ops::store_tile_columns(dst, result[p]);
            } else {
                Ops::store_tile_columns(w.partial_row, result[p]);
                std::memcpy(dst, w.partial_row, valid * sizeof(float));
            }
        }
    }
}

template <typename Ops>
void conv3x3_winograd(const ConvShape& s, const float* input, const float* transformed, const float* bias,
                      float* output, int oc_begin, int oc_end, float* scratch) {
    const WinogradScratch w(scratch, s.in_channels);
    std::fill(w.zero_row, w.zero_row + kWinogradRowFloats, 0.f);
    const int tiles_x = (s.out_width + kWinogradTile - 1) / kWinogradTile;
    const int tiles_y = (s.out_height + kWinogradTile - 1) / kWinogradTile;
    const int oc_blocks = (s.out_channels + kWinogradOcBlock - 1) / kWinogradOcBlock;
    const size_t weight_point_stride = size_t(oc_blocks) * s.in_channels * kWinogradOcBlock;
    for (int ty = 0; ty < tiles_y; ++ty) {
        for (int tx = 0; tx < tiles_x; tx += w.tile_block) {
            const int tiles = std::min(w.tile_block, tiles_x - tx);
            const int padded = (tiles + kWinogradChunk - 1) / kWinogradChunk * kWinogradChunk;
            winograd_input_block<Ops>(s, input, ty, tx, tiles, padded, w);
            const int block_end = (oc_end + kWinogradOcBlock - 1) / kWinogradOcBlock;
            for (int group = oc_begin / kWinogradOcBlock; group < block_end; group += kWinogradOcGroup) {
                const int blocks = std::min(kWinogradOcGroup, block_end - group);
                for (int point = 0; point < kWinogradPoints; ++point) {
                    for (int t = 0; t < padded; t += kWinogradChunk) {
                        for (int b = 0; b < blocks; ++b) {
                            const float* u = transformed + point * weight_point_stride +
                                             size_t(group + b) * s.in_channels * kWinogradOcBlock;
                            float* m = w.products +
                                       (point * kWinogradGroupChannels + b * kWinogradOcBlock) * w.tile_block;
                            winograd_gemm_chunk<Ops>(w.points + point * w.point_stride + t, u, s.in_channels,
                                                     m + t, w.tile_block);
                        }
                    }
                }
                const int first = std::max(oc_begin, group * kWinogradOcBlock);
                const int last = std::min({oc_end, (group + blocks) * kWinogradOcBlock, s.out_channels});
                for (int oc = first; oc < last; ++oc) {
                    winograd_output_block<Ops>(s, w, oc - group * kWinogradOcBlock, bias ? bias[oc] : 0.f,
                                               output + oc * s.out_plane(), ty, tx, tiles);
                }
            }
        }
    }
}

}  // namespace
}  // namespace animegan::kernels
