// exp and tanh written once over an ISA's vector operations (Avx2Ops in avx2_kernels.cpp, NeonOps in
// neon_kernels.cpp), after Cephes' expf and tanhf. Every ISA runs the same operations in the same order, so
// the results depend only on the lane arithmetic, which IEEE fixes for each of them.
#pragma once

namespace animegan::kernels {

// An unnamed namespace gives every ISA's source file its own copy, compiled with its own flags (see
// direct_conv.h).
namespace {

// What Ops provides, beyond what direct_conv.h lists (all lane-wise):
//   add, sub, mul, div; fnmadd(a, b, c) = c - a * b, fused
//   round(v): to the nearest integer, ties to even
//   min(a, b): b where either is NaN, so a NaN in b passes through
//   abs(v); with_sign_of(magnitude, x): magnitude (non-negative) with the sign bit of x
//   select_below(x, limit, below, otherwise): below where x < limit, otherwise elsewhere
//   times_pow2(p, n): p * 2^n for integral n in [-126, 127], 2^n built in the exponent bits

// acc * x + c: one Horner step.
template <typename Ops>
inline typename Ops::Vec horner(typename Ops::Vec x, typename Ops::Vec acc, float c) {
    return Ops::fmadd(acc, x, Ops::set1(c));
}

// exp(x) for x in [-87, 88]: x = n ln2 + r with |r| <= ln2 / 2, ln2 split in two parts so r is exact
// enough, a degree-7 polynomial for exp(r), and 2^n built in the exponent bits. About 1 ulp.
template <typename Ops>
inline typename Ops::Vec exp_ps(typename Ops::Vec x) {
    using Vec = typename Ops::Vec;
    const Vec n = Ops::round(Ops::mul(x, Ops::set1(1.44269504088896341f)));
    Vec r = Ops::fnmadd(n, Ops::set1(0.693359375f), x);
    r = Ops::fnmadd(n, Ops::set1(-2.12194440e-4f), r);
    Vec p = Ops::set1(1.9875691500e-4f);
    p = horner<Ops>(r, p, 1.3981999507e-3f);
    p = horner<Ops>(r, p, 8.3334519073e-3f);
    p = horner<Ops>(r, p, 4.1665795894e-2f);
    p = horner<Ops>(r, p, 1.6666665459e-1f);
    p = horner<Ops>(r, p, 5.0000001201e-1f);
    p = Ops::fmadd(p, Ops::mul(r, r), Ops::add(r, Ops::set1(1.f)));
    return Ops::times_pow2(p, n);
}

// tanh: an odd polynomial below |x| = 0.625, 1 - 2 / (exp(2|x|) + 1) above, with the sign of x put back.
// exp's argument is capped at 88, where tanh is already 1 in float; min keeps a NaN, so NaN passes through.
// Checked on AVX2 against double tanh over all 2^32 floats: at most 8.1e-8 absolute error (7.6e-8 relative
// below 0.625).
template <typename Ops>
inline typename Ops::Vec tanh_ps(typename Ops::Vec x) {
    using Vec = typename Ops::Vec;
    const Vec one = Ops::set1(1.f);
    const Vec ax = Ops::abs(x);
    const Vec z = Ops::mul(ax, ax);
    Vec p = Ops::set1(-5.70498872745e-3f);
    p = horner<Ops>(z, p, 2.06390887954e-2f);
    p = horner<Ops>(z, p, -5.37397155531e-2f);
    p = horner<Ops>(z, p, 1.33314422036e-1f);
    p = horner<Ops>(z, p, -3.33332819422e-1f);
    const Vec small = Ops::fmadd(Ops::mul(p, z), ax, ax);
    const Vec e = exp_ps<Ops>(Ops::min(Ops::set1(88.f), Ops::add(ax, ax)));
    const Vec large = Ops::sub(one, Ops::div(Ops::set1(2.f), Ops::add(e, one)));
    return Ops::with_sign_of(Ops::select_below(ax, Ops::set1(0.625f), small, large), x);
}

}  // namespace
}  // namespace animegan::kernels
