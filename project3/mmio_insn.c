/*
 * The MOV decoder of project 3's MMIO controller (project3/mmio_insn.h).
 * One table holds the opcodes it knows and what each one's bytes mean;
 * decoding is prefixes, the opcode's row, then the operand bytes the row
 * asks for (ModRM, SIB, displacement, immediate, moffs), in the order of
 * Intel SDM Vol. 2A, 2.1 "Instruction Format for Protected Mode,
 * Real-Address Mode, and Virtual-8086 Mode", Figure 2-1.
 */
#include "project3/mmio_insn.h"
#include "kernel/printk.h"

/* What an opcode's row says about its instruction. */
#define F_BYTE (1u << 0)   /* 8-bit operands (else 16/32/64 by 66 and REX.W) */
#define F_STORE (1u << 1)  /* memory is the destination */
#define F_MODRM (1u << 2)  /* a ModRM byte (and maybe SIB, displacement) follows */
#define F_IMM (1u << 3)    /* an immediate follows, the value stored (/0 forms) */
#define F_MOFFS (1u << 4)  /* a 64-bit absolute address follows; the register is AL/rAX */

static const struct {
    uint8_t opcode;
    uint8_t flags;
} opcodes[] = {
    {0x88, F_BYTE | F_STORE | F_MODRM},         /* MOV r/m8, r8 */
    {0x89, F_STORE | F_MODRM},                  /* MOV r/m, r */
    {0x8a, F_BYTE | F_MODRM},                   /* MOV r8, r/m8 */
    {0x8b, F_MODRM},                            /* MOV r, r/m */
    {0xc6, F_BYTE | F_STORE | F_MODRM | F_IMM}, /* MOV r/m8, imm8 */
    {0xc7, F_STORE | F_MODRM | F_IMM},          /* MOV r/m, imm16/32 */
    {0xa0, F_BYTE | F_MOFFS},                   /* MOV AL, moffs8 */
    {0xa1, F_MOFFS},                            /* MOV rAX, moffs */
    {0xa2, F_BYTE | F_STORE | F_MOFFS},         /* MOV moffs8, AL */
    {0xa3, F_STORE | F_MOFFS},                  /* MOV moffs, rAX */
};

/* Legacy prefixes it refuses, with their names (Vol. 2A, 2.1.1
 * "Instruction Prefixes"). 66 is the one it takes. */
static const struct {
    uint8_t byte;
    const char *name;
} refused[] = {
    {0xf0, "a LOCK prefix (F0)"},
    {0xf2, "a REPNE prefix (F2)"},
    {0xf3, "a REP prefix (F3)"},
    {0x2e, "a CS segment override (2E)"},
    {0x36, "an SS segment override (36)"},
    {0x3e, "a DS segment override (3E)"},
    {0x26, "an ES segment override (26)"},
    {0x64, "an FS segment override (64): its base is not 0"},
    {0x65, "a GS segment override (65): its base is not 0"},
    {0x67, "an address-size prefix (67)"},
};

/* REX (Vol. 2A, 2.2.1 "REX Prefixes"): 0100WRXB. */
#define REX_W 8
#define REX_R 4
#define REX_X 2
#define REX_B 1

/* A cursor over the bytes. */
struct reader {
    const uint8_t *p;
    size_t n, at;
    size_t short_by; /* bytes missing, once a read ran past the end */
};

static uint64_t take(struct reader *r, unsigned bytes)
{
    uint64_t v = 0;
    if (r->at + bytes > r->n) {
        r->short_by = r->at + bytes - r->n;
        r->at = r->n;
        return 0;
    }
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)r->p[r->at + i] << (8 * i);
    r->at += bytes;
    return v;
}

static int64_t sign_extend(uint64_t v, unsigned bytes)
{
    unsigned shift = 64 - 8 * bytes;
    return bytes >= 8 ? (int64_t)v : (int64_t)(v << shift) >> shift;
}

static const char *refused_prefix(uint8_t b)
{
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
        if (refused[i].byte == b)
            return refused[i].name;
    return NULL;
}

/*
 * The memory operand of a ModRM byte in 64-bit mode (Vol. 2A, 2.2.1.2
 * "More on REX Prefix Fields", Table 2-5 "Special Cases of REX
 * Encodings"): rm = 100 means a SIB byte follows; mod = 00 with rm = 101
 * is RIP + disp32 (with or without REX.B); in a SIB, index 100 without
 * REX.X is no index, and base 101 with mod = 00 is no base + disp32.
 */
static const char *memory_operand(struct reader *r, uint8_t modrm, unsigned rex, struct mmio_insn *in)
{
    unsigned mod = modrm >> 6, rm = modrm & 7;
    if (mod == 3)
        return "its operand is a register, not memory (mod = 11)";
    in->base = (int8_t)(rm | (rex & REX_B ? 8 : 0));
    in->index = MMIO_REG_NONE;
    in->scale = 1;
    unsigned disp_bytes = mod == 1 ? 1 : mod == 2 ? 4 : 0;
    if (rm == 4) {
        uint8_t sib = (uint8_t)take(r, 1);
        unsigned idx = ((sib >> 3) & 7) | (rex & REX_X ? 8 : 0), base = sib & 7;
        in->scale = (uint8_t)(1u << (sib >> 6));
        in->index = idx == 4 ? MMIO_REG_NONE : (int8_t)idx;
        in->base = (int8_t)(base | (rex & REX_B ? 8 : 0));
        if (base == 5 && mod == 0) {
            in->base = MMIO_REG_NONE;
            disp_bytes = 4;
        }
    } else if (rm == 5 && mod == 0) {
        in->base = MMIO_REG_RIP;
        disp_bytes = 4;
    }
    in->disp = disp_bytes ? sign_extend(take(r, disp_bytes), disp_bytes) : 0;
    return NULL;
}

const char *mmio_insn_decode(const uint8_t *bytes, size_t n, struct mmio_insn *in)
{
    static char msg[64]; /* the kernel runs one decode at a time */
    struct reader r = {.p = bytes, .n = n < MMIO_INSN_MAX ? n : MMIO_INSN_MAX};
    bool opsize = false;
    unsigned rex = 0;
    *in = (struct mmio_insn){.reg = MMIO_REG_NONE, .base = MMIO_REG_NONE, .index = MMIO_REG_NONE, .scale = 1};

    /* Prefixes: any number of 66, then at most one REX, which must come
     * last (a REX followed by another prefix is ignored by the CPU). */
    for (;;) {
        if (r.at >= r.n)
            return r.n == MMIO_INSN_MAX ? "it is longer than 15 bytes" : "it ends in its prefixes";
        uint8_t b = r.p[r.at];
        const char *why = refused_prefix(b);
        if (why)
            return why;
        if (b == 0x66 && !rex) {
            opsize = true;
            r.at++;
        } else if ((b & 0xf0) == 0x40) {
            if (rex)
                return "it has two REX prefixes";
            rex = b;
            r.at++;
        } else {
            break;
        }
    }
    if (rex && r.p[r.at] == 0x66)
        return "a REX prefix before 66 (the CPU ignores such a REX)";

    uint8_t op = r.p[r.at++];
    int row = -1;
    for (size_t i = 0; i < ARRAY_SIZE(opcodes); i++)
        if (opcodes[i].opcode == op)
            row = (int)i;
    if (row < 0) {
        if (op == 0x0f)
            return "a two-byte opcode (0F ..) is not a MOV kev emulates";
        snprintf(msg, sizeof(msg), "opcode 0x%02x is not a MOV kev emulates", op);
        return msg;
    }
    unsigned flags = opcodes[row].flags;
    in->opcode = op;
    in->store = flags & F_STORE;
    in->size = flags & F_BYTE ? 1 : rex & REX_W ? 8 : opsize ? 2 : 4;

    if (flags & F_MOFFS) {
        /* The address is 8 bytes in 64-bit mode (4 with 67, refused). */
        in->reg = 0;
        in->disp = (int64_t)take(&r, 8);
    } else {
        uint8_t modrm = (uint8_t)take(&r, 1);
        unsigned reg = ((modrm >> 3) & 7) | (rex & REX_R ? 8 : 0);
        if (r.short_by == 0) {
            const char *why = memory_operand(&r, modrm, rex, in);
            if (why)
                return why;
        }
        if (flags & F_IMM) {
            if ((modrm >> 3) & 7)
                return "C6 or C7 with a ModRM reg field other than 0 is not MOV";
            /* imm8 for bytes, imm16 with 66, else imm32 (sign-extended
             * to 64 bits with REX.W). */
            unsigned ib = in->size == 1 ? 1 : in->size == 2 ? 2 : 4;
            in->has_imm = true;
            in->imm = (uint64_t)sign_extend(take(&r, ib), ib);
        } else {
            in->reg = (int8_t)reg;
            in->high8 = in->size == 1 && !rex && reg >= 4 && reg <= 7;
        }
    }
    if (r.short_by) {
        snprintf(msg, sizeof(msg), "it needs %zu more byte(s) than the %zu given", r.short_by, r.n);
        return msg;
    }
    in->len = (uint8_t)r.at;
    return NULL;
}

const char *mmio_reg_name(int reg, unsigned size, bool high8)
{
    static const char *const names[4][16] = {
        {"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b",
         "r13b", "r14b", "r15b"},
        {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w",
         "r13w", "r14w", "r15w"},
        {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d",
         "r12d", "r13d", "r14d", "r15d"},
        {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12",
         "r13", "r14", "r15"},
    };
    static const char *const high[4] = {"ah", "ch", "dh", "bh"};
    if (reg == MMIO_REG_RIP)
        return "rip";
    if (reg < 0 || reg > 15)
        return "?";
    if (size == 1 && high8 && reg >= 4 && reg <= 7)
        return high[reg - 4];
    return names[size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3][reg];
}
