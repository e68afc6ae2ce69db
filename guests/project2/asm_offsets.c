/*
 * The numbers the guests' assembly takes from C: the hypercall table and the
 * guest memory layout. The Makefile compiles this file to assembly only and
 * turns each "@@asmoff NAME VALUE" into a %define of
 * $(OBJ)/guests/project2/asm_offsets.inc, which
 * guests/project2/hypercall.inc includes.
 */
#include "project2/guest.h"
#include "project2/hypercall.h"

#define CONST(name, value) __asm__ volatile("\n@@asmoff " #name " %c0" ::"i"(value))
#define OFFSET(name, type, member) CONST(name, offsetof(type, member))

void asm_offsets(void)
{
#define HC_CONST(nr, id, name, nargs) CONST(id, nr);
    HYPERCALL_TABLE(HC_CONST)
#undef HC_CONST

    CONST(TEST_HC_EXIT, TEST_HC_EXIT);
    CONST(TEST_HC_PRINT, TEST_HC_PRINT);
    CONST(PAGE_SIZE, PAGE_SIZE);
    CONST(GUEST_CODE, GUEST_CODE);
    CONST(GUEST_PARAMS, GUEST_PARAMS);
    CONST(GUEST_BUF, GUEST_BUF);
    CONST(GUEST_STACK_TOP, GUEST_STACK_TOP);

    OFFSET(PARAM_CODE, struct guest_params, code);
    OFFSET(PARAM_NR, struct guest_params, nr);
    OFFSET(PARAM_NPRINTS, struct guest_params, nprints);
    OFFSET(PARAM_PRINTS, struct guest_params, prints);
    OFFSET(PARAM_REGS, struct guest_params, regs);
    OFFSET(PARAM_CPUID_NSTEPS, struct guest_params, cpuid_nsteps);
    OFFSET(PARAM_CPUID_COUNT, struct guest_params, cpuid_count);
    OFFSET(PARAM_CPUID_STEPS, struct guest_params, cpuid_steps);

    CONST(PIO_STEPS_MAX, PIO_STEPS_MAX);
    OFFSET(PARAM_DF, struct guest_params, df);
    OFFSET(PARAM_NSTEPS, struct guest_params, nsteps);
    OFFSET(PARAM_STEPS, struct guest_params, steps);
    OFFSET(PARAM_EXPECT, struct guest_params, expect);
    CONST(PIO_STEP_SIZE, sizeof(struct pio_step));
    OFFSET(PIO_STEP_RAX, struct pio_step, rax);
    OFFSET(PIO_STEP_RCX, struct pio_step, rcx);
    OFFSET(PIO_STEP_RDX, struct pio_step, rdx);
    OFFSET(PIO_STEP_RSI, struct pio_step, rsi);
    OFFSET(PIO_STEP_RDI, struct pio_step, rdi);
    OFFSET(PIO_STEP_FORM, struct pio_step, form);
    OFFSET(PIO_STEP_AFTER, struct pio_step, after);
    /* PIO_FORM_<i>: the code of form i, in the list's order. */
    enum { FORMS_BASE = __COUNTER__ + 1 };
#define FORM_CONST(size, in, string, rep, imm, port)                              \
    __asm__ volatile("\n@@asmoff PIO_FORM_%c0 %c1" ::"i"(__COUNTER__ - FORMS_BASE), \
                     "i"(PIO_FORM_CODE(size, in, string, rep, imm, port)));
    PIO_FORMS(FORM_CONST)
#undef FORM_CONST
#define FORM_ONE(...) +1
    CONST(PIO_NFORMS, 0 PIO_FORMS(FORM_ONE));
#undef FORM_ONE

    OFFSET(PARAM_MSR_NSTEPS, struct guest_params, msr_nsteps);
    OFFSET(PARAM_MSR_STEPS, struct guest_params, msr_steps);
    CONST(MSR_STEP_SIZE, sizeof(struct msr_step));
    OFFSET(MSR_STEP_OP, struct msr_step, op);
    OFFSET(MSR_STEP_RCX, struct msr_step, rcx);
    OFFSET(MSR_STEP_RAX, struct msr_step, rax);
    OFFSET(MSR_STEP_RDX, struct msr_step, rdx);
    CONST(MSR_BAD_RIP, MSR_BAD_RIP);
}
