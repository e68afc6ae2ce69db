/*
 * Offsets and constants kev/vmenter.asm takes from C. The Makefile
 * compiles this file to assembly and turns every "@@asmoff NAME VALUE" into
 * a NASM %define in $(BUILD)/kev/asm_offsets.inc: the assembly never counts
 * by hand. vcpu.c repeats the offsets as _Static_asserts on the layout.
 */
#include "kev/internal.h"

#define OFFSET(name, type, member) \
    __asm__ volatile("\n@@asmoff " #name " %c0" ::"i"(offsetof(type, member)))
#define CONST(name, value) __asm__ volatile("\n@@asmoff " #name " %c0" ::"i"(value))

void asm_offsets(void)
{
    OFFSET(VCPU_RAX, struct vcpu, state.regs.rax);
    OFFSET(VCPU_RBX, struct vcpu, state.regs.rbx);
    OFFSET(VCPU_RCX, struct vcpu, state.regs.rcx);
    OFFSET(VCPU_RDX, struct vcpu, state.regs.rdx);
    OFFSET(VCPU_RSI, struct vcpu, state.regs.rsi);
    OFFSET(VCPU_RDI, struct vcpu, state.regs.rdi);
    OFFSET(VCPU_RBP, struct vcpu, state.regs.rbp);
    OFFSET(VCPU_R8, struct vcpu, state.regs.r8);
    OFFSET(VCPU_R9, struct vcpu, state.regs.r9);
    OFFSET(VCPU_R10, struct vcpu, state.regs.r10);
    OFFSET(VCPU_R11, struct vcpu, state.regs.r11);
    OFFSET(VCPU_R12, struct vcpu, state.regs.r12);
    OFFSET(VCPU_R13, struct vcpu, state.regs.r13);
    OFFSET(VCPU_R14, struct vcpu, state.regs.r14);
    OFFSET(VCPU_R15, struct vcpu, state.regs.r15);
    OFFSET(VCPU_HOST_RSP, struct vcpu, host_rsp);
    OFFSET(VCPU_STOPPED, struct vcpu, stopped);

    CONST(VMCS_HOST_RSP, HOST_RSP);
    CONST(VMEXIT_CONTINUE, VMEXIT_CONTINUE);
    CONST(VMENTER_STOPPED, VMENTER_STOPPED);
    CONST(VMENTER_FAIL_INVALID, VMENTER_FAIL_INVALID);
    CONST(VMENTER_FAIL_VALID, VMENTER_FAIL_VALID);
}
