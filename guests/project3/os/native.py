#!/usr/bin/env python3
"""Boots minos natively (GRUB, no kev) under Bochs and compares its serial
output with the reference transcript project 3's loader tests expect.

    native.py ISO TRANSCRIPT            check: exit 1 on a difference
    native.py ISO TRANSCRIPT --write    rewrite the transcript from this boot

Prints the boot's emulated instructions (Bochs ticks, `ptime` at the end).
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))))
from grader.backends import Bochs  # noqa: E402

BUDGET = 400_000_000


def boot(iso: str) -> tuple:
    with tempfile.TemporaryDirectory(prefix="minos-") as d:
        serial = os.path.join(d, "serial.out")
        argv, env = Bochs().command(d, os.path.abspath(iso), serial, BUDGET)
        with open(os.path.join(d, "run.rc"), "w") as f:
            f.write("sba %d\nc\nptime\nq\n" % BUDGET)
        p = subprocess.run(["timeout", "-s", "KILL", "120"] + argv, cwd=d, env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        out = open(serial, "rb").read() if os.path.exists(serial) else b""
        m = re.search(r"ptime: (\d+)", p.stdout)
        if p.returncode != 0 or "Caught time breakpoint" in p.stdout:
            sys.exit("minos-native: the boot did not end cleanly (bochs status %d)\n%s"
                     % (p.returncode, out.decode(errors="replace")))
        return out, int(m.group(1)) if m else None


def main() -> int:
    iso, transcript = sys.argv[1], sys.argv[2]
    out, ticks = boot(iso)
    print("minos-native: %s emulated instructions, GRUB included" % ticks)
    if "--write" in sys.argv[3:]:
        open(transcript, "wb").write(out)
        print("minos-native: wrote %s" % transcript)
        return 0
    want = open(transcript, "rb").read()
    if out != want:
        print("minos-native: the native boot printed\n%s\nnot %s:\n%s"
              % (out.decode(errors="replace"), transcript, want.decode(errors="replace")))
        return 1
    print("minos-native: the native boot printed %s exactly" % transcript)
    return 0


if __name__ == "__main__":
    sys.exit(main())
