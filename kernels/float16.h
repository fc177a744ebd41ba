// IEEE 754 binary16 <-> binary32, the reference conversions: float_to_half rounds to nearest even, overflows
// to inf and keeps NaNs NaN; half_to_float is exact for every input (subnormals, infinities and NaN payloads
// included). Half-precision weight files (weights/) and the kernels' float16 activation storage share them,
// and the SIMD tables must agree with them to the bit (F16C's and NEON's conversions round the same way).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace animegan::kernels {

namespace detail {
// Rounds value >> shift to nearest, ties to even. shift is in 1..31.
inline uint32_t shift_round_even(uint32_t value, int shift) {
    const uint32_t quotient = value >> shift;
    const uint32_t remainder = value & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    return quotient + (remainder > half || (remainder == half && (quotient & 1)) ? 1 : 0);
}
}  // namespace detail

inline uint16_t float_to_half(float value) {
    uint32_t bits;
    std::memcpy(&bits, &value, sizeof(bits));
    const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
    const uint32_t magnitude = bits & 0x7fffffff;
    if (magnitude > 0x7f800000) {  // NaN: force the quiet bit so a payload in the dropped low bits stays NaN
        return static_cast<uint16_t>(sign | 0x7e00 | ((magnitude >> 13) & 0x3ff));
    }
    if (magnitude >= 0x47800000) return sign | 0x7c00;  // >= 65536 (or inf): beyond any rounding to 65504
    if (magnitude >= 0x38800000) {                      // >= 2^-14: normal half
        // Rebias the exponent (127 -> 15) in place; a rounding carry may ripple into the exponent, which is
        // exactly right, up to and including overflow to inf for [65520, 65536).
        return static_cast<uint16_t>(sign | detail::shift_round_even(magnitude - (112u << 23), 13));
    }
    // Subnormal half: value = mantissa * 2^-24. The float's 24-bit significand is shifted down so that its
    // unit becomes 2^-24; a carry out of the top yields 0x400, the smallest normal, also correct.
    const int exponent = std::max(1, static_cast<int>(magnitude >> 23));
    const uint32_t significand = (magnitude & 0x7fffff) | (magnitude >> 23 ? 0x800000 : 0);
    const int shift = 126 - exponent;
    if (shift > 24) return sign;  // below 2^-25 (half the smallest subnormal): rounds to zero
    return static_cast<uint16_t>(sign | detail::shift_round_even(significand, shift));
}

inline float half_to_float(uint16_t half) {
    const uint32_t sign = static_cast<uint32_t>(half & 0x8000) << 16;
    const uint32_t exponent = (half >> 10) & 0x1f;
    const uint32_t mantissa = half & 0x3ff;
    uint32_t bits;
    if (exponent == 0x1f) {
        bits = sign | 0x7f800000 | (mantissa << 13);  // inf, or NaN keeping its payload
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else {
        const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;  // zero or subnormal, exact
        std::memcpy(&bits, &magnitude, sizeof(bits));
        bits |= sign;
    }
    float result;
    std::memcpy(&result, &bits, sizeof(result));
    return result;
}

}  // namespace animegan::kernels
