// Coordinate maps shared by the kernels and by the engine's fused convolution input: where a padded or
// resized element comes from in the stored plane. One definition, so every path agrees to the bit.
#pragma once

#include <algorithm>

#include "kernels/kernels.h"

namespace animegan::kernels {

// Index into [0, n) for a coordinate of the padded plane (i may be < 0 or >= n); -1 for zero padding.
// Reflect mirrors without repeating the edge (PyTorch ReflectionPad2d, TF MirrorPad REFLECT).
inline int pad_source_index(int i, int n, PadMode mode) {
    if (i >= 0 && i < n) return i;
    switch (mode) {
        case PadMode::Reflect:
            return i < 0 ? -i : 2 * (n - 1) - i;
        case PadMode::Replicate:
            return i < 0 ? 0 : n - 1;
        case PadMode::Zero:
            break;
    }
    return -1;
}

// The two source indices and the weight of the second for output index dst of a bilinear resize.
struct ResizeTaps {
    int lo, hi;
    float frac;
};

inline ResizeTaps resize_taps(int dst, int in_size, int out_size, ResizeMode mode) {
    float src = 0.f;
    switch (mode) {
        case ResizeMode::AlignCorners:
            src = out_size > 1 ? float(dst) * (float(in_size - 1) / float(out_size - 1)) : 0.f;
            break;
        case ResizeMode::HalfPixel:
            src = std::max((float(dst) + 0.5f) * (float(in_size) / float(out_size)) - 0.5f, 0.f);
            break;
        case ResizeMode::TfLegacy:
            src = float(dst) * (float(in_size) / float(out_size));
            break;
    }
    const int lo = std::min(int(src), in_size - 1);
    return {lo, std::min(lo + 1, in_size - 1), src - float(lo)};
}

}  // namespace animegan::kernels
