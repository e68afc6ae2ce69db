/*
 * The hypercall controller (given code: students write hypercall_resolve
 * and hypercall_handle in hypercall.c, which run at CPL 3 through upcalls,
 * kev/upcall.h). On a VMCALL exit it resolves the guest's registers,
 * handles the hypercall and, when the guest goes on, moves its RIP past
 * `vmcall`. Whatever goes wrong stops the VM with a message that names the
 * hypercall and the error; nothing a guest asks for stops the host.
 */
#include "project2/controller.h"
#include "project2/hypercall.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kev/upcall.h"

/* "Print(0x700000, 0x10)": a hypercall with the registers of its arguments. */
static void describe_call(const struct guest_regs *r, uint64_t nr, char *buf, size_t size)
{
    const uint64_t args[] = {r->rdi, r->rsi, r->rdx, r->r10, r->r9, r->r8};
    const char *name = hypercall_name(nr);
    size_t n = (size_t)snprintf(buf, size, "%s(", name ? name : "?");
    for (int i = 0; i < hypercall_nargs(nr) && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s0x%lx", i ? ", " : "", args[i]);
    if (n < size)
        snprintf(buf + n, size - n, ")");
}

/* "Print(buf=0x700000, size=16)": what hypercall_resolve decoded. */
static void describe_decoded(const struct hypercall *hc, char *buf, size_t size)
{
    switch (hc->nr) {
    case HC_HALT_CPU:
        snprintf(buf, size, "HaltCpu(exit_code=%ld)", hc->halt_cpu.exit_code);
        return;
    case HC_PRINT:
        snprintf(buf, size, "Print(buf=0x%lx, size=%lu)", hc->print.buf.addr, hc->print.size);
        return;
    }
    snprintf(buf, size, "hypercall %d", (int)hc->nr);
}

/* Calls the student's hypercall_resolve; KEV_OK and *hc, or the VM stops. */
static bool resolve(struct vcpu_state *s, struct hypercall *hc, struct vmexit_result *stop)
{
    user_frame_reset();
    uint64_t uregs = user_push(&s->regs, sizeof(s->regs));
    uint64_t uhc = user_push(NULL, sizeof(*hc));
    struct user_result r = user_call(hypercall_resolve, uregs, uhc, 0, 0);
    if (r.status != USER_RETURNED) {
        *stop = upcall_stopped(s, &r);
        return false;
    }
    /* regs is const: hypercall_resolve() only reads. In the kernel a write
     * through a cast would change the guest's registers; here it would land
     * in a copy, unseen, so it is named instead. */
    struct guest_regs after;
    user_pull(&after, uregs, sizeof(after));
    if (memcmp(&after, &s->regs, sizeof(after)) != 0) {
        *stop = vm_stop(s->vm, KEV_EINVAL, "hypercall_resolve() changed the guest's registers "
                        "(regs is const: it may only read them)");
        return false;
    }
    enum kev_error e = (enum kev_error)(uint32_t)r.ret[0];
    uint64_t rax = s->regs.rax;
    if (e != KEV_OK) {
        if (hypercall_name(rax) == NULL)
            *stop = vm_stop(s->vm, e, "unknown hypercall number %lu (rax = 0x%lx); "
                            "hypercall_resolve() returned %s", rax, rax, kev_error_name(e));
        else
            *stop = vm_stop(s->vm, e, "hypercall_resolve() returned %s for hypercall %s (rax = "
                            "%lu), which the table has: only an unknown number is an error",
                            kev_error_name(e), hypercall_name(rax), rax);
        return false;
    }
    user_pull(hc, uhc, sizeof(*hc));
    if (hypercall_name(hc->nr) == NULL) {
        *stop = vm_stop(s->vm, KEV_EINVAL, "hypercall_resolve() returned KEV_OK but set hc->nr "
                        "to %d, which is no hypercall (rax = 0x%lx)", (int)hc->nr, rax);
        return false;
    }
    return true;
}

static struct vmexit_result hypercall_controller_handle(struct vmexit_controller *self,
                                                        struct vcpu_state *s,
                                                        union exit_reason reason)
{
    if (reason.basic != EXIT_REASON_VMCALL)
        return vmexit_pass();
    struct hypercall hc;
    struct vmexit_result r;
    if (!resolve(s, &hc, &r))
        return r;

    user_frame_reset();
    uint64_t us = upcall_push_vcpu(s);
    uint64_t uhc = user_push(&hc, sizeof(hc));
    uint64_t uout = user_handle(self->data, "printer");
    struct user_result u = user_call(hypercall_handle, us, uhc, uout, 0);
    if (u.status != USER_RETURNED)
        return upcall_stopped(s, &u);
    upcall_pull_regs(s, us);
    r = vmexit_result_from(u.ret[0], u.ret[1]);
    if (vm_stopped(s->vm))
        return r; /* hypercall_handle stopped it (vm_stop): whatever it returned, it stays stopped */

    char call[160], decoded[96];
    switch (r.action) {
    case VMEXIT_CONTINUE: {
        enum kev_error e = vmcs_forward_rip(&s->vmcs);
        if (e != KEV_OK) {
            describe_call(&s->regs, hc.nr, call, sizeof(call));
            return vm_stop(s->vm, e, "after hypercall %s: moving RIP past vmcall: %s", call,
                           kev_strerror(e));
        }
        return r;
    }
    case VMEXIT_EXIT:
        return r;
    case VMEXIT_ERROR:
    case VMEXIT_PASS:
        break;
    }
    describe_call(&s->regs, hc.nr, call, sizeof(call));
    describe_decoded(&hc, decoded, sizeof(decoded));
    return vm_stop(s->vm, KEV_EINVAL,
                   "hypercall_handle() returned neither vmexit_continue(), vm_exit() nor vm_stop() "
                   "for hypercall %s, decoded as %s (action %d)", call, decoded, (int)r.action);
}

void hypercall_controller_init(struct vmexit_controller *c, struct printer *out)
{
    *c = (struct vmexit_controller){
        .name = "hypercall", .handle = hypercall_controller_handle, .data = out};
}
