// "[32, 3, 7, 7]": one spelling of a shape for every error message, whatever the integer type of its dims.
#pragma once

#include <string>
#include <vector>

namespace animegan::weights {

template <class Int>
std::string shape_string(const std::vector<Int>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

}  // namespace animegan::weights
