/*
 * The GDT, the TSS and the IDT.
 *
 * The GDT has the kernel's 64-bit code and data segments, a TSS, and the
 * user (DPL 3) data and code segments student code runs with. The TSS is
 * not for task switching (long mode has none) but VMX requires it: the
 * host-state area's TR selector must not be 0 (Intel SDM Vol. 3C, 28.2.3
 * "Checks on Host Segment and Descriptor-Table Registers"). Its RSP0 is the
 * stack the CPU switches to when ring 3 traps or makes a syscall (the
 * upcall sets it), and its IST1 stack lets a double fault (e.g. a kernel
 * stack overflow) be reported on a good stack. Vol. 3A, 3.4.5 "Segment
 * Descriptors" and 9.7 "Task Management in 64-bit Mode".
 *
 * The IDT has the 32 exceptions (DPL 0: `int 14` from ring 3 is a #GP),
 * the LAPIC timer, the spurious vector, and the syscall gate (DPL 3, the
 * only one ring 3 may call).
 */
#include "kernel/gdt.h"
#include "kernel/lapic.h"
#include "kernel/string.h"
#include "kernel/trap.h"
#include "kernel/user.h"
#include "kernel/x86.h"

struct __packed tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};

struct __packed idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
};

#define DF_VECTOR 8
#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */
#define GATE_USER 0xee      /* present, DPL 3: ring 3 may `int` it */

static uint64_t gdt[7];
static struct tss tss;
static struct idt_gate idt[256];
static uint8_t df_stack[8192] __attribute__((aligned(16)));

uint64_t tss_base(void) { return (uint64_t)&tss; }

void tss_set_rsp0(uint64_t rsp) { tss.rsp[0] = rsp; }

void gdt_init(void)
{
    uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;

    tss.ist[0] = (uint64_t)(df_stack + sizeof(df_stack));
    tss.iomap_base = sizeof(tss); /* no I/O permission bitmap */

    gdt[0] = 0;
    gdt[1] = 0x00af9a000000ffffUL; /* 0x08: code, 64-bit (L=1), DPL 0 */
    gdt[2] = 0x00cf92000000ffffUL; /* 0x10: data, writable */
    /* 0x18: 64-bit TSS (available, type 9), a 16-byte descriptor. */
    gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89UL << 40) |
             ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
    gdt[4] = base >> 32;
    gdt[5] = 0x00cff2000000ffffUL; /* 0x28: user data, DPL 3 */
    gdt[6] = 0x00affa000000ffffUL; /* 0x30: user code, 64-bit, DPL 3 */

    struct dtr d = {sizeof(gdt) - 1, (uint64_t)gdt};
    __asm__ volatile("lgdt %0\n"
                     "pushq %1\n"
                     "leaq 1f(%%rip), %%rax\n"
                     "pushq %%rax\n"
                     "lretq\n"
                     "1:\n"
                     "mov %2, %%ds\n mov %2, %%es\n mov %2, %%ss\n"
                     :
                     : "m"(d), "i"(KERNEL_CS), "r"((uint64_t)KERNEL_DS)
                     : "rax", "memory");
    __asm__ volatile("ltr %0" ::"r"((uint16_t)KERNEL_TSS));
}

static void set_gate(unsigned v, uint64_t a, uint8_t type, uint8_t ist)
{
    idt[v] = (struct idt_gate){
        .offset_lo = a & 0xffff,
        .selector = KERNEL_CS,
        .ist = ist,
        .type_attr = type,
        .offset_mid = (a >> 16) & 0xffff,
        .offset_hi = a >> 32,
    };
}

void idt_init(void)
{
    for (unsigned v = 0; v < 32; v++)
        set_gate(v, trap_stubs[v], GATE_INTERRUPT, v == DF_VECTOR ? 1 : 0);
    set_gate(LAPIC_TIMER_VECTOR, (uint64_t)trap_stub_timer, GATE_INTERRUPT, 0);
    set_gate(LAPIC_SPURIOUS_VECTOR, (uint64_t)trap_stub_spurious, GATE_INTERRUPT, 0);
    set_gate(USER_SYSCALL_VECTOR, (uint64_t)trap_stub_syscall, GATE_USER, 0);
    set_gate(USER_RETURN_VECTOR, (uint64_t)trap_stub_upcall_return, GATE_USER, 0);
    struct dtr d = {sizeof(idt) - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" ::"m"(d));
}
