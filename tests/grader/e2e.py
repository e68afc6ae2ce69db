#!/usr/bin/env python3
"""The grader end to end, on real kernels, with faults injected.

1. Grades the kernel's self-tests (tests/grader/rubric_selftests.py) with
   grade.py under Bochs and QEMU TCG: the passing tests pass; a panic, a
   triple fault, a hang and a page fault each fail only their own test,
   with its own reason; results.json, junit.xml and every boot's serial
   log are written; the same seed gives the same command lines.
2. `grade.py run` (make run TEST=none) and `grade.py check` on a crash.
3. Project 2, once its tests are in the kernels: `make grade SOLUTION=1
   BACKEND=bochs` gives full marks and exit status 0; the skeleton gets 0
   with every test failing at a TODO(). Skipped while they are not built.
4. Faults injected into copies of the solution (FAULT_SETS: a byte lost, a
   NULL write, an endless loop in the host; a fixed string printed, a flood
   of output; a triple fault, a guest that loops forever): each fails only
   the tests it touches, with its own reason, the scores are exact, every
   run ends within the bound it states and the serial logs stay bounded.

Usage: tests/grader/e2e.py [--build build/skeleton] [--solution build/solution]
Ends with `N passed, N failed`.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

from grader import kernelinfo, runner  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from checks import Checks  # noqa: E402

GRADE = [sys.executable, os.path.join(ROOT, "grader", "grade.py")]
SELFTESTS = os.path.join(HERE, "rubric_selftests.py")
PASSING = ["printk_formats", "string_functions", "cmdline_params", "exception_caught",
           "backtrace_symbols"]
# crash test -> words its failure summary must start with, per backend
CRASHES = {
    "crash_panic": {"bochs": "panic: the self-test panicked on purpose (code 7) (ktest_fn_crash_panic() at kernel/tests.c:",
                    "qemu-tcg": "panic: the self-test panicked on purpose (code 7) (ktest_fn_crash_panic() at kernel/tests.c:"},
    "crash_triple_fault": {"bochs": "triple fault", "qemu-tcg": "triple fault"},
    "crash_hang": {"bochs": ("instruction budget exhausted", "wall-clock timeout"),
                   "qemu-tcg": "wall-clock timeout"},
    "crash_page_fault": {"bochs": "panic: CPU exception 14", "qemu-tcg": "panic: CPU exception 14"},
}


def run(argv, cwd=ROOT):
    """Runs argv in cwd, its output captured; BACKEND is left to the options."""
    env = dict(os.environ, NO_COLOR="1")
    env.pop("BACKEND", None)
    return subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, errors="replace", env=env)


def grade_selftests(c, build, backend, out):
    p = run(GRADE + ["grade", "--rubric", SELFTESTS, "--build", build, "--backend", backend,
                     "--seed", "7", "--out", out])
    text = p.stdout
    c.check("%s: first line names the backend and why" % backend,
            text.startswith("backend: %s (" % backend), text[:200])
    c.check("%s: a failing test makes the exit status 1" % backend, p.returncode == 1,
            "status %d\n%s" % (p.returncode, p.stderr[-1000:]))
    c.check("%s: the run states its time bound" % backend, "the whole run ends within" in text, text[:400])
    res = _results(out)
    if res is None:
        c.check("%s: results.json is written" % backend, False, p.stdout[-3000:] + p.stderr[-2000:])
        return
    tests = {t["name"]: t for t in res["tests"]}
    for name in PASSING:
        t = tests.get(name, {})
        c.check("%s: %s passes" % (backend, name), t.get("status") == "passed", t)
    for name, want in CRASHES.items():
        t = tests.get(name, {})
        want = want[backend]
        out_text = t.get("output", "")
        c.check("%s: %s fails alone, as %s" % (backend, name, want),
                t.get("status") == "failed" and out_text.startswith(want), out_text[:300])
    c.check("%s: score 60 of 100" % backend,
            abs(res["score"] - 60) < 1e-6 and abs(res["max_score"] - 100) < 1e-6,
            (res["score"], res["max_score"]))
    c.check("%s: junit.xml is written" % backend, os.path.exists(os.path.join(out, "junit.xml")))
    boots = sorted(d for d in os.listdir(out) if d.startswith("boot-"))
    logs = [os.path.join(out, b, "serial.log") for b in boots]
    c.check("%s: every boot keeps its serial log (%d boots)" % (backend, len(boots)),
            boots and all(os.path.getsize(l) > 0 for l in logs), logs)
    c.check("%s: the summary comes before the details" % backend,
            text.find("total ") < text.find("--- crash_panic"), text[-1500:])
    # The test inputs (every word but test=); how tests share boots may vary.
    return sorted(w for b in boots for w in open(os.path.join(out, b, "cmdline")).read().split()
                  if not w.startswith("test="))


def run_and_check(c, build):
    p = run(GRADE + ["run", "--build", build, "--backend", "bochs", "--test", "none"])
    c.check("run TEST=none: boots, powers off, status 0", p.returncode == 0 and
            "@@ poweroff ok" in p.stdout, p.stdout[-800:])
    p = run(GRADE + ["check", "--rubric", SELFTESTS, "--build", build, "--backend", "qemu-tcg",
                     "--test", "crash_panic"])
    c.check("check TEST=crash_panic: whole log, verdict, backtrace, status 1",
            p.returncode == 1 and "@@ boot kevlab" in p.stdout and "FAIL crash_panic" in p.stdout
            and "ktest_fn_crash_panic+0x" in p.stdout, p.stdout[-1500:])


def project2(c, skeleton, solution):
    have = kernelinfo.kernel_tests(os.path.join(ROOT, solution, "kernel.elf")) or set()
    if not any(n.startswith("p2_") for n in have):
        c.skip("project 2 end to end", "the p2_ tests are not in %s yet" % solution)
        return False
    out = tempfile.mkdtemp(prefix="kevlab-e2e-")
    # BUILD= the given folders: the default ones may be another build's.
    p = run(["make", "--no-print-directory", "grade", "SOLUTION=1", "BUILD=" + solution,
             "BACKEND=bochs", "OUT=" + out])
    res = _results(out)
    c.check("make grade SOLUTION=1 BACKEND=bochs: full score, status 0 (%s)" % out,
            p.returncode == 0 and res and res["score"] == res["max_score"] > 0,
            p.stdout[-3000:])
    p = run(["make", "--no-print-directory", "grade", "BUILD=" + skeleton, "BACKEND=bochs",
             "OUT=" + out])
    res = _results(out)
    fails = [t for t in (res or {}).get("tests", []) if t["status"] == "failed"]
    c.check("make grade (skeleton): every test fails at a TODO(), status not 0",
            p.returncode != 0 and res and res["score"] == 0 and
            len(fails) == len(res["tests"]) and
            all("not yet implemented" in t["output"] for t in fails), p.stdout[-3000:])
    return True


# Faults injected into copies of the solution's project2/hypercall.c. Each
# FaultSet is one faulty solution: its faults as (text to find, text to put
# instead), how each test must end (None: it passes; else how its failure
# summary starts), its total score, and texts a failed test's output must
# show. Every fault is conditional on something only some tests do, so a set
# shows that each fault costs only the tests it touches, with its own reason.
@dataclass
class FaultSet:
    name: str
    faults: list
    expect: dict
    score: float
    shows: dict = field(default_factory=dict)


HANG = ("instruction budget exhausted", "wall-clock timeout")  # whichever comes first
PASS = None
# p2_print_hello's default message, as a C literal and as the diffs show it
FIXED = r"Hello, hypervisor!\n"

FAULT_SETS = [
    # A Print of 1..99 bytes drops its last byte, one of 100 or more writes
    # through NULL (a kernel panic), an unknown hypercall loops forever in
    # the host.
    FaultSet("lost byte, NULL write, host loop", [
        ("            e = printer_write(out, chunk, n);",
         "            e = printer_write(out, chunk, size < 100 && done + n == size ? n - 1 : n);\n"
         "        if (size >= 100)\n"
         "            *(volatile int *)0 = 1;"),
        ("    default:\n        return KEV_EHYPERCALL;",
         "    default:\n        for (;;)\n            __asm__ volatile(\"\");"),
    ], {
        "p2_halt_code": PASS, "p2_regs_preserved": PASS, "p2_print_empty": PASS,
        "p2_print_unmapped": PASS, "p2_print_wrap": PASS, "p2_print_past_end": PASS,
        "p2_print_hello": "wrong `capture`", "p2_print_exit_code": "wrong `capture`",
        "p2_print_many": "wrong `capture`", "p2_print_utf8": "wrong `capture`",
        "p2_print_cross_page": "panic: CPU exception 14",
        "p2_unknown_hypercall": HANG,
    }, 20 + 5 + 30 * 3 / 4, {"p2_print_hello": ["the rest is missing", "+++ your capture"]}),
    # Print writes a fixed string instead of the guest's bytes (randomized
    # messages catch it); a buffer the probe refuses makes the host printk
    # forever (a flood of output).
    FaultSet("fixed string, flood", [
        ("            e = printer_write(out, chunk, n);",
         "            e = printer_write(out, \"%s\", %d);" % (FIXED, len(FIXED) - 1)),
        ('#include "kernel/panic.h"\n', '#include "kernel/panic.h"\n#include "kernel/printk.h"\n'),
        ("        if (e != KEV_OK)\n            return e;",
         "        while (e != KEV_OK)\n"
         "            printk(\"cannot read the guest's page at 0x%lx: %s\\n\", at, kev_strerror(e));"),
    ], {
        "p2_halt_code": PASS, "p2_regs_preserved": PASS, "p2_print_empty": PASS,
        "p2_unknown_hypercall": PASS, "p2_print_wrap": PASS,
        "p2_print_hello": "wrong `capture`", "p2_print_exit_code": "wrong `capture`",
        "p2_print_many": "wrong `capture`", "p2_print_utf8": "wrong `capture`",
        "p2_print_cross_page": "wrong `capture`",
        "p2_print_unmapped": HANG, "p2_print_past_end": HANG,
    }, 20 + 5 + 30 * 2 / 4, {"p2_print_hello": ["--- expected capture", "+" + FIXED],
            "p2_print_unmapped": ["  | cannot read the guest's page at 0x700000"]}),
    # A Print of 0 bytes loads an empty IDT and hits int3 (a triple fault of
    # the host); a Print after something was captured moves RIP back onto
    # its vmcall (the controller moves it forward again), so the guest
    # repeats it forever.
    FaultSet("triple fault, guest loop", [
        ("    case HC_PRINT:\n        return print(",
         "    case HC_PRINT:\n"
         "        if (hc->print.size == 0) {\n"
         "            static const struct __attribute__((packed)) {\n"
         "                uint16_t limit;\n"
         "                uint64_t base;\n"
         "            } no_idt;\n"
         "            __asm__ volatile(\"lidt %0\\n int3\" ::\"m\"(no_idt));\n"
         "        }\n"
         "        return print("),
        ("    enum kev_error e = check_readable(s, buf, size);",
         "    if (out->len > 0) {\n"
         "        uint32_t len;\n"
         "        uint64_t rip;\n"
         "        if (vmcs_exit_insn_len(&s->vmcs, &len) == KEV_OK &&\n"
         "            vmcs_readl(&s->vmcs, GUEST_RIP, &rip) == KEV_OK)\n"
         "            vmcs_writel(&s->vmcs, GUEST_RIP, rip - len);\n"
         "        return vmexit_continue();\n"
         "    }\n"
         "    enum kev_error e = check_readable(s, buf, size);"),
    ], {
        "p2_halt_code": PASS, "p2_print_hello": PASS, "p2_print_exit_code": PASS,
        "p2_print_utf8": PASS, "p2_print_cross_page": PASS, "p2_unknown_hypercall": PASS,
        "p2_print_unmapped": PASS, "p2_print_wrap": PASS, "p2_print_past_end": PASS,
        "p2_regs_preserved": "triple fault", "p2_print_empty": "triple fault",
        "p2_print_many": HANG,
    }, 20 * 2 / 3 + 50 * 7 / 10 + 30),
]


def faults(c):
    """Copies the tree once, then grades the solution with each FaultSet's
    faults in turn."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = os.path.join(tmp, "kevlab")
        files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                               capture_output=True, text=True).stdout.split()
        for f in files:
            if f.startswith("build/") or not os.path.isfile(os.path.join(ROOT, f)):
                continue
            os.makedirs(os.path.dirname(os.path.join(tree, f)) or tree, exist_ok=True)
            shutil.copy2(os.path.join(ROOT, f), os.path.join(tree, f))
        solution = open(os.path.join(tree, "project2", "hypercall.c")).read()
        for i, fs in enumerate(FAULT_SETS):
            grade_faulty(c, tree, solution, fs, os.path.join(tmp, "grade-%d" % i))


def grade_faulty(c, tree, solution, fs, out):
    """Builds the solution with fs's faults in tree (the build is
    incremental), grades it and checks every test's ending."""
    what = "faults (%s)" % fs.name
    missing = [old for old, _ in fs.faults if solution.count(old) != 1]
    if missing:
        c.check("%s: the solution still has the code the faults replace" % what, False, missing)
        return
    text = solution
    for old, new in fs.faults:
        text = text.replace(old, new)
    with open(os.path.join(tree, "project2", "hypercall.c"), "w") as f:
        f.write(text)
    b = run(["make", "--no-print-directory", "SOLUTION=1", "BUILD=build/fault"], cwd=tree)
    if b.returncode != 0:
        c.check("%s: the faulty solution builds" % what, False, b.stdout[-2000:] + b.stderr[-2000:])
        return
    start = time.monotonic()
    p = run([sys.executable, "grader/grade.py", "--build", "build/fault",
             "--backend", "bochs", "--out", out, "--seed", "5"], cwd=tree)
    wall = time.monotonic() - start
    res = _results(out)
    if not res:
        c.check("%s: results.json is written" % what, False, p.stdout[-3000:] + p.stderr[-2000:])
        return
    c.check("%s: exit status 1" % what, p.returncode == 1, p.returncode)
    tests = {t["name"]: t for t in res["tests"]}
    for name, want in fs.expect.items():
        t = tests.get(name, {})
        if want is PASS:
            c.check("%s: %s still passes" % (what, name), t.get("status") == "passed", t)
        else:
            c.check("%s: %s fails as %s" % (what, name, want if isinstance(want, str)
                                            else " or ".join(want)), t.get("status") == "failed"
                    and t.get("output", "").startswith(want), t.get("output", "")[:400])
    c.check("%s: score %.4g of 100" % (what, fs.score), abs(res["score"] - fs.score) < 1e-3,
            res["score"])
    for name, texts in fs.shows.items():
        got = tests.get(name, {}).get("output", "")
        c.check("%s: %s's output shows %s" % (what, name, texts),
                all(s in got for s in texts), got[:2000])
    bound = re.search(r"the whole run ends within (\d+) s", p.stdout)
    c.check("%s: the run took %.1f s, within the bound it stated (%s s)"
            % (what, wall, bound.group(1) if bound else "?"),
            bound is not None and wall <= int(bound.group(1)), p.stdout[:400])
    sizes = {b: os.path.getsize(os.path.join(out, b, "serial.log"))
             for b in os.listdir(out) if b.startswith("boot-")}
    c.check("%s: every boot's serial log stays within the grader's %d MB cap (largest %d bytes)"
            % (what, runner.MAX_OUTPUT >> 20, max(sizes.values(), default=0)),
            sizes and max(sizes.values()) <= runner.MAX_OUTPUT, sizes)


def _results(out):
    try:
        return json.load(open(os.path.join(out, "results.json")))
    except (OSError, ValueError):
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build/skeleton")
    ap.add_argument("--solution", default="build/solution")
    args = ap.parse_args()
    c = Checks()
    if not os.path.exists(os.path.join(ROOT, args.build, "kevlab.iso")):
        print("%s/kevlab.iso is missing: run `make` first" % args.build)
        print("0 passed, 1 failed")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        for backend in ("bochs", "qemu-tcg"):
            lines = grade_selftests(c, args.build, backend, os.path.join(tmp, backend))
            if backend == "bochs":
                again = grade_selftests(Checks(), args.build, backend, os.path.join(tmp, "again"))
                c.check("the same seed gives the same test inputs",
                        lines and lines == again, (lines, again))
    run_and_check(c, args.build)
    if project2(c, args.build, args.solution):
        faults(c)
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
