// One MTCNN network bound to the weights of a GGUF file, and its forward pass.
#pragma once

#include <vector>

#include "animegan/animegan.h"
#include "engine/models/mtcnn/layout.h"
#include "engine/runtime/ops.h"
#include "weights/tensor_binder.h"

namespace animegan::mtcnn {

// The input every net sees: [3, H, W] with (pixel - 127.5) / 128, as the released nets were trained.
Tensor image_to_input(const Image& image);

class Net {
  public:
    // Binds the net's tensors (the binder checks each one's shape); the binder's file and converted storage
    // must outlive the net.
    Net(weights::TensorBinder& binder, const NetSpec& spec);

    const NetSpec& spec() const { return spec_; }

    // One tensor per head, in the spec's order: logits [2, h, w] (non-face, face), box offsets [4, h, w] and,
    // for O-Net, landmarks [10, 1, 1]. R-Net and O-Net take [3, 24, 24] and [3, 48, 48] (their maps are 1x1);
    // P-Net any [3, H, W] with H, W >= 12. Throws Error for another input shape.
    std::vector<Tensor> run(ops::Context& ctx, const Tensor& input) const;

  private:
    struct Conv {
        const float* weight = nullptr;  // [out, in, kernel, kernel]
        const float* bias = nullptr;    // [out]
        const float* slopes = nullptr;  // [out], PReLU; null on the heads
        int out = 0, kernel = 0;
    };
    Tensor conv(ops::Context& ctx, const Conv& c, const Tensor& x) const;

    const NetSpec& spec_;
    std::vector<Conv> trunk_;  // one per spec layer; pools have kernel == 0
    std::vector<Conv> heads_;
};

}  // namespace animegan::mtcnn
