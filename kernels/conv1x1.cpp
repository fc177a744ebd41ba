// The ISA-independent half of the packed 1x1 convolution: the weight layout, made once at load time. Every
// table reads the same layout, so packed weights suit whichever table runs.
#include "kernels/conv1x1.h"

namespace animegan::kernels {

size_t conv1x1_weight_floats(int out_channels, int in_channels) {
    const int panels = (out_channels + kConv1x1PanelRows - 1) / kConv1x1PanelRows;
    return size_t(panels) * kConv1x1PanelRows * in_channels;
}

// [oc][k] -> [oc / P][k][oc % P]; the missing rows of the last panel are zeros.
void conv1x1_pack_weights(const float* weight, int out_channels, int in_channels, float* packed) {
    constexpr int P = kConv1x1PanelRows;
    std::fill(packed, packed + conv1x1_weight_floats(out_channels, in_channels), 0.f);
    for (int oc = 0; oc < out_channels; ++oc) {
        for (int k = 0; k < in_channels; ++k)
            packed[(size_t(oc / P) * in_channels + k) * P + oc % P] = weight[size_t(oc) * in_channels + k];
    }
}

}  // namespace animegan::kernels
