/*
 * Attack: overwrite the kernel from plain C. The kernel is identity-mapped
 * at 1 MiB; its pages are supervisor-only. Expected: a #PF (a write to
 * kernel memory) in hypercall_resolve for every test, score 0.
 */
#include "project2/hypercall.h"

enum kev_error hypercall_resolve(const struct guest_regs *regs, struct hypercall *hc)
{
    for (volatile unsigned long *p = (unsigned long *)0x100000; p < (unsigned long *)0x200000; p++)
        *p = 0xcc;
    return KEV_EINVAL;
}

struct vmexit_result hypercall_handle(struct vcpu_state *s, const struct hypercall *hc,
                                      struct printer *out)
{
    return vmexit_continue();
}
