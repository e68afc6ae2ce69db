#!/usr/bin/env python3
"""Adding a test touches its table entry and its guest only.

In a temporary copy of the tree, adds one test to project 2 exactly as
docs/instructors.md ("Adding a test") says: a P2_TEST entry in
project2/tests.c and a new guest in guests/project2/. Nothing else is
edited. Then checks that everything else follows from those two:

  - the kernel builds and holds the new test, with its category and weight;
  - the grader sees it (grader/rubric.py) and the categories still add up
    to 100 points, the new test's share taken from the others';
  - `make grade SOLUTION=2` grades it and scores 100%, and the skeleton
    fails it at a TODO();
  - `make handouts` puts it in docs/project2.md's table, after which the
    handout check passes;
  - the grader's own unit tests still pass in the copy.

Ends with `N passed, N failed`.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks  # noqa: E402

NAME = "p2_added_by_the_test"
ENTRY = '''
P2_TEST(%s, "Hypercalls", 1, 3, "a test added by tests/e2e/add_test.py: a guest of its own")
{
    v->guest = "added_guest";
    v->params.code = rng_range(&c->rng, 1, 1000);
    gtest_input(c, "code=%%lu", v->params.code);
    gtest_expect_exit(c, (int64_t)v->params.code + 1);
    return KTEST_PASS;
}
''' % NAME
GUEST = """; A guest added by tests/e2e/add_test.py: HaltCpu(code + 1).
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

    mov rdi, PARAM(CODE)
    inc rdi
    mov eax, HC_HALT_CPU
    vmcall
    ud2
"""


def copy_tree(dst):
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for f in files:
        if not f:
            continue
        src = os.path.join(ROOT, f.decode())
        if not os.path.isfile(src):
            continue
        out = os.path.join(dst, f.decode())
        os.makedirs(os.path.dirname(out), exist_ok=True)
        shutil.copy2(src, out)


def run(argv, cwd, **kw):
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ, NO_COLOR="1"), **kw)


def results(out):
    try:
        with open(os.path.join(out, "results.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def main():
    c = Checks()
    with tempfile.TemporaryDirectory(prefix="kevlab-add-test-") as tmp:
        tree = os.path.join(tmp, "kevlab")
        copy_tree(tree)
        before = run([sys.executable, "-c", "import sys; sys.path.insert(0, '.'); "
                      "from grader import rubric; r = rubric.load('%s', 2); "
                      "print(len(r.tests))" % os.path.join(ROOT, "build", "p2-sol2")], ROOT)
        with open(os.path.join(tree, "project2", "tests.c"), "a") as f:
            f.write(ENTRY)
        with open(os.path.join(tree, "guests", "project2", "added_guest.asm"), "w") as f:
            f.write(GUEST)

        p = run(["make", "-s", "WERROR=1", "SOLUTION=2", "all"], tree)
        if not c.check("the copy with the new test builds (SOLUTION=2)", p.returncode == 0,
                       (p.stdout + p.stderr)[-2000:]):
            return c.summary()
        probe = ("import sys, json; sys.path.insert(0, '.'); from grader import rubric; "
                 "r = rubric.load('build/p2-sol2', 2); t = r.test('%s'); "
                 "print(json.dumps([len(r.tests), t and t.category, t and t.weight, "
                 "sum(c.points for c in r.categories), sum(r.max_scores(r.tests).values())]))" % NAME)
        p = run([sys.executable, "-c", probe], tree)
        try:
            count, category, weight, points, total = json.loads(p.stdout)
        except ValueError:
            count = category = weight = points = total = None
        c.check("the grader sees the new test, in its category, with its weight",
                category == "Hypercalls" and weight == 1, p.stdout + p.stderr)
        c.check("one test more than the tree has (%s -> %s)" % (before.stdout.strip(), count),
                before.stdout.strip().isdigit() and count == int(before.stdout) + 1, count)
        c.check("the categories still add up to 100, the shares too", points == 100 and
                total is not None and abs(total - 100) < 1e-9, (points, total))

        out = os.path.join(tmp, "grade-solution")
        p = run(["make", "-s", "grade", "SOLUTION=2", "BACKEND=bochs", "SEED=3", "OUT=" + out], tree)
        res = results(out)
        tests = {t["name"]: t for t in (res or {}).get("tests", [])}
        c.check("make grade SOLUTION=2 grades the new test and scores 100%",
                res is not None and res["score"] == res["max_score"] and
                tests.get(NAME, {}).get("status") == "passed", (p.stdout + p.stderr)[-2000:])
        out = os.path.join(tmp, "grade-skeleton")
        p = run(["make", "-s", "grade", "BACKEND=bochs", "SEED=3", "OUT=" + out], tree)
        res = results(out)
        tests = {t["name"]: t for t in (res or {}).get("tests", [])}
        c.check("the skeleton fails the new test at a TODO()",
                tests.get(NAME, {}).get("output", "").startswith("TODO() in "),
                tests.get(NAME) or (p.stdout + p.stderr)[-2000:])

        p = run(["make", "-s", "handouts"], tree)
        with open(os.path.join(tree, "docs", "project2.md")) as f:
            handout = f.read()
        c.check("make handouts puts the new test in the handout's table",
                p.returncode == 0 and "| `%s` | Hypercalls |" % NAME in handout, p.stdout + p.stderr)
        p = run([sys.executable, "scripts/handout.py", "build/p2-sol2", "--check"], tree)
        c.check("the handout check passes after make handouts", p.returncode == 0, p.stdout)
        p = run([sys.executable, "tests/grader/run.py"], tree)
        c.check("the grader's unit tests pass with the new test", p.returncode == 0,
                p.stdout[-2000:])
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
