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
#define REG_TIMER_INIT 0x380
#define REG_TIMER_CURRENT 0x390
#define REG_TIMER_DIVIDE 0x3e0
#define DIVIDE_BY_1 0xb

#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1

#define CALIBRATE_TICKS 200000UL

static volatile uint32_t *regs;
static bool armed;
static uint64_t counts_per_mtick; /* timer counts per 2^20 TSC ticks */

static uint32_t rd(unsigned reg) { return regs[reg / 4]; }
static void wr(unsigned reg, uint32_t v) { regs[reg / 4] = v; }

bool lapic_present(void) { return regs != NULL; }

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
    regs = (volatile uint32_t *)(uintptr_t)(base & APIC_BASE_ADDR_MASK);
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
    counts_per_mtick = ((uint64_t)(0xffffffffu - left) << 20) / (elapsed ? elapsed : 1);
    if (counts_per_mtick == 0)
        counts_per_mtick = 1;
}

uint32_t lapic_counts_for_ticks(uint64_t ticks)
{
    uint64_t c = (ticks >> 10) * counts_per_mtick >> 10;
    return c == 0 ? 1 : c > 0xffffffffu ? 0xffffffffu : (uint32_t)c;
}

void lapic_timer_start(uint32_t count)
{
    if (regs == NULL || count == 0)
        return;
    wr(REG_LVT_TIMER, LAPIC_TIMER_VECTOR); /* one-shot, unmasked */
    wr(REG_TIMER_INIT, count);
    armed = true;
}

uint32_t lapic_timer_stop(void)
{
    if (regs == NULL)
        return 0;
    uint32_t left = rd(REG_TIMER_CURRENT);
    wr(REG_TIMER_INIT, 0);
    armed = false;
    return left;
}

bool lapic_timer_armed(void)
{
    return armed;
}

void lapic_eoi(void)
{
    if (regs != NULL)
        wr(REG_EOI, 0);
}
