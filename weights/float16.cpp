// IEEE 754 binary16 <-> binary32 for the readers and writers of half-precision weights: the kernels'
// reference conversions (kernels/float16.h), which the float16 activation storage uses too.
#include "weights/float16.h"

#include "kernels/float16.h"

namespace animegan::weights {

uint16_t float_to_half(float value) {
    return kernels::float_to_half(value);
}

float half_to_float(uint16_t half) {
    return kernels::half_to_float(half);
}

}  // namespace animegan::weights
