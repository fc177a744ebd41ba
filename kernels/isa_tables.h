// Per-ISA kernel tables. Each is defined in a source file compiled with that ISA's flags; on other
// architectures isa_absent.cpp defines it as returning null. dispatch.cpp only calls the ones the running CPU
// supports.
#pragma once

#include "kernels/kernels.h"

namespace animegan::kernels {

const KernelTable* avx2_kernels();
const KernelTable* neon_kernels();

}  // namespace animegan::kernels
