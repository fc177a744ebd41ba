// MTCNN (Zhang et al. 2016, "Joint Face Detection and Alignment using Multi-task Cascaded Convolutional
// Networks"), as data: its three networks layer by layer, with the names of their tensors in our GGUF (one
// file holds all three, general.architecture "mtcnn"). The TFLite importer checks graphs against these tables
// and names tensors from them; net.cpp binds and runs the same tables.
//
// All three see RGB scaled as (pixel - 127.5) / 128. Every convolution has stride 1, no padding and a bias;
// PReLU (one slope per channel) follows each one except the heads. The released weights were trained on
// transposed images (the original is MATLAB, column-major); the importer transposes every kernel so that
// these networks take images the right way round.
#pragma once

#include <string>
#include <vector>

#include "weights/tensor_binder.h"  // TensorSpec

namespace animegan::mtcnn {

// One layer of a net's trunk: a convolution "<net>.<name>" (weight [out, in, kernel, kernel], bias [out])
// then PReLU (slopes "<net>.<name>.prelu" [out]), or, when kernel == 0, a max pool of pool x pool windows at
// stride 2, TF SAME (windows clipped at the bottom/right edge) or VALID.
struct Layer {
    const char* name;
    int in, out, kernel;
    int pool = 0;
    bool same = false;
};

// A head: a convolution "<net>.<name>" without activation on the trunk's output.
struct Head {
    const char* name;
    int out;
};

enum class NetKind { P, R, O };

struct NetSpec {
    NetKind kind;
    const char* name;   // "pnet", "rnet", "onet": the tensor prefix
    const char* title;  // "P-Net", for messages
    int input;          // side of the square input: P-Net's window (it runs on whole images), R/O-Net's crop
    std::vector<Layer> trunk;
    int trunk_channels;       // channels of the trunk's output, the heads' input
    std::vector<Head> heads;  // face/non-face logits [2], box regression [4], landmarks [10] (O-Net)
};

// P-Net, fully convolutional: [3, H, W] -> [2 and 4, ceil((H - 2) / 2) - 4, ceil((W - 2) / 2) - 4]; the
// output cell (x, y) sees the 12x12 input window at (2x, 2y).
//   conv1   3 -> 10, 3x3       [10, H - 2, W - 2]
//   pool1   2x2 s2 SAME        [10, ceil((H - 2) / 2), ...]
//   conv2  10 -> 16, 3x3       [16, ceil((H - 2) / 2) - 2, ...]
//   conv3  16 -> 32, 3x3       [32, ceil((H - 2) / 2) - 4, ...]
//   heads conv4-1 (2 logits), conv4-2 (4 box offsets): 1x1 on conv3
// R-Net on 24x24 crops:
//   conv1   3 -> 28, 3x3       [28, 22, 22]
//   pool1   3x3 s2 SAME        [28, 11, 11]
//   conv2  28 -> 48, 3x3       [48, 9, 9]
//   pool2   3x3 s2 VALID       [48, 4, 4]
//   conv3  48 -> 64, 2x2       [64, 3, 3]
//   conv4  64 -> 128, 3x3      [128, 1, 1]  (TF's fully connected layer, as a convolution over the whole map)
//   heads conv5-1 (2 logits), conv5-2 (4 box offsets): 1x1 on conv4
// O-Net on 48x48 crops:
//   conv1   3 -> 32, 3x3       [32, 46, 46]
//   pool1   3x3 s2 SAME        [32, 23, 23]
//   conv2  32 -> 64, 3x3       [64, 21, 21]
//   pool2   3x3 s2 VALID       [64, 10, 10]
//   conv3  64 -> 64, 3x3       [64, 8, 8]
//   pool3   2x2 s2 SAME        [64, 4, 4]
//   conv4  64 -> 128, 2x2      [128, 3, 3]
//   conv5 128 -> 256, 3x3      [256, 1, 1]  (fully connected, as above)
//   heads conv6-1 (2 logits), conv6-2 (4 box offsets), conv6-3 (10: five landmarks' x, then their y): 1x1
const std::vector<NetSpec>& nets();  // P, R, O in that order
const NetSpec& net_spec(NetKind kind);

// The weight of "<net>.<conv>" [out, in, kernel, kernel], its bias [out] and (trunk layers) PReLU slopes
// [out].
std::string weight_name(const NetSpec& net, const char* conv);
std::string bias_name(const NetSpec& net, const char* conv);
std::string prelu_name(const NetSpec& net, const char* conv);

// Every tensor of one net, in execution order; all three nets' tensors form the GGUF.
std::vector<weights::TensorSpec> tensor_specs(const NetSpec& net);
std::vector<weights::TensorSpec> tensor_specs();

}  // namespace animegan::mtcnn
