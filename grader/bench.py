"""make bench: how long grading takes next to one bare boot, and what a VM
exit costs.

Runs, each --repeat times (default 5, in rounds of one run each), and
prints the median wall times side by side with their ratio to the bare
boot:

  one bare boot (make run TEST=none)
  the whole suite of the project, in one boot each, for the variants of the
  student file the instructors' tree can build: the skeleton (every test at
  a TODO()), a half-done solution (the first student function works, the
  second faults), one whose second function loops forever in every test,
  and the reference solution; in a student tree, the student's own code.

Under Bochs the same boots again in emulated instructions (exact, where
wall times vary with the machine's load), then kev's figures: a null
vmcall round trip without and with an upcall into ring 3. It prints
figures and asserts nothing.
"""

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "build", "bench")

# Project 2's variants, made from its reference solution: (name, the
# function's first line, what to put at its start).
VARIANTS = [
    ("half-done: hypercall_handle faults",
     "struct vmexit_result hypercall_handle(struct vcpu_state *s, const struct hypercall *hc,\n"
     "                                      struct printer *out)\n{\n",
     "    *(volatile int *)0 = 0; /* bench: a fault in every test */\n"),
    ("hypercall_handle loops forever",
     "struct vmexit_result hypercall_handle(struct vcpu_state *s, const struct hypercall *hc,\n"
     "                                      struct printer *out)\n{\n",
     "    for (;;) {} /* bench: an endless loop in every test */\n"),
]
STUDENT = "project2/hypercall.c"


def timed(argv) -> tuple:
    """(seconds, exit status) of one run, output discarded."""
    start = time.monotonic()
    status = subprocess.run(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL).returncode
    return time.monotonic() - start, status


def make(*words):
    return subprocess.run(["make", "-s", "--no-print-directory"] + list(words), cwd=ROOT,
                          capture_output=True, text=True)


def has_solution() -> bool:
    with open(os.path.join(ROOT, STUDENT)) as f:
        return "#ifdef SOLUTION" in f.read()


def builds(project) -> list:
    """(label, build folder) of every suite to time."""
    if project != 2 or not has_solution():
        info = json.loads(make("info", "PROJECT=%d" % project).stdout)
        make("PROJECT=%d" % project, "all")
        return [("your code", os.path.join(ROOT, info["build"]))]
    out = []
    skel = json.loads(make("info").stdout)["build"]
    make("all")
    out.append(("skeleton (every test at a TODO())", os.path.join(ROOT, skel)))
    with open(os.path.join(ROOT, STUDENT)) as f:
        solution = f.read()
    for i, (label, start, code) in enumerate(VARIANTS):
        src = os.path.join(OUT, "variant%d" % i, "src")
        os.makedirs(os.path.join(src, "project2"), exist_ok=True)
        with open(os.path.join(src, STUDENT), "w") as f:
            f.write(solution.replace(start, start + code, 1))
        build = os.path.join(OUT, "variant%d" % i, "build")
        p = make("SOLUTION=2", "SRC_OVERRIDE=" + src, "BUILD=" + build, "all")
        if p.returncode == 0:
            out.append((label, build))
        else:
            print("bench: the variant %r does not build:\n%s" % (label, p.stderr[-1000:]))
    sol = json.loads(make("info", "SOLUTION=2").stdout)["build"]
    make("SOLUTION=2", "all")
    out.append(("the reference solution", os.path.join(ROOT, sol)))
    return out


def kev_figures(grade, common):
    p = subprocess.run(grade + ["run"] + common + ["--test", "kev_bench_vmcall,kev_bench_upcall"],
                       cwd=ROOT, capture_output=True, text=True)
    found = dict(re.findall(r"@@ test data (kev_bench_\w+) instructions_per_vmcall (\S+)", p.stdout))
    for name, what in (("kev_bench_vmcall", "a null vmcall round trip"),
                       ("kev_bench_upcall", "the same with an upcall into ring 3")):
        print("  %-48s %s emulated instructions" % (what, found.get(name, "(did not run)")))


def main(args) -> int:
    grade = [sys.executable, "-S", os.path.join(ROOT, "grader", "grade.py")]  # as make runs it
    common = ["--backend", args.backend]
    if args.cpu_model:
        common += ["--cpu-model", args.cpu_model]
    from grader import backends
    be, why = backends.choose(args.backend, args.cpu_model)
    print("backend: %s (%s)" % (be.name, why))
    shutil.rmtree(OUT, ignore_errors=True)
    suites = builds(args.project or 2)
    print("bench: median of %d runs (wall time, Python's start included)" % args.repeat, flush=True)
    base = None
    cases = [("one bare boot (make run TEST=none)",
              grade + ["run", "--build", suites[-1][1]] + common + ["--test", "none"])]
    for label, build in suites:
        cases.append(("suite: " + label, grade + ["grade", "--build", build] + common +
                      ["--seed", "1", "-j", "1", "--out", os.path.join(OUT, "grade")]))
    # Round by round, every case once a round: a machine that speeds up or
    # slows down meanwhile (a VM's neighbours) shifts every case alike.
    times = [[] for _ in cases]
    for _ in range(args.repeat):
        for i, (_label, argv) in enumerate(cases):
            times[i].append(timed(argv)[0])
    for (label, _argv), ts in zip(cases, times):
        med = statistics.median(ts)
        base = base or med
        print("  %-48s %6.2f s  %5.2fx   [min %.2f, max %.2f]"
              % (label, med, med / base, min(ts), max(ts)), flush=True)
    if be.name == "bochs":
        print("bench: the same boots in emulated instructions (Bochs's ticks at the kernel's "
              "`@@ done`: exact, the same on every run)", flush=True)
        first = None
        for label, argv in cases:
            n = boot_ticks(argv)
            first = first or n
            print("  %-48s %6.2fM  %5.2fx" % (label, n / 1e6, n / first) if n and first
                  else "  %-48s (no `@@ done` line)" % label, flush=True)
    kev_figures(grade, common + ["--build", suites[-1][1]])
    return 0


DONE_TICKS = re.compile(rb"@@ done passed=\d+ failed=\d+ skipped=\d+ ticks=(\d+)")


def boot_ticks(argv):
    """The ticks of a run's `@@ done` frames, summed over its boots (a grade
    run's serial logs; a bare run's console), or None."""
    p = subprocess.run(argv, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True)
    if "grade" in argv:
        out = argv[argv.index("--out") + 1]
        text = b""
        for d in sorted(os.listdir(out)):
            path = os.path.join(out, d, "serial.log")
            if d.startswith("boot-") and os.path.exists(path):
                with open(path, "rb") as f:
                    text += f.read()
    else:
        text = p.stdout
    found = [int(x) for x in DONE_TICKS.findall(text)]
    return sum(found) if found else None
