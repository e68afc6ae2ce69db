#!/usr/bin/env python3
"""Every project end to end: the reference solution scores 100%, the
skeleton 0 with every test stopped at a TODO() of that project's files.

For each project N (every projectN/ folder), with -Werror:
  - `make PROJECT=N SOLUTION=all` and `make PROJECT=N` build;
  - the solution, graded under Bochs with several seeds (the hidden tests
    included), scores full marks, all of its tests in one boot;
  - the skeleton scores 0, in one boot, and every test names a TODO() in
    one of project N's student files (the files `make info` lists);
  - every test of the project belongs to a category of its rubric, and the
    categories' points add up to 100;
  - project 2 (whose cases run on a VM kept from the case before,
    kev_run_vm_kept): every frame of its tests is the same with kev.keep=0,
    for the solution and for a variant whose Print fails from its 4097th
    byte on (cases that fail after kept VMs passed); the kept boot checks
    after every refresh that the pages it did not rewrite are zero
    (p2.check_refresh=1).

Usage: tests/e2e/projects.py [--seeds 1,2] [--projects 2,3]
Ends with `N passed, N failed`.
"""
import argparse
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks  # noqa: E402
from grader import rubric  # noqa: E402

GRADE = [sys.executable, os.path.join(ROOT, "grader", "grade.py"), "grade", "--backend", "bochs"]


def make(*words):
    return subprocess.run(["make", "-s", "--no-print-directory", "WERROR=1"] + list(words),
                          cwd=ROOT, capture_output=True, text=True)


def info(project, solution=""):
    p = make("info", "PROJECT=%d" % project, "SOLUTION=" + solution)
    return json.loads(p.stdout)


def grade(build, project, seed, out):
    p = subprocess.run(GRADE + ["--build", build, "--project", str(project), "--seed", str(seed),
                                "--out", out], cwd=ROOT, capture_output=True, text=True,
                       env=dict(os.environ, NO_COLOR="1"))
    try:
        with open(os.path.join(out, "results.json")) as f:
            res = json.load(f)
    except (OSError, ValueError):
        res = None
    boots = len([d for d in os.listdir(out) if d.startswith("boot-")]) if os.path.isdir(out) else 0
    return p, res, boots


def project_checks(c, n, seeds):
    sol, skel = info(n, "all"), info(n)
    for what, facts, words in (("solution", sol, ["SOLUTION=all"]), ("skeleton", skel, [])):
        p = make("PROJECT=%d" % n, *words, "all")
        if not c.check("project %d: the %s builds with -Werror" % (n, what), p.returncode == 0,
                       (p.stdout + p.stderr)[-2000:]):
            return
    sol_build, skel_build = os.path.join(ROOT, sol["build"]), os.path.join(ROOT, skel["build"])
    rub = rubric.load(sol_build, n)
    c.check("project %d: the categories' points add up to 100" % n,
            sum(cat.points for cat in rub.categories) == 100, rub.categories)
    c.check("project %d: has tests, each in a category" % n, len(rub.tests) > 0, rub.tests)
    used = {t.category for t in rub.tests}
    c.check("project %d: every category has a test" % n,
            used == {cat.name for cat in rub.categories}, used)
    out = os.path.join(ROOT, "build", "e2e-projects", "p%d" % n)
    for seed in seeds:
        p, res, boots = grade(sol_build, n, seed, os.path.join(out, "solution-%d" % seed))
        c.check("project %d, seed %d: the solution scores 100%% (hidden tests included)" % (n, seed),
                res is not None and res["score"] == res["max_score"] == 100 and p.returncode == 0,
                (p.stdout + p.stderr)[-3000:])
        c.check("project %d, seed %d: the solution's tests run in one boot" % (n, seed), boots == 1, boots)
    p, res, boots = grade(skel_build, n, seeds[0], os.path.join(out, "skeleton"))
    files = skel["student_files"][str(n)]
    pattern = re.compile(r"^TODO\(\) in \w+\(\) at (%s):\d+" % "|".join(re.escape(f) for f in files))
    bad = [t["name"] for t in (res or {}).get("tests", []) if not pattern.match(t["output"])]
    c.check("project %d: the skeleton scores 0, every test at a TODO() of %s" % (n, ", ".join(files)),
            res is not None and res["score"] == 0 and not bad and res["tests"],
            bad or (p.stdout + p.stderr)[-2000:])
    c.check("project %d: the skeleton's tests run in one boot" % n, boots == 1, boots)
    if n == 2:
        with open(os.path.join(out, "solution-%d" % seeds[0], "boot-01", "cmdline")) as f:
            tests = re.search(r"test=(\S+)", f.read()).group(1).split(",")
        keep_checks(c, sol_build, tests)


# A Print that keeps only its first 4096 bytes: p2_print_lengths fails at a
# case well after the first (kept VMs before it), with a capture to report.
KEEP_VARIANT = ("        uint64_t n = min_u64(size - done, sizeof(chunk));\n",
                "        if (done >= 4096)\n            break; /* projects.py: a wrong Print */\n")


def frames(build, tests, args):
    """The test frames (but the per-test ticks) of one boot, and the log."""
    p = subprocess.run([sys.executable, os.path.join(ROOT, "grader", "grade.py"), "run",
                        "--backend", "bochs", "--build", build, "--project", "2", "--test",
                        ",".join(tests), "--args", args], cwd=ROOT, capture_output=True, text=True)
    got = [l.rstrip("\r") for l in p.stdout.split("\n")
           if l.startswith("@@ test ") and not re.match(r"@@ test data \S+ ticks ", l)]
    return got, p.stdout


def keep_checks(c, sol_build, tests):
    src = os.path.join(ROOT, "build", "e2e-projects", "keep-variant", "src")
    os.makedirs(os.path.join(src, "project2"), exist_ok=True)
    with open(os.path.join(ROOT, "project2", "hypercall.c")) as f:
        text = f.read()
    if not c.check("project 2: the keep variant's line is in hypercall.c", KEEP_VARIANT[0] in text,
                   KEEP_VARIANT[0]):
        return
    with open(os.path.join(src, "project2", "hypercall.c"), "w") as f:
        f.write(text.replace(KEEP_VARIANT[0], KEEP_VARIANT[0] + KEEP_VARIANT[1], 1))
    var_build = os.path.join(ROOT, "build", "e2e-projects", "keep-variant", "build")
    p = make("SOLUTION=2", "SRC_OVERRIDE=" + src, "BUILD=" + var_build, "all")
    if not c.check("project 2: the keep variant builds", p.returncode == 0, (p.stdout + p.stderr)[-2000:]):
        return
    for what, build in (("the solution", sol_build), ("a Print cut at 4096 bytes", var_build)):
        kept, log = frames(build, tests, "seed=2 kev.echo=0 p2.check_refresh=1")
        fresh, _ = frames(build, tests, "seed=2 kev.echo=0 kev.keep=0")
        late = [l for l in kept if re.match(r"@@ test data \S+ failed_case [1-9]", l)]
        c.check("project 2, %s: every test frame is the same with kev.keep=0 (%d frames%s)"
                % (what, len(kept), ", %d tests failing after their first case" % len(late)
                   if late else ""),
                kept == fresh and len(kept) >= 3 * len(tests) and (late or build == sol_build),
                "first difference: %r\n%s" % (next(((a, b) for a, b in zip(kept, fresh) if a != b),
                                                   (len(kept), len(fresh))), log[-1500:]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--projects", default=None)
    args = ap.parse_args()
    c = Checks()
    projects = ([int(p) for p in args.projects.split(",")] if args.projects
                else info(int(json.loads(make("info").stdout)["current"]))["all_projects"])
    for n in projects:
        project_checks(c, n, [int(s) for s in args.seeds.split(",")])
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
