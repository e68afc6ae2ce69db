#!/usr/bin/env python3
"""The instructors' side, end to end: make release, make autograder and its
flow, batch grading. Each check prints PASS or FAIL with what it saw; the
last line is `N passed, N failed` (exit status 1 when a check failed).

  tests/e2e/instructor.py              every check
  tests/e2e/instructor.py release      only the checks whose name starts with one of these
  tests/e2e/instructor.py --keep       keep the temporary folders (their paths are printed)

It boots under Bochs (or whatever BACKEND says), about fifteen grading runs.
"""

import csv
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "scripts", "autograder"))
import release  # noqa: E402  scripts/release.py
import build as autograder  # noqa: E402  scripts/autograder/build.py

PY = sys.executable or "python3"
KEEP = "--keep" in sys.argv
TMP = tempfile.mkdtemp(prefix="kevlab-instructor-e2e-")
RELEASE = os.path.join(ROOT, "build", "release", "kevlab")
TARBALL = os.path.join(ROOT, "build", "release", "kevlab.tar.gz")
ZIP = os.path.join(ROOT, "build", "autograder.zip")
EDITABLE = "project2/hypercall.c"


class Failed(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise Failed(msg)


def run(argv, cwd=ROOT, env=None, log=None):
    """Runs argv; returns (status, output). The output also goes to log."""
    proc = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace")
    if log:
        with open(os.path.join(TMP, log), "w") as f:
            f.write(proc.stdout)
    return proc.returncode, proc.stdout


def tail(text, n=25):
    return "\n".join(("      " + l) for l in text.rstrip().split("\n")[-n:])


def summary(res):
    return release.summarize(res)


def solution_text():
    return release.solution_files(ROOT)[EDITABLE]


def grade_copy(tree, name, hypercall=None):
    """`make grade` in a copy of tree (hypercall.c replaced when given);
    returns (status, summary or None, output)."""
    log = os.path.join(TMP, name + ".log")
    files = {EDITABLE: hypercall} if hypercall is not None else None
    status, res = release.grade_copy(tree, os.path.join(TMP, name), log, files)
    with open(log, errors="replace") as f:
        out = f.read()
    return status, (summary(res) if res is not None else None), out


# --- checks without emulators -------------------------------------------------

def check_unifdef_status():
    """unifdef's status 1 ("changed") is success; status 2 is an error."""
    path = os.path.join(TMP, "u.c")
    with open(path, "w") as f:
        f.write("a\n#ifdef SOLUTION\nsecret\n#endif\nb\n")
    out = release.run_unifdef(path, [], ["SOLUTION"])
    expect(out == b"a\nb\n", "unifdef -USOLUTION gave %r" % out)
    with open(path, "w") as f:
        f.write("plain\n")
    expect(release.run_unifdef(path, [], ["SOLUTION"]) == b"plain\n", "unchanged file altered")
    with open(path, "w") as f:
        f.write("#ifdef SOLUTION\nnever closed\n")
    try:
        release.run_unifdef(path, [], ["SOLUTION"])
    except release.ReleaseError as e:
        expect("unifdef failed" in str(e), "unclear error: %s" % e)
    else:
        raise Failed("an unbalanced #ifdef was not reported")


def check_markdown_markers():
    """Instructor-only Markdown lines and blocks are left out; a block left
    open is an error."""
    text = ("keep 1\nline <!-- instructors-only -->\nkeep 2\n<!-- instructors-only: begin -->\n"
            "hidden\n<!-- instructors-only: end -->\nkeep 3")
    expect(release.strip_markdown(text, "t.md") == "keep 1\nkeep 2\nkeep 3",
           "got %r" % release.strip_markdown(text, "t.md"))
    try:
        release.strip_markdown("<!-- instructors-only: begin -->\nx", "t.md")
    except release.ReleaseError as e:
        expect("never closed" in str(e), "unclear error: %s" % e)
    else:
        raise Failed("an unclosed block was not reported")


def check_rubric_stripping():
    """Hidden rubric entries are cut out and the rest still parses."""
    src = ('TESTS = [\n    Test("a", "C"),\n    Test("h", "C", hidden=True,\n'
           '         expect=None),\n    Test("b", "C"),\n]\n')
    out = release.strip_rubric(src, "r.py")
    expect('"h"' not in out and '"a"' in out and '"b"' in out, "got:\n" + out)


# --- make release ----------------------------------------------------------------

def check_release():
    """make release succeeds (it grades the skeleton and the solution itself)."""
    start = time.monotonic()
    status, out = run(["make", "-s", "release"], log="release.log")
    print("    make release: %.1f s" % (time.monotonic() - start))
    expect(status == 0, "make release failed (status %d):\n%s" % (status, tail(out)))
    expect(os.path.isdir(RELEASE) and os.path.isfile(TARBALL), "no release tree or tarball")


def check_release_contents():
    """The student tree: skeleton only, no hidden tests, no instructor files."""
    for gone in ("docs/instructors.md", "tests/e2e/instructor.py", "scripts/release.py",
                 "scripts/autograder", "scripts/scripts.mk", ".ci", ".kevlab-hidden",
                 "grader/batch.py"):
        expect(not os.path.exists(os.path.join(RELEASE, gone)), "the release has " + gone)
    with open(os.path.join(RELEASE, EDITABLE)) as f:
        hc = f.read()
    expect("TODO(" in hc, "the release's hypercall.c has no TODO()")
    expect("SOLUTION" not in hc, "the release's hypercall.c still mentions SOLUTION")
    with open(os.path.join(RELEASE, "grader/rubrics/project2.py")) as f:
        rubric = f.read()
    for name in release.hidden_test_names(ROOT):
        expect(name not in rubric, "the release's rubric names the hidden test " + name)
    status, out = run(["sha256sum", "--quiet", "-c", "MANIFEST.sha256"], cwd=RELEASE)
    expect(status == 0, "sha256sum -c MANIFEST.sha256 fails in the release:\n" + tail(out))
    with open(os.path.join(RELEASE, "MANIFEST.sha256")) as f:
        listed = f.read()
    expect(EDITABLE not in listed, "the manifest lists the editable file")
    expect(os.path.isfile(os.path.join(RELEASE, ".kevlab/originals/kernel/main.c")),
           "no pristine copy of kernel/main.c in .kevlab/originals")
    with tarfile.open(TARBALL) as tar:
        names = tar.getnames()
    expect("kevlab/" + EDITABLE in names and "kevlab/MANIFEST.sha256" in names,
           "the tarball lacks kevlab/%s or the manifest" % EDITABLE)
    expect(not any(n.startswith("kevlab/build/") for n in names), "the tarball holds build/")


def check_release_skeleton_grade():
    """The release as shipped scores zero, every test stopped by TODO()."""
    status, s, out = grade_copy(RELEASE, "release-skeleton")
    expect(s is not None, "no results.json:\n" + tail(out))
    expect(status != 0, "make grade exited 0 on the skeleton")
    expect(s["score"] == 0 and s["max"], "score %s / %s" % (s["score"], s["max"]))
    todo = release.todo_message()
    expect(s["tests"] and all(todo in t["output"] for t in s["tests"]),
           "tests not stopped by TODO() (%r): %s"
           % (todo, ", ".join(t["name"] for t in s["tests"] if todo not in t["output"])))
    hidden = set(release.hidden_test_names(ROOT))
    expect(not hidden & {t["name"] for t in s["tests"]}, "hidden tests graded in the release")


def check_release_solution_grade():
    """The release with the reference solution's hypercall.c: full marks."""
    status, s, out = grade_copy(RELEASE, "release-solution", solution_text())
    expect(s is not None, "no results.json:\n" + tail(out))
    failed = [t["name"] + ": " + t["reason"] for t in s["tests"] if not t["passed"]]
    expect(status == 0 and s["score"] == s["max"] and s["max"],
           "score %s / %s, status %d; failed: %s" % (s["score"], s["max"], status, failed))
    expect("not as released" not in out,
           "make grade warned about framework files:\n" + tail(out))


def check_release_restore():
    """In the release, a changed framework file is reported and --restore
    puts it back."""
    copy = os.path.join(TMP, "release-restore")
    shutil.copytree(RELEASE, copy, symlinks=True)
    target = os.path.join(copy, "kernel", "main.c")
    with open(target, "rb") as f:
        original = f.read()
    with open(target, "ab") as f:
        f.write(b"/* a student's edit */\n")
    status, out = run([PY, "grader/grade.py", "--restore"], cwd=copy)
    expect("kernel/main.c" in out, "--restore did not name kernel/main.c:\n" + tail(out))
    with open(target, "rb") as f:
        expect(f.read() == original, "--restore did not put kernel/main.c back")


# --- make autograder ----------------------------------------------------------------

AG_ROOT = os.path.join(TMP, "autograder-root")


def check_autograder_build():
    """make autograder builds the zip (and grades the solution through it)."""
    start = time.monotonic()
    status, out = run(["make", "-s", "autograder"], log="autograder.log")
    print("    make autograder: %.1f s" % (time.monotonic() - start))
    expect(status == 0, "make autograder failed (status %d):\n%s" % (status, tail(out)))
    status, listing = run(["unzip", "-Z1", ZIP])
    names = listing.split()
    for need in ("setup.sh", "run_autograder", "kevlab/scripts/install-deps",
                 "kevlab/" + EDITABLE, "release-manifest.sha256", "kevlab/.kevlab-hidden"):
        expect(need in names, "the zip lacks " + need)
    for gone in ("kevlab/docs/instructors.md", "kevlab/scripts/release.py", "kevlab/tests/"):
        expect(not any(n == gone or n.startswith(gone) for n in names), "the zip has " + gone)


def check_autograder_setup():
    """setup.sh installs (nothing is missing here) and builds the framework."""
    status, out = autograder.install(ZIP, AG_ROOT)
    expect(status == 0, "setup.sh failed:\n" + tail(out))
    with open(os.path.join(AG_ROOT, "source", "kevlab", EDITABLE)) as f:
        expect("SOLUTION" not in f.read(), "the autograder's hypercall.c holds the solution")


def submit(files):
    start = time.monotonic()
    status, out, res = autograder.run_submission(AG_ROOT, files)
    print("    run_autograder: %.1f s" % (time.monotonic() - start))
    expect(res is not None, "no results.json (status %d):\n%s" % (status, tail(out)))
    return summary(res)


def check_autograder_correct():
    """A correct hypercall.c, uploaded bare: full marks, hidden tests included."""
    s = submit({"hypercall.c": solution_text()})
    failed = [t["name"] + ": " + t["reason"] for t in s["tests"] if not t["passed"]]
    expect(s["score"] == s["max"] and s["max"], "score %s / %s; failed: %s"
           % (s["score"], s["max"], failed))
    hidden = {t["name"] for t in s["tests"] if t["hidden"]}
    expect(hidden == set(release.hidden_test_names(ROOT)),
           "hidden tests graded: %s" % sorted(hidden))


def check_autograder_skeleton():
    """The untouched skeleton, uploaded as a whole tree: zero."""
    with open(os.path.join(RELEASE, EDITABLE), "rb") as f:
        skel = f.read()
    s = submit({"kevlab-main/" + EDITABLE: skel, "kevlab-main/README.md": b"mine\n"})
    expect(s["score"] == 0 and s["max"], "score %s / %s" % (s["score"], s["max"]))
    todo = release.todo_message()
    expect(all(todo in t["output"] for t in s["tests"]), "not every test stopped at TODO()")


def check_autograder_no_compile():
    """A hypercall.c that does not compile: zero, and the output says so
    with the compiler's message."""
    bad = solution_text().replace(b"{", b"{ this is not C;", 1)
    s = submit({"project2/hypercall.c": bad})
    expect(s["score"] == 0 and s["max"], "score %s / %s" % (s["score"], s["max"]))
    expect("does not compile" in s["output"] and "error" in s["output"],
           "the output does not explain:\n" + s["output"])
    expect(all(not t["passed"] for t in s["tests"]), "a test passed")


def check_autograder_protected():
    """A submission that changes a protected file: the original is used
    (full marks here) and the output names the file."""
    files = {}
    with open(os.path.join(RELEASE, "kernel", "main.c"), "rb") as f:
        files["kevlab/kernel/main.c"] = f.read() + b'\n#error "a student changed this file"\n'
    files["kevlab/" + EDITABLE] = solution_text()
    s = submit(files)
    expect(s["score"] == s["max"] and s["max"], "score %s / %s:\n%s"
           % (s["score"], s["max"], s["output"]))
    expect("kernel/main.c" in s["output"] and "original" in s["output"],
           "the output does not name kernel/main.c:\n" + s["output"])


def check_autograder_empty():
    """A submission without hypercall.c: zero, and the output says what is missing."""
    s = submit({"notes.txt": b"I forgot the file\n"})
    expect(s["score"] == 0 and "hypercall.c" in s["output"],
           "score %s; output:\n%s" % (s["score"], s["output"]))


# --- batch ------------------------------------------------------------------------

def check_batch():
    """grade.py --batch over a correct and a skeleton submission: a CSV
    with both scores, and each one's results.json."""
    subs = os.path.join(TMP, "submissions")
    out = os.path.join(TMP, "batch-out")
    os.makedirs(os.path.join(subs, "alice"))
    os.makedirs(os.path.join(subs, "bob", "project2"))
    with open(os.path.join(subs, "alice", "hypercall.c"), "wb") as f:
        f.write(solution_text())
    shutil.copy(os.path.join(RELEASE, EDITABLE), os.path.join(subs, "bob", EDITABLE))
    start = time.monotonic()
    status, text = run([PY, "grader/grade.py", "--batch", subs, "--out", out], log="batch.log")
    print("    batch of 2: %.1f s" % (time.monotonic() - start))
    expect(status == 0, "grade.py --batch failed (status %d):\n%s" % (status, tail(text)))
    with open(os.path.join(out, "scores.csv")) as f:
        rows = {r["submission"]: r for r in csv.DictReader(f)}
    expect(set(rows) == {"alice", "bob"}, "CSV rows: %s" % sorted(rows))
    a, b = rows["alice"], rows["bob"]
    expect(float(a["score"]) == float(a["max_score"]) > 0, "alice: %s" % a)
    expect(float(b["score"]) == 0 and float(b["max_score"]) > 0, "bob: %s" % b)
    for name in release.hidden_test_names(ROOT):
        expect(name in a, "the CSV has no column for the hidden test " + name)
    for who in ("alice", "bob"):
        expect(os.path.isfile(os.path.join(out, who, "results.json")), "no results.json for " + who)


CHECKS = [
    ("unit-unifdef-status", check_unifdef_status),
    ("unit-markdown-markers", check_markdown_markers),
    ("unit-rubric-stripping", check_rubric_stripping),
    ("release", check_release),
    ("release-contents", check_release_contents),
    ("release-skeleton-grade", check_release_skeleton_grade),
    ("release-solution-grade", check_release_solution_grade),
    ("release-restore", check_release_restore),
    ("autograder-build", check_autograder_build),
    ("autograder-setup", check_autograder_setup),
    ("autograder-correct", check_autograder_correct),
    ("autograder-skeleton", check_autograder_skeleton),
    ("autograder-no-compile", check_autograder_no_compile),
    ("autograder-protected", check_autograder_protected),
    ("autograder-empty", check_autograder_empty),
    ("batch", check_batch),
]
# A check that needs another's output is skipped when that one failed.
NEEDS = {"release": ["release-"], "autograder-build": ["autograder-"],
         "autograder-setup": ["autograder-correct", "autograder-skeleton",
                              "autograder-no-compile", "autograder-protected", "autograder-empty"]}


def main(argv):
    wanted = [a for a in argv if not a.startswith("--")]
    passed = failed = 0
    broken = []
    try:
        for name, fn in CHECKS:
            if wanted and not any(name.startswith(w) for w in wanted):
                continue
            blocked = [b for b in broken for pre in NEEDS.get(b, [])
                       if name.startswith(pre) and name != b]
            if blocked:
                print("FAIL %s: not run, because %s failed" % (name, blocked[0]))
                failed += 1
                continue
            start = time.monotonic()
            try:
                fn()
            except Failed as e:
                print("FAIL %s: %s\n    (%s)" % (name, e, fn.__doc__.split("\n")[0]))
                failed += 1
                broken.append(name)
            except Exception:
                print("FAIL %s: the check itself crashed:\n%s" % (name, tail(traceback.format_exc(), 40)))
                failed += 1
                broken.append(name)
            else:
                print("PASS %s (%.1f s)" % (name, time.monotonic() - start))
                passed += 1
            sys.stdout.flush()
    finally:
        if KEEP:
            print("kept: %s" % TMP)
        else:
            shutil.rmtree(TMP, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
