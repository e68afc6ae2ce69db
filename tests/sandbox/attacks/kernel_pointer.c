/*
 * Attack: reach a kernel function through a pointer computed from an
 * address (the kernel's text starts at 1 MiB): no symbol, so no link
 * error. Ring 3 may not execute supervisor pages: a #PF on the fetch.
 * Expected: score 0, an instruction fetch fault named in every test.
 */
#include "project2/hypercall.h"

enum kev_error hypercall_resolve(const struct guest_regs *regs, struct hypercall *hc)
{
    void (*fn)(void) = (void (*)(void))(0x100000UL + 0x40);
    fn();
    return KEV_EINVAL;
}

struct vmexit_result hypercall_handle(struct vcpu_state *s, const struct hypercall *hc,
                                      struct printer *out)
{
    return vmexit_continue();
}
