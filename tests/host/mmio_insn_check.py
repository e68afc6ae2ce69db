#!/usr/bin/env python3
"""MMIO's instruction decoder (project3/mmio_insn.c) against objdump.

Disassembles every guest binary given (objdump -D, Intel syntax), hands
each instruction's bytes to the decoder built for the host
(tests/host/mmio_insn_main.c), and checks that the two agree: every MOV
between memory and a general register or an immediate, with no prefix but
66 and REX, is decoded with objdump's length, direction, size, register or
immediate, base, index, scale and displacement; every other instruction is
refused. The guests' data is disassembled too: more encodings, all
welcome.

  mmio_insn_check.py DECODER GUEST.bin...    (make mmio-decoder-test PROJECT=3)

Prints one line per disagreement, then `N passed, N failed` (N encodings).
"""
import re
import subprocess
import sys

SIZES = {"BYTE": 1, "WORD": 2, "DWORD": 4, "QWORD": 8}
GPRS = {}
for n, names in enumerate([
        ("rax", "eax", "ax", "al"), ("rcx", "ecx", "cx", "cl"), ("rdx", "edx", "dx", "dl"),
        ("rbx", "ebx", "bx", "bl"), ("rsp", "esp", "sp", "spl"), ("rbp", "ebp", "bp", "bpl"),
        ("rsi", "esi", "si", "sil"), ("rdi", "edi", "di", "dil")] +
        [("r%d" % i, "r%dd" % i, "r%dw" % i, "r%db" % i) for i in range(8, 16)]):
    for size, name in zip((8, 4, 2, 1), names):
        GPRS[name] = size
for name in ("ah", "ch", "dh", "bh"):
    GPRS[name] = 1
LINE = re.compile(r"^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t(.*)$")
MEM = re.compile(r"^(?:(BYTE|WORD|DWORD|QWORD) PTR )?(?:ds:(0x[0-9a-f]+)|\[([^\]]+)\])$")


def parse_mem(text):
    """(size or None, base, index, scale, disp) of objdump's memory operand, or None."""
    m = MEM.match(text)
    if not m:
        return None
    size = SIZES.get(m.group(1)) if m.group(1) else None
    if m.group(2):
        return size, "-", "-", 1, int(m.group(2), 16)
    base, index, scale, disp = "-", "-", 1, 0
    for sign, term in re.findall(r"([+-]?)([^+-]+)", m.group(3)):
        if term.startswith("0x"):
            disp += -int(term, 16) if sign == "-" else int(term, 16)
        elif "*" in term:
            index, s = term.split("*")
            scale = int(s)
            if index in ("riz", "eiz"):
                index, scale = "-", scale
        else:
            base = term
    return size, base, index, scale, disp


def expected(text):
    """What the decoder must print for objdump's instruction text, or None: refused."""
    text = text.split("#")[0].strip()
    # Prefixes objdump names because the CPU ignores them (a second 66,
    # 66 under REX.W, a REX whose bits do nothing): the same MOV.
    text = re.sub(r"^(?:(?:data16|rex(?:\.[WRXB]+)?) )+(?=mov)", "", text)
    words = text.split(None, 1)
    if len(words) != 2 or words[0] not in ("mov", "movabs"):
        return None  # another instruction, or prefixes objdump names (rex.W, data16, ds, ...)
    ops = [o.strip() for o in words[1].split(",")]
    if len(ops) != 2:
        return None
    dst, src = ops
    mem, other, store = (parse_mem(dst), src, True) if parse_mem(dst) else (parse_mem(src), dst, False)
    if mem is None:
        return None
    msize, base, index, scale, disp = mem
    if other in GPRS:
        size, operand = GPRS[other], other
    elif store and re.match(r"^0x[0-9a-f]+$", other) and msize:
        size, operand = msize, "imm 0x%x" % (int(other, 16) & ((1 << (8 * msize)) - 1))
    else:
        return None  # a segment or control register
    if msize and msize != size:
        return None
    if index != "-" and GPRS.get(index) != 8 or base not in ("-", "rip") and GPRS.get(base) != 8:
        return None  # 32-bit addressing (67) and the like
    return [store, size, operand, base, index, scale if index != "-" else 1, disp]


def decoded(line, length):
    """The decoder's line as the same list (its imm masked to its size)."""
    w = line.split()
    if w[0] != "ok":
        return None
    dlen, store, size = int(w[1]), w[2] == "store", int(w[3])
    rest = w[4:]
    if rest[0] == "imm":
        operand = "imm 0x%x" % (int(rest[1], 16) & ((1 << (8 * size)) - 1))
        rest = rest[2:]
    else:
        operand, rest = rest[0], rest[1:]
    base, index, scale, disp = rest[0], rest[1], int(rest[2]), int(rest[3])
    if base == "-" and index == "-":
        disp &= (1 << 64) - 1
    return dlen, [store, size, operand, base, index, scale, disp]


def main(argv):
    decoder, bins = argv[1], argv[2:]
    cases = {}  # bytes of the instruction -> (objdump text, the 15 bytes from there, file)
    for path in bins:
        data = open(path, "rb").read()
        out = subprocess.run(["objdump", "-D", "-b", "binary", "-m", "i386:x86-64", "-M", "intel",
                              "--insn-width=15", path], capture_output=True, text=True,
                             check=True).stdout
        for ln in out.splitlines():
            m = LINE.match(ln)
            if not m:
                continue
            at, insn = int(m.group(1), 16), bytes.fromhex(m.group(2).replace(" ", ""))
            cases.setdefault(insn, (m.group(3).strip(), data[at:at + 15], path))
    keys = list(cases)
    feed = "".join(cases[k][1].hex() + "\n" for k in keys)
    lines = subprocess.run([decoder], input=feed, capture_output=True, text=True,
                           check=True).stdout.splitlines()
    passed = failed = accepted = 0
    for k, line in zip(keys, lines):
        text, _, path = cases[k]
        want, got = expected(text), decoded(line, len(k))
        ok = (want is None and got is None) or (
            want is not None and got is not None and got[0] == len(k) and got[1] == want)
        # objdump decodes past a buffer's end what the decoder may refuse for want of bytes.
        if ok:
            passed += 1
            accepted += got is not None
        else:
            failed += 1
            print("%s: %s  objdump: %s  decoder: %s (want %s)" % (path, k.hex(" "), text, line, want))
    print("mmio decoder: %d encodings from %d guests, %d of them MOVs it decodes" %
          (len(keys), len(bins), accepted))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
