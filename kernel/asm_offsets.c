/*
 * Offsets the assembly takes from C structs. The Makefile compiles this
 * file to assembly and turns every "@@asmoff NAME VALUE" into a NASM
 * %define in $(BUILD)/kernel/asm_offsets.inc, so trap.asm never counts by
 * hand.
 */
#include "kernel/trap.h"
#include "kernel/ktest.h"
#include "kernel/lapic.h"
#include "kernel/user.h"
#include "kernel/gdt.h"

#define OFFSET(name, type, member) \
    __asm__ volatile("\n@@asmoff " #name " %c0" ::"i"(offsetof(type, member)))
#define CONST(name, value) __asm__ volatile("\n@@asmoff " #name " %c0" ::"i"(value))
#define SIZE(name, type) __asm__ volatile("\n@@asmoff " #name " %c0" ::"i"(sizeof(type)))

void asm_offsets(void)
{
    OFFSET(TF_RAX, struct trap_frame, rax);
    OFFSET(TF_RBX, struct trap_frame, rbx);
    OFFSET(TF_RCX, struct trap_frame, rcx);
    OFFSET(TF_RDX, struct trap_frame, rdx);
    OFFSET(TF_RSI, struct trap_frame, rsi);
    OFFSET(TF_RDI, struct trap_frame, rdi);
    OFFSET(TF_RBP, struct trap_frame, rbp);
    OFFSET(TF_R8, struct trap_frame, r8);
    OFFSET(TF_R9, struct trap_frame, r9);
    OFFSET(TF_R10, struct trap_frame, r10);
    OFFSET(TF_R11, struct trap_frame, r11);
    OFFSET(TF_R12, struct trap_frame, r12);
    OFFSET(TF_R13, struct trap_frame, r13);
    OFFSET(TF_R14, struct trap_frame, r14);
    OFFSET(TF_R15, struct trap_frame, r15);
    OFFSET(TF_VECTOR, struct trap_frame, vector);
    OFFSET(TF_ERROR_CODE, struct trap_frame, error_code);
    OFFSET(TF_RIP, struct trap_frame, rip);
    SIZE(TF_SIZE, struct trap_frame);

    OFFSET(KJMP_RBX, struct kjmp, rbx);
    OFFSET(KJMP_RBP, struct kjmp, rbp);
    OFFSET(KJMP_R12, struct kjmp, r12);
    OFFSET(KJMP_R13, struct kjmp, r13);
    OFFSET(KJMP_R14, struct kjmp, r14);
    OFFSET(KJMP_R15, struct kjmp, r15);
    OFFSET(KJMP_RSP, struct kjmp, rsp);
    OFFSET(KJMP_RIP, struct kjmp, rip);

    CONST(LAPIC_TIMER_VECTOR, LAPIC_TIMER_VECTOR);
    CONST(LAPIC_SPURIOUS_VECTOR, LAPIC_SPURIOUS_VECTOR);
    CONST(USER_SYSCALL_VECTOR, USER_SYSCALL_VECTOR);
    CONST(USER_CS, USER_CS);
    CONST(USER_DS, USER_DS);
}
