/*
 * Thin wrappers over x86-64 instructions: port I/O, control registers,
 * MSRs, CPUID. Each is one instruction; no policy lives here.
 */
#ifndef KERNEL_X86_H
#define KERNEL_X86_H

#include "kernel/cpuid.h" /* struct cpuid_regs */
#include "kernel/types.h"

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

#define DEFINE_CR(n)                                                         \
    static inline uint64_t read_cr##n(void)                                  \
    {                                                                        \
        uint64_t v;                                                          \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                    \
        return v;                                                            \
    }                                                                        \
    static inline void write_cr##n(uint64_t v) { __asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

/* CR0 and CR4 bits: Intel SDM Vol. 3A, 2.5 "Control Registers". */
#define CR0_PE (1UL << 0)
#define CR0_MP (1UL << 1)
#define CR0_ET (1UL << 4)
#define CR0_NE (1UL << 5)
#define CR0_WP (1UL << 16)
#define CR0_PG (1UL << 31)
#define CR4_PAE (1UL << 5)
#define CR4_LA57 (1UL << 12)
#define CR4_VMXE (1UL << 13)

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

#define MSR_IA32_FEATURE_CONTROL 0x3a
#define MSR_IA32_EFER 0xc0000080
#define MSR_IA32_FS_BASE 0xc0000100
#define MSR_IA32_GS_BASE 0xc0000101

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
    return r;
}

static inline uint64_t read_rflags(void)
{
    uint64_t v;
    __asm__ volatile("pushfq; popq %0" : "=r"(v));
    return v;
}
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
static inline uint64_t read_rbp(void)
{
    uint64_t v;
    __asm__ volatile("mov %%rbp, %0" : "=r"(v));
    return v;
}
static inline void hlt(void) { __asm__ volatile("hlt"); }
static inline void cli(void) { __asm__ volatile("cli"); }

/* Descriptor-table registers, as SGDT/SIDT store them. */
struct __packed dtr {
    uint16_t limit;
    uint64_t base;
};
static inline struct dtr sgdt(void)
{
    struct dtr d;
    __asm__ volatile("sgdt %0" : "=m"(d));
    return d;
}
static inline struct dtr sidt(void)
{
    struct dtr d;
    __asm__ volatile("sidt %0" : "=m"(d));
    return d;
}
static inline uint16_t str(void)
{
    uint16_t v;
    __asm__ volatile("str %0" : "=r"(v));
    return v;
}
#define DEFINE_SEG(name)                                                     \
    static inline uint16_t read_##name(void)                                 \
    {                                                                        \
        uint16_t v;                                                          \
        __asm__ volatile("mov %%" #name ", %0" : "=r"(v));                   \
        return v;                                                            \
    }
DEFINE_SEG(cs)
DEFINE_SEG(ds)
DEFINE_SEG(es)
DEFINE_SEG(ss)
DEFINE_SEG(fs)
DEFINE_SEG(gs)
#undef DEFINE_SEG

#endif
