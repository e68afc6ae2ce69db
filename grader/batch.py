#!/usr/bin/env python3
"""Grades many submissions on one machine, and one submission for the autograder.

  grade.py --batch DIR [options]     every folder in DIR is one submission
  batch.py DIR [options]             the same

Each folder of DIR holds a student's copy of the editable files (the
rubric's EDITABLE, e.g. project2/hypercall.c), at any depth: a whole
kevlab tree, a project2/ folder or the bare file all work. For each one,
in parallel, this module copies the framework (this tree, less build/ and
.git), puts the student's files in, builds the kernel and grades it with
grade.py, then writes

  OUT/scores.csv                      submission, score, max_score, status, and one
                                      column of points per test
  OUT/<submission>/results.json       Gradescope's format, as grade.py writes it
  OUT/<submission>/build.log, grade.log

A submission that does not compile, or has no editable file, scores 0 with
the reason in its results.json's `output`. The autograder
(scripts/autograder/) grades its one submission with grade_submission().
"""

import argparse
import concurrent.futures
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from grader import protect  # noqa: E402
from grader import rubric as rubric_mod  # noqa: E402

BUILD = "build/skeleton"  # the build directory inside each work tree
HIDDEN_MARKER = ".kevlab-hidden"
BUILD_TIMEOUT = 600  # seconds
GRADE_TIMEOUT = 1800  # seconds; grade.py bounds itself well below this
SKIP_DIRS = {"__MACOSX", ".git", "build", ".kevlab", "__pycache__"}
LOG_TAIL = 60  # lines of a failed build shown in results.json


# --- finding the student's files ----------------------------------------------

def find_editable(submission, editable):
    """Where the submission keeps each editable file.

    Returns (found, notes): found maps each editable name (e.g.
    project2/hypercall.c) to the file used, notes says what a person should
    know (nothing found, several candidates). A file whose path ends with
    the editable's whole name wins over one that only has its base name;
    then the shallowest, then the first by name."""
    files = []
    for folder, dirs, names in os.walk(submission):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for n in sorted(names):
            files.append(os.path.relpath(os.path.join(folder, n), submission))
    found, notes = {}, []
    for name in editable:
        base = os.path.basename(name)
        full = [f for f in files if f == name or f.endswith("/" + name)]
        loose = [f for f in files if os.path.basename(f) == base]
        pool = full or loose
        if not pool:
            notes.append("Your submission has no %s (looked for %s at any depth; it holds: %s)."
                         % (base, name, ", ".join(files[:20]) + (" ..." if len(files) > 20 else "")
                         if files else "no files at all"))
            continue
        pool.sort(key=lambda f: (f.count("/"), f))
        found[name] = os.path.join(submission, pool[0])
        if len(pool) > 1:
            notes.append("Your submission has %d files named %s; graded: %s (not %s)."
                         % (len(pool), base, pool[0], ", ".join(pool[1:])))
    return found, notes


def read_manifest(path):
    """{name: sha256} from a MANIFEST.sha256 anywhere (protect.py's format)."""
    folder, base = os.path.split(os.path.abspath(path))
    if base == protect.MANIFEST:
        return protect.read_manifest(folder)
    entries = {}
    with open(path) as f:
        for line in f:
            digest, _, name = line.rstrip("\n").partition(" ")
            if name.strip() and not line.startswith("#"):
                entries[name.lstrip(" *")] = digest.lower()
    return entries


def protected_changes(submission, found, editable, manifest):
    """The framework files the submission holds changed, relative names.

    The submission's tree is located from where its first editable file
    sits (…/project2/hypercall.c puts it two folders up); each file there
    that the manifest lists is compared with its hash."""
    if not manifest or not found:
        return []
    name, path = next(iter(found.items()))
    rel = os.path.relpath(path, submission)
    if not (rel == name or rel.endswith("/" + name)):
        return []  # a bare file: no tree to compare
    top = os.path.join(submission, rel[:len(rel) - len(name)])
    changed = []
    for listed, digest in sorted(manifest.items()):
        if listed in editable:
            continue
        p = os.path.join(top, listed)
        if os.path.isfile(p) and protect.sha256(p) != digest:
            changed.append(listed)
    return changed


# --- one submission -------------------------------------------------------------

def copy_framework(framework, dest, with_build=False):
    """framework's tree at dest, without .git (and build/ unless asked)."""
    top = os.path.abspath(framework)

    def ignore(folder, names):
        skip = {"__pycache__"}
        if os.path.abspath(folder) == top:
            skip |= {".git", "compile_commands.json"} | (set() if with_build else {"build"})
        return [n for n in names if n in skip]
    if os.path.exists(dest):
        shutil.rmtree(dest)
    shutil.copytree(framework, dest, symlinks=True, ignore=ignore)


def graded_tests(framework, project):
    """The rubric's tests this framework grades, with their points: the
    hidden ones only where the marker file says the tree has them."""
    rub = rubric_mod.load(project)
    tests = [t for t in rub.tests
             if not t.hidden or os.path.exists(os.path.join(framework, HIDDEN_MARKER))]
    return tests, rub.max_scores(tests)


def failure_results(framework, project, why, test_output):
    """A results.json (Gradescope's format) that gives every test 0 points,
    saying why at the top and in each test."""
    tests, maxes = graded_tests(framework, project)
    return {
        "score": 0,
        "max_score": round(sum(maxes.values()), 4),
        "output": why,
        "tests": [{"name": t.name, "score": 0, "max_score": round(maxes[t.name], 4),
                   "status": "failed", "output": test_output, "tags": [t.category],
                   "visibility": "after_published" if t.hidden else "visible"}
                  for t in tests],
    }


def tail(text, lines=LOG_TAIL):
    parts = text.rstrip("\n").split("\n")
    cut = len(parts) > lines
    return ("(last %d lines)\n" % lines if cut else "") + "\n".join(parts[-lines:])


def run_logged(argv, cwd, log_path, timeout):
    """Runs argv with its output in log_path; returns (status, output)."""
    with open(log_path, "w") as log:
        try:
            proc = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT, timeout=timeout,
                                  start_new_session=True)
            status = proc.returncode
        except subprocess.TimeoutExpired:
            status = None
    with open(log_path, errors="replace") as f:
        return status, f.read()


def grade_submission(framework, submission, work, out, project="project2", backend="auto",
                     jobs=1, seed=None, manifest=None, with_build=False):
    """Grades one submission; returns its results (Gradescope's format),
    also written to out/results.json. work is scratch space (emptied)."""
    os.makedirs(out, exist_ok=True)
    rub = rubric_mod.load(project)
    found, notes = find_editable(submission, rub.editable)
    changed = protected_changes(submission, found, rub.editable, manifest)
    if changed:
        notes.append("Your submission changes framework files that only the instructors may "
                     "change; the originals were used instead: %s." % ", ".join(changed))
    if not found:
        res = failure_results(framework, project, "\n".join(notes),
                              "not run: the submission has none of the files to grade")
        return _write(out, res, "missing")
    tree = os.path.join(work, "kevlab")
    copy_framework(framework, tree, with_build)
    for name, path in found.items():
        shutil.copyfile(path, os.path.join(tree, name))
        # Newer than any object built from the framework's copy, so make
        # always rebuilds from the student's file.
        os.utime(os.path.join(tree, name))
    status, output = run_logged(["make", "-s", "BUILD=" + BUILD, "SOLUTION=0", "all"], tree,
                                os.path.join(out, "build.log"), BUILD_TIMEOUT)
    if status != 0:
        what = ("did not finish building within %d s" % BUILD_TIMEOUT if status is None
                else "does not compile")
        why = "\n".join(notes + ["Your code %s, so no test ran. The build said:" % what, "",
                                 tail(output)])
        res = failure_results(framework, project, why,
                              "not run: the kernel did not build (see the output at the top)")
        return _write(out, res, "build failed")
    argv = [sys.executable, "grader/grade.py", "grade", "--build", BUILD, "--backend", backend,
            "-j", str(jobs), "--rubric", project, "--out", os.path.join(work, "grade")]
    if seed is not None:
        argv += ["--seed", str(seed)]
    status, output = run_logged(argv, tree, os.path.join(out, "grade.log"), GRADE_TIMEOUT)
    results = os.path.join(work, "grade", "results.json")
    if not os.path.exists(results):
        how = ("did not finish within %d s" % GRADE_TIMEOUT if status is None
               else "stopped with status %d" % status)
        why = "\n".join(notes + ["The grader %s and wrote no results; this is not a verdict "
                                 "on your code: please tell your instructors. It said:" % how,
                                 "", tail(output)])
        res = failure_results(framework, project, why, "not run: the grader failed")
        return _write(out, res, "grader error")
    with open(results) as f:
        res = json.load(f)
    if notes:
        res["output"] = "\n".join(notes + [res.get("output") or ""]).rstrip("\n")
    return _write(out, res, "graded")


def _write(out, res, status):
    res.setdefault("extra_data", {})["kevlab_status"] = status
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    return res


# --- many submissions -------------------------------------------------------------

def submissions_in(folder):
    return sorted(d for d in os.listdir(folder)
                  if os.path.isdir(os.path.join(folder, d)) and not d.startswith(".")
                  and d not in SKIP_DIRS)


def write_csv(path, rows, test_names):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["submission", "score", "max_score", "status"] + test_names)
        for name, res in rows:
            per = {t["name"]: t.get("score", 0) for t in res.get("tests", [])}
            w.writerow([name, res.get("score", 0), res.get("max_score", 0),
                        res.get("extra_data", {}).get("kevlab_status", "")]
                       + [per.get(t, "") for t in test_names])


def shown(path):
    """path relative to the current folder when it lies inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def parse_args(argv):
    p = argparse.ArgumentParser(prog="grade.py --batch",
                                description="Grades every submission folder in DIR.")
    p.add_argument("--batch", dest="dir", metavar="DIR", help="the folder of submissions")
    p.add_argument("dir_pos", nargs="?", metavar="DIR", help=argparse.SUPPRESS)
    p.add_argument("--out", default=os.path.join(ROOT, "build", "batch"),
                   help="where scores.csv and each submission's results go (build/batch)")
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                   help="submissions graded at the same time, one boot each (default: the CPU count)")
    p.add_argument("--backend", default=os.environ.get("BACKEND") or "auto")
    p.add_argument("--rubric", default="project2", help="grader/rubrics/<name>.py")
    p.add_argument("--seed", default=None,
                   help="seed of the randomized inputs, the same for every submission "
                        "(default: drawn once per batch)")
    p.add_argument("--manifest", default=None,
                   help="a release's MANIFEST.sha256: report the framework files each "
                        "submission changed")
    p.add_argument("--keep", action="store_true", help="keep each submission's work tree")
    args = p.parse_args(argv)
    args.dir = args.dir or args.dir_pos
    if not args.dir:
        p.error("name the folder of submissions: --batch DIR")
    if args.seed is None:
        args.seed = str(random.SystemRandom().randrange(1, 1_000_000))
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not os.path.isdir(args.dir):
        print("batch: %s is not a folder" % args.dir)
        return 2
    names = submissions_in(args.dir)
    if not names:
        print("batch: %s holds no submission folders" % args.dir)
        return 2
    manifest = None
    if args.manifest:
        try:
            manifest = read_manifest(args.manifest)
        except OSError as e:
            print("batch: cannot read the manifest: %s" % e)
            return 2
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    tests, _ = graded_tests(ROOT, args.rubric)
    jobs = max(1, min(args.jobs, len(names)))
    print("batch: %d submission%s from %s, %d at a time, seed %s"
          % (len(names), "" if len(names) == 1 else "s", args.dir, jobs, args.seed), flush=True)
    start = time.monotonic()
    # The framework is built once; each submission's copy then recompiles
    # only its own files.
    base = os.path.join(out, ".work", "_framework")
    copy_framework(ROOT, base)
    status, output = run_logged(["make", "-s", "-j%d" % (os.cpu_count() or 1), "BUILD=" + BUILD,
                                 "SOLUTION=0", "all"], base,
                                os.path.join(out, "framework-build.log"), BUILD_TIMEOUT)
    if status != 0:
        print("batch: the framework itself does not build (status %s):\n%s" % (status, tail(output)))
        return 1
    lock = threading.Lock()

    def one(name):
        work = os.path.join(out, ".work", name)
        t0 = time.monotonic()
        try:
            res = grade_submission(base, os.path.join(args.dir, name), work,
                                   os.path.join(out, name), args.rubric, args.backend, 1,
                                   args.seed, manifest, with_build=True)
        except Exception:  # one broken submission must not stop the batch
            why = "batch.py failed on this submission:\n" + traceback.format_exc()
            res = _write(os.path.join(out, name),
                         failure_results(base, args.rubric, why, "not run"), "grader error")
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
        with lock:
            print("  %-24s %6s / %-6s %-13s (%.1f s)"
                  % (name, res.get("score"), res.get("max_score"),
                     res["extra_data"]["kevlab_status"], time.monotonic() - t0), flush=True)
        return name, res

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        rows = list(pool.map(one, names))
    if not args.keep:
        shutil.rmtree(os.path.join(out, ".work"), ignore_errors=True)
    csv_path = os.path.join(out, "scores.csv")
    write_csv(csv_path, rows, [t.name for t in tests])
    print("batch: %d graded in %.1f s; scores: %s; each one's results: %s/<submission>/results.json"
          % (len(rows), time.monotonic() - start, shown(csv_path), shown(out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
