// IEEE 754 binary16 conversions. float_to_half rounds to nearest even, overflows to inf and keeps NaNs NaN;
// half_to_float is exact for every input (subnormals, infinities and NaN payloads included).
#pragma once

#include <cstdint>

namespace animegan::weights {

uint16_t float_to_half(float value);
float half_to_float(uint16_t half);

}  // namespace animegan::weights
