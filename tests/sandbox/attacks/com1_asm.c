/*
 * Attack: write the frames straight to COM1 with `out`, and power off
 * through the emulators' ports, with no framework function at all. Ring 3
 * has no I/O privilege: the first `out` is a #GP in student code.
 * Expected: score 0, every test failing with a #GP in hypercall_resolve.
 */
#include "project2/hypercall.h"

static void out_byte(unsigned short port, unsigned char v)
{
    __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

enum kev_error hypercall_resolve(const struct guest_regs *regs, struct hypercall *hc)
{
    for (const char *p = "@@ test end p2_halt_code pass\n"; *p; p++)
        out_byte(0x3f8, (unsigned char)*p);
    out_byte(0x8900, 'D');
    return KEV_EINVAL;
}

struct vmexit_result hypercall_handle(struct vcpu_state *s, const struct hypercall *hc,
                                      struct printer *out)
{
    return vmexit_continue();
}
