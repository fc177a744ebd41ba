// The ISA-independent half of the Winograd convolution: the weight transform, made once at load time, and the
// buffer sizes. Every table shares them, so a transformed weight set suits whichever table runs.
#include "kernels/winograd.h"

namespace animegan::kernels {

size_t winograd_weight_floats(int out_channels, int in_channels) {
    const int blocks = (out_channels + kWinogradOcBlock - 1) / kWinogradOcBlock;
    return size_t(kWinogradPoints) * blocks * kWinogradOcBlock * in_channels;
}

void winograd_transform_weights(const float* weight, int out_channels, int in_channels, float* transformed) {
    // G for F(4x4, 3x3) with interpolation points 0, 1, -1, 2, -2 and infinity (the B^T and A^T of
    // winograd.h).
    static const double G[6][3] = {{1.0 / 4, 0, 0},
                                   {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                   {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                   {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                   {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                   {0, 0, 1}};
    const int blocks = (out_channels + kWinogradOcBlock - 1) / kWinogradOcBlock;
    const size_t point_stride = size_t(blocks) * kWinogradOcBlock * in_channels;
    std::fill(transformed, transformed + kWinogradPoints * point_stride, 0.f);  // the padding channels
    for (int oc = 0; oc < out_channels; ++oc) {
        const int block = oc / kWinogradOcBlock, j = oc % kWinogradOcBlock;
        for (int ic = 0; ic < in_channels; ++ic) {
            const float* g = weight + (size_t(oc) * in_channels + ic) * 9;
            double gt[6][3];  // G g
            for (int i = 0; i < 6; ++i)
                for (int kx = 0; kx < 3; ++kx)
                    gt[i][kx] = G[i][0] * g[kx] + G[i][1] * g[3 + kx] + G[i][2] * g[6 + kx];
            for (int i = 0; i < 6; ++i) {
                for (int k = 0; k < 6; ++k) {
                    const double u = gt[i][0] * G[k][0] + gt[i][1] * G[k][1] + gt[i][2] * G[k][2];
                    const size_t at = (i * 6 + k) * point_stride +
                                      (size_t(block) * in_channels + ic) * kWinogradOcBlock + j;
                    transformed[at] = float(u);
                }
            }
        }
    }
}

size_t winograd_scratch_floats(const ConvShape& shape) {
    return WinogradScratch::floats(shape.in_channels);
}

}  // namespace animegan::kernels
