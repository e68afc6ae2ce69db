/*
 * The timer's controller (given code: students write timer.c, whose
 * functions run at CPL 3 through upcalls, kev/upcall.h). It handles three
 * kinds of exits and passes every other one on:
 *
 *   RDMSR/WRMSR of the LVT timer (0x832), IA32_TSC_DEADLINE (0x6e0) or EOI
 *     (0x80b): decodes ECX and EDX:EAX (Intel SDM Vol. 2B, "RDMSR" and
 *     "WRMSR"), calls timer_rdmsr() or timer_wrmsr(), and unless the student
 *     injected #GP (timer_gp) writes EDX:EAX for a read and moves RIP past
 *     the instruction (vmcs_forward_rip: the interruptibility state the exit
 *     saved stays, as kev/timer.h says);
 *   the deadline's (EXIT_REASON_PREEMPTION_TIMER, kev/timer.h): calls
 *     timer_expired();
 *   the interrupt window's (EXIT_REASON_INTERRUPT_WINDOW): nothing first.
 *
 * After each of them it calls timer_deliver(), which injects the pending
 * interrupt or opens the window; after an exit that injected #GP there is
 * no room for an interrupt at the next entry (one event per entry), so the
 * controller opens the window itself when one is pending. Whatever goes
 * wrong stops the VM with a message that names the MSR or the exit.
 */
#include "project4/controller.h"
#include "kernel/printk.h"
#include "kernel/user.h"
#include "kev/upcall.h"
#include "project4/vm.h"

#define GP_VECTOR 13 /* #GP (Vol. 3A, 7.15 "Exception and Interrupt Reference") */

static const char *msr_name(uint32_t msr)
{
    switch (msr) {
    case MSR_X2APIC_LVT_TIMER:
        return "the LVT timer (0x832)";
    case MSR_IA32_TSC_DEADLINE:
        return "IA32_TSC_DEADLINE (0x6e0)";
    case MSR_X2APIC_EOI:
        return "EOI (0x80b)";
    }
    return "an MSR";
}

/* A student function's answer: vmexit_continue() or its own vm_stop. */
static struct vmexit_result answer(struct vcpu_state *s, const struct user_result *u, const char *what)
{
    if (u->status != USER_RETURNED)
        return upcall_stopped(s, u);
    struct vmexit_result r = vmexit_result_from(u->ret[0], u->ret[1]);
    if (vm_stopped(s->vm) || r.action == VMEXIT_CONTINUE)
        return r; /* stopped by the student's vm_stop: it stays stopped */
    return vm_stop(s->vm, KEV_EINVAL, "%s returned %s: return vmexit_continue() (or timer_gp(s) "
                   "for a #GP), and vm_stop(s->vm, ...) to stop the VM", what, vmexit_action_name(r.action));
}

static struct vmexit_result deliver(struct vcpu_state *s, struct p4_timer *pt)
{
    user_frame_reset();
    uint64_t us = upcall_push_vcpu(s);
    uint64_t ut = user_push(&pt->t, sizeof(pt->t));
    int pending = pt->t.pending;
    struct user_result u = user_call(timer_deliver, us, ut, 0, 0);
    if (u.status == USER_RETURNED)
        user_pull(&pt->t, ut, sizeof(pt->t));
    pt->deliveries++;
    pt->injected += pending != TIMER_NONE && pt->t.pending == TIMER_NONE;
    return answer(s, &u, "timer_deliver()");
}

static bool window_open(void)
{
    return vmcs_read_diag(CPU_BASED_VM_EXEC_CONTROL) & CPU_BASED_INTR_WINDOW_EXITING;
}

static struct vmexit_result on_msr(struct vcpu_state *s, struct p4_timer *pt, bool write)
{
    uint32_t msr = (uint32_t)s->regs.rcx;
    uint64_t value = (s->regs.rdx << 32) | (uint32_t)s->regs.rax;
    char what[96];
    snprintf(what, sizeof(what), "%s of %s", write ? "timer_wrmsr()" : "timer_rdmsr()", msr_name(msr));
    pt->gp = false;
    user_frame_reset();
    uint64_t us = upcall_push_vcpu(s);
    uint64_t ut = user_push(&pt->t, sizeof(pt->t));
    uint64_t uv = user_push(NULL, sizeof(uint64_t));
    struct user_result u = write ? user_call(timer_wrmsr, us, ut, msr, value)
                                 : user_call(timer_rdmsr, us, ut, msr, uv);
    if (u.status == USER_RETURNED)
        user_pull(&pt->t, ut, sizeof(pt->t));
    struct vmexit_result r = answer(s, &u, what);
    if (r.action != VMEXIT_CONTINUE)
        return r;
    if (pt->gp) {
        /* The guest takes #GP at its instruction: RIP stays. The injection
         * holds this entry's one event, so a pending interrupt waits for
         * the window. */
        enum kev_error e = pt->t.pending != TIMER_NONE ? vcpu_interrupt_window(s, true) : KEV_OK;
        return e == KEV_OK ? vmexit_continue()
                           : vm_stop(s->vm, e, "opening the interrupt window failed");
    }
    if (!write) {
        uint64_t v;
        user_pull(&v, uv, sizeof(v));
        s->regs.rax = (uint32_t)v; /* RDMSR writes EDX:EAX and clears both upper halves */
        s->regs.rdx = v >> 32;
    }
    enum kev_error e = vmcs_forward_rip(&s->vmcs);
    if (e != KEV_OK)
        return vm_stop(s->vm, e, "after %s: moving RIP past the instruction failed", what);
    return deliver(s, pt);
}

static struct vmexit_result on_deadline(struct vcpu_state *s, struct p4_timer *pt)
{
    user_frame_reset();
    uint64_t ut = user_push(&pt->t, sizeof(pt->t));
    struct user_result u = user_call(timer_expired, ut, 0, 0, 0);
    if (u.status != USER_RETURNED)
        return upcall_stopped(s, &u);
    user_pull(&pt->t, ut, sizeof(pt->t));
    return deliver(s, pt);
}

static struct vmexit_result on_window(struct vcpu_state *s, struct p4_timer *pt)
{
    struct vmexit_result r = deliver(s, pt);
    if (r.action != VMEXIT_CONTINUE || !window_open())
        return r;
    /* The guest can take an interrupt right now: with the window still
     * open its exit would come again at once, forever. */
    uint64_t rip = vmcs_read_diag(GUEST_RIP);
    return vm_stop(s->vm, KEV_EINVAL,
                   "after an interrupt-window exit (guest RIP 0x%lx), timer_deliver() left the window "
                   "open (pending %d, in service %d): the guest can take an interrupt now, so the "
                   "window's exit would come again before its next instruction, forever; close it "
                   "(vcpu_interrupt_window(s, false)) once there is nothing to deliver", rip,
                   pt->t.pending, pt->t.in_service);
}

static struct vmexit_result timer_ctl_handle(struct vmexit_controller *self, struct vcpu_state *s,
                                             union exit_reason reason)
{
    struct p4_timer *pt = self->data;
    switch (reason.basic) {
    case EXIT_REASON_MSR_READ:
    case EXIT_REASON_MSR_WRITE: {
        uint32_t msr = (uint32_t)s->regs.rcx;
        if (msr != MSR_X2APIC_LVT_TIMER && msr != MSR_IA32_TSC_DEADLINE && msr != MSR_X2APIC_EOI)
            return vmexit_pass();
        return on_msr(s, pt, reason.basic == EXIT_REASON_MSR_WRITE);
    }
    case EXIT_REASON_PREEMPTION_TIMER:
        return on_deadline(s, pt);
    case EXIT_REASON_INTERRUPT_WINDOW:
        return on_window(s, pt);
    }
    return vmexit_pass();
}

struct vmexit_result timer_raise(struct vcpu_state *s, struct p4_timer *pt, int vector)
{
    pt->t.pending = vector; /* one IRR bit: a second raise before delivery is the same one */
    return deliver(s, pt);
}

void timer_controller_init(struct vmexit_controller *c, struct p4_timer *pt)
{
    *pt = (struct p4_timer){
        .t = {.lvt = LVT_TIMER_RESET, .deadline = 0, .pending = TIMER_NONE, .in_service = TIMER_NONE},
    };
    *c = (struct vmexit_controller){.name = "timer", .handle = timer_ctl_handle, .data = pt};
}

/* --- the syscall (user/syscalls.tbl) -------------------------------------------------- */

enum kev_error timer_inject_gp(struct vcpu_state *s)
{
    struct p4_timer *pt = p4_timer_of(s->vm);
    if (pt == NULL)
        return KEV_EINVAL;
    /* A hardware exception with error code 0 (Vol. 3C, 25.8.3 "VM-Entry
     * Controls for Event Injection"): vector, type, deliver error code, valid. */
    uint32_t info = GP_VECTOR | (uint32_t)INTR_TYPE_HARD_EXCEPTION << INTR_INFO_TYPE_SHIFT |
                    INTR_INFO_ERROR_CODE_VALID | INTR_INFO_VALID;
    KEV_TRY(vmcs_write32(&s->vmcs, VM_ENTRY_EXCEPTION_ERROR_CODE, 0));
    KEV_TRY(vmcs_write32(&s->vmcs, VM_ENTRY_INTR_INFO_FIELD, info));
    pt->gp = true;
    return KEV_OK;
}

enum kev_error sys_timer_inject_gp(struct vcpu_state *s)
{
    if (p4_timer_of(s->vm) == NULL)
        user_stop("timer_inject_gp(): this is not a VM of project 4's timer");
    return timer_inject_gp(s);
}
