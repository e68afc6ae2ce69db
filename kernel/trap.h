/*
 * CPU exceptions. trap.asm saves the registers into a struct trap_frame and
 * calls trap(); every exception is reported (name, error code, registers,
 * CR2 for a page fault, backtrace) and then either recovered by a test's
 * ktest_try() or turned into a panic.
 */
#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H

#include "kernel/types.h"

/* Layout mirrors trap.asm through kernel/asm_offsets.c: change both. */
struct trap_frame {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t vector, error_code;
    /* Pushed by the CPU: Intel SDM Vol. 3A, 7.14.4 "Stack Usage on Transfers to Interrupt and Exception-Handling Routines". */
    uint64_t rip, cs, rflags, rsp, ss;
};

/* The exception's mnemonic and name, e.g. "#PF", "page fault". */
const char *exception_mnemonic(unsigned vector);
const char *exception_name(unsigned vector);

void trap(struct trap_frame *tf);

/* Stub addresses, one per vector 0..31 (trap.asm), and the interrupts'. */
extern const uint64_t trap_stubs[32];
void trap_stub_timer(void);
void trap_stub_spurious(void);
void trap_stub_syscall(void);
void trap_stub_upcall_return(void);

#endif
