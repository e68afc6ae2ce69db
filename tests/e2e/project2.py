#!/usr/bin/env python3
"""Project 2 end to end: the solution passes, the skeleton stops at TODO().

Builds the reference solution (SOLUTION=1) and the skeleton, each into its
own build directory (make: nothing to do when they are up to date), then
boots them under Bochs and checks:

  - project2/ and guests/ compile with -Werror as skeleton and as solution;
  - the solution, every p2 test in one boot with the grader's randomized
    parameters (the rubric's, drawn with --seed): each test's end frame says
    pass and its `test data` are what the rubric expects;
  - the solution, every p2 test in one boot with no parameters: the
    kernel's defaults pass too (what `make run TEST=x` does);
  - in those boots, every test after one whose guest was stopped by an
    error (p2_print_unmapped, ...) still ran: a bad guest never takes the
    host down;
  - the skeleton, each p2 test booted alone: a panic `not yet implemented`
    at project2/hypercall.c:<line> in resolve() or handle(), and the test
    began without ending; all of them in one boot: the first one panics.

Usage: tests/e2e/project2.py [--solution-build DIR] [--skeleton-build DIR]
                             [--no-build] [--seed N] [-j N]
Ends with `N passed, N failed`; exits non-zero when something failed.
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from grader import backends, cmdline, rubric, runner  # noqa: E402
from grader import outcome as oc  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks  # noqa: E402

TESTS_C = os.path.join(ROOT, "project2", "tests.c")
TODO_PANIC = re.compile(r"at project2/hypercall\.c:(\d+) in (resolve|handle)\(\): not yet implemented")
# The compiler flags of the Makefile that matter for warnings.
CFLAGS = ["-std=c11", "-ffreestanding", "-fno-builtin", "-nostdlib", "-mno-red-zone",
          "-mgeneral-regs-only", "-O2", "-Wall", "-Wextra", "-Werror", "-I."]




def p2_tests():
    """The P2_TEST names of project2/tests.c, in order. Those inside
    #ifdef KEVLAB_HIDDEN only when this tree has the hidden tests."""
    with_hidden = os.path.exists(os.path.join(ROOT, ".kevlab-hidden"))
    names, hidden = [], False
    with open(TESTS_C) as f:
        for line in f:
            if re.match(r"\s*#\s*ifdef\s+KEVLAB_HIDDEN\b", line):
                hidden = True
            elif re.match(r"\s*#\s*endif\b", line):
                hidden = False
            m = re.match(r"P2_TEST\((\w+)", line)
            if m and (with_hidden or not hidden):
                names.append(m.group(1))
    return names


def build(c, build_dir, solution):
    what = "solution" if solution else "skeleton"
    proc = subprocess.run(["make", "-s", "SOLUTION=%d" % solution, "BUILD=" + build_dir, "all"],
                          cwd=ROOT, capture_output=True, text=True)
    c.check("make builds the %s into %s" % (what, build_dir), proc.returncode == 0,
            (proc.stdout + proc.stderr)[-2000:])
    return proc.returncode == 0


def warning_free(c, solution):
    """Compiles project2's and guests' C alone with -Werror."""
    what = "solution" if solution else "skeleton"
    sources = sorted("project2/" + f for f in os.listdir(os.path.join(ROOT, "project2"))
                     if f.endswith(".c")) + ["guests/guests.c"]
    defines = ["-DSOLUTION"] if solution else []
    if os.path.exists(os.path.join(ROOT, ".kevlab-hidden")):
        defines.append("-DKEVLAB_HIDDEN")
    errors = []
    for src in sources:
        proc = subprocess.run(["gcc"] + CFLAGS + defines + ["-c", src, "-o", os.devnull],
                              cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            errors.append(proc.stderr.strip())
    c.check("project2/ compiles warning-free as the %s (-Wall -Wextra -Werror)" % what,
            not errors, "\n".join(errors)[-2000:])


def boot(backend, iso, line, tmp, tag):
    return runner.boot(backend, iso, line, os.path.join(tmp, tag), runner.Limits(boot=60.0))


def matches(want, got):
    if got is None:
        return False
    if isinstance(want, rubric.Present):
        return want.matches(got)
    return rubric.expected_bytes(want) == got


def check_solution(c, label, names, res, expectations):
    """Every test passed (and reported what the rubric expects, when given),
    and the boot went on after every test that stopped its VM."""
    recs = res.log.tests
    for name in names:
        rec = recs.get(name)
        ok = rec is not None and rec.ended and rec.verdict == "pass"
        why = ("not run" if rec is None else
               "began, never ended: " + res.outcome.describe() if not rec.ended else
               "fail: " + rec.reason)
        c.check("solution, %s: %s passes" % (label, name), ok, why)
        want = expectations.get(name)
        if want is not None and rec is not None:
            bad = ["%s = %r (expected %r)" % (k, rec.data.get(k), v)
                   for k, v in want.items() if not matches(v, rec.data.get(k))]
            unexpected = [k for k in ("exit_code", "vm_error") if k in rec.data and k not in want]
            c.check("solution, %s: %s reports what the rubric expects" % (label, name),
                    not bad and not unexpected,
                    "; ".join(bad + ["unexpected " + k for k in unexpected]))
    for i, name in enumerate(names[:-1]):
        rec = recs.get(name)
        if rec is not None and "vm_error" in rec.data:
            nxt = recs.get(names[i + 1])
            c.check("solution, %s: after %s (its VM stopped with an error) %s still runs"
                    % (label, name, names[i + 1]),
                    nxt is not None and nxt.ended, res.outcome.describe())
    c.check("solution, %s: the boot ends with success" % label, res.outcome.ok,
            res.outcome.describe())


def check_skeleton(c, name, res):
    rec = res.log.tests.get(name)
    panic = res.log.panics[0].message if res.log.panics else ""
    m = TODO_PANIC.search(panic)
    c.check("skeleton: %s stops at a TODO() in project2/hypercall.c" % name,
            res.outcome.kind == oc.PANIC and m is not None and rec is not None
            and rec.began and not rec.ended,
            "%s; panic %r" % (res.outcome.describe(), panic))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--solution-build", default="build/solution",
                    help="build folder of the solution (make SOLUTION=1), built first unless "
                         "--no-build (default %(default)s)")
    ap.add_argument("--skeleton-build", default="build/skeleton",
                    help="build folder of the skeleton, built first unless --no-build "
                         "(default %(default)s)")
    ap.add_argument("--no-build", action="store_true", help="use the ISOs as they are")
    ap.add_argument("--seed", default="e2e-project2",
                    help="seed of the randomized test inputs (default %(default)s)")
    ap.add_argument("-j", type=int, default=os.cpu_count() or 2,
                    help="boots at the same time (default: the CPU count)")
    args = ap.parse_args()

    c = Checks()
    names = p2_tests()
    c.check("project2/tests.c declares the p2 tests", len(names) >= 11, "found %r" % names)
    built = True
    if not args.no_build:
        built = build(c, args.solution_build, 1) and build(c, args.skeleton_build, 0)
    warning_free(c, 0)
    warning_free(c, 1)
    sol_iso = os.path.join(ROOT, args.solution_build, "kevlab.iso")
    skel_iso = os.path.join(ROOT, args.skeleton_build, "kevlab.iso")
    for iso in (sol_iso, skel_iso):
        if not os.path.exists(iso):
            c.check("the ISO %s exists" % iso, False, "build it with make first")
            built = False
    if not built or not names:
        c.summary()
        return 1

    # The grader's parameters and expectations for the tests its rubric has.
    r = rubric.load("project2")
    params, expectations = {}, {}
    for name in names:
        t = r.test(name)
        if t is not None:
            params[name] = t.draw(args.seed)
            expectations[name] = t.expect(params[name])

    backend, _ = backends.choose("bochs")
    tmp = tempfile.mkdtemp(prefix="kevlab-p2-e2e-")
    jobs = [
        ("solution", "randomized", (sol_iso, cmdline.build(names, params), "sol-random")),
        ("solution", "defaults", (sol_iso, cmdline.build(names), "sol-defaults")),
        ("skeleton-all", None, (skel_iso, cmdline.build(names), "skel-all")),
    ] + [("skeleton", name, (skel_iso, cmdline.build([name]), "skel-" + name))
         for name in names]

    with concurrent.futures.ThreadPoolExecutor(args.j) as pool:
        futures = [(kind, arg, pool.submit(boot, backend, iso, line, tmp, tag))
                   for kind, arg, (iso, line, tag) in jobs]
        for kind, arg, fut in futures:
            res = fut.result()
            if kind == "solution":
                check_solution(c, arg, names, res, expectations if arg == "randomized" else {})
            elif kind == "skeleton-all":
                first = res.log.tests.get(names[0])
                c.check("skeleton, all tests in one boot: the first (%s) panics at a TODO() "
                        "and the boot ends there" % names[0],
                        res.outcome.kind == oc.PANIC and first is not None and first.began
                        and not first.ended and len(res.log.tests) == 1,
                        res.outcome.describe())
            else:
                check_skeleton(c, arg, res)
    print("logs: %s" % tmp)
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
