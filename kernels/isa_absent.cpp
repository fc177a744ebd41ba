// Null tables for the instruction sets this build does not contain, so dispatch.cpp needs no #ifdefs.
#include "kernels/isa_tables.h"

namespace animegan::kernels {

#ifndef ANIMEGAN_HAVE_AVX2
const KernelTable* avx2_kernels() {
    return nullptr;
}
#endif
#ifndef ANIMEGAN_HAVE_NEON
const KernelTable* neon_kernels() {
    return nullptr;
}
#endif

}  // namespace animegan::kernels
