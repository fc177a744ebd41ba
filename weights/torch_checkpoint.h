// Reads PyTorch checkpoints (the zip format torch.save has written since 1.6) without Python or libtorch.
// The pickled state dict is interpreted by a small pickle subset that recognises only the handful of globals
// torch.save emits for a dict of float tensors; anything else is rejected, never executed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace animegan::weights {

struct TorchTensor {
    std::string name;              // state-dict key, e.g. "block_c.1.layers.1.1.bias"
    std::vector<int64_t> shape;    // PyTorch order, outermost first
    std::vector<float> data;       // contiguous row-major copy, converted to f32
    bool source_was_half = false;  // storage was HalfStorage
};

// Reads a torch.save()'d state dict (zip format). Accepts a top-level dict of tensors, or a dict whose only
// tensor-holding value is such a dict (e.g. {"state_dict": {...}, "epoch": 3}). Non-tensor values are
// skipped. Tensors come back in the dict's order. Throws animegan::Error with a one-line message naming the
// file and what is wrong.
std::vector<TorchTensor> read_torch_checkpoint(const std::string& path);

// Same, from bytes already in memory (used by tests and fuzzing); `label` names the source in messages.
std::vector<TorchTensor> read_torch_checkpoint_bytes(const uint8_t* data, size_t size,
                                                     const std::string& label);

}  // namespace animegan::weights
