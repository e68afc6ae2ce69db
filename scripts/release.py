#!/usr/bin/env python3
"""make release: the student tree, built from the instructors' tree.

  scripts/release.py                  build/release/kevlab/ and kevlab.tar.gz, then check them
  scripts/release.py --no-check       the same without the two grading runs
  scripts/release.py --out DIR        somewhere other than build/release

What the student tree is (docs/instructors.md tells the same for people):

  - every file of the instructors' tree (git's tracked and untracked-but-not-
    ignored files), less the instructor-only ones (INSTRUCTOR_ONLY below);
  - C and assembly-header files run through `unifdef -USOLUTION
    -UKEVLAB_HIDDEN`: the reference solution and the hidden tests' kernel
    code are gone, the TODO()s and hints stay;
  - hidden tests left out: the rubric's entries marked hidden=True, the
    hidden guests (guests/hidden/), the marker file .kevlab-hidden (whose
    presence makes the Makefile define KEVLAB_HIDDEN);
  - Markdown lines marked `<!-- instructors-only -->`, and blocks between
    `<!-- instructors-only: begin -->` and `<!-- instructors-only: end -->`,
    left out; README.md gets a note saying what the release leaves out;
  - MANIFEST.sha256 (sha256sum's format) of every file but the editable ones,
    and the pristine copies in .kevlab/originals/ that `grade.py --restore`
    puts back (grader/protect.py reads both).

Before it says "done" it checks the tree: no SOLUTION or KEVLAB_HIDDEN
conditional and no hidden test's name left anywhere, every relative link in
its Markdown files resolves, and two grading runs in temporary copies: the
tree as it is scores zero with every test stopped by its TODO(), and the
same tree with the reference solution's editable files scores full marks.

scripts/autograder/build.py builds its framework tree with make_tree() too.
"""

import argparse
import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Paths (relative to the root; a trailing / means a whole folder) that exist
# for instructors and framework developers only.
INSTRUCTOR_ONLY = [
    ".ci/",                    # the framework's CI
    "tests/",                  # the framework's own tests (make test)
    "notes/",                  # developers' notes
    "docs/instructors.md",     # this release's own guide
    "scripts/release.py",
    "scripts/autograder/",
    "scripts/scripts.mk",      # the release and autograder targets
    "grader/batch.py",         # batch grading of many submissions
    ".kevlab-hidden",          # the marker: hidden tests are present
]
# Left out of every tree this script makes: build outputs and caches.
NEVER = ["build/", "compile_commands.json", ".gdbinit", ".kevlab/"]
HIDDEN_ONLY = [".kevlab-hidden"]
# The autograder's tree keeps these instructor-only files.
AUTOGRADER_KEEPS = HIDDEN_ONLY + ["grader/batch.py"]
# A file with this word in its first lines (a hidden test's guest:
# `; kevlab-hidden-file`) belongs to the hidden tests: the release drops it.
HIDDEN_FILE = re.compile(rb"^[ \t]*(?:;|//|/\*|#|<!--)[ \t]*kevlab-hidden-file\b", re.M)
HIDDEN_FILE_LINES = 5

HIDDEN_MARKER = ".kevlab-hidden"
MANIFEST = "MANIFEST.sha256"
ORIGINALS = os.path.join(".kevlab", "originals")
RUBRICS = "grader/rubrics"

# Files unifdef reads: C and the headers NASM and C share.
UNIFDEF_EXT = (".c", ".h", ".S")
MD_LINE = "<!-- instructors-only -->"
MD_BEGIN = "<!-- instructors-only: begin -->"
MD_END = "<!-- instructors-only: end -->"

RELEASE_NOTE = """\
> **This is the student release of kevlab.** The reference solutions, the
> hidden tests, the framework's own tests (`make test`), the instructors'
> guide and tools (`make release`, `make autograder`, `make grade
> SOLUTION=1`) are not part of it. `make grade` grades your work;
> `MANIFEST.sha256` lists the files you may not change (everything but the
> files your project names).
"""

# tests/ is left out; this stands in for it so that `make test` explains.
TESTS_STUB_PATH = "tests/tests.mk"
TESTS_STUB = """\
# The student release: kevlab's own tests ship to instructors only.
.PHONY: test
test:
	@echo "make test runs kevlab's own tests, which are not part of the student release."
	@echo "To grade your project: make grade (see docs/project2.md)."
"""


class ReleaseError(Exception):
    pass


def say(msg):
    print("release: " + msg, flush=True)


# --- which files --------------------------------------------------------------

def source_files(root=ROOT):
    """The tree's files, relative and sorted: git's tracked and untracked-
    but-not-ignored files that exist, or every file outside build/ when the
    tree is not a git work tree."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], cwd=root, check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
        names = [n.decode() for n in out.split(b"\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = []
        for folder, dirs, files in os.walk(root):
            rel = os.path.relpath(folder, root)
            dirs[:] = [d for d in dirs if not (rel == "." and d in ("build", ".git"))
                       and d != "__pycache__"]
            names += [os.path.normpath(os.path.join(rel, f)) for f in files]
    return sorted(n for n in set(names)
                  if os.path.isfile(os.path.join(root, n)) and not matches(n, NEVER)
                  and "__pycache__/" not in n and not n.endswith(".pyc"))


def matches(name, patterns):
    for p in patterns:
        if p.endswith("/") and name.startswith(p):
            return True
        if name == p or (p.endswith("*") and name.startswith(p[:-1])):
            return True
    return False


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


def add_release_note(text):
    """README.md with RELEASE_NOTE after its title."""
    lines = text.split("\n")
    at = next((i + 1 for i, l in enumerate(lines) if l.startswith("# ")), 0)
    return "\n".join(lines[:at] + [""] + RELEASE_NOTE.rstrip("\n").split("\n") + lines[at:])


def hidden_test_calls(tree):
    """The Test(...) calls with hidden=True in a rubric's syntax tree."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Test":
            for kw in node.keywords:
                if kw.arg == "hidden" and isinstance(kw.value, ast.Constant) and kw.value.value is True:
                    found.append(node)
    return found


def hidden_test_names(root=ROOT):
    """The names of the tests every rubric marks hidden."""
    names = []
    for path in sorted(_rubric_files(root)):
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        for call in hidden_test_calls(tree):
            if call.args and isinstance(call.args[0], ast.Constant):
                names.append(call.args[0].value)
    return names


def strip_rubric(text, name):
    """A rubric's source less its hidden Test(...) entries. Each must stand
    on lines of its own, followed by its comma (as the rubrics are written)."""
    tree = ast.parse(text, name)
    lines = text.split("\n")
    drop = set()
    for call in hidden_test_calls(tree):
        first, last = call.lineno - 1, call.end_lineno - 1
        before = lines[first][:call.col_offset]
        after = lines[last][call.end_col_offset:]
        if before.strip() or after.strip() not in ("", ","):
            raise ReleaseError("%s:%d: a hidden Test(...) shares its lines with other code; "
                               "write it on lines of its own" % (name, call.lineno))
        drop.update(range(first, last + 1))
    # A blank line left doubled where an entry went is tidied away.
    kept = []
    for i, line in enumerate(lines):
        if i in drop:
            continue
        if (i - 1 in drop and not line.strip() and kept and not kept[-1].strip()):
            continue
        kept.append(line)
    result = "\n".join(kept)
    compile(result, name, "exec")  # still Python
    if hidden_test_calls(ast.parse(result)):
        raise ReleaseError("%s: hidden tests remain after stripping" % name)
    return result


def _rubric_files(root):
    folder = os.path.join(root, RUBRICS)
    if not os.path.isdir(folder):
        return []
    return [os.path.join(folder, f) for f in os.listdir(folder)
            if f.endswith(".py") and f != "__init__.py"]


def editable_files(root=ROOT):
    """Every rubric's EDITABLE list, read without importing the rubric."""
    editable = set()
    for path in _rubric_files(root):
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "EDITABLE"
                                                    for t in node.targets):
                editable.update(ast.literal_eval(node.value))
    return sorted(editable)


# --- the trees ----------------------------------------------------------------

def make_tree(dest, hidden, root=ROOT):
    """Writes the instructors' tree at root, less solutions, to dest.

    hidden=False: the student release (hidden tests, instructor-only files
    left out). hidden=True: the autograder's framework (hidden tests kept,
    instructor-only files left out). Returns the relative file names written.
    """
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    left_out = [p for p in INSTRUCTOR_ONLY if not (hidden and p in AUTOGRADER_KEEPS)]
    undefine = ["SOLUTION"] + ([] if hidden else ["KEVLAB_HIDDEN"])
    written = []
    for name in source_files(root):
        if matches(name, left_out):
            continue
        src, dst = os.path.join(root, name), os.path.join(dest, name)
        with open(src, "rb") as f:
            data = f.read()
        if not hidden and is_hidden_file(data):
            continue
        if name.endswith(UNIFDEF_EXT) and (b"SOLUTION" in data or b"KEVLAB_HIDDEN" in data):
            data = run_unifdef(src, [], undefine)
        elif name.endswith(".md"):
            text = strip_markdown(data.decode("utf-8"), name)
            if name == "README.md" and not hidden:
                text = add_release_note(text)
            data = text.encode("utf-8")
        elif not hidden and name.startswith(RUBRICS + "/") and name.endswith(".py"):
            data = strip_rubric(data.decode("utf-8"), name).encode("utf-8")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "wb") as f:
            f.write(data)
        shutil.copymode(src, dst)
        written.append(name)
    if not hidden and matches(TESTS_STUB_PATH, left_out) and os.path.exists(
            os.path.join(root, TESTS_STUB_PATH)):
        dst = os.path.join(dest, TESTS_STUB_PATH)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "w") as f:
            f.write(TESTS_STUB)
        written.append(TESTS_STUB_PATH)
    return sorted(written)


def is_hidden_file(data):
    return bool(HIDDEN_FILE.search(b"\n".join(data.split(b"\n", HIDDEN_FILE_LINES)[:HIDDEN_FILE_LINES])))


def hidden_files(root=ROOT):
    """The files marked kevlab-hidden-file (relative names)."""
    found = []
    for name in source_files(root):
        with open(os.path.join(root, name), "rb") as f:
            if is_hidden_file(f.read(4096)):
                found.append(name)
    return found


def solution_files(root=ROOT):
    """{editable name: its text with the reference solution kept} (bytes)."""
    out = {}
    for name in editable_files(root):
        path = os.path.join(root, name)
        if not os.path.exists(path):
            raise ReleaseError("the rubric lists %s as editable, but it does not exist" % name)
        out[name] = run_unifdef(path, ["SOLUTION"], ["KEVLAB_HIDDEN"])
    return out


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


def static_checks(tree, files, hidden_names, dropped=(), root=ROOT):
    """Problems a person would otherwise find in the student tree.
    dropped: the hidden files left out, whose names must not be used."""
    problems = []
    dropped_names = {os.path.splitext(os.path.basename(d))[0]: d for d in dropped}
    for name in files:
        with open(os.path.join(tree, name), "rb") as f:
            data = f.read()
        m = CONDITIONAL.search(data) if name.endswith(UNIFDEF_EXT + (".asm", ".inc")) else None
        if m:
            line = data[:m.start()].count(b"\n") + 1
            problems.append("%s:%d still has a conditional on %s (unifdef reads only %s files; "
                            "move the code into one)" % (name, line, m.group(1).decode(),
                                                          " ".join(UNIFDEF_EXT)))
        for test in hidden_names:
            if test.encode() in data:
                problems.append("%s names the hidden test %s: wrap that code in "
                                "#ifdef KEVLAB_HIDDEN (C) or mark the line instructors-only "
                                "(Markdown)" % (name, test))
        for short, full in dropped_names.items():
            if ('"%s"' % short).encode() in data:
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
                        problems.append("%s links to %s, which the release leaves out: mark "
                                        "that line `%s`" % (name, target, MD_LINE))
                    else:
                        problems.append("%s links to %s, which does not exist (in the "
                                        "instructors' tree either)" % (name, target))
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
        problems.append("the %s's `make grade` wrote no build/grade/results.json (status %d): "
                        "it stopped before grading, usually because the build failed; see %s"
                        % (what, status, log))
        return status, None
    return status, summarize(res)


def check_grading(tree, solutions, work):
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
        m = re.search(r'#define[ \t]+TODO\(\)[^\n]*"([^"\n]+)"\)', f.read())
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
            "output": results.get("output") or ""}


# --- main ---------------------------------------------------------------------

def main(argv):
    ap = argparse.ArgumentParser(description="Builds the student release of kevlab.")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "release"),
                    help="where kevlab/ and kevlab.tar.gz go (build/release)")
    ap.add_argument("--no-check", action="store_true",
                    help="skip the two grading runs (the static checks still run)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the grading runs' copies and logs (their folder is printed)")
    args = ap.parse_args(argv)
    start = time.monotonic()
    out = os.path.abspath(args.out)
    tree = os.path.join(out, "kevlab")
    tarball = os.path.join(out, "kevlab.tar.gz")
    try:
        if os.path.exists(tarball):
            os.unlink(tarball)
        files = make_tree(tree, hidden=False)
        editable = editable_files(ROOT)
        hidden = hidden_test_names(ROOT)
        say("wrote %s: %d files (hidden tests left out: %s)"
            % (os.path.relpath(tree, ROOT), len(files), ", ".join(hidden) or "none"))
        count = write_manifest(tree, files, editable)
        say("wrote %s (%d protected files; editable: %s) and %s/"
            % (MANIFEST, count, ", ".join(editable) or "none", ORIGINALS))
        dropped = hidden_files(ROOT)
        if dropped:
            say("hidden files left out: %s" % ", ".join(dropped))
        problems = static_checks(tree, files, hidden, dropped)
        if not problems and not args.no_check:
            work = tempfile.mkdtemp(prefix="kevlab-release-check-")
            try:
                problems = check_grading(tree, solution_files(ROOT), work)
            finally:
                if args.keep or problems:
                    say("the grading runs' copies and logs are in %s" % work)
                else:
                    shutil.rmtree(work, ignore_errors=True)
        if problems:
            say("the release is NOT ready:")
            for p in problems:
                print("  - " + p)
            return 1
        write_tarball(tree, tarball)
        say("wrote %s (%.1f s in all)%s" % (os.path.relpath(tarball, ROOT), time.monotonic() - start,
                                           " (grading checks skipped)" if args.no_check else ""))
        return 0
    except ReleaseError as e:
        say("error: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
