/*
 * The hypercall controller (given code: students write resolve and handle
 * in hypercall.c). On a VMCALL exit it resolves the guest's registers,
 * handles the hypercall and, when the guest goes on, moves its RIP past
 * `vmcall`. Whatever goes wrong stops the VM with a message that names the
 * hypercall and the error; nothing a guest asks for stops the host.
 * Also the lookups made from the hypercall table.
 */
#include "project2/controller.h"
#include "project2/hypercall.h"
#include "kernel/printk.h"

static const struct {
    const char *name;
    int nargs;
} hypercalls[] = {
#define HC_ENTRY(nr, id, name, nargs) [nr] = {name, nargs},
    HYPERCALL_TABLE(HC_ENTRY)
#undef HC_ENTRY
};

const char *hypercall_name(uint64_t nr)
{
    return nr < ARRAY_SIZE(hypercalls) ? hypercalls[nr].name : NULL;
}

int hypercall_nargs(uint64_t nr)
{
    return hypercall_name(nr) ? hypercalls[nr].nargs : -1;
}

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

static struct vmexit_result hypercall_controller_handle(struct vmexit_controller *self,
                                                        struct vcpu_state *s,
                                                        union exit_reason reason)
{
    if (reason.basic != EXIT_REASON_VMCALL)
        return vmexit_pass();
    struct printer *out = self->data;
    uint64_t rax = s->regs.rax;

    struct hypercall hc;
    enum kev_error e = resolve(&s->regs, &hc);
    if (e != KEV_OK) {
        if (hypercall_name(rax) == NULL)
            return vm_stop(s->vm, e, "unknown hypercall number %lu (rax = 0x%lx)", rax, rax);
        return vm_stop(s->vm, e, "resolve() returned %s for hypercall %s (rax = %lu), which "
                       "the table has: only an unknown number is an error",
                       kev_error_name(e), hypercall_name(rax), rax);
    }
    char call[160];
    describe_call(&s->regs, hc.nr, call, sizeof(call));

    struct vmexit_result r = handle(s, &hc, out);
    switch (r.action) {
    case VMEXIT_CONTINUE:
        e = vmcs_forward_rip(&s->vmcs);
        if (e != KEV_OK)
            return vm_stop(s->vm, e, "after hypercall %s: moving RIP past vmcall: %s", call,
                           kev_strerror(e));
        return r;
    case VMEXIT_EXIT:
        return r;
    case VMEXIT_ERROR:
        if (r.error == KEV_OK)
            return vm_stop(s->vm, KEV_EINVAL,
                           "handle() returned hypercall_failed(KEV_OK) for hypercall %s: "
                           "KEV_OK is success, and success is vmexit_continue()", call);
        if (printer_full(out))
            return vm_stop(s->vm, r.error,
                           "hypercall %s failed: the guest printed more than the "
                           "PrinterProxy's capture holds (%d bytes)", call, PRINTER_CAPACITY);
        return vm_stop(s->vm, r.error, "hypercall %s failed: %s", call, kev_strerror(r.error));
    case VMEXIT_PASS:
        break;
    }
    return vm_stop(s->vm, KEV_EINVAL,
                   "handle() returned neither vmexit_continue(), vm_exit() nor "
                   "hypercall_failed() for hypercall %s (action %d)",
                   call, (int)r.action);
}

void hypercall_controller_init(struct vmexit_controller *c, struct printer *out)
{
    *c = (struct vmexit_controller){
        .name = "hypercall", .handle = hypercall_controller_handle, .data = out};
}
