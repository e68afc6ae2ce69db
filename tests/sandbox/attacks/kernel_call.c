/*
 * Attack: call a kernel function directly (power_off(true) would end the
 * boot as a success). Student code links only against its API: the build
 * stops, naming the file and the function. Expected: the build fails with
 * "calls power_off(), which is not part of the API".
 */
#include "project2/hypercall.h"
#include "kernel/power.h"

enum kev_error hypercall_resolve(const struct guest_regs *regs, struct hypercall *hc)
{
    power_off(true);
}

struct vmexit_result hypercall_handle(struct vcpu_state *s, const struct hypercall *hc,
                                      struct printer *out)
{
    return vmexit_continue();
}
