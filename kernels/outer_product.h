// The register-blocked inner loop both GEMM-shaped kernels run (the 1x1 convolution, kernels/conv1x1.h, and
// the Winograd convolution's per-point products, kernels/winograd.h): for each of `depth` steps, NX vectors
// of the right-hand operand are loaded once and every one of Rows broadcast weights is multiplied into them,
// so Rows x NX accumulators stay in registers. Ops as in kernels/direct_conv.h.
#pragma once

#include <cstddef>

namespace animegan::kernels {
namespace {  // each ISA's source file compiles its own copy with its own flags (see direct_conv.h)

// acc[j][v] += weights[k * weight_step + j] * load(points + k * point_step + v * kLanes, v) for k in [0,
// depth), in order of k, so every accumulator is the same FMA chain whatever calls it. Prefetches the weights
// kPrefetchSteps steps ahead (0: none) for callers whose weights stream from far away.
template <typename Ops, int Rows, int NX, int kPrefetchSteps = 0, typename Load>
inline void accumulate_outer_products(typename Ops::Vec (&acc)[Rows][NX], const float* weights,
                                      size_t weight_step, const float* points, size_t point_step, int depth,
                                      Load&& load) {
    using Vec = typename Ops::Vec;
    for (int k = 0; k < depth; ++k, weights += weight_step, points += point_step) {
        if constexpr (kPrefetchSteps > 0) __builtin_prefetch(weights + kPrefetchSteps * weight_step);
        Vec x[NX];
#pragma GCC unroll 16
        for (int v = 0; v < NX; ++v) x[v] = load(points + v * Ops::kLanes, v);
#pragma GCC unroll 8
        for (int j = 0; j < Rows; ++j) {
            const Vec w = Ops::broadcast(weights + j);
#pragma GCC unroll 16
            for (int v = 0; v < NX; ++v) acc[j][v] = Ops::fmadd(w, x[v], acc[j][v]);
        }
    }
}

}  // namespace
}  // namespace animegan::kernels
