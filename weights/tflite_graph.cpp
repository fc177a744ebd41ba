#include "weights/tflite_graph.h"

#include <algorithm>

#include "animegan/error.h"

namespace animegan::weights {
namespace {

bool is_requantize(const TfliteOperator& op) {
    return op.op == "QUANTIZE" || op.op == "DEQUANTIZE";
}

}  // namespace

TfliteGraph::TfliteGraph(const TfliteModel& model, std::string context)
    : m_(model), context_(std::move(context)) {
    const size_t n = m_.tensors.size();
    root_.resize(n);
    for (size_t t = 0; t < n; ++t) root_[t] = int(t);
    producer_.assign(n, -1);
    users_.resize(n);
    used_.assign(m_.operators.size(), false);
    // Operators come in execution order, so a requantized copy's source has its root already.
    for (size_t i = 0; i < m_.operators.size(); ++i) {
        const TfliteOperator& o = m_.operators[i];
        if (is_requantize(o)) {
            if (o.inputs.size() != 1 || o.outputs.size() != 1 || o.inputs[0] < 0 || o.outputs[0] < 0) {
                fail(int(i), "malformed");
            }
            root_[size_t(o.outputs[0])] = root_[size_t(o.inputs[0])];
            used_[i] = true;
            continue;
        }
        for (int32_t t : o.inputs) {
            if (t < 0) continue;  // an optional input left out
            std::vector<int>& readers = users_[size_t(root_[size_t(t)])];
            if (std::find(readers.begin(), readers.end(), int(i)) == readers.end()) readers.push_back(int(i));
        }
        for (int32_t t : o.outputs)
            if (t >= 0) producer_[size_t(t)] = int(i);
    }
}

int TfliteGraph::root(int tensor) const {
    if (tensor < 0 || size_t(tensor) >= root_.size()) {
        fail("tensor index " + std::to_string(tensor) + " out of range");
    }
    return root_[size_t(tensor)];
}

int TfliteGraph::input(int op_index, size_t slot) const {
    const TfliteOperator& o = op(op_index);
    if (slot >= o.inputs.size() || o.inputs[slot] < 0)
        fail(op_index, "input " + std::to_string(slot) + " missing");
    return root(o.inputs[slot]);
}

int TfliteGraph::output(int op_index) const {
    const TfliteOperator& o = op(op_index);
    if (o.outputs.size() != 1 || o.outputs[0] < 0) fail(op_index, "one output expected");
    return root(o.outputs[0]);
}

bool TfliteGraph::reads(int op_index, int tensor) const {
    const int r = root(tensor);
    for (int32_t t : op(op_index).inputs)
        if (t >= 0 && root(t) == r) return true;
    return false;
}

bool TfliteGraph::is_constant(int tensor) const {
    const int t = root(tensor);
    const int buffer = m_.tensors[size_t(t)].buffer;
    return producer_[size_t(t)] < 0 && buffer > 0 && size_t(buffer) < m_.buffers.size() &&
           m_.buffers[size_t(buffer)].second > 0;
}

std::vector<float> TfliteGraph::constant(int tensor) const {
    if (!is_constant(tensor)) fail(name(tensor) + " is not a constant");
    return m_.tensor_as_float(root(tensor));
}

int TfliteGraph::first_unused() const {
    const auto it = std::find(used_.begin(), used_.end(), false);
    return it == used_.end() ? -1 : int(it - used_.begin());
}

void TfliteGraph::fail(int op_index, const std::string& why) const {
    throw Error(context_ + ": operator #" + std::to_string(op_index) + " " + op(op_index).op + ": " + why);
}

void TfliteGraph::fail(const std::string& why) const {
    throw Error(context_ + ": " + why);
}

std::vector<float> filter_to_oihw(const std::vector<float>& filter, int out, int in_per_group, int kernel,
                                  bool depthwise) {
    std::vector<float> oihw(filter.size());
    for (int o = 0; o < out; ++o)
        for (int i = 0; i < in_per_group; ++i)
            for (int y = 0; y < kernel; ++y)
                for (int x = 0; x < kernel; ++x) {
                    const size_t from = depthwise
                                            ? (size_t(y) * kernel + x) * out + o
                                            : ((size_t(o) * kernel + y) * kernel + x) * in_per_group + i;
                    oihw[((size_t(o) * in_per_group + i) * kernel + y) * kernel + x] = filter.at(from);
                }
    return oihw;
}

}  // namespace animegan::weights
