// An index over a parsed TFLite graph for importers that recognize a known network by its data flow.
//
// QUANTIZE and DEQUANTIZE are looked through: every tensor has a root, the tensor it is a (re)quantized copy
// of, and every other operator is indexed by the roots it reads and writes. So int8 graphs, float16 weights
// behind DEQUANTIZE and plain float graphs are walked alike, and a constant is read from its root whatever
// its type. The importer marks operators as it accounts for them and can then ask whether anything is left.
#pragma once

#include <string>
#include <vector>

#include "weights/tflite_reader.h"

namespace animegan::weights {

class TfliteGraph {
  public:
    // `context` starts every error message, e.g. "hayao.tflite: AnimeGANv2 graph".
    TfliteGraph(const TfliteModel& model, std::string context);

    const TfliteModel& model() const { return m_; }
    const TfliteOperator& op(int op_index) const { return m_.operators.at(size_t(op_index)); }
    size_t op_count() const { return m_.operators.size(); }

    // Root of a tensor index; throws for an index outside the graph.
    int root(int tensor) const;
    // Root of the operator's input `slot`, of its single output; throw when absent.
    int input(int op_index, size_t slot) const;
    int output(int op_index) const;
    // The operator writing the tensor's root; -1 for graph inputs and constants.
    int producer(int tensor) const { return producer_[size_t(root(tensor))]; }
    // Operators (not QUANTIZE/DEQUANTIZE) reading the tensor's root, in execution order.
    const std::vector<int>& users(int tensor) const { return users_[size_t(root(tensor))]; }
    bool reads(int op_index, int tensor) const;

    const std::vector<int32_t>& shape(int tensor) const { return m_.tensors[size_t(root(tensor))].shape; }
    std::string name(int tensor) const { return "'" + m_.tensors[size_t(root(tensor))].name + "'"; }

    // A constant is a root with data and no producer; its values come widened or dequantized to float32.
    bool is_constant(int tensor) const;
    std::vector<float> constant(int tensor) const;

    void use(int op_index) { used_.at(size_t(op_index)) = true; }
    bool used(int op_index) const { return used_.at(size_t(op_index)); }
    // The first operator no one accounted for, or -1.
    int first_unused() const;

    [[noreturn]] void fail(int op_index, const std::string& why) const;
    [[noreturn]] void fail(const std::string& why) const;

  private:
    const TfliteModel& m_;
    std::string context_;
    std::vector<int> root_, producer_;
    std::vector<std::vector<int>> users_;
    std::vector<bool> used_;
};

// A convolution filter from TFLite's layout into PyTorch's: CONV_2D's [O, KH, KW, I] becomes [O, I, KH, KW],
// DEPTHWISE_CONV_2D's [1, KH, KW, C] becomes [C, 1, KH, KW].
std::vector<float> filter_to_oihw(const std::vector<float>& filter, int out, int in_per_group, int kernel,
                                  bool depthwise);

}  // namespace animegan::weights
