// MediaPipe's BlazeFace face detector (the 128x128 "front" / "short range" model), as data: the backbone's
// blocks and the two detection heads, with the names of their tensors in our GGUF. The TFLite importer checks
// graphs against this table and names tensors from it; detector.cpp binds and runs the same table.
#pragma once

#include <string>
#include <vector>

#include "weights/tensor_binder.h"

namespace animegan::blazeface {

constexpr int kBlazeInputSize = 128;    // RGB in [-1, 1], square
constexpr int kBlazeStemChannels = 24;  // backbone.0: 5x5 stride-2 conv 3 -> 24, then ReLU
constexpr int kBlazeStemKernel = 5;
constexpr int kBlazeDepthwiseKernel = 3;
constexpr int kBlazeCoords = 16;  // per anchor: box centre x, y, width, height, then 6 keypoints (x, y)
constexpr int kBlazeKeypoints = 6;

// backbone.N for N = 1..16: depthwise 3x3 (stride 1 or 2) -> 1x1 conv in -> out. The residual is the block's
// input, through a 2x2 max-pool on stride-2 blocks, zero-padded from `in` to `out` channels; ReLU after the
// add.
struct BlazeBlockSpec {
    int in, out, stride;
};
inline constexpr BlazeBlockSpec kBlazeBlocks[] = {
    {24, 24, 1}, {24, 28, 1}, {28, 32, 2}, {32, 36, 1}, {36, 42, 1}, {42, 48, 2}, {48, 56, 1}, {56, 64, 1},
    {64, 72, 1}, {72, 80, 1}, {80, 88, 1}, {88, 96, 2}, {96, 96, 1}, {96, 96, 1}, {96, 96, 1}, {96, 96, 1},
};
constexpr int kBlazeBlockCount = int(sizeof(kBlazeBlocks) / sizeof(kBlazeBlocks[0]));

// A detection head: 1x1 convs on the output of backbone.<block>, a grid x grid map, `anchors` anchors per
// cell.
// "<name>.classifier" gives one logit per anchor, "<name>.regressor" kBlazeCoords values per anchor.
struct BlazeHeadSpec {
    const char* name;
    int block, channels, grid, anchors;
};
inline constexpr BlazeHeadSpec kBlazeHeads[] = {
    {"head16", 11, 88, 16, 2},  // stride 8: 16 x 16 x 2 = 512 anchors
    {"head8", 16, 96, 8, 6},    // stride 16: 8 x 8 x 6 = 384 anchors
};
constexpr int kBlazeAnchorCount = 16 * 16 * 2 + 8 * 8 * 6;  // 896

std::string blaze_block_name(int block);  // "backbone.<block>", 1-based; backbone.0 is the stem

// Every tensor of the detector, in execution order (stem, blocks, then the heads).
std::vector<weights::TensorSpec> tensor_specs();

}  // namespace animegan::blazeface
