"""make grader-bench: how long grading takes next to one bare boot.

Runs, each --repeat times (default 5), as a student would: one bare boot
(`grade.py run --test none`), the whole suite with -j1, and the whole suite
with the default -j; prints the median wall times side by side with their
ratio to the bare boot. It prints figures and asserts nothing.
"""

import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(argv) -> tuple:
    """(seconds, exit status) of one run, output discarded."""
    start = time.monotonic()
    status = subprocess.run(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL).returncode
    return time.monotonic() - start, status


def main(args) -> int:
    grade = [sys.executable, os.path.join(ROOT, "grader", "grade.py")]
    common = ["--backend", args.backend, "--build", args.build]
    if args.cpu_model:
        common += ["--cpu-model", args.cpu_model]
    out = os.path.join(ROOT, "build", "bench")
    cases = [
        ("one bare boot (make run TEST=none)", grade + ["run"] + common + ["--test", "none"]),
        ("whole suite, -j1", grade + ["grade"] + common + ["-j", "1", "--seed", "1", "--out", out]),
        ("whole suite, default -j (%d)" % (os.cpu_count() or 1),
         grade + ["grade"] + common + ["--seed", "1", "--out", out]),
    ]
    from grader import backends
    be, why = backends.choose(args.backend, args.cpu_model)
    print("backend: %s (%s)" % (be.name, why))
    print("bench: %s backend, %s, median of %d runs (wall time, Python start included)"
          % (args.backend, args.build, args.repeat), flush=True)
    base = None
    for label, argv in cases:
        times, statuses = [], set()
        for _ in range(args.repeat):
            t, s = timed(argv)
            times.append(t)
            statuses.add(s)
        med = statistics.median(times)
        base = base or med
        note = "" if statuses == {0} else "  (exit status %s)" % ",".join(map(str, sorted(statuses)))
        print("  %-40s %6.2f s  %5.2fx   [min %.2f, max %.2f]%s"
              % (label, med, med / base, min(times), max(times), note), flush=True)
    return 0
