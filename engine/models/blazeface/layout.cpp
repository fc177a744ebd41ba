#include "engine/models/blazeface/layout.h"

namespace animegan::blazeface {

std::string blaze_block_name(int block) {
    return "backbone." + std::to_string(block);
}

std::vector<weights::TensorSpec> tensor_specs() {
    std::vector<weights::TensorSpec> specs;
    auto conv = [&](const std::string& prefix, int out, int in, int kernel) {
        specs.push_back({prefix + ".weight", {out, in, kernel, kernel}});
        specs.push_back({prefix + ".bias", {out}});
    };
    conv("backbone.0.conv", kBlazeStemChannels, 3, kBlazeStemKernel);
    for (int i = 0; i < kBlazeBlockCount; ++i) {
        const BlazeBlockSpec& b = kBlazeBlocks[i];
        conv(blaze_block_name(i + 1) + ".depthwise", b.in, 1, kBlazeDepthwiseKernel);
        conv(blaze_block_name(i + 1) + ".pointwise", b.out, b.in, 1);
    }
    for (const BlazeHeadSpec& h : kBlazeHeads) {
        conv(std::string(h.name) + ".classifier", h.anchors, h.channels, 1);
        conv(std::string(h.name) + ".regressor", h.anchors * kBlazeCoords, h.channels, 1);
    }
    return specs;
}

}  // namespace animegan::blazeface
