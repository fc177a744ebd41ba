// Winograd convolution for dense stride-1 convolutions, in two variants that share everything but their
// transforms: F(4x4, 3x3) for the 3x3 layers and F(2x2, 7x7) for the 7x7 ones. Each block of m x m output
// pixels (a tile) comes from its a x a input patch d (a = m + r - 1) as Y = A^T [(G g G^T) . (B^T d B)] A, so
// the r x r taps over m x m pixels become a x a element-wise products: F(4x4, 3x3) does 36 instead of 144
// multiplies per channel pair (4x fewer), F(2x2, 7x7) 64 instead of 196 (3.1x fewer). The price is transforms
// whose cost grows with channels (not with channel pairs), and accuracy: the transforms scale values up
// before and after the sum over channels, so the error is a few 1e-6 per input channel on values in [-1, 1]
// (tests/test_kernels.cpp), some 10x the direct convolution's. F(2x2, 7x7) interpolates at 0, +-1, +-2,
// +-1/2 and infinity, the points of the widely used F(6x6, 3x3), so it shares that variant's input transform.
// F(6x6, 3x3) itself would save 5.06x on the 3x3 layers, but its larger transform constants cost roughly
// another decimal digit (Lavin & Gray 2016); not tried here.
//
// The layout, per call (a band of output rows the engine gives the kernel), with P = a * a points:
//   transformed weights U: [P][out blocks][in_channels][kWinogradOcBlock], made once at load time; the last
//                          block of output channels is padded with zeros.
//   per block of up to T tiles of one tile row (T from the channel count, see WinogradScratch):
//     input transform  -> V [P][in_channels][T]  (kept in L2 while every output block runs)
//     per group of kWinogradOcGroup output blocks:
//       P x (T / 16) x kWinogradOcGroup micro-kernel calls -> M [P][group's channels][T]  (L1 / L2)
//       output transform + bias -> the output rows
// The GEMM's micro-kernel keeps 6 output channels x 16 tiles of one of the points in registers over all
// input channels, like the direct convolution's 6 x 16 pixel block; its weights are 6 consecutive floats per
// input channel and its inputs 16 consecutive floats, so both stream through unit-stride loads. A group's
// blocks run back to back on the same 16 tiles, so that panel of V is read from L2 once per group, not once
// per block. The weights stream from L3 once per tile block (all of U outgrows L2 at 128 channels), so the
// micro-kernel prefetches them ahead, as the input transform does the next channel's input rows. Outputs
// larger than the caches are written with non-temporal stores (kernels/streamed_output.h).
//
// Where the time goes (animegan_bench, one thread on a Zen 4 with 1 MiB L2, 512x512 network shapes, with
// parts of the work skipped): the GEMM alone runs at 89-94% of the FMA peak (128x128 128->128 channels
// 11.3 ms, 256x256 128->128 44.2 ms, 512x512 128->64 87.8 ms, the 7x7 512x512 64->32 164 ms). With every
// point reading one L2-resident point's weights instead of streaming U it was only 0-4% faster (11.4 -> 11.0,
// 45.5 -> 43.6, 87.4 -> 87.5, 164 -> 159 ms): the most that reusing U over more tiles (longer tile blocks,
// channel chunks) could win. The transforms take the rest, 25-35% of a layer, and wait on memory more than
// they compute: reading the input from a cached plane instead saved 21 of the 512x512 layers' 46-80 ms of
// transforms, writing the output to one instead 4-9 ms (the part non-temporal stores recovered); the
// scattered stores of V cost nothing measurable. Also tried and not kept (no faster within noise, or slower):
// prefetching input rows two channels ahead, groups of 2 or 3 blocks, bands of 8 or 32 rows in the engine,
// tile blocks twice as large (e2e 1069 against 1055 ms), walking a band's tile blocks column by column
// (512x512 128->64: 137 against 124 ms), 256-bit non-temporal stores in address order, other locality hints
// for the weights' prefetch, and running the 2-channel last blocks (32 = 5 x 6 + 2) two points per call. Such
// a block takes about twice its share of the 7x7 layer (skipping it saved 21 of 235 ms), but twice the
// accumulators did not help, so the FMA latency is not why.
//
// Every output element is bias + the same arithmetic whatever channel range, band or thread computes it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "kernels/kernels.h"
#include "kernels/outer_product.h"
#include "kernels/streamed_output.h"

namespace animegan::kernels {

constexpr int kWinogradOcBlock = 6;  // output channels per weight block and micro-kernel call
constexpr int kWinogradOcGroup = 4;  // weight blocks per pass over V: each V panel serves them from L1
constexpr int kWinogradGroupChannels = kWinogradOcBlock * kWinogradOcGroup;
constexpr int kWinogradChunk = 16;         // tiles per micro-kernel call
constexpr int kWinogradMaxTileBlock = 64;  // tiles per transformed input block, at most

// One input-transform row buffer: the m * tiles + r - 1 columns of a tile block, plus what the horizontal
// pass's loads read past the last tile of a chunk (at most 8 floats for both variants).
constexpr int winograd_row_floats(int tile) {
    return tile * kWinogradMaxTileBlock + 8;
}

// The ISA-independent parts, the weight transform (U) and the buffer sizes, are declared in kernels.h and
// defined in winograd.cpp.

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
    // row[4t + q] = lane t of columns[q], q < 4: the four output columns of consecutive tiles. kStream: the
    // ISA may write past the caches (row aligned to a vector).
    template <bool kStream>
    static void store_tile_columns(float* row, const float columns[4]) {
        std::copy(columns, columns + 4, row);
    }
    // row[2t] = lane t of even, row[2t + 1] = lane t of odd; kStream likewise.
    template <bool kStream>
    static void store_interleaved2(float* row, float even, float odd) {
        row[0] = even, row[1] = odd;
    }
    // Makes the kStream stores visible to other threads before the caller's next ones.
    static void fence_streamed_stores() {}
    // The n floats of in as its even elements, then its odd ones.
    static void deinterleave_row(const float* in, int n, float* out) {
        for (int i = 0; i < n; ++i) out[i % 2 * ((n + 1) / 2) + i / 2] = in[i];
    }
};

// F(4x4, 3x3): interpolation points 0, 1, -1, 2, -2 and infinity.
struct WinogradF4x3 {
    static constexpr int kTile = 4, kKernel = 3, kPatch = 6, kPoints = kPatch * kPatch;

    // B^T applied to six values along a column (or a row) of an input patch.
    template <typename Ops, typename Vec>
    static void input_1d(const Vec d[6], Vec out[6]) {
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
    static void output_1d(const Vec m[6], Vec out[4]) {
        const Vec sum12 = Ops::add(m[1], m[2]), diff12 = Ops::sub(m[1], m[2]);
        const Vec sum34 = Ops::add(m[3], m[4]), diff34 = Ops::sub(m[3], m[4]);
        out[0] = Ops::add(Ops::add(m[0], sum12), sum34);
        out[1] = Ops::fmadd(Ops::set1(2.f), diff34, diff12);
        out[2] = Ops::fmadd(Ops::set1(4.f), sum34, sum12);
        out[3] = Ops::add(Ops::fmadd(Ops::set1(8.f), diff34, diff12), m[5]);
    }

    // The horizontal pass reads the rows as they are: the ISA's de-interleaving loads give column k of L
    // consecutive tiles (4 floats apart) in lane order.
    static constexpr bool kDeinterleaved = false;
    template <typename Ops, typename Vec>
    static void load_columns(const float* row, int /*half*/, int t, Vec d[6]) {
        Ops::load_tile_columns(row + t * kTile, d);
    }
    template <typename Ops, bool kStream, typename Vec>
    static void store_row(float* row, const Vec r[4]) {
        Ops::template store_tile_columns<kStream>(row, r);
    }
};

// F(2x2, 7x7): interpolation points 0, 1, -1, 2, -2, 1/2, -1/2 and infinity.
struct WinogradF2x7 {
    static constexpr int kTile = 2, kKernel = 7, kPatch = 8, kPoints = kPatch * kPatch;

    // B^T applied to eight values, as pairs sharing their even and odd parts.
    template <typename Ops, typename Vec>
    static void input_1d(const Vec d[8], Vec out[8]) {
        const Vec c525 = Ops::set1(5.25f), m425 = Ops::set1(-4.25f), m25 = Ops::set1(-2.5f);
        out[0] = Ops::fmadd(c525, Ops::sub(d[4], d[2]), Ops::sub(d[0], d[6]));
        const Vec a = Ops::fmadd(m425, d[4], Ops::add(d[2], d[6]));
        const Vec b = Ops::fmadd(m425, d[3], Ops::add(d[1], d[5]));
        out[1] = Ops::add(a, b);
        out[2] = Ops::sub(a, b);
        const Vec c = Ops::fmadd(Ops::set1(0.25f), d[2], Ops::fmadd(Ops::set1(-1.25f), d[4], d[6]));
        const Vec e =
            Ops::fmadd(Ops::set1(0.5f), d[1], Ops::fmadd(m25, d[3], Ops::mul(Ops::set1(2.f), d[5])));
        out[3] = Ops::add(c, e);
        out[4] = Ops::sub(c, e);
        const Vec f = Ops::fmadd(Ops::set1(4.f), d[2], Ops::fmadd(Ops::set1(-5.f), d[4], d[6]));
        const Vec g =
            Ops::fmadd(Ops::set1(2.f), d[1], Ops::fmadd(m25, d[3], Ops::mul(Ops::set1(0.5f), d[5])));
        out[5] = Ops::add(f, g);
        out[6] = Ops::sub(f, g);
        out[7] = Ops::fmadd(c525, Ops::sub(d[3], d[5]), Ops::sub(d[7], d[1]));
    }

    // A^T applied to eight values.
    template <typename Ops, typename Vec>
    static void output_1d(const Vec m[8], Vec out[2]) {
        const Vec diff12 = Ops::sub(m[1], m[2]), diff34 = Ops::sub(m[3], m[4]), diff56 = Ops::sub(m[5], m[6]);
        out[0] = Ops::add(Ops::add(Ops::add(m[0], m[1]), Ops::add(m[2], m[3])),
                          Ops::add(Ops::add(m[4], m[5]), m[6]));
        out[1] =
            Ops::add(Ops::fmadd(Ops::set1(2.f), diff34, diff12), Ops::fmadd(Ops::set1(0.5f), diff56, m[7]));
    }

    // Tiles are 2 columns apart, so the horizontal pass reads rows split into their even and odd columns
    // (half = where the odd ones start): column k of L consecutive tiles is then one unit-stride load.
    static constexpr bool kDeinterleaved = true;
    template <typename Ops, typename Vec>
    static void load_columns(const float* row, int half, int t, Vec d[8]) {
        for (int k = 0; k < 8; ++k) d[k] = Ops::load(row + k % 2 * half + t + k / 2);
    }
    template <typename Ops, bool kStream, typename Vec>
    static void store_row(float* row, const Vec r[2]) {
        Ops::template store_interleaved2<kStream>(row, r[0], r[1]);
    }
};

// The scratch a call carves up (winograd_scratch_floats adds the sizes up).
template <typename V>
struct WinogradScratch {
    static constexpr int kRowFloats = winograd_row_floats(V::kTile);
    static constexpr int kSplitRows = V::kDeinterleaved ? V::kPatch : 0;
    int tile_block;  // T: tiles per block, a multiple of kWinogradChunk
    // V's points are a padding cache line apart: with whole [channels][T] panels they would
    // be a multiple of 4 KiB apart, and the stores of one transformed patch would share an L1 set.
    size_t point_stride;
    float* points;         // V [P][point_stride]: [channels][T] each
    float* products;       // M [P][kWinogradGroupChannels][T]
    float* vertical_rows;  // the a rows of B^T d, kRowFloats each
    float* split_rows;     // the same split into even and odd columns (F(2x2, 7x7) only)
    float* zero_row;       // stands in for input rows below the band
    float* partial_row;    // output tiles cut by the right edge, before their valid columns are copied

    WinogradScratch(float* scratch, int channels)
        : tile_block(tiles_per_block(channels)), point_stride(point_floats(channels)) {
        points = scratch;
        products = points + V::kPoints * point_stride;
        vertical_rows = products + V::kPoints * kWinogradGroupChannels * tile_block;
        split_rows = vertical_rows + V::kPatch * kRowFloats;
        zero_row = split_rows + kSplitRows * kRowFloats;
        partial_row = zero_row + kRowFloats;
    }
    // V is re-read once per output group, so it should stay in the 512 KiB L2 (Zen 3; 1 MiB and more on other
    // current cores) next to the weights streaming through: about 288 KiB. Measured for F(4x4, 3x3) with 16,
    // 32 and 64 tiles: at 128 channels 64 tiles (1.2 MB) were clearly slower, the rest was within this
    // machine's noise. Wide layers get the minimum, one micro-kernel chunk.
    static int tiles_per_block(int channels) {
        const int tiles = 36 * 2048 / V::kPoints / std::max(channels, 1) / kWinogradChunk * kWinogradChunk;
        return std::clamp(tiles, kWinogradChunk, kWinogradMaxTileBlock);
    }
    static size_t point_floats(int channels) { return size_t(channels) * tiles_per_block(channels) + 16; }
    static size_t floats(int channels) {
        return V::kPoints * point_floats(channels) +
               V::kPoints * kWinogradGroupChannels * tiles_per_block(channels) +
               (V::kPatch + kSplitRows + 2) * kRowFloats;
    }
};

// V for `tiles` tiles of tile row `tile_y` starting at tile `tile_x`, all input channels; tiles past `tiles`
// up to `padded_tiles` (the micro-kernel's chunks) come out as zeros. Input rows and columns past the band
// read as zeros: they only feed outputs past the edge, which are never stored.
template <typename V, typename Ops>
void winograd_input_block(const ConvShape& s, const float* input, int tile_y, int tile_x, int tiles,
                          int padded_tiles, const WinogradScratch<V>& w) {
    using Vec = typename Ops::Vec;
    constexpr int L = Ops::kLanes, a = V::kPatch, row_floats = WinogradScratch<V>::kRowFloats;
    const int x0 = tile_x * V::kTile, y0 = tile_y * V::kTile;
    const int columns = std::min(tiles * V::kTile + V::kKernel - 1, s.in_width - x0);
    // What the horizontal pass reads: 4 columns past the last tile's start for F(4x4, 3x3)'s de-interleaving
    // loads, the a - 2 columns of the last tile past its start for F(2x2, 7x7).
    const int filled = padded_tiles * V::kTile + (V::kDeinterleaved ? V::kKernel - 1 : 4);
    const size_t in_plane = s.in_plane();
    const int rows_in_band = std::clamp(s.in_height - y0, 0, a);
    // A channel's patch rows are runs of a few cache lines a plane apart, too short for the hardware
    // prefetchers to pick up: the next channel's are fetched while this one is transformed.
    auto prefetch_channel = [&](int c) {
        const float* first = input + c * in_plane + size_t(y0) * s.in_width + x0;
        for (int j = 0; j < rows_in_band; ++j)
            for (int x = 0; x < columns; x += 16) __builtin_prefetch(first + size_t(j) * s.in_width + x);
    };
    prefetch_channel(0);
    float* const points = w.points;  // locals: the stores below could alias w's fields otherwise
    const size_t point_stride = w.point_stride;
    const int tile_block = w.tile_block;
    for (int c = 0; c < s.in_channels; ++c) {
        if (c + 1 < s.in_channels) prefetch_channel(c + 1);
        const float* input_rows[a];
        for (int j = 0; j < a; ++j) {
            input_rows[j] =
                j < rows_in_band ? input + c * in_plane + size_t(y0 + j) * s.in_width + x0 : w.zero_row;
        }
        // Vertical pass, B^T d, over whole rows: unit-stride vectors across columns, then a scalar tail.
        auto vertical = [&](auto ops, int x) {
            using Lane = decltype(ops);
            typename Lane::Vec d[a], out[a];
            for (int j = 0; j < a; ++j) d[j] = Lane::load(input_rows[j] + x);
            V::template input_1d<Lane>(d, out);
            for (int i = 0; i < a; ++i) Lane::store(w.vertical_rows + i * row_floats + x, out[i]);
        };
        int x = 0;
        for (; x + L <= columns; x += L) vertical(Ops{}, x);
        for (; x < columns; ++x) vertical(ScalarWinogradOps{}, x);
        const float* rows = w.vertical_rows;
        for (int i = 0; i < a; ++i) {
            std::fill(w.vertical_rows + i * row_floats + columns, w.vertical_rows + i * row_floats + filled,
                      0.f);
            if constexpr (V::kDeinterleaved) {
                Ops::deinterleave_row(w.vertical_rows + i * row_floats, filled,
                                      w.split_rows + i * row_floats);
                rows = w.split_rows;
            }
        }
        // Horizontal pass, (B^T d) B, vectorized across tiles: lane l of column k is tile t + l's.
        for (int t = 0; t < padded_tiles; t += L) {
            for (int i = 0; i < a; ++i) {
                Vec d[a], out[a];
                V::template load_columns<Ops>(rows + i * row_floats, (filled + 1) / 2, t, d);
                V::template input_1d<Ops>(d, out);
                for (int j = 0; j < a; ++j)
                    Ops::store(points + (i * a + j) * point_stride + c * tile_block + t, out[j]);
            }
        }
    }
}

// M[point][j][t] = sum over c of U[point][block][c][j] * V[point][c][t] for 16 tiles and the block's first
// Rows output channels: Rows x 16 / L accumulators over every input channel. V's and M's rows are `stride`
// floats apart. Rows < 6 serves a layer's last block, so that 32 output channels cost 32 channels' work, not
// 36; an output element's sum is the same whatever Rows computes it.
template <typename Ops, int Rows>
inline void winograd_gemm_chunk(const float* points, const float* weights, int channels, float* products,
                                int stride) {
    using Vec = typename Ops::Vec;
    constexpr int NX = kWinogradChunk / Ops::kLanes;
    Vec acc[Rows][NX];
#pragma GCC unroll 8
    for (int j = 0; j < Rows; ++j)
#pragma GCC unroll 16
        for (int v = 0; v < NX; ++v) acc[j][v] = Ops::set1(0.f);
    // The weights stream from L3 once per tile block (2.4-4.7 MB per layer): prefetched 16 channels ahead.
    accumulate_outer_products<Ops, Rows, NX, 16>(acc, weights, kWinogradOcBlock, points, size_t(stride),
                                                 channels, [](const float* p, int) { return Ops::load(p); });
#pragma GCC unroll 8
    for (int j = 0; j < Rows; ++j)
#pragma GCC unroll 16
        for (int v = 0; v < NX; ++v) Ops::store(products + j * stride + v * Ops::kLanes, acc[j][v]);
}

// winograd_gemm_chunk for the first `rows` channels of a block, rounded up to an even count (fewer variants
// to compile; the output channel counts of the generator are all even).
template <typename Ops>
inline void winograd_gemm_rows(int rows, const float* points, const float* weights, int channels,
                               float* products, int stride) {
    if (rows > 4) {
        winograd_gemm_chunk<Ops, 6>(points, weights, channels, products, stride);
    } else if (rows > 2) {
        winograd_gemm_chunk<Ops, 4>(points, weights, channels, products, stride);
    } else {
        winograd_gemm_chunk<Ops, 2>(points, weights, channels, products, stride);
    }
}

// Y = A^T M A + bias for one output channel (row j of the group's products), written into the output rows of
// tile row tile_y; only pixels inside out_height x out_width are stored. stream: whole rows of vectors go
// past the caches (see conv_streams_output).
template <typename V, typename Ops>
void winograd_output_block(const ConvShape& s, const WinogradScratch<V>& w, int j, float bias,
                           float* out_plane_at, int tile_y, int tile_x, int tiles, bool stream) {
    using Vec = typename Ops::Vec;
    constexpr int L = Ops::kLanes, a = V::kPatch, m = V::kTile;
    const int y0 = tile_y * m, rows = std::min(m, s.out_height - y0);
    for (int t = 0; t < tiles; t += L) {
        Vec by_row[a][m];  // A^T applied along each row of the point block
        for (int i = 0; i < a; ++i) {
            Vec point[a];
            for (int k = 0; k < a; ++k)
                point[k] =
                    Ops::load(w.products + ((i * a + k) * kWinogradGroupChannels + j) * w.tile_block + t);
            V::template output_1d<Ops>(point, by_row[i]);
        }
        const int x = (tile_x + t) * m, valid = std::min(L * m, s.out_width - x);
        Vec result[m][m];  // [row][column] of each tile's outputs
        for (int q = 0; q < m; ++q) {
            Vec column[a], y[m];
            for (int i = 0; i < a; ++i) column[i] = by_row[i][q];
            V::template output_1d<Ops>(column, y);
            for (int p = 0; p < m; ++p) result[p][q] = Ops::add(y[p], Ops::set1(bias));
        }
        for (int p = 0; p < rows; ++p) {
            float* dst = out_plane_at + size_t(y0 + p) * s.out_width + x;
            if (valid == L * m && stream) {
                V::template store_row<Ops, true>(dst, result[p]);
            } else if (valid == L * m) {
                V::template store_row<Ops, false>(dst, result[p]);
            } else {
                V::template store_row<Ops, false>(w.partial_row, result[p]);
                std::memcpy(dst, w.partial_row, valid * sizeof(float));
            }
        }
    }
}

template <typename V, typename Ops>
void conv_winograd_variant(const ConvShape& s, const float* input, const float* transformed,
                           const float* bias, float* output, int oc_begin, int oc_end, float* scratch) {
    const WinogradScratch<V> w(scratch, s.in_channels);
    std::fill(w.zero_row, w.zero_row + WinogradScratch<V>::kRowFloats, 0.f);
    const int tiles_x = (s.out_width + V::kTile - 1) / V::kTile;
    const int tiles_y = (s.out_height + V::kTile - 1) / V::kTile;
    const int oc_blocks = (s.out_channels + kWinogradOcBlock - 1) / kWinogradOcBlock;
    const size_t weight_point_stride = size_t(oc_blocks) * s.in_channels * kWinogradOcBlock;
    const bool stream = conv_streams_output(s, output);
    for (int ty = 0; ty < tiles_y; ++ty) {
        for (int tx = 0; tx < tiles_x; tx += w.tile_block) {
            const int tiles = std::min(w.tile_block, tiles_x - tx);
            const int padded = (tiles + kWinogradChunk - 1) / kWinogradChunk * kWinogradChunk;
            winograd_input_block<V, Ops>(s, input, ty, tx, tiles, padded, w);
            const int block_end = (oc_end + kWinogradOcBlock - 1) / kWinogradOcBlock;
            for (int group = oc_begin / kWinogradOcBlock; group < block_end; group += kWinogradOcGroup) {
                const int blocks = std::min(kWinogradOcGroup, block_end - group);
                for (int point = 0; point < V::kPoints; ++point) {
                    for (int t = 0; t < padded; t += kWinogradChunk) {
                        for (int b = 0; b < blocks; ++b) {
                            const float* u = transformed + point * weight_point_stride +
                                             size_t(group + b) * s.in_channels * kWinogradOcBlock;
                            float* m = w.products +
                                       (point * kWinogradGroupChannels + b * kWinogradOcBlock) * w.tile_block;
                            winograd_gemm_rows<Ops>(oc_end - (group + b) * kWinogradOcBlock,
                                                    w.points + point * w.point_stride + t, u, s.in_channels,
                                                    m + t, w.tile_block);
                        }
                    }
                }
                const int first = std::max(oc_begin, group * kWinogradOcBlock);
                const int last = std::min({oc_end, (group + blocks) * kWinogradOcBlock, s.out_channels});
                for (int oc = first; oc < last; ++oc) {
                    winograd_output_block<V, Ops>(s, w, oc - group * kWinogradOcBlock, bias ? bias[oc] : 0.f,
                                                  output + oc * s.out_plane(), ty, tx, tiles, stream);
                }
            }
        }
    }
    if (stream) Ops::fence_streamed_stores();
}

// KernelTable::conv_winograd for an ISA: the variant for the shape's kernel (3 or 7).
template <typename Ops>
void conv_winograd(const ConvShape& s, const float* input, const float* transformed, const float* bias,
                   float* output, int oc_begin, int oc_end, float* scratch) {
    if (s.kernel_h == 7) {
        conv_winograd_variant<WinogradF2x7, Ops>(s, input, transformed, bias, output, oc_begin, oc_end,
                                                 scratch);
    } else {
        conv_winograd_variant<WinogradF4x3, Ops>(s, input, transformed, bias, output, oc_begin, oc_end,
                                                 scratch);
    }
}

}  // namespace
}  // namespace animegan::kernels
