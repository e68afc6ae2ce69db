/*
 * What project 2's test guests (guests/project2/) know of their VM: the
 * memory layout below, which project2/vm.c builds, and the parameter page
 * each case fills. guests/project2/asm_offsets.c hands both (and the
 * hypercall table of project2/hypercall.h) to the guests' assembly, so the
 * numbers are written only here.
 *
 * Guest virtual memory (4 KiB pages):
 *
 *   GUEST_CODE     the guest's binary (read-only), entry at its first byte
 *   GUEST_PARAMS   one read-only page the case fills before the guest runs
 *   GUEST_BUF      GUEST_BUF_PAGES writable pages, adjacent for the guest
 *                  but never in host memory (one may be left out: a hole),
 *                  followed by an unmapped page
 *   GUEST_UNMAPPED never mapped
 *   the stack      one writable page below GUEST_STACK_TOP (the initial rsp)
 */
#ifndef PROJECT2_GUEST_H
#define PROJECT2_GUEST_H

#include "kernel/types.h"

#define GUEST_CODE 0x400000UL
#define GUEST_CODE_MAX (4 * PAGE_SIZE) /* the largest binary a VM loads */
#define GUEST_PARAMS 0x600000UL
#define GUEST_BUF 0x610000UL
#define GUEST_BUF_PAGES 4
#define GUEST_BUF_SIZE (GUEST_BUF_PAGES * PAGE_SIZE)
#define GUEST_UNMAPPED 0x700000UL
#define GUEST_STACK_TOP 0x800000UL
#define GUEST_PRINTS_MAX 64
#define CPUID_STEPS_MAX 16
#define PIO_STEPS_MAX 8
#define MSR_STEPS_MAX 36

/*
 * The tests' own hypercalls, served by given code (project2/test_ctl.c),
 * never by yours: the guests of the other parts (CPUID, port I/O, MSRs, the
 * entry state) report through them, so that a test of CPUID does not
 * depend on your Print. Their numbers are outside the hypercall ABI.
 */
#define TEST_HC_EXIT 0x7e570000ULL  /* rdi = exit code */
#define TEST_HC_PRINT 0x7e570001ULL /* rdi = buffer (guest-virtual), rsi = size */

/*
 * The parameter page at GUEST_PARAMS; guests read the fields at the offsets
 * guests/project2/asm_offsets.c derives from this struct (PARAM_CODE, ...).
 */
struct guest_params {
    uint64_t code;    /* the exit code to pass to HaltCpu */
    uint64_t nr;      /* a hypercall number to try (unknown.asm) */
    uint64_t nprints; /* how many Prints print.asm makes, from prints[] */
    struct {
        uint64_t addr, len;
    } prints[GUEST_PRINTS_MAX];
    uint64_t regs[16]; /* regs.asm, cpuid.asm, pio.asm: each register's value, in x86 numbering */
    /* cpuid.asm: cpuid_count CPUIDs, number k asking step k % cpuid_nsteps
     * (its rax and rcx, all 64 bits; the other registers from regs[]); it
     * prints the first cpuid_nsteps answers and checks that each later one
     * repeats its step's. cpuid_bench.asm: cpuid_count CPUIDs of step 0. */
    uint64_t cpuid_nsteps, cpuid_count;
    struct {
        uint64_t rax, rcx;
    } cpuid_steps[CPUID_STEPS_MAX];
    /* pio.asm: the I/O instructions it runs, one a step (each a form of
     * PIO_FORMS with the registers it uses, and their values after it,
     * which it checks), with RFLAGS.DF set when df is not 0; and each
     * register's value after the last step, which it checks too (x86
     * numbering, as regs[]). */
    uint64_t df;
    uint64_t nsteps;
    struct pio_step {
        uint64_t rax, rcx, rdx, rsi, rdi, form;
        uint64_t after[5]; /* rax, rcx, rdx, rsi, rdi after the step */
    } steps[PIO_STEPS_MAX];
    uint64_t expect[16];
    /* msr.asm: the RDMSR and WRMSR it runs, in order, each with rcx, rax
     * and rdx loaded from its step (op: enum msr_op). */
    uint64_t msr_nsteps;
    struct msr_step {
        uint64_t op, rcx, rax, rdx;
    } msr_steps[MSR_STEPS_MAX];
    uint8_t reserved[PAGE_SIZE - 3 * 8 - GUEST_PRINTS_MAX * 16 - 16 * 8 - 2 * 8 -
                     CPUID_STEPS_MAX * 16 - 2 * 8 - PIO_STEPS_MAX * 11 * 8 - 16 * 8 - 8 -
                     MSR_STEPS_MAX * 32];
};
_Static_assert(sizeof(struct guest_params) == PAGE_SIZE, "the parameters fill one page");

/*
 * The I/O instructions pio.asm can run, a step's `form` being an index in
 * this list: X(size, in, string, rep, imm, port), port for an immediate
 * form only. asm_offsets.c gives each form's code (PIO_FORM_CODE) to the
 * guest, which assembles its instruction from it; so a form is added here
 * only. In order: IN and OUT with DX, INS and OUTS, REP INS and REP OUTS,
 * then IN and OUT with each immediate port.
 */
#define PIO_FORM_CODE(size, in, string, rep, imm, port) \
    ((size) | (in) << 3 | (string) << 4 | (rep) << 5 | (imm) << 6 | (port) << 8)
#define PIO_FORMS_INOUT(X, imm, port)                                              \
    X(1, 1, 0, 0, imm, port) X(2, 1, 0, 0, imm, port) X(4, 1, 0, 0, imm, port)    \
    X(1, 0, 0, 0, imm, port) X(2, 0, 0, 0, imm, port) X(4, 0, 0, 0, imm, port)
#define PIO_FORMS_STRING(X, rep)                                                   \
    X(1, 1, 1, rep, 0, 0) X(2, 1, 1, rep, 0, 0) X(4, 1, 1, rep, 0, 0)             \
    X(1, 0, 1, rep, 0, 0) X(2, 0, 1, rep, 0, 0) X(4, 0, 1, rep, 0, 0)
#define PIO_FORMS(X)                                                               \
    PIO_FORMS_INOUT(X, 0, 0) PIO_FORMS_STRING(X, 0) PIO_FORMS_STRING(X, 1)        \
    PIO_FORMS_INOUT(X, 1, 0x03) PIO_FORMS_INOUT(X, 1, 0xbb)                       \
    PIO_FORMS_INOUT(X, 1, 0x00) PIO_FORMS_INOUT(X, 1, 0x02)                       \
    PIO_FORMS_INOUT(X, 1, 0x04) PIO_FORMS_INOUT(X, 1, 0x80)                       \
    PIO_FORMS_INOUT(X, 1, 0xba) PIO_FORMS_INOUT(X, 1, 0xbc)                       \
    PIO_FORMS_INOUT(X, 1, 0xf8) PIO_FORMS_INOUT(X, 1, 0xff)

/*
 * The instructions of msr.asm's steps: RDMSR and WRMSR, and each with a
 * REX.W prefix (3 bytes instead of 2: RIP must move by the exit's
 * instruction length). For every step the guest writes one line, and
 * prints them all when it ends (a VM that stops prints none):
 *
 *   rdmsr rcx=0x0000000000000abc rdx=0x0000000000000000 rax=0x000000001234abcd
 *       the registers after the instruction (wrmsr: the same line)
 *   rdmsr rcx=0x0000000000000abd #0x0d error=0x0000000000000000 rip+0x0000000000000000
 *       it took exception 0x0d (#GP): the error code the CPU pushed, and
 *       the RIP it pushed less the instruction's address
 *
 * and, if it resumes anywhere but right after the instruction, a line
 * "rdmsr rcx=...: resumed at the wrong RIP" and exits with MSR_BAD_RIP.
 */
enum msr_op { MSR_OP_RDMSR, MSR_OP_WRMSR, MSR_OP_RDMSR_REX, MSR_OP_WRMSR_REX };
#define MSR_BAD_RIP 0xbad50

#endif
