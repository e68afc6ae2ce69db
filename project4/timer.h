/*
 * Project 4, part 1: a virtual timer. The guest's local-APIC timer, its
 * state, and the four functions you write in timer.c.
 *
 * The guest programs its local APIC's timer the way a modern OS does, in
 * x2APIC mode (its registers are MSRs) and in TSC-deadline mode (Intel
 * SDM Vol. 3A, 12.5.4.1 "TSC-Deadline Mode"; the x2APIC MSRs: 12.12.1.2
 * "x2APIC Register Address Space"):
 *
 *   WRMSR 0x832 (LVT timer) = vector | LVT_TIMER_TSC_DEADLINE   the vector, the mode
 *   WRMSR 0x6e0 (IA32_TSC_DEADLINE) = rdtsc() + 100000          arms the timer
 *   ... the TSC reaches the deadline: the interrupt `vector` arrives ...
 *   WRMSR 0x80b (EOI) = 0                                       in its handler: done
 *
 * Every RDMSR and WRMSR of the guest makes a VM exit; the given controller
 * (timer_ctl.c) decodes the three MSRs above (ECX, EDX:EAX) and calls your
 * timer_rdmsr() and timer_wrmsr() with the index and the value, moves RIP
 * past the instruction, writes EDX:EAX for a read. The guest's timer does
 * not really run anywhere: you arm a deadline on the host's timer
 * (vcpu_set_deadline, kev/timer.h), and when it passes kev makes a VM exit
 * and the controller calls timer_expired(). Then the interrupt must reach
 * the guest: timer_deliver() injects it, now or as soon as the guest can
 * take it (the interrupt window). The controller calls timer_deliver()
 * after every exit it handles.
 *
 * docs/project4.md is the handout: what each register does, the rules, the
 * order to write the functions in.
 */
#ifndef PROJECT4_TIMER_H
#define PROJECT4_TIMER_H

#include "kernel/types.h"
#include "kev/kev.h"

/* The MSRs of the guest's timer (Vol. 3A, table "Local APIC Register
 * Address Map Supported by x2APIC"; Vol. 4, IA32_TSC_DEADLINE). */
#define MSR_X2APIC_EOI 0x80b       /* write-only: ends the interrupt in service */
#define MSR_X2APIC_LVT_TIMER 0x832 /* the LVT timer register */
#define MSR_IA32_TSC_DEADLINE 0x6e0

/* The LVT timer register (Vol. 3A, 12.5.1 "Local Vector Table", figure
 * "Local Vector Table (LVT)"). Every other bit is reserved. */
#define LVT_VECTOR 0xffu                      /* 7:0: the interrupt's vector */
#define LVT_DELIVERY_STATUS (1u << 12)        /* read-only: kevlab's is always 0 (idle) */
#define LVT_MASKED (1u << 16)                 /* 1: the timer raises no interrupt */
#define LVT_TIMER_MODE (3u << 17)             /* 18:17: the timer mode */
#define LVT_TIMER_ONE_SHOT (0u << 17)
#define LVT_TIMER_PERIODIC (1u << 17)
#define LVT_TIMER_TSC_DEADLINE (2u << 17)
#define LVT_TIMER_MODE_RESERVED (3u << 17)
#define LVT_TIMER_WRITABLE (LVT_VECTOR | LVT_MASKED | LVT_TIMER_MODE)
/* The register after reset: masked, one-shot, vector 0 (Vol. 3A, 12.4.7.1
 * "Local APIC State After Power-Up or Reset"). */
#define LVT_TIMER_RESET LVT_MASKED

/* Vectors 0 to 15 are illegal for the APIC: an interrupt with one is never
 * delivered (Vol. 3A, 12.5.3 "Error Handling", "Receive Illegal Vector"). */
#define APIC_VECTOR_MIN 16

/* No vector: nothing pending, nothing in service. */
#define TIMER_NONE (-1)

/*
 * The guest's timer: what it programmed, and the one interrupt it can
 * have on the way. The controller keeps it for the VM (reset: lvt =
 * LVT_TIMER_RESET, deadline 0, pending and in_service TIMER_NONE) and
 * hands each of your functions the VM's own.
 *
 * kevlab's APIC has this one source of interrupts, and holds one pending
 * interrupt and one in service (a real one has a bit per vector in its IRR
 * and ISR registers):
 *
 *   pending     fired, not yet delivered to the guest (the APIC's IRR)
 *   in_service  delivered; the guest's handler has not written EOI yet
 *               (the APIC's ISR). While one is in service no other is
 *               delivered: the EOI lets the pending one in.
 */
struct vtimer {
    uint64_t lvt;      /* the LVT timer register, as RDMSR reads it */
    uint64_t deadline; /* IA32_TSC_DEADLINE: when the timer fires; 0: disarmed */
    int pending;       /* the vector waiting to be delivered, or TIMER_NONE */
    int in_service;    /* the vector delivered and not yet ended by EOI, or TIMER_NONE */
};

/*
 * timer_wrmsr: the guest wrote `value` (EDX:EAX, all 64 bits) to `msr`, one
 * of the three above. Emulates it on t and returns:
 *
 *   vmexit_continue()                    done: the controller moves RIP past the WRMSR
 *   timer_gp(s)                          the write is one hardware refuses: the guest
 *                                        gets #GP(0) at its WRMSR, which has no effect
 *   vm_stop(s->vm, KEV_ENOTSUP, ...)     a mode kevlab's timer does not emulate
 *   vm_stop(s->vm, e, ...)               a kev call failed with e
 *
 * The rules of each register are the handout's table (docs/project4.md).
 */
struct vmexit_result timer_wrmsr(struct vcpu_state *s, struct vtimer *t, uint32_t msr, uint64_t value);

/*
 * timer_rdmsr: the guest read `msr`; stores the value it reads in *value
 * and returns vmexit_continue() (the controller writes EDX:EAX and moves
 * RIP), or timer_gp(s) for a register that cannot be read.
 */
struct vmexit_result timer_rdmsr(struct vcpu_state *s, struct vtimer *t, uint32_t msr, uint64_t *value);

/*
 * timer_expired: the deadline armed on the host's timer has passed (kev
 * disarmed it). The guest's timer fires: IA32_TSC_DEADLINE goes back to 0
 * and, unless the LVT is masked or its vector illegal, the interrupt of the
 * LVT's vector becomes pending. timer_deliver() follows.
 */
void timer_expired(struct vtimer *t);

/*
 * timer_deliver: called after every exit the controller handles. When an
 * interrupt is pending and none is in service, gets it to the guest:
 *
 *   - if the guest can take an interrupt now (RFLAGS.IF = 1 and no blocking
 *     by STI or MOV SS in its interruptibility state), injects it for the
 *     next VM entry (VM_ENTRY_INTR_INFO_FIELD: the vector, type external
 *     interrupt, valid), where it becomes the one in service;
 *   - otherwise opens the interrupt window (vcpu_interrupt_window), whose
 *     exit brings the controller back here as soon as the guest can.
 *
 * With nothing to deliver, the window is closed. Returns vmexit_continue(),
 * or vm_stop(s->vm, e, ...) when a kev call failed with e.
 */
struct vmexit_result timer_deliver(struct vcpu_state *s, struct vtimer *t);

/*
 * Given: injects #GP(0) for the next VM entry (a hardware exception with
 * error code 0, Vol. 3C, 27.6 "Event Injection") and tells the controller
 * to leave RIP at the instruction: the guest takes the fault there, as it
 * would on a CPU that refused the access.
 *
 *   return timer_gp(s);
 */
enum kev_error timer_inject_gp(struct vcpu_state *s);
static inline struct vmexit_result timer_gp(struct vcpu_state *s)
{
    enum kev_error e = timer_inject_gp(s);
    return e == KEV_OK ? vmexit_continue() : vm_stop(s->vm, e, "injecting #GP(0) failed");
}

#endif
