#!/usr/bin/env python3
"""Boots minos natively (GRUB, no kev) under Bochs and compares its serial
output with the reference transcript project 3's loader tests expect.

    native.py ISO ELF TRANSCRIPT            check: exit 1 on a difference
    native.py ISO ELF TRANSCRIPT --write    rewrite the transcript from this boot

Prints minos's own emulated instructions (Bochs ticks from a breakpoint at
its multiboot2 entry to its power-off) and the whole boot's.
"""
import os
import re
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))))
from grader.backends import Bochs  # noqa: E402

BUDGET = 400_000_000


def mb2_entry(elf: bytes) -> int:
    """The multiboot2 header's entry address tag (type 3): where GRUB enters minos."""
    at = elf.find(struct.pack("<I", 0xE85250D6))
    length = struct.unpack_from("<I", elf, at + 8)[0]
    tag = at + 16
    while tag < at + length:
        kind, _, size = struct.unpack_from("<HHI", elf, tag)
        if kind == 3:
            return struct.unpack_from("<I", elf, tag + 8)[0]
        tag += (size + 7) & ~7
    sys.exit("minos-native: no entry address tag in minos's multiboot2 header")


def boot(iso: str, elf: bytes) -> tuple:
    with tempfile.TemporaryDirectory(prefix="minos-") as d:
        serial = os.path.join(d, "serial.out")
        argv, env = Bochs().command(d, os.path.abspath(iso), serial, BUDGET)
        # A breakpoint where GRUB enters minos: the ticks before it are the
        # BIOS's and GRUB's, the ticks after it minos's own.
        with open(os.path.join(d, "run.rc"), "w") as f:
            f.write("sba %d\nlb 0x%x\nc\nptime\nc\nptime\nq\n" % (BUDGET, mb2_entry(elf)))
        p = subprocess.run(["timeout", "-s", "KILL", "120"] + argv, cwd=d, env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        out = open(serial, "rb").read() if os.path.exists(serial) else b""
        times = [int(t) for t in re.findall(r"ptime: (\d+)", p.stdout)]
        if p.returncode != 0 or "Caught time breakpoint" in p.stdout or len(times) != 2:
            sys.exit("minos-native: the boot did not end cleanly (bochs status %d)\n%s"
                     % (p.returncode, out.decode(errors="replace")))
        return out, times


def main() -> int:
    iso, elf, transcript = sys.argv[1], sys.argv[2], sys.argv[3]
    out, (entered, ended) = boot(iso, open(elf, "rb").read())
    print("minos-native: minos ran %d emulated instructions from GRUB's jump to its power-off "
          "(%d in all, BIOS and GRUB included)" % (ended - entered, ended))
    if "--write" in sys.argv[4:]:
        open(transcript, "wb").write(out)
        print("minos-native: wrote %s" % transcript)
        return 0
    want = open(transcript, "rb").read()
    if out != want:
        print("minos-native: the native boot printed\n%s\nnot %s:\n%s"
              % (out.decode(errors="replace"), transcript, want.decode(errors="replace")))
        print("0 passed, 1 failed")
        return 1
    print("minos-native: the native boot printed %s exactly" % transcript)
    print("1 passed, 0 failed")  # tests/run.py's "minos" suite
    return 0


if __name__ == "__main__":
    sys.exit(main())
