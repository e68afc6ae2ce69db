#!/usr/bin/env python3
"""Prints grub.cfg with the command-line placeholder padded to its fixed size,
and a `module2` line for each boot module named on the command line.

    grubcfg.py grub.cfg [--module NAME]...

The runner finds the placeholder in the ISO and writes a command line of at
most CMDLINE_SPACE bytes over it (grader/image.py), padding with spaces. A
module NAME is loaded from /boot/modules/NAME and given NAME as its string,
which the kernel finds it by (kernel/module.h).
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from grader.image import CMDLINE_SPACE  # noqa: E402
from grader.image import MARKER as MARKER_BYTES  # noqa: E402

MARKER = MARKER_BYTES.decode()
NAME = re.compile(r"[A-Za-z0-9_.-]{1,31}\Z")  # kernel/module.h: MODULE_NAME_MAX 32


def main(argv):
    if not argv:
        sys.exit("usage: grubcfg.py grub.cfg [--module NAME]...")
    path, rest = argv[0], argv[1:]
    modules = []
    while rest:
        if rest[0] != "--module" or len(rest) < 2:
            sys.exit("grubcfg: unexpected argument %r (want --module NAME)" % rest[0])
        if not NAME.match(rest[1]) or rest[1] in modules:
            sys.exit("grubcfg: module name %r: want 1 to 31 of A-Z a-z 0-9 _ . -, each name once"
                     % rest[1])
        modules.append(rest[1])
        rest = rest[2:]
    text = open(path).read()
    if text.count(MARKER) != 1:
        sys.exit("grubcfg: %s must hold the placeholder %s exactly once (it holds it %d times)"
                 % (path, MARKER, text.count(MARKER)))
    lines = text.split("\n")
    at = next(i for i, l in enumerate(lines) if MARKER in l)
    indent = lines[at][:len(lines[at]) - len(lines[at].lstrip())]
    lines[at + 1:at + 1] = ["%smodule2 /boot/modules/%s %s" % (indent, m, m) for m in modules]
    text = "\n".join(lines)
    sys.stdout.write(text.replace(MARKER, MARKER + " " * (CMDLINE_SPACE - len(MARKER))))


if __name__ == "__main__":
    main(sys.argv[1:])
