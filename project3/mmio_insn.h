/*
 * The instruction decoder of project 3's MMIO controller (given code): it
 * reads the instruction a guest was executing when it touched an MMIO page,
 * so that the controller can hand the device a request (address, size,
 * direction, value) and finish the instruction for the guest.
 *
 * It knows the MOV forms between a general register (or an immediate) and
 * memory, in 64-bit mode, and nothing else (Intel SDM Vol. 2B, "MOV--Move";
 * the encodings of Vol. 2A, 2.1 "Instruction Format for Protected Mode,
 * Real-Address Mode, and Virtual-8086 Mode" and 2.2.1 "REX Prefixes"):
 *
 *   88 /r   MOV r/m8, r8          8A /r   MOV r8, r/m8
 *   89 /r   MOV r/m16/32/64, r    8B /r   MOV r, r/m16/32/64
 *   C6 /0   MOV r/m8, imm8        C7 /0   MOV r/m16/32/64, imm16/32
 *   A0/A1   MOV AL/rAX, moffs64   A2/A3   MOV moffs64, AL/rAX
 *
 * with the operand-size prefix 66 and one REX prefix (W, R, X, B) right
 * before the opcode. Anything else -- another prefix (segment overrides,
 * 67, LOCK, REP), another opcode, a register operand where memory must
 * be -- is refused with a reason, and the controller stops the VM. It is
 * pure code: no VMCS, no guest memory (tests/host/mmio_insn_check.py runs
 * it on the host against `objdump -d` of every guest's code).
 */
#ifndef PROJECT3_MMIO_INSN_H
#define PROJECT3_MMIO_INSN_H

#include "kernel/types.h"

/* The longest x86 instruction (Vol. 2A, 2.3.11 "AVX Instruction Length"). */
#define MMIO_INSN_MAX 15

/* A register number: x86's numbering (0 rax, 1 rcx, 2 rdx, 3 rbx, 4 rsp,
 * 5 rbp, 6 rsi, 7 rdi, 8-15 r8-r15), or one of these. */
#define MMIO_REG_NONE (-1)
#define MMIO_REG_RIP 16 /* a base: RIP-relative (the next instruction's address) */

struct mmio_insn {
    uint8_t len;     /* the instruction's bytes, prefixes included */
    uint8_t opcode;  /* 0x88, 0x89, 0x8a, 0x8b, 0xc6, 0xc7, 0xa0-0xa3 */
    uint8_t size;    /* bytes moved: 1, 2, 4 or 8 */
    bool store;      /* memory is written; false: memory is read into `reg` */
    bool has_imm;    /* C6/C7: the value stored is `imm` */
    uint64_t imm;    /* sign-extended to 64 bits from its 8, 16 or 32 */
    int8_t reg;      /* the register operand, or MMIO_REG_NONE (C6/C7) */
    bool high8;      /* reg 4-7 are AH, CH, DH, BH (a byte operand without REX) */
    /* The memory operand: base + index * scale + disp, or, with neither a
     * base nor an index, the address disp itself (a moffs or [disp32]). */
    int8_t base;     /* 0-15, MMIO_REG_RIP or MMIO_REG_NONE */
    int8_t index;    /* 0-15 or MMIO_REG_NONE */
    uint8_t scale;   /* 1, 2, 4, 8 */
    int64_t disp;
};

/*
 * Decodes the instruction at bytes[0..n). NULL and *insn filled, or a
 * sentence saying why the instruction is not one it decodes ("a REP
 * prefix (F3)", "opcode 0x01 is not a MOV", "it needs 4 more bytes than
 * the 3 given").
 */
const char *mmio_insn_decode(const uint8_t *bytes, size_t n, struct mmio_insn *insn);

/* A register's name at a size: "rax", "r8d", "ax", "ah" (high8), "sil". */
const char *mmio_reg_name(int reg, unsigned size, bool high8);

#endif
