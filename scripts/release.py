#!/usr/bin/env python3
"""make release PROJECT=N: project N's student tree, built from the instructors' tree.

  scripts/release.py --project N                  build/release/p<N>/kevlab/ and kevlab.tar.gz, checked
  scripts/release.py --project N --earlier skeleton   earlier projects as skeletons (default: objects)
  scripts/release.py --project N --no-check       without the two grading runs
  scripts/release.py --out DIR                    somewhere other than build/release/p<N>

What project N's student tree is (docs/instructors.md tells the same for people):

  - every file of the instructors' tree (git's tracked and untracked-but-not-
    ignored files), less the instructor-only ones (INSTRUCTOR_ONLY below)
    and less every later project: projectM/, guests/projectM/ and
    docs/projectM.md for M > N (any path component `projectM`);
  - C files run through `unifdef -USOLUTION -UKEVLAB_HIDDEN`: project N's
    reference solution and the hidden tests' kernel code are gone, the
    TODO()s and hints stay;
  - earlier projects (2..N-1), --earlier objects (the default): each of
    their student files is a short stub saying it is prebuilt, and its
    reference solution comes compiled only, as prebuilt/<file>.o (compiled
    with the tree's own user flags, debug information stripped), which
    scripts/prebuilt.mk links in its place; --earlier skeleton: they are
    skeletons with TODO()s like project N's, and editable too;
  - hidden tests left out: the hidden guests (a `kevlab-hidden-file` line
    at the top), the marker file .kevlab-hidden (whose presence makes the
    Makefile define KEVLAB_HIDDEN);
  - Markdown lines marked `<!-- instructors-only -->`, and blocks between
    `<!-- instructors-only: begin -->` and `<!-- instructors-only: end -->`,
    left out; README.md gets a note saying what the release leaves out;
  - the Makefile's COURSE_PROJECT set to N, so that `make grade` grades N;
  - MANIFEST.sha256 (sha256sum's format) of every file but the editable ones
    (project N's student files from `make -s info PROJECT=N`, plus the
    earlier projects' with --earlier skeleton), the pristine copies in
    .kevlab/originals/ that `grade.py --restore` puts back (grader/protect.py
    reads both), and .kevlab/hidden-tests.json, {"N": the number of hidden
    tests of project N}, read from the instructors' kernel (`make PROJECT=N
    SOLUTION=all`), for grade.py's note.

Before it says "done" it checks the tree: no SOLUTION or KEVLAB_HIDDEN
conditional, no hidden test's name and no later project left anywhere,
every relative link in its Markdown files resolves, and two grading runs in
temporary copies: the tree as it is scores zero with every test stopped by
its TODO(), and the same tree with the reference solution's editable files
scores full marks on the public tests.

scripts/autograder/build.py builds its framework tree with make_tree() too.
"""

import argparse
import hashlib
import json
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from grader import kernelinfo  # noqa: E402

# Paths (relative to the root; a trailing / means a whole folder) that exist
# for instructors and framework developers only.
INSTRUCTOR_ONLY = [
    ".ci/",                    # the framework's CI
    "tests/",                  # the framework's own tests (make test)
    "notes/",                  # developers' notes
    "docs/instructors.md",     # this release's own guide
    "DEVELOPERS.md",           # the framework's developers' map
    "scripts/release.py",
    "scripts/autograder/",
    "scripts/scripts.mk",      # the release and autograder targets
    "grader/batch.py",         # batch grading of many submissions
    ".kevlab-hidden",          # the marker: hidden tests are present
    "project*/mutants.py",     # wrong and right implementations: the solution's code in them
]
# Left out of every tree this script makes: build outputs and caches.
NEVER = ["build/", "compile_commands.json", ".gdbinit", ".kevlab/", "prebuilt/"]
# The autograder's tree keeps these instructor-only files.
AUTOGRADER_KEEPS = [".kevlab-hidden"]
# A file with this word in its first lines (a hidden test's guest:
# `; kevlab-hidden-file`) belongs to the hidden tests: the release drops it.
HIDDEN_FILE = re.compile(rb"^[ \t]*(?:;|//|/\*|#|<!--)[ \t]*kevlab-hidden-file\b", re.M)
HIDDEN_FILE_LINES = 5

MANIFEST = "MANIFEST.sha256"
ORIGINALS = os.path.join(".kevlab", "originals")
HIDDEN_NOTE = os.path.join(".kevlab", "hidden-tests.json")  # grader/grade.py reads it
PREBUILT = "prebuilt"
PREBUILT_MK = "scripts/prebuilt.mk"
EARLIER_MODES = ("objects", "skeleton")

# Files unifdef reads: C and the headers NASM and C share.
UNIFDEF_EXT = (".c", ".h", ".S")
MD_LINE = "<!-- instructors-only -->"
MD_BEGIN = "<!-- instructors-only: begin -->"
MD_END = "<!-- instructors-only: end -->"
PROJECT_PART = re.compile(r"^project(\d+)(?:\.[A-Za-z0-9]+)?$")

RELEASE_NOTE = """\
> **This is the student release of kevlab for project {n}.** The reference
> solutions, the hidden tests, the framework's own tests (`make test`), the
> instructors' guide and tools (`make release`, `make autograder`, `make
> grade SOLUTION=1`) are not part of it. `make grade` grades your work;
> `MANIFEST.sha256` lists the files you may not change (everything but
> {editable}).{earlier}
"""
EARLIER_NOTE_OBJECTS = """
>
> The earlier projects' student files ({files}) come as their
> reference solutions, compiled (`prebuilt/`), so that project {n} starts
> from working code."""
EARLIER_NOTE_SKELETON = """
>
> The earlier projects' student files ({files}) are skeletons again:
> paste your own solutions into them; project {n}'s tests use them."""

# tests/ is left out; this stands in for it so that `make test` explains.
TESTS_STUB_PATH = "tests/tests.mk"
TESTS_STUB = """\
# The student release: kevlab's own tests ship to instructors only.
.PHONY: test
test:
	@echo "make test runs kevlab's own tests, which are not part of the student release."
	@echo "To grade your project: make grade (see docs/project{n}.md)."
"""

PREBUILT_STUB = """\
/*
 * {file}: project {p}'s student file, given to you prebuilt.
 *
 * This is the release of project {n}. Project {p}'s part of the kernel
 * is its reference solution, compiled:
 *     {obj}
 * scripts/prebuilt.mk links that object in place of this file, which is
 * not compiled. What project {p} does is in docs/project{p}.md.
 */
"""


class ReleaseError(Exception):
    pass


def say(msg):
    print("release: " + msg, flush=True)


# --- the facts make knows -------------------------------------------------------

def make_info(project=None, solution=None, root=ROOT):
    """`make -s info` (the build's facts: project, projects, student_files,
    build, all_projects, current) for that project and SOLUTION."""
    argv = ["make", "-s", "--no-print-directory", "info"]
    if project is not None:
        argv.append("PROJECT=%s" % project)
    if solution is not None:
        argv.append("SOLUTION=%s" % solution)
    proc = subprocess.run(argv, cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        said = (proc.stderr or proc.stdout).strip()
        m = re.search(r"\*\*\* (.*?)\.?\s+Stop\.", said)
        raise ReleaseError(m.group(1) if m else "`%s` failed: %s" % (" ".join(argv), said))
    try:
        return json.loads(proc.stdout)
    except ValueError:
        raise ReleaseError("`%s` printed no JSON: %s" % (" ".join(argv), proc.stdout[:300]))


def make_var(name, project, root=ROOT):
    """A make variable's value for PROJECT=project (scripts/scripts.mk's print-var-%)."""
    proc = subprocess.run(["make", "-s", "--no-print-directory", "PROJECT=%s" % project,
                           "print-var-" + name], cwd=root, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise ReleaseError("cannot read %s from make: %s" % (name, proc.stderr.strip()))
    return proc.stdout.strip()


class Plan:
    """What a release of project N holds: its projects, the student files
    of each, which of them are editable, how earlier projects ship."""

    def __init__(self, project, earlier="objects", root=ROOT):
        if earlier not in EARLIER_MODES:
            raise ReleaseError("EARLIER=%s: choose one of %s" % (earlier, ", ".join(EARLIER_MODES)))
        info = make_info(None, None, root)
        every = info["all_projects"]
        if project is None:
            project = info["current"]
        project = int(project)
        if project not in every:
            raise ReleaseError("PROJECT=%d: there is no project%d/ in this tree (its projects: %s)"
                               % (project, project, " ".join(map(str, every))))
        info = make_info(project, None, root)
        self.root = root
        self.project = project
        self.projects = [int(p) for p in info["projects"]]
        self.all_projects = every
        self.later = [p for p in every if p > project]
        self.earlier = [p for p in self.projects if p < project]
        self.earlier_mode = earlier
        self.student_files = {int(p): list(f) for p, f in info["student_files"].items()}
        self.own_files = self.student_files.get(project, [])
        self.earlier_files = [f for p in self.earlier for f in self.student_files.get(p, [])]
        if not self.own_files:
            raise ReleaseError("project %d names no student files (STUDENT_FILES_%d in "
                               "project%d/project.mk)" % (project, project, project))
        self.prebuilt = self.earlier_files if earlier == "objects" else []
        self.editable = sorted(self.own_files + (self.earlier_files if earlier == "skeleton" else []))

    def project_of(self, student_file):
        return next(p for p, fs in self.student_files.items() if student_file in fs)


# --- which files --------------------------------------------------------------

def source_files(root=ROOT):
    """The tree's files, relative and sorted: git's tracked and untracked-
    but-not-ignored files that exist, or every file outside build/ when the
    tree is not a git work tree."""
    names = None
    if os.path.isdir(os.path.join(root, ".git")) or os.path.isfile(os.path.join(root, ".git")):
        try:
            out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                                  "--exclude-standard"], cwd=root, check=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
            names = [n.decode() for n in out.split(b"\0") if n]
        except (OSError, subprocess.CalledProcessError):
            names = None
    if names is None:
        names = []
        for folder, dirs, files in os.walk(root):
            rel = os.path.relpath(folder, root)
            dirs[:] = [d for d in dirs if not (rel == "." and d in ("build", ".git"))
                       and d != "__pycache__"]
            names += [os.path.normpath(os.path.join(rel, f)) for f in files]
    return sorted(n for n in set(names)
                  if os.path.isfile(os.path.join(root, n)) and not os.path.islink(os.path.join(root, n))
                  and not matches(n, NEVER) and "__pycache__/" not in n and not n.endswith(".pyc"))


def matches(name, patterns):
    """Whether name is one of patterns: a folder (`tests/`), a file, a
    prefix (`notes*`), or a glob with `*` inside (`project*/mutants.py`)."""
    for p in patterns:
        if p.endswith("/") and name.startswith(p):
            return True
        if name == p or (p.endswith("*") and name.startswith(p[:-1])):
            return True
        if "*" in p[:-1] and fnmatch.fnmatchcase(name, p):
            return True
    return False


def later_project(name, project, projects):
    """The later project (M > project, one of projects) a path belongs to,
    or None: any of its components is `projectM` or `projectM.<ext>`
    (project3/, guests/project3/, docs/project3.md)."""
    for part in name.split("/"):
        m = PROJECT_PART.match(part)
        if m and int(m.group(1)) > project and int(m.group(1)) in projects:
            return int(m.group(1))
    return None


# --- transforms -------------------------------------------------------------

def run_unifdef(path, defines, undefines):
    """The text of path with those symbols resolved by unifdef (bytes)."""
    if not shutil.which("unifdef"):
        raise ReleaseError("unifdef is not installed: run scripts/install-deps "
                           "(Debian package unifdef)")
    argv = ["unifdef", "-B"] + ["-D" + d for d in defines] + ["-U" + u for u in undefines]
    proc = subprocess.run(argv + [path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # unifdef: 0 = output is the input unchanged, 1 = something was removed,
    # 2 = trouble (an unbalanced #if, an unreadable file, ...).
    if proc.returncode not in (0, 1):
        raise ReleaseError("unifdef failed on %s (status %d): %s"
                           % (path, proc.returncode, proc.stderr.decode(errors="replace").strip()))
    return proc.stdout


def strip_markdown(text, name):
    """text less its instructors-only lines and blocks."""
    out, inside, start = [], False, 0
    for number, line in enumerate(text.split("\n"), 1):
        if MD_BEGIN in line:
            if inside:
                raise ReleaseError("%s:%d: %s inside another one (opened at line %d)"
                                   % (name, number, MD_BEGIN, start))
            inside, start = True, number
        elif MD_END in line:
            if not inside:
                raise ReleaseError("%s:%d: %s without a begin" % (name, number, MD_END))
            inside = False
        elif not inside and MD_LINE not in line:
            out.append(line)
    if inside:
        raise ReleaseError("%s:%d: %s is never closed by %s" % (name, start, MD_BEGIN, MD_END))
    return "\n".join(out)


def add_release_note(text, plan):
    """README.md with RELEASE_NOTE after its title."""
    earlier = ""
    if plan.earlier_files:
        tmpl = EARLIER_NOTE_OBJECTS if plan.earlier_mode == "objects" else EARLIER_NOTE_SKELETON
        earlier = tmpl.format(files=", ".join(plan.earlier_files), n=plan.project)
    note = RELEASE_NOTE.format(n=plan.project, editable=", ".join(plan.editable), earlier=earlier)
    lines = text.split("\n")
    at = next((i + 1 for i, l in enumerate(lines) if l.startswith("# ")), 0)
    return "\n".join(lines[:at] + [""] + note.rstrip("\n").split("\n") + lines[at:])


COURSE_LINE = re.compile(rb"^(COURSE_PROJECT[ \t]*:=[ \t]*)\d+", re.M)


def set_course_project(data, project):
    """The Makefile with COURSE_PROJECT := project."""
    if not COURSE_LINE.search(data):
        raise ReleaseError("the Makefile has no `COURSE_PROJECT := N` line to set to %d" % project)
    return COURSE_LINE.sub(lambda m: m.group(1) + str(project).encode(), data, count=1)


def is_hidden_file(data):
    return bool(HIDDEN_FILE.search(b"\n".join(data.split(b"\n", HIDDEN_FILE_LINES)[:HIDDEN_FILE_LINES])))


# --- the trees ----------------------------------------------------------------

def make_tree(dest, plan, hidden):
    """Writes project plan.project's tree from the instructors' tree to dest.

    hidden=False: the student release (hidden tests and instructor-only
    files left out). hidden=True: the autograder's framework (hidden tests
    kept, instructor-only files left out). Either way project N's solution
    is stripped, later projects are left out and earlier projects ship as
    plan.earlier_mode says. Returns (written, dropped): the relative names
    written, and the hidden files left out.
    """
    root = plan.root
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    left_out = [p for p in INSTRUCTOR_ONLY if not (hidden and p in AUTOGRADER_KEEPS)]
    undefine = ["SOLUTION"] + ([] if hidden else ["KEVLAB_HIDDEN"])
    written, dropped = [], []
    for name in source_files(root):
        if matches(name, left_out) or later_project(name, plan.project, plan.all_projects) is not None:
            continue
        src, dst = os.path.join(root, name), os.path.join(dest, name)
        with open(src, "rb") as f:
            data = f.read()
        if is_hidden_file(data):
            if not hidden:
                dropped.append(name)
                continue
        if name in plan.prebuilt:
            # The solution is compiled by build_prebuilt(); this text is
            # replaced by its stub there.
            data = run_unifdef(src, ["SOLUTION"], ["KEVLAB_HIDDEN"])
        elif name.endswith(UNIFDEF_EXT) and (b"SOLUTION" in data or b"KEVLAB_HIDDEN" in data):
            data = run_unifdef(src, [], undefine)
        elif name.endswith(".md"):
            text = strip_markdown(data.decode("utf-8"), name)
            if name == "README.md" and not hidden:
                text = add_release_note(text, plan)
            data = text.encode("utf-8")
        elif name == "Makefile":
            data = set_course_project(data, plan.project)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "wb") as f:
            f.write(data)
        shutil.copymode(src, dst)
        written.append(name)
    if matches(TESTS_STUB_PATH, left_out) and os.path.exists(
            os.path.join(root, TESTS_STUB_PATH)):
        dst = os.path.join(dest, TESTS_STUB_PATH)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "w") as f:
            f.write(TESTS_STUB.format(n=plan.project))
        written.append(TESTS_STUB_PATH)
    if plan.prebuilt:
        written += build_prebuilt(dest, plan)
    return sorted(written), dropped


def build_prebuilt(tree, plan):
    """EARLIER=objects: compiles each earlier student file of tree (which
    holds its reference solution now) with the tree's own rule and flags
    into prebuilt/<file>.o, debug information stripped, then replaces the
    source with a stub. Returns the objects' relative names."""
    with open(os.path.join(tree, "Makefile"), "rb") as f:
        if PREBUILT_MK.encode() not in f.read():
            raise ReleaseError("EARLIER=objects needs the Makefile to include %s (after "
                               "`include user/user.mk`): add the line `-include %s` to the "
                               "Makefile, or release with EARLIER=skeleton"
                               % (PREBUILT_MK, PREBUILT_MK))
    if not os.path.exists(os.path.join(tree, PREBUILT_MK)):
        raise ReleaseError("%s is missing from the tree" % PREBUILT_MK)
    build = "build/prebuilt"
    targets = ["%s/student/%s" % (build, f[:-2] + ".o") for f in plan.prebuilt]
    proc = subprocess.run(["make", "-s", "--no-print-directory", "PROJECT=%d" % plan.project,
                           "BUILD=" + build, "OBJ=build/prebuilt-obj"] + targets,
                          cwd=tree, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise ReleaseError("compiling the earlier projects' reference solutions (%s) failed:\n%s"
                           % (", ".join(plan.prebuilt), proc.stdout))
    out = []
    for f, target in zip(plan.prebuilt, targets):
        obj = os.path.join(PREBUILT, f[:-2] + ".o")
        os.makedirs(os.path.dirname(os.path.join(tree, obj)), exist_ok=True)
        subprocess.run(["objcopy", "--strip-debug", os.path.join(tree, target),
                        os.path.join(tree, obj)], check=True)
        with open(os.path.join(tree, f), "w") as fh:
            fh.write(PREBUILT_STUB.format(file=f, p=plan.project_of(f), n=plan.project, obj=obj))
        out.append(obj)
    shutil.rmtree(os.path.join(tree, "build"), ignore_errors=True)
    return out


def hidden_files(plan):
    """The files marked kevlab-hidden-file (relative names) of projects <= N."""
    found = []
    for name in source_files(plan.root):
        if later_project(name, plan.project, plan.all_projects) is not None:
            continue
        with open(os.path.join(plan.root, name), "rb") as f:
            if is_hidden_file(f.read(4096)):
                found.append(name)
    return found


def solution_files(plan):
    """{editable name: its text with the reference solution kept} (bytes)."""
    out = {}
    for name in plan.editable:
        path = os.path.join(plan.root, name)
        if not os.path.exists(path):
            raise ReleaseError("%s is a student file (make info), but it does not exist" % name)
        out[name] = run_unifdef(path, ["SOLUTION"], ["KEVLAB_HIDDEN"])
    return out


def instructor_tests(plan):
    """Every graded test of the instructors' kernel of project N with every
    solution (`make PROJECT=N SOLUTION=all`), hidden ones included: a list
    of kernelinfo.tests() records."""
    info = make_info(plan.project, "all", plan.root)
    proc = subprocess.run(["make", "-s", "--no-print-directory", "PROJECT=%d" % plan.project,
                           "SOLUTION=all", os.path.join(info["build"], "kernel.elf")],
                          cwd=plan.root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise ReleaseError("the instructors' kernel of project %d (make PROJECT=%d SOLUTION=all) "
                           "does not build:\n%s" % (plan.project, plan.project, proc.stdout))
    tests = kernelinfo.tests(os.path.join(plan.root, info["build"], "kernel.elf"))
    if tests is None:
        raise ReleaseError("cannot read the tests of %s/kernel.elf" % info["build"])
    return tests


def hidden_names(tests):
    return sorted(t["test"] for t in tests if t.get("hidden") == "1")


def hidden_count(tests, project):
    return sum(1 for t in tests if t.get("hidden") == "1" and int(t.get("project", 0)) == project)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest_lines(tree, files, editable):
    return ["%s  %s" % (sha256(os.path.join(tree, n)), n) for n in files if n not in editable]


def write_manifest(tree, files, editable):
    """MANIFEST.sha256 and .kevlab/originals/ (grader/protect.py's format)."""
    lines = manifest_lines(tree, files, editable)
    with open(os.path.join(tree, MANIFEST), "w") as f:
        f.write("\n".join(lines) + "\n")
    for name in files:
        if name in editable:
            continue
        dst = os.path.join(tree, ORIGINALS, name)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(tree, name), dst)
    return len(lines)


def write_hidden_note(tree, project, count):
    path = os.path.join(tree, HIDDEN_NOTE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump({str(project): count}, f)
        f.write("\n")


def write_tarball(tree, path):
    """tree as path (a .tar.gz whose top folder is tree's name), in name
    order, owned by root, so that two releases of one tree compare equal
    apart from timestamps."""
    top = os.path.basename(tree.rstrip("/"))

    def owner(info):
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info
    tmp = path + ".tmp"
    with tarfile.open(tmp, "w:gz") as tar:
        tar.add(tree, arcname=top, recursive=False, filter=owner)
        for folder, dirs, files in os.walk(tree):
            dirs.sort()
            for n in sorted(dirs) + sorted(files):
                full = os.path.join(folder, n)
                tar.add(full, arcname=os.path.join(top, os.path.relpath(full, tree)),
                        recursive=False, filter=owner)
    os.replace(tmp, path)


# --- static checks ------------------------------------------------------------

CONDITIONAL = re.compile(rb"^\s*[#%]\s*(?:if|ifdef|ifndef|elif|elifdef|elifndef)\b.*\b(SOLUTION|KEVLAB_HIDDEN)\b",
                         re.M)
MD_LINK = re.compile(r"\]\(([^)\s]+)\)")


def static_checks(tree, files, hidden_tests, dropped=(), plan=None):
    """Problems a person would otherwise find in the student tree.
    dropped: the hidden files left out, whose names must not be used."""
    problems = []
    root = plan.root if plan else ROOT
    dropped_names = {os.path.splitext(os.path.basename(d))[0]: d for d in dropped}
    later = ["project%d" % p for p in (plan.later if plan else [])]
    for name in files:
        with open(os.path.join(tree, name), "rb") as f:
            data = f.read()
        m = CONDITIONAL.search(data) if name.endswith(UNIFDEF_EXT + (".asm", ".inc")) else None
        if m:
            line = data[:m.start()].count(b"\n") + 1
            problems.append("%s:%d still has a conditional on %s (unifdef reads only %s files; "
                            "move the code into one)" % (name, line, m.group(1).decode(),
                                                          " ".join(UNIFDEF_EXT)))
        for test in hidden_tests:
            if test.encode() in data:
                problems.append("%s names the hidden test %s: wrap that code in "
                                "#ifdef KEVLAB_HIDDEN (C) or mark the line instructors-only "
                                "(Markdown)" % (name, test))
        for short, full in dropped_names.items():
            if ('"%s"' % short).encode() in data or ('"%s"' % full[len("guests/"):-len(".asm")]).encode() in data:
                problems.append("%s uses \"%s\", but %s is hidden and left out: wrap that code "
                                "in #ifdef KEVLAB_HIDDEN" % (name, short, full))
        if name.endswith(".md"):
            text = data.decode("utf-8", "replace")
            for target in MD_LINK.findall(text):
                if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                    continue
                rel = target.split("#")[0]
                full = os.path.normpath(os.path.join(tree, os.path.dirname(name), rel))
                if rel and not os.path.exists(full):
                    source = os.path.normpath(os.path.join(root, os.path.dirname(name), rel))
                    if os.path.exists(source):
                        problems.append("%s links to %s, which this release leaves out: mark "
                                        "that line `%s`" % (name, target, MD_LINE))
                    else:
                        problems.append("%s links to %s, which does not exist (in the "
                                        "instructors' tree either)" % (name, target))
        if name.endswith((".mk", "Makefile")) and name != "Makefile":
            for p in later:
                if re.search((r"\b%s/" % p).encode(), data):
                    problems.append("%s refers to %s/, a later project this release leaves out"
                                    % (name, p))
    return problems


# --- the grading checks -------------------------------------------------------

def grade_copy(tree, dest, log_path, files=None):
    """Copies tree to dest, writes files ({relative path: bytes}) over the
    copy and runs `make grade` there, its output going to log_path; returns
    (status, results dict or None when it wrote no results.json)."""
    shutil.copytree(tree, dest, symlinks=True)
    for name, data in (files or {}).items():
        with open(os.path.join(dest, name), "wb") as f:
            f.write(data)
    with open(log_path, "w") as log:
        proc = subprocess.run(["make", "-s", "grade"], cwd=dest,
                              stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    results = os.path.join(dest, "build", "grade", "results.json")
    if not os.path.exists(results):
        return proc.returncode, None
    with open(results) as f:
        return proc.returncode, json.load(f)


def _graded(what, tree, work, problems, files=None):
    """grade_copy() into work/<what>; returns (status, summary), or (status,
    None) after adding a problem when the run wrote no results.json."""
    log = os.path.join(work, what + ".log")
    status, res = grade_copy(tree, os.path.join(work, what), log, files)
    if res is None:
        with open(log, errors="replace") as f:
            said = "\n".join(f.read().rstrip("\n").split("\n")[-15:])
        problems.append("the %s's `make grade` wrote no build/grade/results.json (status %d): "
                        "it stopped before grading, usually because the build failed; see %s:\n%s"
                        % (what, status, log, said))
        return status, None
    return status, summarize(res)


def check_grading(tree, solutions, work, plan):
    """The skeleton scores zero, each test stopped by TODO(); the reference
    solution scores full marks. Returns a list of problems."""
    problems = []
    todo = todo_message()
    say("checking: `make grade` of the release as it is (expected: zero)")
    _, summary = _graded("skeleton", tree, work, problems)
    if summary is not None:
        if summary["score"] != 0:
            problems.append("the skeleton scores %s, not 0" % summary["score"])
        for t in summary["tests"]:
            if t["passed"]:
                problems.append("the skeleton passes %s" % t["name"])
            elif todo not in t["output"]:
                problems.append("the skeleton fails %s, but not on TODO() (%r): %s"
                                % (t["name"], todo, t["reason"]))
            if t["hidden"]:
                problems.append("the release grades the hidden test %s" % t["name"])
        if not summary["tests"]:
            problems.append("the skeleton's grade ran no test")
        say("  skeleton: %s / %s, %d tests, all on TODO(): %s"
            % (summary["score"], summary["max"], len(summary["tests"]),
               "yes" if all(todo in t["output"] for t in summary["tests"]) else "no"))
    say("checking: `make grade` with the reference solution's %s (expected: full marks)"
        % ", ".join(sorted(solutions)))
    status, summary = _graded("solution", tree, work, problems, solutions)
    if summary is not None:
        if summary["score"] != summary["max"] or not summary["max"]:
            failed = ["%s (%s)" % (t["name"], t["reason"]) for t in summary["tests"] if not t["passed"]]
            problems.append("the reference solution scores %s / %s in the release; failed: %s"
                            % (summary["score"], summary["max"], "; ".join(failed) or "none"))
        if status != 0:
            problems.append("the solution's `make grade` exited with status %d" % status)
        say("  solution: %s / %s, %d tests" % (summary["score"], summary["max"], len(summary["tests"])))
    return problems


def todo_message(root=ROOT):
    """What TODO() panics with (kernel/panic.h), e.g. "not yet implemented":
    how a test stopped by a TODO() is told from one that crashed otherwise."""
    with open(os.path.join(root, "kernel", "panic.h")) as f:
        text = f.read()
    m = (re.search(r'#define[ \t]+PANIC_TODO_MESSAGE[ \t]+"([^"\n]+)"', text)
         or re.search(r'#define[ \t]+TODO\(\)[^\n]*"([^"\n]+)"\)', text))
    if not m:
        raise ReleaseError("cannot find TODO()'s message in kernel/panic.h")
    return m.group(1)


def summarize(results):
    """The parts of a results.json (Gradescope's format, grader/results.py)
    that the checks look at: score, max and each test's name, whether it
    passed and the first line of its output (the reason it failed)."""
    tests = []
    for t in results.get("tests", []):
        output = t.get("output") or ""
        tests.append({"name": t.get("name"), "passed": t.get("status") == "passed",
                      "score": t.get("score"), "max": t.get("max_score"),
                      "hidden": t.get("visibility") not in (None, "visible"),
                      "reason": output.split("\n")[0], "output": output})
    return {"score": results.get("score"), "max": results.get("max_score"), "tests": tests,
            "output": results.get("output") or "",
            "status": (results.get("extra_data") or {}).get("kevlab_status")}


# --- main ---------------------------------------------------------------------

def release(plan, out, check=True, keep=False):
    """Writes and checks the release of plan's project in out/; returns 0 or 1."""
    start = time.monotonic()
    tree = os.path.join(out, "kevlab")
    tarball = os.path.join(out, "kevlab.tar.gz")
    if os.path.exists(tarball):
        os.unlink(tarball)
    say("project %d (projects in it: %s; earlier projects: %s)"
        % (plan.project, " ".join(map(str, plan.projects)),
           ("%s, %s" % (" ".join(map(str, plan.earlier)), plan.earlier_mode)) if plan.earlier
           else "none"))
    if plan.later:
        say("later projects left out: %s" % " ".join(map(str, plan.later)))
    tests = instructor_tests(plan)
    hidden = hidden_names(tests)
    count = hidden_count(tests, plan.project)
    files, dropped = make_tree(tree, plan, hidden=False)
    say("wrote %s: %d files (hidden tests left out: %s)"
        % (os.path.relpath(tree, ROOT), len(files), ", ".join(hidden) or "none"))
    if plan.prebuilt:
        say("prebuilt (reference solutions, compiled): %s"
            % ", ".join(os.path.join(PREBUILT, f[:-2] + ".o") for f in plan.prebuilt))
    n = write_manifest(tree, files, plan.editable)
    write_hidden_note(tree, plan.project, count)
    say("wrote %s (%d protected files; editable: %s), %s/ and %s (%d hidden test%s of project %d)"
        % (MANIFEST, n, ", ".join(plan.editable), ORIGINALS, HIDDEN_NOTE, count,
           "" if count == 1 else "s", plan.project))
    if dropped:
        say("hidden files left out: %s" % ", ".join(dropped))
    problems = static_checks(tree, files, hidden, dropped, plan)
    if not problems and check:
        work = tempfile.mkdtemp(prefix="kevlab-release-check-")
        try:
            problems = check_grading(tree, solution_files(plan), work, plan)
        finally:
            if keep or problems:
                say("the grading runs' copies and logs are in %s" % work)
            else:
                shutil.rmtree(work, ignore_errors=True)
    if problems:
        say("the release is NOT ready:")
        for p in problems:
            print("  - " + p.replace("\n", "\n    "))
        return 1
    write_tarball(tree, tarball)
    say("wrote %s (%.1f s in all)%s" % (os.path.relpath(tarball, ROOT), time.monotonic() - start,
                                       "" if check else " (grading checks skipped)"))
    return 0


def main(argv):
    ap = argparse.ArgumentParser(description="Builds the student release of one kevlab project.")
    ap.add_argument("--project", type=int, default=None,
                    help="the project to release (default: the Makefile's COURSE_PROJECT)")
    ap.add_argument("--earlier", default="objects", choices=EARLIER_MODES,
                    help="how earlier projects' student files ship: their reference solutions "
                         "as prebuilt objects (default), or skeletons students fill again")
    ap.add_argument("--out", default=None,
                    help="where kevlab/ and kevlab.tar.gz go (build/release/p<N>)")
    ap.add_argument("--no-check", action="store_true",
                    help="skip the two grading runs (the static checks still run)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the grading runs' copies and logs (their folder is printed)")
    args = ap.parse_args(argv)
    try:
        plan = Plan(args.project, args.earlier)
        out = os.path.abspath(args.out or os.path.join(ROOT, "build", "release", "p%d" % plan.project))
        return release(plan, out, not args.no_check, args.keep)
    except ReleaseError as e:
        say("error: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
