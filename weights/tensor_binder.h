// Binds a network's tensors to the data of a GGUF file by name: each network's loader lists what it needs as
// TensorSpecs (its state-dict names and PyTorch shapes), the binder checks each against the file and hands
// back float32 data, and at the end checks that the file holds nothing the network does not use.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "weights/gguf.h"

namespace animegan::weights {

struct TensorSpec {
    std::string name;
    std::vector<int64_t> shape;  // PyTorch order
};

class TensorBinder {
  public:
    // Widened copies of non-F32 tensors go to `converted`, which must outlive the bound pointers.
    TensorBinder(const GgufFile& file, std::vector<std::vector<float>>& converted)
        : file_(file), converted_(converted) {}

    // The float32 data of spec.name after checking that it exists with spec.shape: F32 tensors in place (the
    // mapping is aligned), others converted once. Throws Error naming the file and the tensor.
    const float* bind(const TensorSpec& spec);

    // Throws Error naming the first tensor of the file that was never bound: a file with extra tensors was
    // made for another variant of the network (running it would silently ignore weights).
    void check_all_bound() const;

  private:
    const GgufFile& file_;
    std::vector<std::vector<float>>& converted_;
    std::set<std::string> bound_;
};

}  // namespace animegan::weights
