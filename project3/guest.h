/*
 * What project 3's test guests (guests/project3/) know of their VM: the
 * guest-virtual layout below, which project3/vm.c builds on the EPT, and
 * the parameter page each case fills. guests/project3/asm_offsets.c hands
 * both to the guests' assembly. The guests end and print through the
 * tests' own hypercalls of project 2 (TEST_HC_EXIT, TEST_HC_PRINT), served
 * by given code, so a project-3 test never depends on your Print.
 *
 * Guest virtual memory (4 KiB pages), each page at a guest-physical
 * address the case draws, mapped in the EPT by your ept_map:
 *
 *   P3_CODE     the guest's binary (read + execute)
 *   P3_PARAMS   the parameter page (read-only)
 *   P3_DATA     P3_DATA_PAGES pages, each with the permissions the case drew
 *   P3_MMIO     (MMIO tests) the printer's registers: guest-physical
 *               0xcafe0000, a page the EPT leaves out (project3/mmio.h)
 *   the stack   one writable page below P3_STACK_TOP
 */
#ifndef PROJECT3_GUEST_H
#define PROJECT3_GUEST_H

#include "kernel/types.h"
#include "project2/guest.h"

#define P3_CODE 0x400000UL
#define P3_PARAMS 0x500000UL
#define P3_DATA 0x600000UL
#define P3_DATA_PAGES 8
#define P3_MMIO 0x700000UL
#define P3_STACK_TOP 0x800000UL
#define P3_OPS_MAX 64

/* What ept.asm does, in order: prints pages' bytes, copies between pages. */
enum p3_guest_op {
    P3_OP_PRINT = 0, /* TEST_HC_PRINT(a, len) */
    P3_OP_COPY = 1,  /* len bytes from a to b (rep movsb) */
};

struct p3_params {
    uint64_t nops;
    struct {
        uint64_t op, a, b, len;
    } ops[P3_OPS_MAX];
    uint8_t reserved[PAGE_SIZE - 8 - P3_OPS_MAX * 32];
};
_Static_assert(sizeof(struct p3_params) == PAGE_SIZE, "the parameters fill one page");

/*
 * The MMIO tests' guest (guests/project3/mmio.asm) runs a chain of steps,
 * each one MOV to or from the printer's page in one of the forms below,
 * with every register (but rsp) set by the test before it and checked
 * after it. The test builds the chain in the first P3_MMIO_CHAIN_PAGES
 * data pages (read-only) from the guest's header (struct mmio_guest_header
 * at the start of its code): one link is
 *
 *   [load] [rax rcx rdx rbx rbp rsi rdi r8 ... r15] [form] [verify] [the 15 after]
 *
 * `load` pops the 15 registers and returns into the form's MOV, which
 * returns into `verify`; it compares the 15 registers with the values
 * after, and returns into the next link (the last one's `load` is `done`,
 * TEST_EXIT 0). A register found wrong ends the guest with exit code
 * P3_MMIO_BAD + its number (x86 numbering) + (the step << 24).
 */
#define P3_MMIO_CHAIN_PAGES 2
#define P3_MMIO_LINK_WORDS 33
#define P3_MMIO_STEPS_MAX (P3_MMIO_CHAIN_PAGES * PAGE_SIZE / 8 / P3_MMIO_LINK_WORDS)
#define P3_MMIO_BAD 0xBAD40
#define P3_MMIO_MAGIC 0x6f696d6d /* "mmio" */

struct mmio_guest_header {
    uint64_t magic, load, verify, done, nforms;
    uint64_t form[]; /* each form's MOV, guest-virtual */
};

/*
 * The forms, in the order of mmio.asm's form_<i> (the test checks each
 * against the guest's bytes with the decoder of project3/mmio_insn.c):
 * X(store, size, reg, high8, imm, base, index, scale, disp, fixed). reg,
 * base and index are x86 register numbers (-1: none; reg -1: the
 * immediate imm is stored); fixed is the printer register's offset a
 * form's address always names (RIP-relative, [disp32] and moffs forms:
 * base, index and disp are then not used), or -1.
 */
#define MMIO_FORMS(X)                                                                     \
    /* stores */                                                                          \
    X(1, 8, 0, 0, 0, 6, -1, 1, 0, -1)           /* mov [rsi], rax */                      \
    X(1, 4, 1, 0, 0, 7, -1, 1, 0, -1)           /* mov [rdi], ecx */                      \
    X(1, 2, 2, 0, 0, 3, -1, 1, 0, -1)           /* mov [rbx], dx */                       \
    X(1, 1, 3, 0, 0, 6, -1, 1, 0, -1)           /* mov [rsi], bl */                       \
    X(1, 1, 4, 1, 0, 7, -1, 1, 0, -1)           /* mov [rdi], ah */                       \
    X(1, 1, 6, 0, 0, 3, -1, 1, 0, -1)           /* mov [rbx], sil */                      \
    X(1, 8, 9, 0, 0, 12, -1, 1, 0, -1)          /* mov [r12], r9 */                       \
    X(1, 4, 10, 0, 0, 13, -1, 1, 0, -1)         /* mov [r13], r10d */                     \
    X(1, 2, 8, 0, 0, 3, 11, 4, 0x12345, -1)     /* mov [rbx + r11*4 + 0x12345], r8w */    \
    X(1, 8, 15, 0, 0, 0, 1, 8, -8, -1)          /* mov [rax + rcx*8 - 8], r15 */          \
    X(1, 1, 14, 0, 0, 5, 2, 1, 0x7f, -1)        /* mov [rbp + rdx + 0x7f], r14b */        \
    X(1, 4, 0, 0, 0, 8, 12, 2, 0, -1)           /* mov [r8 + r12*2], eax */               \
    X(1, 8, 3, 0, 0, -1, 9, 8, 0x100, -1)       /* mov [r9*8 + 0x100], rbx */             \
    X(1, 8, -1, 0, -2, 6, -1, 1, 0, -1)         /* mov qword [rsi], -2 */                 \
    X(1, 4, -1, 0, 0x89abcdef, 7, -1, 1, 4, -1) /* mov dword [rdi + 4], 0x89abcdef */     \
    X(1, 2, -1, 0, 0x1234, 6, -1, 1, 0, -1)     /* mov word [rsi], 0x1234 */              \
    X(1, 1, -1, 0, 0x01, 7, -1, 1, 0, -1)       /* mov byte [rdi], 1 */                   \
    X(1, 8, -1, 0, 0x7fffffff, 12, -1, 1, 0, -1) /* mov qword [r12], 0x7fffffff */        \
    X(1, 1, 0, 0, 0, -1, -1, 1, 0, 0x10)        /* mov [abs P3_MMIO + 0x10], al */        \
    X(1, 4, 2, 0, 0, -1, -1, 1, 0, 0x08)        /* mov [rel P3_MMIO + 8], edx */          \
    X(1, 8, 0, 0, 0, -1, -1, 1, 0, 0x00)        /* mov [qword P3_MMIO], rax (A3) */       \
    X(1, 1, 0, 0, 0, -1, -1, 1, 0, 0x10)        /* mov [qword P3_MMIO + 0x10], al (A2) */ \
    X(1, 8, 1, 0, 0, -1, -1, 1, 0, 0x00)        /* mov [abs P3_MMIO], rcx */              \
    X(1, 4, -1, 0, 12, -1, -1, 1, 0, 0x08)      /* mov dword [rel P3_MMIO + 8], 12 */     \
    /* loads */                                                                           \
    X(0, 8, 0, 0, 0, 6, -1, 1, 0, -1)           /* mov rax, [rsi] */                      \
    X(0, 4, 1, 0, 0, 7, -1, 1, 0, -1)           /* mov ecx, [rdi] */                      \
    X(0, 2, 2, 0, 0, 3, -1, 1, 0, -1)           /* mov dx, [rbx] */                       \
    X(0, 1, 3, 0, 0, 6, -1, 1, 0, -1)           /* mov bl, [rsi] */                       \
    X(0, 1, 5, 1, 0, 7, -1, 1, 0, -1)           /* mov ch, [rdi] */                       \
    X(0, 1, 7, 0, 0, 3, -1, 1, 0, -1)           /* mov dil, [rbx] */                      \
    X(0, 8, 9, 0, 0, 12, -1, 1, 0, -1)          /* mov r9, [r12] */                       \
    X(0, 4, 10, 0, 0, 13, -1, 1, 0, -1)         /* mov r10d, [r13] */                     \
    X(0, 2, 8, 0, 0, 3, 11, 4, 0x12345, -1)     /* mov r8w, [rbx + r11*4 + 0x12345] */    \
    X(0, 8, 15, 0, 0, 0, 1, 8, -8, -1)          /* mov r15, [rax + rcx*8 - 8] */          \
    X(0, 1, 14, 0, 0, 5, 2, 1, 0x7f, -1)        /* mov r14b, [rbp + rdx + 0x7f] */        \
    X(0, 4, 0, 0, 0, 8, 12, 2, 0, -1)           /* mov eax, [r8 + r12*2] */               \
    X(0, 8, 11, 0, 0, -1, 9, 8, 0x100, -1)      /* mov r11, [r9*8 + 0x100] */             \
    X(0, 1, 4, 1, 0, 6, -1, 1, 0, -1)           /* mov ah, [rsi] */                       \
    X(0, 4, 0, 0, 0, -1, -1, 1, 0, 0x08)        /* mov eax, [abs P3_MMIO + 8] */          \
    X(0, 8, 2, 0, 0, -1, -1, 1, 0, 0x00)        /* mov rdx, [rel P3_MMIO] */              \
    X(0, 8, 0, 0, 0, -1, -1, 1, 0, 0x00)        /* mov rax, [qword P3_MMIO] (A1) */       \
    X(0, 1, 0, 0, 0, -1, -1, 1, 0, 0x10)        /* mov al, [qword P3_MMIO + 0x10] (A0) */ \
    X(0, 4, 0, 0, 0, -1, -1, 1, 0, 0x08)        /* mov eax, [qword P3_MMIO + 8] (A1) */   \
    X(0, 2, 0, 0, 0, -1, -1, 1, 0, 0x08)        /* mov ax, [qword P3_MMIO + 8] (66 A1) */ \
    X(0, 1, 7, 1, 0, -1, -1, 1, 0, 0x10)        /* mov bh, [rel P3_MMIO + 0x10] */        \
    /* prefixes the CPU lets pass */                                                     \
    X(1, 8, 0, 0, 0, 6, -1, 1, 0, -1)           /* 66 REX.W mov [rsi], rax: REX.W wins */ \
    X(1, 2, 1, 0, 0, 7, -1, 1, 0, -1)           /* 66 66 mov [rdi], cx */                 \
    X(0, 4, 2, 0, 0, 3, -1, 1, 0, -1)           /* REX (40) mov edx, [rbx] */

#define MMIO_FORM_COUNT_ONE(...) +1
#define MMIO_NFORMS (0 MMIO_FORMS(MMIO_FORM_COUNT_ONE))

#endif
