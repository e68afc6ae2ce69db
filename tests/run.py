#!/usr/bin/env python3
"""make test: runs every suite of the framework's own tests, in order.

Each suite is a command that ends by printing one line `N passed, N failed`
(and exits non-zero when something failed). This script prints each suite's
output, then a table of suites and one closing line with the totals.

  tests/run.py                 every suite
  tests/run.py host kernel     only these suites
  tests/run.py --list          the suites and their commands
"""
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = sys.executable or "python3"

# name -> (what it checks, command). Order: fast and basic first.
SUITES = [
    ("host", "kernel library code compiled for the host",
     ["make", "-s", "host-tests"]),
    ("decoder", "project 3's MMIO decoder against objdump -d of every guest encoding",
     ["make", "-s", "PROJECT=3", "mmio-decoder-test"]),
    ("minos", "minos booted natively under Bochs prints guests/project3/os/native.txt",
     ["make", "-s", "PROJECT=3", "minos-native"]),
    ("kernel", "kernel self-tests and crash reports, booted under Bochs and QEMU",
     [PY, "tests/e2e/kernel.py"]),
    ("grader", "the grader's unit tests",
     [PY, "tests/grader/run.py"]),
    ("projects", "every project: the solution scores 100%, the skeleton 0 at its TODO()s",
     [PY, "tests/e2e/projects.py"]),
    ("add-test", "a test added to a copy's table: the grader, totals and handout follow",
     [PY, "tests/e2e/add_test.py"]),
    ("grade-e2e", "the grader end to end: crashes, resumption, make grade, runs at once, signals",
     [PY, "tests/grader/e2e.py"]),
    ("sandbox", "student code deprivileged: attacks score 0, a fault costs one test",
     [PY, "tests/sandbox/run.py"]),
    ("mutants", "every project's mutants fail a public test, its alternatives score 100%",
     [PY, "tests/mutants/run.py"]),
    ("instructor", "make release, the autograder flow, batch grading",
     [PY, "tests/e2e/instructor.py"]),
    ("handouts", "the handouts' generated tables match the tests and the hints",
     [PY, "scripts/handout.py", "BUILD_ALL"]),
    ("docs", "every runnable command in the docs",
     [PY, "tests/docs/run_docs.py"]),
]

SUMMARY = re.compile(r"^(?:\w+: )?(\d+) passed, (\d+) failed", re.M)


def run_suite(name, cmd):
    """Runs one suite; returns (passed, failed, seconds, ok)."""
    start = time.monotonic()
    print("==> %s: %s" % (name, " ".join(cmd)), flush=True)
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace")
    tail = []
    for line in proc.stdout:
        sys.stdout.write("    " + line)
        sys.stdout.flush()
        tail = (tail + [line])[-5:]
    status = proc.wait()
    seconds = time.monotonic() - start
    found = SUMMARY.findall("".join(tail))
    if not found:
        print("    (%s printed no 'N passed, N failed' line: counted as one failure)" % name)
        return 0, 1, seconds, False
    passed, failed = map(int, found[-1])
    if status != 0 and failed == 0:
        print("    (%s exited with status %d although it counted no failure: "
              "counted as one failure)" % (name, status))
        failed = 1
    return passed, failed, seconds, failed == 0


def build_all_solutions():
    """The build folder of the last project with every project's reference
    solution (make's name): it holds every project's tests."""
    last = max(int(n[len("project"):]) for n in os.listdir(ROOT)
               if re.fullmatch(r"project\d+", n) and os.path.isfile(os.path.join(ROOT, n, "project.mk")))
    out = subprocess.run(["make", "-s", "--no-print-directory", "info", "PROJECT=%d" % last,
                          "SOLUTION=all"], cwd=ROOT, capture_output=True, text=True).stdout
    try:
        return json.loads(out)["build"]
    except ValueError:
        return "build/p2-sol2"


def main(argv):
    if "--list" in argv:
        for name, what, cmd in SUITES:
            print("%-11s %s\n            %s" % (name, what, " ".join(cmd)))
        return 0
    chosen = [s for s in SUITES if not argv or s[0] in argv]
    unknown = set(argv) - {s[0] for s in SUITES}
    if unknown:
        print("unknown suite(s): %s (see --list)" % ", ".join(sorted(unknown)))
        return 2
    results = []
    for name, what, cmd in chosen:
        cmd = [build_all_solutions() if w == "BUILD_ALL" else w for w in cmd]
        if name == "handouts":
            cmd.append("--check")
        results.append((name,) + run_suite(name, cmd))
    print("\n%-11s %7s %7s %8s" % ("suite", "passed", "failed", "seconds"))
    for name, p, f, s, ok in results:
        print("%-11s %7d %7d %8.1f%s" % (name, p, f, s, "" if ok else "   <- FAILED"))
    total_p = sum(r[1] for r in results)
    total_f = sum(r[2] for r in results)
    print("%d passed, %d failed" % (total_p, total_f))
    return 0 if total_f == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
