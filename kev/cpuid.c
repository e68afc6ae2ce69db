/*
 * kev_cpuid (kev/cpuid.h): pure code, compiled into the kernel and into the
 * user image, where student code calls it at CPL 3.
 */
#include "kev/cpuid.h"

struct cpuid_regs kev_cpuid(uint32_t leaf, uint32_t subleaf)
{
    return cpuid(leaf, subleaf);
}
