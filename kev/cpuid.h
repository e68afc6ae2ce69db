/*
 * CPUID for code that may not hold inline assembly (student files): the
 * instruction itself, as a function. CPUID is not privileged (it runs at
 * any CPL), so this is plain code in both images, the kernel's and the
 * user image (project2/project.mk lists kev/cpuid.c in ULIB_SHARED).
 * Intel SDM Vol. 2A, "CPUID -- CPU Identification".
 */
#ifndef KEV_CPUID_H
#define KEV_CPUID_H

#include "kernel/types.h"
#include "kernel/x86.h" /* struct cpuid_regs {eax, ebx, ecx, edx} */

/*
 * Executes CPUID with EAX = leaf and ECX = subleaf on this CPU and returns
 * the four registers it answered. Leaves without subleaves ignore subleaf.
 *
 *   struct cpuid_regs r = kev_cpuid(0, 0);   r.eax: the highest basic leaf
 */
struct cpuid_regs kev_cpuid(uint32_t leaf, uint32_t subleaf);

#endif
