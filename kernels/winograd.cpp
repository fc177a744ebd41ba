// The ISA-independent half of the Winograd convolution: the weight transform, made once at load time, and the
// buffer sizes. Every table shares them, so a transformed weight set suits whichever table runs.
#include "kernels/winograd.h"

#include <vector>

namespace animegan::kernels {
namespace {

// G for F(4x4, 3x3), interpolation points 0, 1, -1, 2, -2 and infinity.
const double kG4x3[6][3] = {{1.0 / 4, 0, 0},
                            {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                            {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                            {1.0 / 24, 1.0 / 12, 1.0 / 6},
                            {1.0 / 24, -1.0 / 12, 1.0 / 6},
                            {0, 0, 1}};

// G for F(2x2, 7x7), points 0, 1, -1, 2, -2, 1/2, -1/2 and infinity: row i holds point p's powers p^k divided
// by the product of p's distances to the other finite points (the Lagrange denominators), so that B^T (in
// winograd.h) has small integer-like entries.
const double kG2x7[8][7] = {{1, 0, 0, 0, 0, 0, 0},
                            {-2.0 / 9, -2.0 / 9, -2.0 / 9, -2.0 / 9, -2.0 / 9, -2.0 / 9, -2.0 / 9},
                            {-2.0 / 9, 2.0 / 9, -2.0 / 9, 2.0 / 9, -2.0 / 9, 2.0 / 9, -2.0 / 9},
                            {1.0 / 90, 1.0 / 45, 2.0 / 45, 4.0 / 45, 8.0 / 45, 16.0 / 45, 32.0 / 45},
                            {1.0 / 90, -1.0 / 45, 2.0 / 45, -4.0 / 45, 8.0 / 45, -16.0 / 45, 32.0 / 45},
                            {32.0 / 45, 16.0 / 45, 8.0 / 45, 4.0 / 45, 2.0 / 45, 1.0 / 45, 1.0 / 90},
                            {32.0 / 45, -16.0 / 45, 8.0 / 45, -4.0 / 45, 2.0 / 45, -1.0 / 45, 1.0 / 90},
                            {0, 0, 0, 0, 0, 0, 1}};

int patch_side(int kernel) {
    return kernel == 7 ? WinogradF2x7::kPatch : WinogradF4x3::kPatch;
}

double g_entry(int kernel, int i, int k) {
    return kernel == 7 ? kG2x7[i][k] : kG4x3[i][k];
}

}  // namespace

size_t winograd_weight_floats(int kernel, int out_channels, int in_channels) {
    const int blocks = (out_channels + kWinogradOcBlock - 1) / kWinogradOcBlock;
    const int a = patch_side(kernel);
    return size_t(a) * a * blocks * kWinogradOcBlock * in_channels;
}

void winograd_transform_weights(int kernel, const float* weight, int out_channels, int in_channels,
                                float* transformed) {
    const int r = kernel, a = patch_side(kernel);
    const int blocks = (out_channels + kWinogradOcBlock - 1) / kWinogradOcBlock;
    const size_t point_stride = size_t(blocks) * kWinogradOcBlock * in_channels;
    std::fill(transformed, transformed + size_t(a) * a * point_stride, 0.f);  // the padding channels
    std::vector<double> gg(size_t(a) * r);                                    // G g
    for (int oc = 0; oc < out_channels; ++oc) {
        const int block = oc / kWinogradOcBlock, j = oc % kWinogradOcBlock;
        for (int ic = 0; ic < in_channels; ++ic) {
            const float* g = weight + (size_t(oc) * in_channels + ic) * r * r;
            for (int i = 0; i < a; ++i) {
                for (int kx = 0; kx < r; ++kx) {
                    double sum = 0;
                    for (int ky = 0; ky < r; ++ky) sum += g_entry(kernel, i, ky) * g[ky * r + kx];
                    gg[size_t(i) * r + kx] = sum;
                }
            }
            for (int i = 0; i < a; ++i) {
                for (int k = 0; k < a; ++k) {
                    double u = 0;
                    for (int kx = 0; kx < r; ++kx) u += gg[size_t(i) * r + kx] * g_entry(kernel, k, kx);
                    const size_t at = (i * a + k) * point_stride +
                                      (size_t(block) * in_channels + ic) * kWinogradOcBlock + j;
                    transformed[at] = float(u);
                }
            }
        }
    }
}

size_t winograd_scratch_floats(const ConvShape& shape) {
    return shape.kernel_h == 7 ? WinogradScratch<WinogradF2x7>::floats(shape.in_channels)
                               : WinogradScratch<WinogradF4x3>::floats(shape.in_channels);
}

}  // namespace animegan::kernels
