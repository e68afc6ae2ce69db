/*
 * The local APIC (xAPIC, memory-mapped at 0xfee00000) and its timer, and
 * the legacy 8259 PICs, which the kernel masks: the only interrupt it takes
 * is the LAPIC timer, and only while student code runs in ring 3 (it is
 * the CPU-time budget of an upcall). Intel SDM Vol. 3A, 12.5.4 "APIC
 * Timer" (chapter "Advanced Programmable Interrupt Controller (APIC)").
 */
#ifndef KERNEL_LAPIC_H
#define KERNEL_LAPIC_H

#include "kernel/types.h"

#define LAPIC_TIMER_VECTOR 0x20
#define LAPIC_SPURIOUS_VECTOR 0xff

/* Masks the PICs, enables the LAPIC, measures its timer against the TSC. */
void lapic_init(void);
/* Whether lapic_init found a LAPIC to use. */
bool lapic_present(void);
/* The registers (NULL without a LAPIC) and whether the timer runs; for the
 * inline functions below, which every upcall calls twice. */
extern volatile uint32_t *lapic_regs;
extern bool lapic_armed;
#define LAPIC_TIMER_INIT 0x380    /* initial count: writing it starts the one-shot (0 stops it) */
#define LAPIC_TIMER_CURRENT 0x390 /* current count */

/* Starts the one-shot timer: it fires LAPIC_TIMER_VECTOR after `count`
 * timer counts (count 0 leaves it stopped). */
static inline void lapic_timer_start(uint32_t count)
{
    if (lapic_regs == NULL || count == 0)
        return;
    lapic_regs[LAPIC_TIMER_INIT / 4] = count;
    lapic_armed = true;
}
/* Stops the timer; returns the counts it had left (0: it fired). */
static inline uint32_t lapic_timer_stop(void)
{
    if (lapic_regs == NULL)
        return 0;
    uint32_t left = lapic_regs[LAPIC_TIMER_CURRENT / 4];
    lapic_regs[LAPIC_TIMER_INIT / 4] = 0;
    lapic_armed = false;
    return left;
}
/* Whether the timer was started and not stopped since (it may have fired). */
static inline bool lapic_timer_armed(void)
{
    return lapic_armed;
}
/* Timer counts for `ticks` TSC ticks (at least 1). */
uint32_t lapic_counts_for_ticks(uint64_t ticks);
void lapic_eoi(void);

#endif
