/*
 * The host side of tests/host/mmio_insn_check.py: decodes each line of hex
 * bytes on stdin with project3/mmio_insn.c (compiled unchanged, with the
 * kernel's snprintf renamed by kernel_names.h) and prints what it found,
 * one line each, in the form the script compares with objdump's:
 *
 *   ok <len> <load|store> <size> <reg name|imm 0x..> <base> <index> <scale> <disp>
 *   no <the decoder's reason>
 */
#include <stdio.h>

#include "project3/mmio_insn.h"

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int main(void)
{
    char line[256];
    while (fgets(line, sizeof(line), stdin)) {
        uint8_t bytes[32];
        size_t n = 0;
        for (char *p = line; hexval(p[0]) >= 0 && hexval(p[1]) >= 0 && n < sizeof(bytes); p += 2)
            bytes[n++] = (uint8_t)(hexval(p[0]) * 16 + hexval(p[1]));
        struct mmio_insn in;
        const char *why = mmio_insn_decode(bytes, n, &in);
        if (why) {
            printf("no %s\n", why);
            continue;
        }
        printf("ok %u %s %u ", in.len, in.store ? "store" : "load", in.size);
        if (in.has_imm)
            printf("imm 0x%llx ", (unsigned long long)in.imm);
        else
            printf("%s ", mmio_reg_name(in.reg, in.size, in.high8));
        printf("%s %s %u %lld\n", in.base == MMIO_REG_NONE ? "-" : mmio_reg_name(in.base, 8, false),
               in.index == MMIO_REG_NONE ? "-" : mmio_reg_name(in.index, 8, false), in.scale,
               (long long)in.disp);
    }
    return 0;
}
