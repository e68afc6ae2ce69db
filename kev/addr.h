/*
 * Guest addresses as distinct types. A guest-virtual address (gva_t) and a
 * guest-physical address (gpa_t) are both 64-bit numbers, and mixing them
 * up is the classic hypervisor bug; wrapping each in its own one-member
 * struct makes the compiler reject passing one where the other belongs.
 * Host-physical addresses stay paddr_t (kernel/types.h).
 *
 *   gva_t buf = GVA(s->regs.rdi);
 *   gpa_t gpa;
 *   probe_gva_to_gpa(s, buf, &gpa, NULL);
 *   printk("%lx -> %lx\n", buf.addr, gpa.addr);
 */
#ifndef KEV_ADDR_H
#define KEV_ADDR_H

#include "kernel/types.h"

typedef struct {
    uint64_t addr;
} gva_t;

typedef struct {
    uint64_t addr;
} gpa_t;

#define GVA(a) ((gva_t){.addr = (uint64_t)(a)})
#define GPA(a) ((gpa_t){.addr = (uint64_t)(a)})

#endif
