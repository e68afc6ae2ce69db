#!/usr/bin/env python3
"""Links the user image: student objects and the user runtime, for CPL 3.

  userlink.py --out IMAGE.o --lib LIB.a --entries "f g" STUDENT.o=SOURCE.c ...

1. `ld -r` with user/user.ld merges the student objects and what they need
   of the runtime archive into the sections .user.text, .user.rodata,
   .user.data and .user.bss, which kernel/linker.ld places on
   user-accessible pages.
2. Every symbol must then be defined: a student file that calls a kernel
   function the student ABI does not have (user/syscalls.tbl) is an error
   that names the file and the function, here rather than as a fault later.
3. No other allocated section may come in: a section attribute could
   otherwise put student bytes among the kernel's own (a forged test).
4. Every symbol but the entry points (the student functions the framework
   calls) and the trampoline becomes local, so student code may define any
   name it likes without meeting the kernel's.
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from grader import kernelinfo  # noqa: E402

ALLOWED = (".user.text", ".user.rodata", ".user.data", ".user.bss")
ALWAYS_GLOBAL = ["user_upcall_return", "__ulib_text_start"]


def run(argv):
    p = subprocess.run(argv, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("userlink: %s failed:\n%s" % (argv[0], p.stdout + p.stderr))
    return p.stdout


def nm(path, *flags):
    out = run(["nm", *flags, path])
    return [line.split()[-1] for line in out.splitlines() if line.split()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--entries", default="")
    ap.add_argument("--script", default="user/user.ld")
    ap.add_argument("students", nargs="*", help="OBJECT=SOURCE pairs")
    args = ap.parse_args()
    pairs = [s.split("=", 1) for s in args.students]
    objs = [o for o, _ in pairs]
    entries = args.entries.split()

    with tempfile.TemporaryDirectory() as tmp:
        merged = os.path.join(tmp, "merged.o")
        # -u: the kernel needs the trampoline even when no student code
        # makes a syscall that would pull its object from the archive.
        # -u: the kernel calls the trampoline and the runtime's own entries,
        # which no student code may reference to pull them from the archive.
        undef = [w for e in ALWAYS_GLOBAL[:1] + entries for w in ("-u", e)]
        run(["ld", "-r", "-T", args.script] + undef + ["-o", merged] + objs + [args.lib])

        undefined = nm(merged, "-u")
        if undefined:
            lines = []
            for sym in undefined:
                users = [src for obj, src in pairs if sym in nm(obj, "-u")]
                lines.append("  %s calls %s(), which is not part of the API student code may "
                             "use (it is kernel code, or misspelled)"
                             % (", ".join(users) or "the user runtime", sym))
            sys.exit("userlink: your code runs deprivileged and reaches the kernel only through "
                     "the functions of its API (docs/kev.md):\n" + "\n".join(lines))

        bad = [(name, flags) for name, flags in kernelinfo.sections(merged)
               if flags & kernelinfo.SHF_ALLOC and name not in ALLOWED]
        if bad:
            sys.exit("userlink: student code may not have sections of its own: %s (a "
                     "__attribute__((section)) or a constructor?)"
                     % ", ".join(name for name, _ in bad))

        defined = set(nm(merged, "--defined-only", "-g"))
        missing = [e for e in entries if e not in defined]
        if missing:
            sys.exit("userlink: these functions must be defined (not static) in the student "
                     "files %s: %s" % (", ".join(src for _, src in pairs), ", ".join(missing)))

        keep = os.path.join(tmp, "keep")
        with open(keep, "w") as f:
            f.write("\n".join(entries + ALWAYS_GLOBAL) + "\n")
        run(["objcopy", "--keep-global-symbols=" + keep, merged, args.out])


if __name__ == "__main__":
    main()
