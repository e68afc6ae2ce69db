/*
 * Attack: power the machine off "successfully" (QEMU's isa-debug-exit at
 * 0xf4, Bochs's 0x8900) before any test can fail. Expected: a #GP in
 * student code for every test, score 0, one boot.
 */
#include "project2/hypercall.h"

enum kev_error hypercall_resolve(const struct guest_regs *regs, struct hypercall *hc)
{
    __asm__ volatile("outl %0, %1" ::"a"(0x10u), "Nd"((unsigned short)0xf4));
    return KEV_EINVAL;
}

struct vmexit_result hypercall_handle(struct vcpu_state *s, const struct hypercall *hc,
                                      struct printer *out)
{
    return vmexit_continue();
}
