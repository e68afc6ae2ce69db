/*
 * The local APIC timer, one-shot, for the CPU-time budget of student code
 * (kernel/user.c), and the 8259 PICs masked so that no legacy interrupt
 * arrives while ring 3 runs with interrupts on. Register offsets: Intel SDM
 * Vol. 3A, Table 12-1 "Local APIC Register Address Map"; the timer: 12.5.4
 * "APIC Timer". The LAPIC sits at the physical address IA32_APIC_BASE
 * names, inside the kernel's identity map.
 */
#include "kernel/lapic.h"
#include "kernel/x86.h"

#define MSR_IA32_APIC_BASE 0x1b
#define APIC_BASE_ENABLE (1UL << 11)
#define APIC_BASE_ADDR_MASK 0xfffff000UL

#define REG_EOI 0x0b0
#define REG_SVR 0x0f0       /* spurious-interrupt vector register */
#define SVR_ENABLE (1u << 8)
#define REG_LVT_TIMER 0x320
#define LVT_MASKED (1u << 16)
#define REG_TIMER_INIT LAPIC_TIMER_INIT
#define REG_TIMER_CURRENT LAPIC_TIMER_CURRENT
#define REG_TIMER_DIVIDE 0x3e0
#define DIVIDE_BY_1 0xb

#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1

/* The calibration's window: a 0.3% measure even where the timer counts 100
 * times slower than the TSC (hardware); under Bochs both count alike. */
#define CALIBRATE_TICKS 50000UL

volatile uint32_t *lapic_regs;
bool lapic_armed;
static uint64_t counts_per_mtick; /* timer counts per 2^20 TSC ticks */

static uint32_t rd(unsigned reg) { return lapic_regs[reg / 4]; }
static void wr(unsigned reg, uint32_t v) { lapic_regs[reg / 4] = v; }

bool lapic_present(void) { return lapic_regs != NULL; }

void lapic_init(void)
{
    /* The PICs stay masked: IRQ 0-7 would otherwise arrive at vectors 8-15,
     * the CPU's own exceptions, once ring 3 runs with interrupts on. */
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);

    if (!(cpuid(1, 0).edx & (1u << 9))) /* CPUID.1:EDX.APIC */
        return;
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    if (!(base & APIC_BASE_ENABLE))
        wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_ENABLE);
    lapic_regs = (volatile uint32_t *)(uintptr_t)(base & APIC_BASE_ADDR_MASK);
    wr(REG_SVR, SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
    wr(REG_TIMER_DIVIDE, DIVIDE_BY_1);
    wr(REG_LVT_TIMER, LVT_MASKED | LAPIC_TIMER_VECTOR);

    /* How fast the timer counts, measured against the TSC (interrupts are
     * off, the timer is masked: nothing fires). */
    wr(REG_TIMER_INIT, 0xffffffffu);
    uint64_t t0 = rdtsc();
    while (rdtsc() - t0 < CALIBRATE_TICKS)
        __asm__ volatile("pause");
    uint32_t left = rd(REG_TIMER_CURRENT);
    uint64_t elapsed = rdtsc() - t0;
    wr(REG_TIMER_INIT, 0);
    /* From now on one-shot and unmasked: writing the initial count starts
     * it, writing 0 stops it (lapic.h). */
    wr(REG_LVT_TIMER, LAPIC_TIMER_VECTOR);
    counts_per_mtick = ((uint64_t)(0xffffffffu - left) << 20) / (elapsed ? elapsed : 1);
    if (counts_per_mtick == 0)
        counts_per_mtick = 1;
}

uint32_t lapic_counts_for_ticks(uint64_t ticks)
{
    uint64_t c = (ticks >> 10) * counts_per_mtick >> 10;
    return c == 0 ? 1 : c > 0xffffffffu ? 0xffffffffu : (uint32_t)c;
}

void lapic_eoi(void)
{
    if (lapic_regs != NULL)
        wr(REG_EOI, 0);
}
