// Chooses the kernel table once per process. CPU features come from CPUID *and* XGETBV: a CPU can report
// AVX-512 while the OS does not save the zmm registers, and then those instructions fault.
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

struct CpuFeatures {
    bool avx2_fma = false;
    bool avx512 = false;  // F + BW + DQ + VL, with the OS saving opmask and zmm state
};

CpuFeatures detect_cpu() {
    CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
    const bool fma = ecx & (1u << 12), osxsave = ecx & (1u << 27), avx = ecx & (1u << 28);
    if (!(osxsave && avx)) return f;
    unsigned xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    const bool os_saves_ymm = (xcr0_lo & 0x6) == 0x6;
    const bool os_saves_zmm = (xcr0_lo & 0xe6) == 0xe6;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return f;
    const bool avx2 = ebx & (1u << 5);
    const bool avx512 = (ebx & (1u << 16)) && (ebx & (1u << 17)) && (ebx & (1u << 30)) && (ebx & (1u << 31));
    f.avx2_fma = os_saves_ymm && avx2 && fma;
    f.avx512 = f.avx2_fma && os_saves_zmm && avx512;
#endif
    return f;
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
    static const CpuFeatures cpu = detect_cpu();
    int count = 0;
    auto add = [&](const KernelTable* t) {
        if (t && count < capacity) tables[count++] = t;
    };
    add(&scalar_kernels());
    if (cpu.avx2_fma) add(avx2_kernels());
    if (cpu.avx512) add(avx512_kernels());
    add(neon_kernels());
    (void)cpu;
    return count;
}

const KernelTable& active_kernels() {
    static const KernelTable& table = choose_table();
    return table;
}

}  // namespace animegan::kernels
