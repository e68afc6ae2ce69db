/*
 * The CPUID controller (given code: students write cpuid_emulate in
 * cpuid.c, which runs at CPL 3 through an upcall, kev/upcall.h). On a
 * CPUID exit it calls cpuid_emulate, takes the guest's registers back and,
 * when it returned vmexit_continue(), moves the guest's RIP past the cpuid
 * (VM_EXIT_INSTRUCTION_LEN bytes), as the hypercall controller does past
 * vmcall: in project 2 the given controllers move RIP, students never do.
 * Whatever goes wrong stops the VM with a message naming the leaf; nothing a
 * guest asks stops the host.
 */
#include "project2/controller.h"
#include "project2/cpuid.h"
#include "kev/upcall.h"

static struct vmexit_result cpuid_ctl_handle(struct vmexit_controller *self, struct vcpu_state *s,
                                             union exit_reason reason)
{
    if (reason.basic != EXIT_REASON_CPUID)
        return vmexit_pass();
    uint32_t leaf = (uint32_t)s->regs.rax, subleaf = (uint32_t)s->regs.rcx;

    user_frame_reset();
    uint64_t us = upcall_push_vcpu(s);
    struct user_result u = user_call(cpuid_emulate, us, 0, 0, 0);
    if (u.status != USER_RETURNED)
        return upcall_stopped(s, &u);
    upcall_pull_regs(s, us);
    struct vmexit_result r = vmexit_result_from(u.ret[0], u.ret[1]);
    if (vm_stopped(s->vm))
        return r; /* cpuid_emulate stopped it (vm_stop): it stays stopped */
    if (r.action != VMEXIT_CONTINUE)
        return vm_stop(s->vm, KEV_EINVAL, "cpuid_emulate() returned %s for CPUID(eax=0x%x, "
                       "ecx=0x%x): every leaf has an answer; return vmexit_continue()",
                       vmexit_action_name(r.action), leaf, subleaf);
    enum kev_error e = vmcs_forward_rip(&s->vmcs);
    if (e != KEV_OK)
        return vm_stop(s->vm, e, "after CPUID(eax=0x%x, ecx=0x%x): moving RIP past cpuid: %s", leaf,
                       subleaf, kev_strerror(e));
    return r;
}

void cpuid_controller_init(struct vmexit_controller *c, struct printer *out)
{
    *c = (struct vmexit_controller){.name = "cpuid", .handle = cpuid_ctl_handle, .data = out};
}
