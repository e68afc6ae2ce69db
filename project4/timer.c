/*
 * Project 4, part 1: a virtual timer. This is a file you edit.
 *
 * An operating system keeps time with its local APIC's timer: it writes
 * the deadline it wants into IA32_TSC_DEADLINE, the TSC reaches it, and the
 * APIC raises the interrupt whose vector the LVT timer register names
 * (Intel SDM Vol. 3A, 12.5.4.1 "TSC-Deadline Mode"). The guest here does
 * exactly that, in x2APIC mode, where the APIC's registers are MSRs. Its
 * RDMSR and WRMSR all exit to the hypervisor (kev intercepts every MSR), so
 * the APIC the guest talks to is the one you write: the struct vtimer
 * of project4/timer.h and four functions.
 *
 *   timer_wrmsr   a write of the LVT timer, IA32_TSC_DEADLINE or EOI: check
 *                 it as hardware would (#GP for a reserved bit: the
 *                 handout's table), remember it, and arm or disarm the
 *                 deadline on the host's timer: vcpu_set_deadline(s, tsc),
 *                 kev/timer.h. The guest's TSC is the host's, so its
 *                 deadline is one here too.
 *   timer_rdmsr   a read of one of them.
 *   timer_expired the host's timer says the deadline passed: the guest's
 *                 timer fires, and its interrupt becomes pending.
 *   timer_deliver the interrupt must reach the guest. A hypervisor delivers
 *                 it by injection: it writes the interrupt into the VMCS's
 *                 VM-entry interruption-information field, and the next VM
 *                 entry delivers it through the guest's IDT as if the
 *                 guest's APIC had raised it (Vol. 3C, 25.8.3 "VM-Entry
 *                 Controls for Event Injection", 27.6 "Event Injection").
 *                 But only a guest that can take an interrupt may get one:
 *                 RFLAGS.IF set, and no "blocking by STI or MOV SS" (the one
 *                 instruction after STI or MOV SS runs before any interrupt)
 *                 in its interruptibility state (Vol. 3C, 25.4.2 "Guest
 *                 Non-Register State"). Inject anyway and VM entry fails
 *                 (27.3.1.4, 27.3.1.5). When the guest cannot take it yet,
 *                 open the interrupt window instead (vcpu_interrupt_window):
 *                 the CPU exits as soon as the guest can, and the controller
 *                 calls timer_deliver again.
 *
 * The given controller (timer_ctl.c) does the rest: decoding the MSR
 * instructions, moving RIP, calling timer_deliver after every exit it
 * handles. Run one test: make run PROJECT=4 TEST=p4_timer_deadlines. The
 * handout is docs/project4.md; a suggested order: timer_rdmsr, timer_wrmsr,
 * timer_expired, then timer_deliver.
 */
#include "project4/timer.h"
#include "kernel/panic.h"

#ifdef SOLUTION
/* The LVT's mode, and whether the deadline counts in it. */
static bool tsc_deadline_mode(const struct vtimer *t)
{
    return (t->lvt & LVT_TIMER_MODE) == LVT_TIMER_TSC_DEADLINE;
}

static struct vmexit_result arm(struct vcpu_state *s, struct vtimer *t, uint64_t deadline)
{
    t->deadline = deadline;
    enum kev_error e = vcpu_set_deadline(s, deadline);
    if (e != KEV_OK)
        return vm_stop(s->vm, e, "vcpu_set_deadline(0x%lx) failed", deadline);
    return vmexit_continue();
}

static struct vmexit_result write_lvt(struct vcpu_state *s, struct vtimer *t, uint64_t value)
{
    uint64_t mode = value & LVT_TIMER_MODE;
    /* Reserved bits (63:19, 15:13, 11:8) and the reserved mode: what an
     * x2APIC refuses (Vol. 3A, 12.12.1.3 "Reserved Bit Checking"). Bit 12
     * is read-only: a write ignores it. */
    if ((value & ~(uint64_t)(LVT_TIMER_WRITABLE | LVT_DELIVERY_STATUS)) || mode == LVT_TIMER_MODE_RESERVED)
        return timer_gp(s);
    if (mode != LVT_TIMER_TSC_DEADLINE && !(value & LVT_MASKED))
        return vm_stop(s->vm, KEV_ENOTSUP, "the guest set its LVT timer to 0x%lx, the %s mode, "
                       "unmasked: kevlab's timer counts in TSC-deadline mode only", value,
                       mode == LVT_TIMER_PERIODIC ? "periodic" : "one-shot");
    t->lvt = value & LVT_TIMER_WRITABLE;
    /* Leaving TSC-deadline mode disarms the timer (Vol. 3A, 12.5.4.1). */
    if (mode != LVT_TIMER_TSC_DEADLINE && t->deadline)
        return arm(s, t, 0);
    return vmexit_continue();
}
#endif

struct vmexit_result timer_wrmsr(struct vcpu_state *s, struct vtimer *t, uint32_t msr, uint64_t value)
{
#ifdef SOLUTION
    switch (msr) {
    case MSR_X2APIC_LVT_TIMER:
        return write_lvt(s, t, value);
    case MSR_IA32_TSC_DEADLINE:
        if (!tsc_deadline_mode(t))
            return vmexit_continue(); /* ignored in the other modes */
        return arm(s, t, value);      /* 0 disarms */
    case MSR_X2APIC_EOI:
        if (value != 0)
            return timer_gp(s);
        t->in_service = TIMER_NONE;
        return vmexit_continue();
    }
    return vm_stop(s->vm, KEV_EINVAL, "timer_wrmsr() of MSR 0x%x, which is not the timer's", msr);
#else
    /*
     * Hints:
     *   - One case per MSR (a switch on msr), each with the handout's rules
     *     in its order: the #GP checks first (return timer_gp(s)), then the
     *     effect.
     *   - The LVT: test the reserved bits with one mask, ~(LVT_TIMER_WRITABLE
     *     | LVT_DELIVERY_STATUS), over all 64 bits of value; keep only the
     *     writable ones in t->lvt.
     *   - IA32_TSC_DEADLINE: t->deadline is what the guest reads back; the
     *     host's timer is armed by vcpu_set_deadline(s, value), which returns
     *     a kev_error (vm_stop with it if it is not KEV_OK).
     *   - EOI ends the interrupt in service: t->in_service = TIMER_NONE. The
     *     controller then calls timer_deliver: a pending interrupt goes in.
     */
    (void)s, (void)t, (void)msr, (void)value;
    TODO();
#endif
}

struct vmexit_result timer_rdmsr(struct vcpu_state *s, struct vtimer *t, uint32_t msr, uint64_t *value)
{
#ifdef SOLUTION
    switch (msr) {
    case MSR_X2APIC_LVT_TIMER:
        *value = t->lvt;
        return vmexit_continue();
    case MSR_IA32_TSC_DEADLINE:
        *value = tsc_deadline_mode(t) ? t->deadline : 0; /* reads 0 in the other modes */
        return vmexit_continue();
    case MSR_X2APIC_EOI:
        return timer_gp(s); /* write-only */
    }
    return vm_stop(s->vm, KEV_EINVAL, "timer_rdmsr() of MSR 0x%x, which is not the timer's", msr);
#else
    /*
     * Hints:
     *   - Each register reads what the handout's table says; store it in
     *     *value (the controller splits it into EDX:EAX).
     *   - EOI cannot be read: return timer_gp(s).
     */
    (void)s, (void)t, (void)msr, (void)value;
    TODO();
#endif
}

void timer_expired(struct vtimer *t)
{
#ifdef SOLUTION
    t->deadline = 0; /* the timer fired: disarmed */
    unsigned vector = (unsigned)(t->lvt & LVT_VECTOR);
    if (!(t->lvt & LVT_MASKED) && vector >= APIC_VECTOR_MIN)
        t->pending = (int)vector;
#else
    /*
     * Hints:
     *   - After it fires the guest reads IA32_TSC_DEADLINE as 0.
     *   - A masked LVT raises no interrupt, and neither does an illegal
     *     vector (below APIC_VECTOR_MIN): such an interrupt is lost, not
     *     kept for later.
     */
    (void)t;
    TODO();
#endif
}

struct vmexit_result timer_deliver(struct vcpu_state *s, struct vtimer *t)
{
#ifdef SOLUTION
    enum kev_error e;
    if (t->pending == TIMER_NONE || t->in_service != TIMER_NONE) {
        /* Nothing to deliver now (an EOI lets a pending one in later). */
        e = vcpu_interrupt_window(s, false);
        return e == KEV_OK ? vmexit_continue() : vm_stop(s->vm, e, "closing the interrupt window failed");
    }
    uint64_t rflags;
    uint32_t blocking;
    if ((e = vmcs_readl(&s->vmcs, GUEST_RFLAGS, &rflags)) ||
        (e = vmcs_read32(&s->vmcs, GUEST_INTERRUPTIBILITY_INFO, &blocking)))
        return vm_stop(s->vm, e, "reading the guest's RFLAGS or interruptibility state failed");
    if (!(rflags & RFLAGS_IF) || (blocking & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS))) {
        /* It cannot take one yet: come back as soon as it can. */
        e = vcpu_interrupt_window(s, true);
        return e == KEV_OK ? vmexit_continue() : vm_stop(s->vm, e, "opening the interrupt window failed");
    }
    uint32_t info = (uint32_t)t->pending | (uint32_t)INTR_TYPE_EXT_INTR << INTR_INFO_TYPE_SHIFT |
                    INTR_INFO_VALID;
    if ((e = vmcs_write32(&s->vmcs, VM_ENTRY_INTR_INFO_FIELD, info)) ||
        (e = vcpu_interrupt_window(s, false)))
        return vm_stop(s->vm, e, "injecting vector %d failed", t->pending);
    t->in_service = t->pending;
    t->pending = TIMER_NONE;
    return vmexit_continue();
#else
    /*
     * Hints:
     *   - Nothing pending, or one in service: close the window and return.
     *   - Read GUEST_RFLAGS (vmcs_readl) and GUEST_INTERRUPTIBILITY_INFO
     *     (vmcs_read32); the bits are kev/timer.h's RFLAGS_IF and
     *     GUEST_INTR_STATE_STI, GUEST_INTR_STATE_MOV_SS.
     *   - The interruption information of an external interrupt: the vector
     *     in bits 7:0, INTR_TYPE_EXT_INTR in bits 10:8 (kev/exit.h:
     *     INTR_INFO_TYPE_SHIFT), INTR_INFO_VALID; no error code.
     *   - Once injected, the interrupt is in service and no longer pending.
     *   - A window left open at a window exit makes the next one come at
     *     once: the controller stops the VM then.
     */
    (void)s, (void)t;
    TODO();
#endif
}
