#!/usr/bin/env python3
"""The grader end to end, on real kernels.

1. The kernel's graded self-tests ("project 0", tests/grader/rubric_selftests.py)
   under Bochs and QEMU TCG: the passing tests pass; a panic, a triple
   fault, a hang and a kernel page fault each fail only their own test,
   with its own reason, the boot being resumed after each; results.json
   (valid, score in range) and junit.xml (valid XML) are written, and every
   boot's serial log is kept; the summary comes before the details.
2. `grade.py run` (make run TEST=none) and `grade.py check` on a crash.
3. The current project through make: `make grade SOLUTION=all` scores 100%
   with exit status 0; the skeleton scores 0, every test stopped at a
   TODO(), in one boot, one backtrace for all, on one screen.
4. What must never be blamed on the student: two `make grade` at once in
   one tree both get their right result; grade.py works from any
   directory; SIGTERM and SIGHUP stop every emulator the grader started.

Usage: tests/grader/e2e.py [--build build/p2]     ends with `N passed, N failed`.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from checks import Checks  # noqa: E402

GRADE = [sys.executable, os.path.join(ROOT, "grader", "grade.py")]
SELFTESTS = ["--project", "0", "--rubric", os.path.join(HERE, "rubric_selftests.py")]
PASSING = ["printk_formats", "string_functions", "cmdline_params", "exception_caught",
           "backtrace_symbols"]
# crash test -> the words its failure summary starts with (per backend where they differ)
CRASHES = {
    "crash_panic": "the kernel panicked: the self-test panicked on purpose (code 7) "
                   "(ktest_fn_crash_panic() at kernel/tests.c:",
    "crash_triple_fault": "triple fault",
    "crash_hang": ("instruction budget exhausted", "wall-clock timeout"),
    "crash_page_fault": "the kernel panicked: CPU exception 14",
}
SCREEN = 60  # lines: the skeleton's whole `make grade` must fit


def run(argv, cwd=ROOT, **kw):
    env = dict(os.environ, NO_COLOR="1")
    env.pop("BACKEND", None)
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env, **kw)


def results(out):
    with open(os.path.join(out, "results.json")) as f:
        return json.load(f)


def grade_selftests(c, build, backend, out):
    p = run(GRADE + ["grade", "--build", build, "--backend", backend, "--seed", "1",
                     "--out", out] + SELFTESTS)
    text = p.stdout + p.stderr
    c.check("%s: first line names the project, the backend and why" % backend,
            text.startswith("project 0, backend: %s (" % backend), text[:300])
    c.check("%s: a failing test makes the exit status 1" % backend, p.returncode == 1,
            "%s\n%s" % (p.returncode, text[-2000:]))
    c.check("%s: the run states its time bound" % backend, "the whole run ends within" in text,
            text[:400])
    try:
        res = results(out)
    except (OSError, ValueError) as e:
        c.check("%s: results.json is written and valid" % backend, False, "%s\n%s" % (e, text[-3000:]))
        return
    tests = {t["name"]: t for t in res["tests"]}
    for name in PASSING:
        c.check("%s: %s passes" % (backend, name), tests.get(name, {}).get("status") == "passed",
                tests.get(name))
    for name, want in CRASHES.items():
        got = tests.get(name, {}).get("output", "")
        wants = want if isinstance(want, tuple) else (want,)
        c.check("%s: %s fails alone, as %s" % (backend, name, wants[0]),
                tests.get(name, {}).get("status") == "failed" and got.startswith(wants), got[:300])
    c.check("%s: score 60 of 100, in range" % backend,
            abs(res["score"] - 60) < 1e-9 and res["max_score"] == 100, (res["score"], res["max_score"]))
    try:
        ET.parse(os.path.join(out, "junit.xml"))
        ok = True
    except (OSError, ET.ParseError) as e:
        ok = e
    c.check("%s: junit.xml is valid XML" % backend, ok is True, ok)
    boots = sorted(d for d in os.listdir(out) if d.startswith("boot-"))
    c.check("%s: a crash resumes the rest in a fresh boot, and every boot keeps its serial log "
            "(%d boots)" % (backend, len(boots)),
            len(boots) >= 2 and all(os.path.exists(os.path.join(out, b, "serial.log")) for b in boots),
            boots)
    c.check("%s: the summary comes before the details" % backend,
            text.find("total") < text.find("--- crash_"), text[-2000:])


def run_and_check(c, build):
    p = run(GRADE + ["run", "--build", build, "--backend", "bochs", "--test", "none"])
    c.check("run TEST=none: boots, powers off, status 0",
            p.returncode == 0 and "boot ended: success" in p.stdout, p.stdout[-1500:])
    p = run(GRADE + ["check", "--build", build, "--backend", "bochs", "--test", "crash_panic"])
    c.check("check TEST=crash_panic: whole log, verdict, backtrace, status 1",
            p.returncode == 1 and "FAIL crash_panic" in p.stdout and "backtrace" in p.stdout,
            p.stdout[-2000:])


def make_grade(c, out_solution, out_skeleton):
    p = run(["make", "-s", "grade", "SOLUTION=all", "BACKEND=bochs", "SEED=5", "OUT=" + out_solution])
    text = p.stdout + p.stderr
    try:
        res = results(out_solution)
    except (OSError, ValueError):
        res = {"score": None, "max_score": None}
    c.check("make grade SOLUTION=all: 100%%, status 0 (%s)" % out_solution,
            p.returncode == 0 and res["score"] == res["max_score"] and res["score"], text[-2500:])
    p = run(["make", "-s", "grade", "BACKEND=bochs", "SEED=5", "OUT=" + out_skeleton])
    text = p.stdout + p.stderr
    try:
        res = results(out_skeleton)
    except (OSError, ValueError):
        res = {"score": None, "tests": []}
    todo = [t for t in res["tests"] if not t["output"].startswith("TODO() in ")]
    c.check("make grade (skeleton): 0, every test at a TODO(), status not 0",
            p.returncode != 0 and res["score"] == 0 and res["tests"] and not todo,
            [t["name"] for t in todo] or text[-2000:])
    boots = [d for d in os.listdir(out_skeleton) if d.startswith("boot-")] if os.path.isdir(out_skeleton) else []
    c.check("make grade (skeleton): one boot for every test", len(boots) == 1, boots)
    stops = {t["output"].split("\n")[0] for t in res["tests"]}
    c.check("make grade (skeleton): one backtrace for each TODO() stopped at (%d)" % len(stops),
            text.count("backtrace (most recent") == len(stops), text[-3000:])
    lines = [l for l in text.split("\n") if l.strip() and not re.match(r"^\[\d+/\d+\]", l)]
    c.check("make grade (skeleton): fits on one screen (%d lines)" % len(lines), len(lines) <= SCREEN,
            "\n".join(lines))


def two_at_once(c, build, tmp):
    """Two grading runs in one tree at once (default output folders)."""
    procs = [subprocess.Popen(GRADE + ["grade", "--build", build, "--backend", "bochs", "--seed",
                                       str(7 + i)], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=dict(os.environ, NO_COLOR="1"))
             for i in range(2)]
    outs = [p.communicate()[0] for p in procs]
    for i, (p, out) in enumerate(zip(procs, outs)):
        m = re.search(r"^total\s+(\S+) / (\S+)", out, re.M)
        c.check("two grading runs at once: run %d scores full marks, status 0" % (i + 1),
                p.returncode == 0 and m and m.group(1) == m.group(2), out[-1500:])


def stale_lock(c, build):
    """A killed run leaves Bochs's image lock behind: the next run must not care."""
    run_dir = os.path.join(ROOT, "build", "run")
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, "kevlab.iso.lock"), "w") as f:
        f.write("stale\n")
    p = run(GRADE + ["run", "--build", build, "--backend", "bochs", "--test", "none"])
    c.check("a stale kevlab.iso.lock from a killed run breaks nothing",
            p.returncode == 0 and "boot ended: success" in p.stdout, p.stdout[-1000:])


def from_elsewhere(c, build):
    p = run(GRADE + ["run", "--build", build, "--backend", "bochs", "--test", "none"], cwd="/tmp")
    c.check("grade.py works from another directory", p.returncode == 0 and "boot ended: success"
            in p.stdout, p.stdout[-1000:] + p.stderr[-1000:])


def children(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                kids.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return kids


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def signals(c, build, tmp):
    for sig in (signal.SIGTERM, signal.SIGHUP):
        out = os.path.join(tmp, "signal-%d" % sig)
        p = subprocess.Popen(GRADE + ["grade", "--build", build, "--backend", "bochs", "--out", out]
                             + SELFTESTS + ["--tests", "crash_hang"], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        emulators = []
        for _ in range(200):
            emulators = children(p.pid)
            if emulators:
                break
            time.sleep(0.05)
        p.send_signal(sig)
        p.wait(timeout=20)
        time.sleep(0.2)
        left = [e for e in emulators if alive(e)]
        c.check("signal %d: the grader stops its emulators (%d started, %d left)"
                % (sig, len(emulators), len(left)), emulators and not left, left)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "p2"))
    ap.add_argument("--solution", default=None, help="a SOLUTION=all build (default: make's)")
    args = ap.parse_args()
    c = Checks()
    with tempfile.TemporaryDirectory(prefix="kevlab-e2e-") as tmp:
        for backend in ("bochs", "qemu-tcg"):
            grade_selftests(c, args.build, backend, os.path.join(tmp, "self-" + backend))
        run_and_check(c, args.build)
        make_grade(c, os.path.join(tmp, "solution"), os.path.join(tmp, "skeleton"))
        info = json.loads(run(["make", "-s", "--no-print-directory", "info", "SOLUTION=all"]).stdout)
        solution = args.solution or os.path.join(ROOT, info["build"])
        two_at_once(c, solution, tmp)
        from_elsewhere(c, args.build)
        stale_lock(c, args.build)
        signals(c, args.build, tmp)
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
