// Per-ISA kernel tables. Each is defined in a source file compiled with that ISA's flags, and returns null
// when the build does not contain it (other architecture, or compiler without support); dispatch.cpp only
// calls the ones the running CPU supports.
#pragma once

#include "kernels/kernels.h"

namespace animegan::kernels {

const KernelTable* avx2_kernels();
const KernelTable* avx512_kernels();
const KernelTable* neon_kernels();

}  // namespace animegan::kernels
