/*
 * The four registers CPUID answers in (Intel SDM Vol. 2A, "CPUID -- CPU
 * Identification"). The instruction itself is cpuid() in kernel/x86.h for
 * the kernel, and kev_cpuid() in kev/cpuid.h for code that may not include
 * kernel/x86.h (student code): this header holds the type alone, so it is
 * all a student file gets from the kernel by including kev/cpuid.h.
 */
#ifndef KERNEL_CPUID_H
#define KERNEL_CPUID_H

#include "kernel/types.h"

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

#endif
