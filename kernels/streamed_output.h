// When a convolution writes its output with non-temporal stores: one rule for the kernels that do (the
// Winograd output transform, the stride-1 depthwise 3x3 convolution).
//
// A plain store first reads the line it overwrites (read for ownership); a non-temporal one writes past the
// caches without that read. That pays only when the output is too large for the last-level cache to hand to
// its reader (the engine's next passes over it: the norm statistics, then the next layer's gather), so that
// the read is wasted, and past half of a 32 MiB L3 (a band's rows, or a 128x128 layer's 8 MB, stay cached).
// Measured end to end at 512x512 (animegan_e2e, medians of 4-5 interleaved runs), Winograd alone: streaming
// the outputs past 16 MB took 1 thread from 1063 to 1034 ms and 2 threads from 559 to 532 ms; streaming every
// aligned output gave 1023 and 542 ms, only those past 40 MB (the 512x512 layers) 1037 and 543 ms.
//
// The other kernels, measured as a layer writing its whole output band by band followed by the engine's two
// readers (channel moments, then a gather of every band's rows), medians of 21-31 runs, 1 thread / 2 threads:
// - depthwise 3x3 over 512 channels at 128x128 (32 MB; memory-bound): writing 5.1 -> 3.3 ms / 3.2 -> 2.3 ms,
//   its readers unchanged (moments 1.5 ms, gather 5 ms either way). Kept. In the 512x512 forward (perf
//   samples of animegan_e2e, 6 interleaved pairs): its three such layers take 15.4 -> 8.7 ms at 1 thread,
//   the rest unchanged; at 2 threads 18.7 -> 11.4 ms of CPU, but the channel moments that read them 1.4 ms
//   more and the gathers 0-5 ms more (noisy), so the gain there is small.
// - the packed 1x1 GEMM, 256 -> 512 channels at 128x128 (32 MB): 39.8 -> 41.4 ms / 20.0 -> 21.0 ms; the 7x7
//   3 -> 32 first layer at 512x512 (32 MB, direct): 23.1 -> 23.3 ms / 11.7 -> 12.1 ms. Both run near the FMA
//   peak, so the line reads overlap the arithmetic, and streaming only made them slower: not used.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernels.h"

namespace animegan::kernels {

constexpr size_t kStreamOutputBytes = size_t(16) << 20;

// Whether the convolution of shape s writing at output (a band of rows of the whole output, whose planes are
// s.out_plane() floats apart) streams its whole-vector stores. They must be aligned: rows start on 32 bytes
// when the output, the rows and the planes do, and every kernel's full vectors start on multiples of 8
// floats within a row.
inline bool conv_streams_output(const ConvShape& s, const float* output) {
    const bool aligned =
        reinterpret_cast<uintptr_t>(output) % 32 == 0 && s.out_width % 8 == 0 && s.out_plane() % 8 == 0;
    return aligned && s.out_channels * s.out_plane() * sizeof(float) > kStreamOutputBytes;
}

}  // namespace animegan::kernels
