/*
 * Attack: read the test's inputs from the kernel's command line (GRUB
 * leaves it in low memory; the kernel keeps a copy in its .bss) and print
 * them instead of the guest's buffer. Kernel memory is supervisor-only: a
 * #PF on the read. Expected: score 0, a read fault named in every test.
 */
#include "project2/hypercall.h"

enum kev_error hypercall_resolve(const struct guest_regs *regs, struct hypercall *hc)
{
    const volatile char *p = (const char *)0x100000;
    unsigned long sum = 0;
    for (unsigned long i = 0; i < 0x100000; i++)
        sum += p[i];
    return sum ? KEV_EINVAL : KEV_EHYPERCALL;
}

struct vmexit_result hypercall_handle(struct vcpu_state *s, const struct hypercall *hc,
                                      struct printer *out)
{
    return vmexit_continue();
}
