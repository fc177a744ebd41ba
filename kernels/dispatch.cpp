// Chooses the kernel table once per process. CPU features come from CPUID *and* XGETBV: a CPU can report
// AVX2 while the OS does not save the ymm registers, and then those instructions fault.
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/isa_tables.h"
#include "kernels/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace animegan::kernels {
namespace {

// AVX2, FMA and F16C, with the OS saving the xmm and ymm state.
bool cpu_runs_avx2_fma() {
#if defined(__x86_64__) || defined(__i386__)
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
    const bool fma = ecx & (1u << 12), osxsave = ecx & (1u << 27), avx = ecx & (1u << 28);
    const bool f16c = ecx & (1u << 29);
    if (!(osxsave && avx && f16c)) return false;
    unsigned xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    const bool os_saves_ymm = (xcr0_lo & 0x6) == 0x6;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    const bool avx2 = ebx & (1u << 5);
    return os_saves_ymm && avx2 && fma;
#else
    return false;
#endif
}

const KernelTable& choose_table() {
    const KernelTable* tables[8];
    const int count = available_kernel_tables(tables, 8);
    const char* forced = std::getenv("ANIMEGAN_ISA");
    if (!forced || !*forced) return *tables[count - 1];
    for (int i = 0; i < count; ++i) {
        if (std::strcmp(tables[i]->isa, forced) == 0) return *tables[i];
    }
    std::string names;
    for (int i = 0; i < count; ++i) names += std::string(i ? ", " : "") + tables[i]->isa;
    throw std::runtime_error("ANIMEGAN_ISA=" + std::string(forced) +
                             " is not available on this CPU/build (available: " + names + ")");
}

}  // namespace

int available_kernel_tables(const KernelTable** tables, int capacity) {
    static const bool avx2_fma = cpu_runs_avx2_fma();
    int count = 0;
    auto add = [&](const KernelTable* t) {
        if (t && count < capacity) tables[count++] = t;
    };
    add(&scalar_kernels());
    if (avx2_fma) add(avx2_kernels());
    add(neon_kernels());
    return count;
}

const KernelTable& active_kernels() {
    static const KernelTable& table = choose_table();
    return table;
}

}  // namespace animegan::kernels
