#!/usr/bin/env python3
"""The instructors' side, end to end: make release (per project), make
autograder and its flow with honest and hostile submissions, batch grading.
Each check prints PASS or FAIL with what it saw; the last line is
`N passed, N failed` (exit status 1 when a check failed).

  tests/e2e/instructor.py              every check
  tests/e2e/instructor.py release      only the checks whose name starts with one of these
  tests/e2e/instructor.py --keep       keep the temporary folders (their paths are printed)

It boots under Bochs (or whatever BACKEND says), about thirty grading runs.
The later-project checks release and grade project 3 (with project 2
before it) in a copy of this tree.
Checks that need root (the build user, a tmpfs for the full disk) say why
they cannot run otherwise and count as failed only where they could.
"""

import csv
import json
import re
import os
import shutil
import stat
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
import wall  # noqa: E402  scripts/autograder/wall.py

PY = sys.executable or "python3"
KEEP = "--keep" in sys.argv
TMP = tempfile.mkdtemp(prefix="kevlab-instructor-e2e-")
PROJECT = 2
RELEASE = os.path.join(ROOT, "build", "release", "p2", "kevlab")
TARBALL = os.path.join(ROOT, "build", "release", "p2", "kevlab.tar.gz")
ZIP = os.path.join(ROOT, "build", "autograder", "p2.zip")
# The checks vary one student file, hypercall.c; a submission meant to score
# full marks also carries project 2's other student files (others()).
EDITABLE = "project2/hypercall.c"
IS_ROOT = os.geteuid() == 0
FIGURES = []  # (what, seconds), printed at the end


class Failed(Exception):
    pass


class Skipped(Exception):
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


def timed(what, fn, *a, **kw):
    start = time.monotonic()
    out = fn(*a, **kw)
    FIGURES.append((what, time.monotonic() - start))
    print("    %s: %.1f s" % (what, time.monotonic() - start))
    return out


def tail(text, n=25):
    return "\n".join(("      " + l) for l in text.rstrip().split("\n")[-n:])


_PLAN = {}


def plan():
    if "p" not in _PLAN:
        _PLAN["p"] = release.Plan(PROJECT)
    return _PLAN["p"]


def solution_text():
    return release.solution_files(plan())[EDITABLE]


def others(prefix=""):
    """The reference solutions of project 2's student files but hypercall.c,
    named prefix + their path: what a full-marks submission carries beside it."""
    return {prefix + n: t for n, t in release.solution_files(plan()).items() if n != EDITABLE}


def skeleton_text():
    """hypercall.c as the release gives it (the skeleton: SOLUTION and the
    hidden tests left out), made here so that no release need exist yet."""
    return release.run_unifdef(os.path.join(ROOT, EDITABLE), [], ["SOLUTION", "KEVLAB_HIDDEN"])


def hidden_count(project):
    """How many hidden tests of project N's own its instructors' kernel holds
    (the earlier projects' hidden tests are not counted)."""
    return release.hidden_count(release.instructor_tests(release.Plan(project)), project)


def with_line(text, line, at=None):
    """text with `line` inserted after its includes (or at line `at`);
    returns (new text, the line's number)."""
    lines = text.split(b"\n")
    if at is None:
        at = max(i for i, l in enumerate(lines) if l.startswith(b"#include")) + 1
    lines.insert(at, line)
    return b"\n".join(lines), at + 1


# --- checks without emulators -------------------------------------------------

def check_unifdef_status():
    """unifdef's status 1 ("changed") is success; status 2 is an error."""
    path = os.path.join(TMP, "u.c")
    with open(path, "w") as f:
        f.write("a\n#ifdef SOLUTION\nsecret\n#endif\nb\n")
    out = release.run_unifdef(path, [], ["SOLUTION"])
    expect(out == b"a\nb\n", "unifdef -USOLUTION gave %r" % out)
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


def check_later_paths():
    """A release of project N leaves out every path of a later project."""
    for name, project, want in [("project3/vm.c", 2, 3), ("guests/project4/x.asm", 3, 4),
                                ("docs/project3.md", 2, 3), ("docs/project2.md", 2, None),
                                ("project2/hypercall.c", 2, None), ("docs/project3.md", 3, None),
                                ("docs/projects.md", 2, None), ("kernel/project30.c", 2, None)]:
        got = release.later_project(name, project, [2, 3, 4])
        expect(got == want, "later_project(%r, %d) = %r, not %r" % (name, project, got, want))


ALLOWED = None


def allowed():
    global ALLOWED
    if ALLOWED is None:
        named = autograder.allowed_headers(plan(), PROJECT)
        ALLOWED = (autograder.header_closure(ROOT, named), named)
    return ALLOWED


RULE_CASES = [
    # (what, source, rule or None)
    ("inline asm", b'void f(void) { __asm__ volatile("nop"); }\n', "asm"),
    ("asm keyword", b'void f(void) { asm("nop"); }\n', "asm"),
    ("register asm", b'register long sp asm("rsp");\n', "asm"),
    (".incbin", b'const char *s = ".incbin \\"/etc/passwd\\"";\n', "incbin"),
    ("kernel header", b'#include "kernel/lapic.h"\n', "include"),
    ("device include", b'#include "/dev/ptmx"\n', "include"),
    ("system header", b'#include <stdio.h>\n', "include"),
    ("relative escape", b'#include "../kernel/lapic.h"\n', "include"),
    ("computed include", b'#define H "kernel/x86.h"\n#include H\n', "include-form"),
    ("digraph include", b'%:include "kernel/user.h"\n', "include"),
    ("trigraph include", b'??=include "kernel/gdt.h"\n', "include"),
    ("spliced include", b'#inc\\\nlude "kernel/pmm.h"\n', "include"),
    ("commented include", b'# /* hi */ include "kernel/pmm.h"\n', "include"),
    ("include_next", b'#include_next "x.h"\n', "include"),
    ("section attribute", b'int x __attribute__((section(".text"))) = 1;\n', "section"),
    ("__section__", b'__attribute__((used, __section__(".k"))) int y;\n', "section"),
    ("section macro", b'#define S section\n', "section"),
    ("constructor", b'__attribute__((constructor)) static void f(void) {}\n', "constructor"),
    ("destructor", b'__attribute__ ((\n  destructor)) static void g(void) {}\n', "constructor"),
    ("#line", b'#line 1 "kev/vmx.h"\n', "line"),
    ("allowed headers", b'#include "project2/hypercall.h"\n#include "hypercall.h"\n'
                        b'#include "kev/vmx.h"\n#include <stdint.h>\n', None),
    ("words in comments and strings", b'/* asm __asm__ .incbin */ // section\n'
                                      b'const char *s = "asm section";\nint section;\n', None),
]


def check_source_rules():
    """wall.check_source: each rule caught (also through trigraphs, digraphs,
    backslash-newlines, comments), named with its line; allowed code passes,
    the skeleton and the reference solution too."""
    closure, named = allowed()
    for what, src, rule in RULE_CASES:
        found = wall.check_source(EDITABLE, src, closure, named)
        if rule is None:
            expect(not found, "%s: flagged %s" % (what, [v.text(EDITABLE) for v in found]))
        else:
            expect([v.rule for v in found][:1] == [rule],
                   "%s: want rule %s, got %s" % (what, rule, [v.text(EDITABLE) for v in found]))
    for name, text in (("the solution", solution_text()), ("the skeleton", skeleton_text())):
        found = wall.check_source(EDITABLE, text, closure, named)
        expect(not found, "%s breaks a rule: %s" % (name, [v.text(EDITABLE) for v in found]))
    pp = ('# 1 "project2/hypercall.c"\n# 1 "kev/vmx.h" 1\nstatic void v(void) '
          '{ __asm__ volatile("vmxon"); }\n# 3 "project2/hypercall.c" 2\n'
          'void f(void) { __asm__("nop"); }\n')
    found = wall.check_preprocessed(EDITABLE, pp)
    expect([(v.line, v.rule) for v in found] == [(3, "asm")],
           "check_preprocessed: %s" % [v.text(EDITABLE) for v in found])


def valid_results(raw):
    """The problems of a results.json's bytes: strict UTF-8 and JSON, no
    lone surrogates, scores within [0, max]. Returns the dict."""
    expect(raw is not None, "no results.json")
    try:
        res = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise Failed("results.json is not valid UTF-8 JSON: %s: %r" % (e, raw[:200]))

    def strings(o):
        if isinstance(o, str):
            yield o
        elif isinstance(o, dict):
            for k, v in o.items():
                yield k
                yield from strings(v)
        elif isinstance(o, list):
            for v in o:
                yield from strings(v)
    for s in strings(res):
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:
            raise Failed("results.json holds a lone surrogate: %r" % s[:80])
    if "score" in res:
        expect(0 <= res["score"] <= res["max_score"], "score %s of %s" % (res["score"], res["max_score"]))
    for t in res.get("tests", []):
        expect(0 <= t["score"] <= t["max_score"], "%s: %s of %s" % (t["name"], t["score"], t["max_score"]))
    return res


def check_results_writer():
    """wall.write_results: surrogates from file names, NaN and scores out
    of range give valid JSON with bounded scores; a write that fails for
    lack of space (results.json.tmp on /dev/full) still leaves a results.json."""
    res = {"score": 150.0, "max_score": 100.0, "output": "caf\udce9 \x01",
           "tests": [{"name": "a\udcff", "score": float("nan"), "max_score": 60.0},
                     {"name": "b", "score": 70.0, "max_score": 40.0}]}
    path = os.path.join(TMP, "writer", "results.json")
    problem = wall.write_results(path, res)
    expect(not problem, problem)
    with open(path, "rb") as f:
        got = valid_results(f.read())
    expect(got["score"] == 40.0 and got["max_score"] == 100.0, "bounded to %s / %s"
           % (got["score"], got["max_score"]))
    if not os.path.exists("/dev/full"):
        raise Skipped("no /dev/full to fail a write with")
    os.unlink(path)
    os.symlink("/dev/full", path + ".tmp")
    work = os.path.join(TMP, "writer", "work")
    os.makedirs(work)
    problem = wall.write_results(path, res, free_first=[work])
    expect(not problem, "write_results failed: " + problem)
    expect(not os.path.exists(work), "the work folder was not removed first")
    with open(path, "rb") as f:
        got = valid_results(f.read())
    expect(got.get("score") == 40.0, "the fallback results: %s" % got)


# --- make release ----------------------------------------------------------------

def check_release_unknown_project():
    """A project that does not exist is refused, with the projects there are."""
    status, out = run(["make", "-s", "release", "PROJECT=9"])
    expect(status != 0 and "project9" in out and "2" in out,
           "make release PROJECT=9: status %d:\n%s" % (status, tail(out)))
    status, out = run([PY, "scripts/release.py", "--project", "9"])
    expect(status != 0 and "there is no project9/" in out and "its projects: 2" in out,
           "release.py --project 9: status %d:\n%s" % (status, tail(out)))
    status, out = run([PY, "scripts/autograder/build.py", "--project", "9"])
    expect(status != 0 and "there is no project9/" in out, "build.py --project 9:\n" + tail(out))


def check_release():
    """make release (no PROJECT: the current one) succeeds, and its own
    checks say the skeleton scores zero on TODO()s and the solution full marks."""
    status, out = timed("make release", run, ["make", "-s", "release"], log="release.log")
    expect(status == 0, "make release failed (status %d):\n%s" % (status, tail(out)))
    expect(os.path.isdir(RELEASE) and os.path.isfile(TARBALL), "no release tree or tarball")
    expect("project 2 " in out, "it did not release project 2:\n" + tail(out))
    expect("skeleton: 0.0 / 100.0" in out and "all on TODO(): yes" in out,
           "the skeleton check:\n" + tail(out))
    expect("solution: 100.0 / 100.0" in out, "the solution check:\n" + tail(out))


def check_release_contents():
    """The student tree: skeleton only, no hidden tests, no instructor files,
    the manifest, the originals, the hidden-test count from the kernel."""
    for gone in ("docs/instructors.md", "tests/e2e/instructor.py", "scripts/release.py",
                 "scripts/autograder", "scripts/scripts.mk", ".ci", ".kevlab-hidden",
                 "grader/batch.py", "build", "prebuilt", "project2/mutants.py"):
        expect(not os.path.exists(os.path.join(RELEASE, gone)), "the release has " + gone)
    expect(os.path.exists(os.path.join(RELEASE, "scripts/prebuilt.mk")), "no scripts/prebuilt.mk")
    with open(os.path.join(RELEASE, EDITABLE)) as f:
        hc = f.read()
    expect("TODO(" in hc and "SOLUTION" not in hc, "the release's hypercall.c is not the skeleton")
    tests = release.instructor_tests(plan())
    hidden = release.hidden_names(tests)
    expect(hidden, "the instructors' kernel has no hidden test (the checks need one)")
    for folder, _, files in os.walk(RELEASE):
        for n in files:
            with open(os.path.join(folder, n), "rb") as f:
                data = f.read()
            for h in hidden:
                expect(h.encode() not in data, "%s names the hidden test %s" % (n, h))
    with open(os.path.join(RELEASE, ".kevlab", "hidden-tests.json")) as f:
        note = json.load(f)
    expect(note == {"2": release.hidden_count(tests, 2)}, "hidden-tests.json: %s" % note)
    status, out = run(["sha256sum", "--quiet", "-c", "MANIFEST.sha256"], cwd=RELEASE)
    expect(status == 0, "sha256sum -c MANIFEST.sha256 fails in the release:\n" + tail(out))
    with open(os.path.join(RELEASE, "MANIFEST.sha256")) as f:
        listed = {l.split("  ", 1)[1] for l in f.read().splitlines() if l}
    expect(EDITABLE not in listed, "the manifest lists the editable file")
    expect("Makefile" in listed and "kernel/main.c" in listed, "the manifest lacks framework files")
    expect(os.path.isfile(os.path.join(RELEASE, ".kevlab/originals/kernel/main.c")),
           "no pristine copy of kernel/main.c in .kevlab/originals")
    with open(os.path.join(RELEASE, "Makefile")) as f:
        expect("COURSE_PROJECT := 2" in f.read(), "the Makefile's COURSE_PROJECT is not 2")
    with tarfile.open(TARBALL) as tar:
        names = tar.getnames()
    expect("kevlab/" + EDITABLE in names and "kevlab/MANIFEST.sha256" in names,
           "the tarball lacks kevlab/%s or the manifest" % EDITABLE)
    expect(not any(n.startswith("kevlab/build/") for n in names), "the tarball holds build/")


def check_release_restore():
    """In the release, a changed framework file is reported and --restore
    puts it back; one replaced by a symlink is replaced, not written through."""
    copy = os.path.join(TMP, "release-restore")
    shutil.copytree(RELEASE, copy, symlinks=True)
    # grade.py reads the build's facts before anything else, --restore too.
    status, out = run(["make", "-s"], cwd=copy)
    expect(status == 0, "the release does not build:\n" + tail(out))
    target = os.path.join(copy, "kernel", "main.c")
    with open(target, "rb") as f:
        original = f.read()
    with open(target, "ab") as f:
        f.write(b"/* a student's edit */\n")
    outside = os.path.join(TMP, "outside.c")
    with open(outside, "wb") as f:
        f.write(b"outside\n")
    os.unlink(os.path.join(copy, "kernel", "panic.c"))
    os.symlink(outside, os.path.join(copy, "kernel", "panic.c"))
    status, out = run([PY, "grader/grade.py", "--restore"], cwd=copy)
    expect("kernel/main.c" in out and "kernel/panic.c" in out,
           "--restore did not name kernel/main.c and kernel/panic.c:\n" + tail(out))
    with open(target, "rb") as f:
        expect(f.read() == original, "--restore did not put kernel/main.c back")
    expect(not os.path.islink(os.path.join(copy, "kernel", "panic.c")), "the symlink stayed")
    with open(outside, "rb") as f:
        expect(f.read() == b"outside\n", "--restore wrote through the symlink")


# --- a later project (made up) ----------------------------------------------------

FAKE = os.path.join(TMP, "with-project3")


def fake_tree(dest, include_prebuilt=True):
    """A copy of this tree's files (no build/, so its builds and releases
    are its own) and, unless told, the Makefile including
    scripts/prebuilt.mk (as the main Makefile does)."""
    for n in release.source_files(ROOT):
        os.makedirs(os.path.dirname(os.path.join(dest, n)), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, n), os.path.join(dest, n))
    mk = os.path.join(dest, "Makefile")
    with open(mk) as f:
        text = f.read()
    if include_prebuilt and release.PREBUILT_MK not in text:
        text = text.replace("include user/user.mk\n",
                            "include user/user.mk\n-include %s\n" % release.PREBUILT_MK, 1)
    elif not include_prebuilt:
        text = text.replace("-include %s\n" % release.PREBUILT_MK, "")
    with open(mk, "w") as f:
        f.write(text)


def files_of(tree):
    out = set()
    for folder, _, files in os.walk(tree):
        for n in files:
            out.add(os.path.relpath(os.path.join(folder, n), tree))
    return out


def check_later_setup():
    """A copy of this tree builds project 3 with every solution."""
    fake_tree(FAKE)
    status, out = run(["make", "-s", "-j2", "PROJECT=3", "SOLUTION=all"], cwd=FAKE)
    expect(status == 0, "the tree with project 3 does not build:\n" + tail(out))


def check_later_release_earlier():
    """Project 2's release of a tree that has project 3 leaves project 3 out
    (project3/, docs/project3.md, its tests) and still checks itself."""
    status, out = run([PY, "scripts/release.py", "--project", "2"], cwd=FAKE)
    expect(status == 0, "release of project 2 failed:\n" + tail(out))
    tree = os.path.join(FAKE, "build", "release", "p2", "kevlab")
    names = files_of(tree)
    later = [n for n in names if "project3" in n and not n.startswith(".kevlab/")]
    expect(not later, "project 3 is in project 2's release: %s" % later[:5])
    expect(EDITABLE in names, "no %s" % EDITABLE)


def check_later_release_objects():
    """make release PROJECT=3 (EARLIER=objects): project 2's student file is
    a stub and its solution a prebuilt object only (no source of it in the
    tree), the manifest protects both, the release checks itself (0 on
    TODO(), 100 with project 3's solution, project 2's object linked in)."""
    status, out = timed("make release PROJECT=3 EARLIER=objects", run,
                        ["make", "-s", "release", "PROJECT=3"], cwd=FAKE, log="release-p3.log")
    expect(status == 0, "make release PROJECT=3 failed:\n" + tail(out))
    expect("skeleton: 0.0 / 100.0" in out and "solution: 100.0 / 100.0" in out,
           "its checks:\n" + tail(out))
    tree = os.path.join(FAKE, "build", "release", "p3", "kevlab")
    p2_files = plan().own_files
    for name in p2_files:
        with open(os.path.join(tree, name)) as f:
            stub = f.read()
        expect("prebuilt" in stub and "TODO" not in stub and "{" not in stub,
               "the stub of %s:\n%s" % (name, stub))
        obj = os.path.join("prebuilt", name[:-2] + ".o")
        expect(os.path.isfile(os.path.join(tree, obj)), "no " + obj)
    for folder, _, files in os.walk(tree):
        for n in files:
            if n.endswith((".c", ".h", ".md")):
                with open(os.path.join(folder, n), "rb") as f:
                    expect(b"check_print" not in f.read(),
                           "%s holds the solution's source (check_print)" % n)
    with open(os.path.join(tree, "MANIFEST.sha256")) as f:
        listed = {l.split("  ", 1)[1] for l in f.read().splitlines() if l}
    expect(all(n in listed and "prebuilt/" + n[:-2] + ".o" in listed for n in p2_files)
           and "project3/ept.c" not in listed,
           "the manifest: project 2's files and objects must be protected, project3/ept.c not")
    with open(os.path.join(tree, "project3", "ept.c")) as f:
        expect("TODO()" in f.read(), "project 3's file is not a skeleton")
    with open(os.path.join(tree, ".kevlab", "hidden-tests.json")) as f:
        note = json.load(f)
    expect(note == {"3": hidden_count(3)}, "hidden-tests.json: %s, want {\"3\": %d}"
           % (note, hidden_count(3)))
    with open(os.path.join(tree, "Makefile")) as f:
        expect("COURSE_PROJECT := 3" in f.read(), "COURSE_PROJECT is not 3")
    expect("project 2" in open(os.path.join(tree, "README.md")).read(), "README")


def check_later_release_skeleton():
    """make release PROJECT=3 EARLIER=skeleton: project 2's file is a
    skeleton again, editable (not in the manifest), and the checks pass."""
    status, out = run(["make", "-s", "release", "PROJECT=3", "EARLIER=skeleton"], cwd=FAKE)
    expect(status == 0, "make release PROJECT=3 EARLIER=skeleton failed:\n" + tail(out))
    tree = os.path.join(FAKE, "build", "release", "p3", "kevlab")
    with open(os.path.join(tree, EDITABLE)) as f:
        expect("TODO()" in f.read(), "project 2's file is not a skeleton")
    expect(not os.path.exists(os.path.join(tree, "prebuilt")), "prebuilt/ in a skeleton release")
    with open(os.path.join(tree, "MANIFEST.sha256")) as f:
        text = f.read()
    expect(EDITABLE not in text and "project3/ept.c" not in text, "editable files listed")


def check_later_needs_include():
    """EARLIER=objects in a tree whose Makefile does not include
    scripts/prebuilt.mk stops with the line to add."""
    tree = os.path.join(TMP, "no-prebuilt-include")
    fake_tree(tree, include_prebuilt=False)
    status, out = run([PY, "scripts/release.py", "--project", "3", "--no-check"], cwd=tree)
    expect(status != 0 and "-include scripts/prebuilt.mk" in out, "got:\n" + tail(out))


def check_later_autograder():
    """make autograder PROJECT=3 in the tree with project 3: the zip grades
    project 3's solution 100 (hidden test included) and its skeleton 0,
    with project 2 prebuilt."""
    status, out = timed("make autograder PROJECT=3", run, ["make", "-s", "autograder", "PROJECT=3"],
                        cwd=FAKE, log="autograder-p3.log")
    expect(status == 0, "make autograder PROJECT=3 failed:\n" + tail(out))
    expect(re.search(r"reference solution: 100\.0 / 100\.0, \d+ tests \(%d hidden\)"
                     % hidden_count(3), out), tail(out))


# --- make autograder ----------------------------------------------------------------

AG_ROOT = os.path.join(TMP, "autograder-root")


def check_autograder_build():
    """make autograder builds the zip and grades the solution (100) and the
    skeleton (0) through it."""
    status, out = timed("make autograder", run, ["make", "-s", "autograder"], log="autograder.log")
    expect(status == 0, "make autograder failed (status %d):\n%s" % (status, tail(out)))
    expect("reference solution: 100.0 / 100.0" in out and "skeleton: 0.0 / 100.0" in out,
           tail(out))
    status, listing = run(["unzip", "-Z1", ZIP])
    names = listing.split()
    for need in ("setup.sh", "run_autograder", "autograder.py", "wall.py", "sandbox.mk",
                 "autograder.json", "headers/kev/kev.h", "headers/project2/hypercall.h",
                 "kevlab/scripts/install-deps", "kevlab/" + EDITABLE, "release-manifest.sha256",
                 "kevlab/.kevlab-hidden"):
        expect(need in names, "the zip lacks " + need)
    for gone in ("kevlab/docs/instructors.md", "kevlab/scripts/release.py", "kevlab/tests/e2e",
                 "kevlab/grader/batch.py", "headers/kernel/x86.h"):
        expect(not any(n == gone or n.startswith(gone) for n in names), "the zip has " + gone)


def check_autograder_setup():
    """setup.sh installs (nothing is missing here), creates the build user,
    builds the framework and leaves the folder root-only."""
    status, out = autograder.install(ZIP, AG_ROOT)
    expect(status == 0, "setup.sh failed:\n" + tail(out))
    source = os.path.join(AG_ROOT, "source")
    with open(os.path.join(source, "kevlab", EDITABLE)) as f:
        expect("SOLUTION" not in f.read(), "the autograder's hypercall.c holds the solution")
    mode = os.stat(os.path.join(source, "kevlab", "project2", "tests.c")).st_mode
    expect(not mode & (stat.S_IRGRP | stat.S_IROTH), "the hidden tests' source is readable by others")
    if IS_ROOT:
        expect(wall.build_user(wall.BUILD_USER) is not None, "no build user %s" % wall.BUILD_USER)


def submit(files=None, prepare=None, env=None, label="run_autograder"):
    """One submission through run_autograder: its results, checked valid."""
    status, out, res, raw = timed(label, autograder.run_submission, AG_ROOT, files, prepare, env)
    if raw is None:
        raise Failed("no results.json (status %d):\n%s" % (status, tail(out)))
    valid_results(raw)
    s = release.summarize(res)
    s["raw"], s["res"], s["log"] = raw, res, out
    if label == "run_autograder":
        FIGURES[-1] = ("run_autograder: " + str(s["status"]), FIGURES[-1][1])
    return s


def zero(s, status):
    expect(s["score"] == 0 and s["max"] and s["status"] == status,
           "score %s / %s, status %s (want 0, %s):\n%s" % (s["score"], s["max"], s["status"],
                                                         status, s["output"]))
    expect(all(not t["passed"] for t in s["tests"]), "a test passed")


def check_autograder_correct():
    """A correct hypercall.c, uploaded bare: full marks, hidden tests included."""
    s = submit(dict(others(), **{"hypercall.c": solution_text()}))
    failed = [t["name"] + ": " + t["reason"] for t in s["tests"] if not t["passed"]]
    expect(s["score"] == s["max"] and s["max"] and s["status"] == "graded",
           "score %s / %s; failed: %s" % (s["score"], s["max"], failed))
    hidden = {t["name"] for t in s["tests"] if t["hidden"]}
    expect(hidden == set(release.hidden_names(release.instructor_tests(plan()))),
           "hidden tests graded: %s" % sorted(hidden))


def check_autograder_skeleton():
    """The untouched skeleton, uploaded as a whole tree: zero, every test at TODO()."""
    s = submit({"kevlab-main/" + EDITABLE: skeleton_text(), "kevlab-main/README.md": b"mine\n"})
    zero(s, "graded")
    todo = release.todo_message()
    expect(all(todo in t["output"] for t in s["tests"]), "not every test stopped at TODO()")


def check_autograder_no_compile():
    """A hypercall.c that does not compile: zero, with gcc's error shown."""
    bad = solution_text().replace(b"{", b"{ this is not C;", 1)
    s = submit({"project2/hypercall.c": bad})
    zero(s, "build failed")
    expect("does not compile" in s["output"] and "error:" in s["output"]
           and "project2/hypercall.c:" in s["output"], "the output does not explain:\n" + s["output"])


def check_autograder_protected():
    """A submission that changes a protected file: the original is used
    (full marks here) and the output names the file."""
    files = others("kevlab/")
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
    zero(s, "missing")
    expect("hypercall.c" in s["output"] and "notes.txt" in s["output"], s["output"])


def check_autograder_symlink_zero():
    """hypercall.c as a symlink to /dev/zero: not read (the disk does not
    fill), named in the output, zero."""
    s = submit(prepare=lambda sub: os.symlink("/dev/zero", os.path.join(sub, "hypercall.c")))
    zero(s, "missing")
    expect("symbolic link" in s["output"] and "/dev/zero" in s["output"], s["output"])


def check_autograder_symlink_outside():
    """project2/hypercall.c as a symlink to a file outside the submission
    (here the instructors' own hypercall.c, which holds the solution): not
    followed, zero."""
    def prepare(sub):
        os.makedirs(os.path.join(sub, "kevlab", "project2"))
        os.symlink(os.path.join(ROOT, EDITABLE), os.path.join(sub, "kevlab", EDITABLE))
    s = submit(prepare=prepare)
    zero(s, "missing")
    expect("symbolic link" in s["output"], s["output"])


def check_autograder_oversize():
    """A hypercall.c over the size cap: not graded, the limit named, zero."""
    cap = wall.SIZE_CAP
    big = solution_text() + b"/*" + b"x" * cap + b"*/\n"
    s = submit({"hypercall.c": big})
    zero(s, "missing")
    expect("limit" in s["output"] and str(cap) in s["output"], s["output"])


def rule_submission(line, rule_words):
    text, at = with_line(solution_text(), line)
    s = submit({"hypercall.c": text})
    zero(s, "rejected")
    want = "project2/hypercall.c:%d:" % at
    expect(want in s["output"] and all(w in s["output"] for w in rule_words),
           "want %s and %s in:\n%s" % (want, rule_words, s["output"]))
    return s


def check_autograder_rule_ptmx():
    """#include "/dev/ptmx": rejected by the include rule, with its line."""
    rule_submission(b'#include "/dev/ptmx"', ['#include "/dev/ptmx" is not allowed'])


def check_autograder_rule_asm():
    """Inline assembly: rejected, with its line and the rule."""
    rule_submission(b'static void nop(void) { __asm__ volatile("nop"); }', ["inline assembly"])


def check_autograder_rule_incbin():
    """.incbin in top-level assembly: rejected (both rules named)."""
    rule_submission(b'__asm__(".incbin \\"/etc/passwd\\"");', [".incbin", "inline assembly"])


def check_autograder_rule_header():
    """An #include of a kernel header outside the allowed list: rejected."""
    rule_submission(b'#include "kernel/lapic.h"', ['#include "kernel/lapic.h" is not allowed',
                                                 "kev/kev.h"])


def check_autograder_rule_section():
    """__attribute__((section(...))): rejected."""
    rule_submission(b'int forged __attribute__((section(".ktest_info"))) = 1;',
                    ["section attribute"])


def check_autograder_rule_constructor():
    """__attribute__((constructor)): rejected."""
    rule_submission(b'__attribute__((constructor)) static void early(void) { }',
                    ["constructor"])


def check_autograder_rule_macro():
    """Inline assembly pasted together by a macro: caught in the
    preprocessed text, rejected with its line."""
    src = solution_text()
    text, at = with_line(src, b"#define GLUE(a, b) a##b\nstatic void nop(void) { GLUE(__as, m__)(\"nop\"); }")
    s = submit({"hypercall.c": text})
    zero(s, "rejected")
    expect(("project2/hypercall.c:%d:" % (at + 1)) in s["output"] and "inline assembly" in s["output"],
           s["output"])


def rules_off(**more):
    return dict(os.environ, KEVLAB_WALL_RULES="off", **more)


def sandbox_processes():
    """Live processes of the build user, or running in a sandbox folder."""
    found = []
    ids = wall.build_user(wall.BUILD_USER)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/status" % pid) as f:
                status = f.read()
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        state = next((l.split()[1] for l in status.splitlines() if l.startswith("State:")), "?")
        uid = next((int(l.split()[1]) for l in status.splitlines() if l.startswith("Uid:")), -1)
        if state == "Z":
            continue
        if (ids and uid == ids[0]) or "kevlab-sandbox-" in cmd:
            found.append("%s %s" % (pid, cmd[:120]))
    return found


def check_autograder_ptmx_timeout():
    """With the rules off (the wall behind them): #include "/dev/ptmx" hangs
    the compiler, which is killed at the timeout with its whole process
    group (no cc1 left running); zero, the reason given."""
    before = sandbox_processes()
    expect(not before, "processes already running: %s" % before)
    s = submit({"hypercall.c": b'#include "/dev/ptmx"\n'},
               env=rules_off(KEVLAB_COMPILE_TIMEOUT="3"), label="run_autograder (ptmx, 3 s timeout)")
    zero(s, "build failed")
    expect("did not finish within 3 s" in s["output"], s["output"])
    left = sandbox_processes()
    expect(not left, "left running: %s" % left)


def check_autograder_hidden_unreadable():
    """With the rules off: an #include of the hidden tests' source fails
    (the build user cannot read it), and nothing of it reaches the output."""
    hidden = release.hidden_names(release.instructor_tests(plan()))
    path = os.path.join(AG_ROOT, "source", "kevlab", "project2", "tests.c")
    s = submit({"hypercall.c": ('#include "%s"\n' % path).encode()}, env=rules_off())
    zero(s, "build failed")
    expect("Permission denied" in s["output"] or "No such file" in s["output"], s["output"])
    for h in hidden:
        expect(h not in s["output"], "the output names the hidden test " + h)
    if IS_ROOT:
        s = submit({"hypercall.c": b'#include "/etc/shadow"\n'}, env=rules_off())
        expect("Permission denied" in s["output"], "compiled as root? " + s["output"])


def check_autograder_file_limit():
    """A 1 GiB initialized array: the file-size limit stops the assembler;
    zero, the limit named."""
    text, _ = with_line(solution_text(), b"static char big[1 << 30] = {1}; char *bigp = big;")
    s = submit({"hypercall.c": text})
    zero(s, "build failed")
    expect("limit" in s["output"], s["output"])


def path_without(names):
    """A PATH of links to every program of the usual folders but names."""
    folder = os.path.join(TMP, "path-without-" + "-".join(names))
    if not os.path.isdir(folder):
        os.makedirs(folder)
        for d in ("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"):
            if not os.path.isdir(d):
                continue
            for n in os.listdir(d):
                if any(n == x or n.startswith(x + "-") for x in names):
                    continue
                link = os.path.join(folder, n)
                if not os.path.lexists(link):
                    os.symlink(os.path.join(d, n), link)
    return os.path.dirname(PY) + ":" + folder


def grader_error(s, words):
    expect(s["status"] == "grader error" and "score" not in s["res"] and not s["tests"],
           "want a grader error without a score, got status %s, score %s:\n%s"
           % (s["status"], s["res"].get("score"), s["output"]))
    expect(all(w in s["output"] for w in words), "want %s in:\n%s" % (words, s["output"]))


def check_autograder_no_emulator():
    """No bochs on the PATH: a grader error, no score (never a zero)."""
    env = dict(os.environ, PATH=path_without(["bochs"]))
    env.pop("BACKEND", None)
    s = submit({"hypercall.c": solution_text()}, env=env)
    grader_error(s, ["bochs is not installed", "not a verdict"])


def check_autograder_broken_emulator():
    """A bochs that fails at once: a grader error, no score."""
    folder = os.path.join(TMP, "broken-bochs")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "bochs"), "w") as f:
        f.write("#!/bin/sh\necho 'bochs: cannot open the display' >&2\nexit 1\n")
    os.chmod(os.path.join(folder, "bochs"), 0o755)
    env = dict(os.environ, PATH=folder + ":" + os.environ.get("PATH", ""))
    env.pop("BACKEND", None)
    s = submit({"hypercall.c": solution_text()}, env=env)
    grader_error(s, ["emulator", "not a verdict"])


def check_autograder_full_disk():
    """A full disk (a small tmpfs holding the work folder and the results):
    the grading fails, the work folder is removed, and results.json is
    still written, saying so (a grader error, no score)."""
    if not IS_ROOT:
        raise Skipped("mounting a tmpfs needs root (write_results' fallback is checked by "
                      "unit-results-writer)")
    disk = os.path.join(TMP, "full-disk")
    os.makedirs(disk)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", disk],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise Skipped("mount -t tmpfs failed here (%s); unit-results-writer checks the "
                      "fallback with /dev/full" % proc.stdout.strip())
    try:
        root = os.path.join(TMP, "full-root")
        os.makedirs(os.path.join(root, "submission"))
        os.symlink(os.path.join(AG_ROOT, "source"), os.path.join(root, "source"))
        os.makedirs(os.path.join(disk, "results"))
        os.makedirs(os.path.join(disk, "tmp"))
        os.chmod(os.path.join(disk, "tmp"), 0o1777)
        os.symlink(os.path.join(disk, "results"), os.path.join(root, "results"))
        st = os.statvfs(disk)
        with open(os.path.join(disk, "filler"), "wb") as f:
            f.write(b"\0" * (st.f_bavail * st.f_frsize - 200 * 1024))
        env = dict(os.environ, TMPDIR=os.path.join(disk, "tmp"))
        status, out, res, raw = timed("run_autograder (full disk)", autograder.run_submission,
                                      root, {"hypercall.c": solution_text()}, None, env)
        res = valid_results(raw)
        expect((res.get("extra_data") or {}).get("kevlab_status") == "grader error"
               and "score" not in res and "disk is full" in res.get("output", ""),
               "results: %s" % res)
        expect(os.listdir(os.path.join(disk, "tmp")) == [], "the work folder was left: %s"
               % os.listdir(os.path.join(disk, "tmp")))
    finally:
        subprocess.run(["umount", disk])


def check_autograder_non_utf8():
    """File names that are not UTF-8: the submission is graded (100 here),
    and a listing of such names (nothing to grade) is valid JSON too."""
    files = {("caf\xe9/" + n).encode("latin-1"): t for n, t in others().items()}
    files.update({b"caf\xe9/project2/hypercall.c": solution_text(), b"\xff\xfe notes.txt": b"x"})
    s = submit(files)
    expect(s["score"] == s["max"] and s["max"], "score %s / %s:\n%s"
           % (s["score"], s["max"], s["output"]))
    s = submit({b"\xff\xfe.c": b"int x;\n", b"d\xe9j\xe0/vu.txt": b"x"})
    zero(s, "missing")
    expect("\\xff\\xfe.c" in s["output"], "the odd name is not shown escaped:\n" + s["output"])


# --- batch ------------------------------------------------------------------------

def check_batch():
    """make batch over a correct, a skeleton, a rejected and a symlinked
    submission: a CSV with each one's score and status, and their results.json."""
    subs = os.path.join(TMP, "submissions")
    out = os.path.join(TMP, "batch-out")
    os.makedirs(os.path.join(subs, "alice"))
    os.makedirs(os.path.join(subs, "bob", "project2"))
    os.makedirs(os.path.join(subs, "carol"))
    os.makedirs(os.path.join(subs, "dave"))
    for name, text in dict(others(), **{"hypercall.c": solution_text()}).items():
        with open(os.path.join(subs, "alice", os.path.basename(name)), "wb") as f:
            f.write(text)
    shutil.copy(os.path.join(RELEASE, EDITABLE), os.path.join(subs, "bob", EDITABLE))
    with open(os.path.join(subs, "carol", "hypercall.c"), "wb") as f:
        f.write(with_line(solution_text(), b'void nop(void) { asm("nop"); }')[0])
    os.symlink("/dev/zero", os.path.join(subs, "dave", "hypercall.c"))
    status, text = timed("make batch (4 submissions)", run,
                         ["make", "-s", "batch", "DIR=" + subs, "OUT=" + out], log="batch.log")
    expect(status == 0, "make batch failed (status %d):\n%s" % (status, tail(text)))
    with open(os.path.join(out, "scores.csv")) as f:
        rows = {r["submission"]: r for r in csv.DictReader(f)}
    expect(set(rows) == {"alice", "bob", "carol", "dave"}, "CSV rows: %s" % sorted(rows))
    want = {"alice": (100.0, "graded"), "bob": (0.0, "graded"), "carol": (0.0, "rejected"),
            "dave": (0.0, "missing")}
    for who, (score, st) in want.items():
        r = rows[who]
        expect(float(r["score"]) == score and float(r["max_score"]) == 100.0 and r["status"] == st,
               "%s: %s" % (who, r))
        with open(os.path.join(out, who, "results.json"), "rb") as f:
            valid_results(f.read())
    for name in release.hidden_names(release.instructor_tests(plan())):
        expect(name in rows["alice"], "the CSV has no column for the hidden test " + name)


CHECKS = [
    ("unit-unifdef-status", check_unifdef_status),
    ("unit-markdown-markers", check_markdown_markers),
    ("unit-later-paths", check_later_paths),
    ("unit-source-rules", check_source_rules),
    ("unit-results-writer", check_results_writer),
    ("release-unknown-project", check_release_unknown_project),
    ("release", check_release),
    ("release-contents", check_release_contents),
    ("release-restore", check_release_restore),
    ("later-setup", check_later_setup),
    ("later-release-p2", check_later_release_earlier),
    ("later-release-objects", check_later_release_objects),
    ("later-release-skeleton", check_later_release_skeleton),
    ("later-needs-include", check_later_needs_include),
    ("later-autograder", check_later_autograder),
    ("autograder-build", check_autograder_build),
    ("autograder-setup", check_autograder_setup),
    ("autograder-correct", check_autograder_correct),
    ("autograder-skeleton", check_autograder_skeleton),
    ("autograder-no-compile", check_autograder_no_compile),
    ("autograder-protected", check_autograder_protected),
    ("autograder-empty", check_autograder_empty),
    ("autograder-symlink-zero", check_autograder_symlink_zero),
    ("autograder-symlink-outside", check_autograder_symlink_outside),
    ("autograder-oversize", check_autograder_oversize),
    ("autograder-rule-ptmx", check_autograder_rule_ptmx),
    ("autograder-rule-asm", check_autograder_rule_asm),
    ("autograder-rule-incbin", check_autograder_rule_incbin),
    ("autograder-rule-header", check_autograder_rule_header),
    ("autograder-rule-section", check_autograder_rule_section),
    ("autograder-rule-constructor", check_autograder_rule_constructor),
    ("autograder-rule-macro", check_autograder_rule_macro),
    ("autograder-ptmx-timeout", check_autograder_ptmx_timeout),
    ("autograder-hidden-unreadable", check_autograder_hidden_unreadable),
    ("autograder-file-limit", check_autograder_file_limit),
    ("autograder-no-emulator", check_autograder_no_emulator),
    ("autograder-broken-emulator", check_autograder_broken_emulator),
    ("autograder-full-disk", check_autograder_full_disk),
    ("autograder-non-utf8", check_autograder_non_utf8),
    ("batch", check_batch),
]
# A check that needs another's output is skipped when that one failed.
NEEDS = {"release": ["release-", "later-", "autograder-", "batch"],
         "later-setup": ["later-"],
         "autograder-build": ["autograder-"],
         "autograder-setup": ["autograder-"]}


def main(argv):
    wanted = [a for a in argv if not a.startswith("--")]
    passed = failed = skipped = 0
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
            except Skipped as e:
                print("SKIP %s: %s" % (name, e))
                skipped += 1
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
    if FIGURES:
        print("figures: " + "; ".join("%s %.1f s" % f for f in FIGURES
                                      if not f[0].startswith("run_autograder: ")))
        kinds = sorted({w for w, _ in FIGURES if w.startswith("run_autograder: ")})
        for kind in kinds:
            runs = sorted(t for w, t in FIGURES if w == kind)
            print("figures: %s: %.1f to %.1f s a submission (median %.1f s, %d runs)"
                  % (kind, runs[0], runs[-1], runs[len(runs) // 2], len(runs)))
    print("%d passed, %d failed%s" % (passed, failed, " (%d skipped)" % skipped if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
