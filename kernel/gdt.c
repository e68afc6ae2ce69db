/*
 * The GDT, the TSS and the IDT.
 *
 * The GDT has a 64-bit code segment, a data segment and a TSS. The TSS is
 * not for task switching (long mode has none) but VMX requires it: the
 * host-state area's TR selector must not be 0 (Intel SDM Vol. 3C, 28.2.3
 * "Checks on Host Segment and Descriptor-Table Registers"). Its IST1 stack
 * lets a double fault (e.g. a kernel stack overflow) be reported on a good
 * stack. Vol. 3A, 3.4.5 "Segment Descriptors" and 9.7 "Task Management in
 * 64-bit Mode".
 */
#include "kernel/gdt.h"
#include "kernel/string.h"
#include "kernel/trap.h"
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

static uint64_t gdt[5];
static struct tss tss;
static struct idt_gate idt[256];
static uint8_t df_stack[8192] __attribute__((aligned(16)));

uint64_t tss_base(void) { return (uint64_t)&tss; }

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

void idt_init(void)
{
    for (unsigned v = 0; v < 32; v++) {
        uint64_t a = trap_stubs[v];
        idt[v] = (struct idt_gate){
            .offset_lo = a & 0xffff,
            .selector = KERNEL_CS,
            .ist = v == DF_VECTOR ? 1 : 0,
            .type_attr = GATE_INTERRUPT,
            .offset_mid = (a >> 16) & 0xffff,
            .offset_hi = a >> 32,
        };
    }
    struct dtr d = {sizeof(idt) - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" ::"m"(d));
}
