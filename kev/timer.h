/*
 * Time and interrupts for a guest: a deadline on the host's timer, and the
 * interrupt window. A hypervisor that emulates a timer for its guest needs
 * two things of the CPU:
 *
 *   - to get control back when the guest's deadline passes, whatever the
 *     guest is doing: kev arms the VMX-preemption timer for it (Intel SDM
 *     Vol. 3C, 26.5.1 "VMX-Preemption Timer"), which makes a VM exit once
 *     it counts down to zero;
 *   - to get control back as soon as the guest can take an interrupt, when
 *     it cannot right now (RFLAGS.IF clear, or the one instruction after
 *     STI or MOV SS): interrupt-window exiting (Vol. 3C, 25.6.2
 *     "Processor-Based VM-Execution Controls", bit 2; 26.7.5
 *     "Interrupt-Window Exiting and Virtual-Interrupt Delivery") makes a
 *     VM exit at the first instruction boundary where it can.
 *
 *   vcpu_set_deadline(s, tsc);        an exit comes once the TSC reaches tsc
 *   vcpu_set_deadline(s, 0);          no deadline
 *   vcpu_interrupt_window(s, true);   an exit comes when the guest can take an interrupt
 *   vcpu_interrupt_window(s, false);  no such exits
 *
 * The deadline's exit reaches the VM's controllers as
 * EXIT_REASON_PREEMPTION_TIMER, with the deadline disarmed (it fires
 * once); the window's as EXIT_REASON_INTERRUPT_WINDOW, the window left open
 * until it is closed. kev's own use of the same preemption timer, the
 * guest's whole-run budget (KEV_GUEST_BUDGET_TICKS), stays kev's: it never
 * reaches a controller. The guest's TSC is the host's (kev sets no TSC
 * offset), so a deadline the guest computed from its RDTSC is one here.
 *
 * A VM whose controllers use these says so in its config (vm_config's
 * `timer`): on a CPU without what they need (Bochs's core2_penryn_t9600
 * and bx_generic have no VMX-preemption timer) vm_create stops the VM with
 * KEV_ECONTROL and vmx_timer_missing()'s words.
 */
#ifndef KEV_TIMER_H
#define KEV_TIMER_H

#include "kernel/types.h"
#include "kev/error.h"

struct vcpu_state;

/*
 * Arms the vCPU's deadline at TSC value tsc (0: disarms it). A deadline
 * already passed makes the exit come at once, before the guest runs
 * another instruction. Replaces any deadline armed before. KEV_ECONTROL
 * in a VM that did not ask for the timer (vm_config's `timer`).
 */
enum kev_error vcpu_set_deadline(struct vcpu_state *s, uint64_t tsc);
/* The deadline armed (0: none, or it passed). */
uint64_t vcpu_deadline(const struct vcpu_state *s);
/*
 * Turns interrupt-window exiting on or off for the vCPU. The guest's
 * next entry has it; the exit it causes leaves it on. KEV_ECONTROL in a
 * VM that did not ask for the timer.
 */
enum kev_error vcpu_interrupt_window(struct vcpu_state *s, bool open);

/* The guest-interruptibility state (VMCS GUEST_INTERRUPTIBILITY_INFO):
 * Vol. 3C, 25.4.2 "Guest Non-Register State", table "Format of
 * Interruptibility State". */
#define GUEST_INTR_STATE_STI (1u << 0)    /* blocking by STI */
#define GUEST_INTR_STATE_MOV_SS (1u << 1) /* blocking by MOV SS or POP SS */
#define GUEST_INTR_STATE_SMI (1u << 2)    /* blocking by SMI */
#define GUEST_INTR_STATE_NMI (1u << 3)    /* blocking by NMI */

/* RFLAGS.IF: maskable interrupts enabled (Vol. 1, 3.4.3.3 "System Flags
 * and IOPL Field"). */
#define RFLAGS_IF (1ULL << 9)

#ifndef KEVLAB_USER
/* NULL when this CPU has what vcpu_set_deadline and vcpu_interrupt_window
 * need, else why not, in words for a message. */
const char *vmx_timer_missing(void);
#endif

#endif
