#!/usr/bin/env python3
"""Grades many submissions on one machine, exactly as the autograder grades one.

  make batch DIR=submissions/ [PROJECT=N]       (or: grade.py --batch DIR --project N)
  batch.py --batch DIR [--project N] [options]

Each folder of DIR is one student's submission, holding their copy of the
editable files at any depth (a whole kevlab tree, a project2/ folder or the
bare file all work). The instructors' tools only: this needs the
instructors' tree (scripts/autograder/ and scripts/release.py).

What it does: stages project N's autograder once (scripts/autograder/
build.py's stage(): the framework with the hidden tests, the headers, the
rules), builds its framework once, then grades each submission with
scripts/autograder/autograder.py's grade_submission(), -j of them at a
time, all with the same randomized test data (--seed). The results:

  OUT/scores.csv                  submission, score, max_score, status, then
                                  each test's points (hidden ones included)
  OUT/<submission>/results.json   Gradescope's format, as the autograder writes it
  OUT/<submission>/build.log, grade.log (and detail.log for a grader error)

Status: graded, missing, rejected (a rule for student files), build failed,
grader error (the grader failed: no score). Student code is compiled
through scripts/autograder/wall.py like on Gradescope; run as root with the
build user present (setup.sh's kevlab-build) it is compiled as that user,
otherwise as you, with the same limits.
"""

import argparse
import concurrent.futures
import csv
import os
import random
import shutil
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AUTOGRADER_DIR = os.path.join(ROOT, "scripts", "autograder")
SKIP = {"__MACOSX", ".git", "build", ".kevlab", "__pycache__"}


def _tools():
    """(release, build, autograder, wall): the instructors' modules."""
    if not os.path.isdir(AUTOGRADER_DIR):
        sys.exit("batch: grading many submissions is an instructors' tool: it needs "
                 "scripts/autograder/, which the student release leaves out")
    for p in (os.path.join(ROOT, "scripts"), AUTOGRADER_DIR):
        if p not in sys.path:
            sys.path.insert(0, p)
    import release
    import build
    import autograder
    import wall
    return release, build, autograder, wall


def submissions_in(folder):
    return sorted(d for d in os.listdir(folder)
                  if os.path.isdir(os.path.join(folder, d)) and not os.path.islink(os.path.join(folder, d))
                  and not d.startswith(".") and d not in SKIP)


def write_csv(path, rows, test_names):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["submission", "score", "max_score", "status"] + test_names)
        for name, res in rows:
            per = {t.get("name"): t.get("score", 0) for t in res.get("tests", [])}
            w.writerow([name, res.get("score", ""), res.get("max_score", ""),
                        (res.get("extra_data") or {}).get("kevlab_status", "")]
                       + [per.get(t, "") for t in test_names])


def shown(path):
    """path relative to the current folder when it lies inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def parse_args(argv):
    p = argparse.ArgumentParser(prog="batch.py", description="Grades every submission folder "
                                "in DIR as the autograder grades one.")
    p.add_argument("--batch", dest="dir", metavar="DIR", help="the folder of submissions")
    p.add_argument("dir_pos", nargs="?", metavar="DIR", help=argparse.SUPPRESS)
    p.add_argument("--project", type=int, default=None,
                   help="the project (default: the Makefile's COURSE_PROJECT)")
    p.add_argument("--earlier", default="objects", choices=("objects", "skeleton"),
                   help="how earlier projects' student files are taken (as make release)")
    p.add_argument("--out", default=os.path.join(ROOT, "build", "batch"),
                   help="where scores.csv and each submission's results go (build/batch)")
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                   help="submissions graded at the same time, one boot each (default: the CPU count)")
    p.add_argument("--backend", default=os.environ.get("BACKEND") or "auto")
    p.add_argument("--seed", default=None,
                   help="seed of the randomized inputs, the same for every submission "
                        "(default: drawn once per batch)")
    p.add_argument("--manifest", default=None,
                   help="a release's MANIFEST.sha256 (default: the one the release of this "
                        "project would have): report the framework files each submission changed")
    p.add_argument("--keep", action="store_true", help="keep each submission's work folder")
    args = p.parse_args(argv)
    args.dir = args.dir or args.dir_pos
    if not args.dir:
        p.error("name the folder of submissions: --batch DIR")
    if args.seed is None:
        args.seed = str(random.SystemRandom().randrange(1, 1_000_000))
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    release, build, autograder, wall = _tools()
    if not os.path.isdir(args.dir):
        print("batch: %s is not a folder" % args.dir)
        return 2
    names = submissions_in(args.dir)
    if not names:
        print("batch: %s holds no submission folders" % args.dir)
        return 2
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    start = time.monotonic()
    try:
        plan = release.Plan(args.project, args.earlier)
        stage = os.path.join(out, ".work", "_autograder")
        spec = build.stage(plan, stage)
    except release.ReleaseError as e:
        print("batch: %s" % e)
        return 2
    manifest = None
    try:
        manifest = (autograder.read_manifest(args.manifest) if args.manifest
                    else autograder.read_manifest(os.path.join(stage, autograder.MANIFEST)))
    except OSError as e:
        print("batch: cannot read the manifest: %s" % e)
        return 2
    env = dict(os.environ, KEVLAB_WALL_LOCK=os.path.join(out, ".work", "wall.lock"))
    if os.geteuid() == 0 and wall.build_user(spec["build_user"]) is None:
        print("batch: the build user %s does not exist: student code is compiled as root, with "
              "the limits (useradd --system --user-group %s makes it)"
              % (spec["build_user"], spec["build_user"]))
        spec["build_user"] = ""
    elif os.geteuid() != 0:
        spec["build_user"] = ""
    status, output = autograder.run_logged(
        ["make", "-s", "--no-print-directory", "-j%d" % (os.cpu_count() or 1),
         "PROJECT=%d" % plan.project, "all"], os.path.join(stage, "kevlab"),
        os.path.join(out, "framework-build.log"), spec.get("build_timeout", 600), env)
    if status != 0:
        print("batch: the framework itself does not build (status %s):\n%s"
              % (status, autograder.tail(output)))
        return 1
    jobs = max(1, min(args.jobs, len(names)))
    print("batch: project %d, %d submission%s from %s, %d at a time, seed %s"
          % (plan.project, len(names), "" if len(names) == 1 else "s", args.dir, jobs, args.seed),
          flush=True)
    lock = threading.Lock()

    def one(name):
        work = os.path.join(out, ".work", name)
        dest = os.path.join(out, name)
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)
        t0 = time.monotonic()
        logs = {}
        try:
            res = autograder.grade_submission(spec, stage, os.path.join(args.dir, name), work,
                                              args.backend, 1, args.seed, manifest, env, logs)
        except Exception as e:  # one broken submission must not stop the batch
            res = autograder.grader_error(*autograder.describe_error(e))
        detail = (res.get("extra_data") or {}).pop("detail", "")
        for log, text in list(logs.items()) + ([("detail.log", detail)] if detail else []):
            with open(os.path.join(dest, log), "w", encoding="utf-8", errors="replace") as f:
                f.write(text)
        wall.write_results(os.path.join(dest, "results.json"), res,
                           free_first=[] if args.keep else [work])
        with lock:
            print("  %-24s %6s / %-6s %-13s (%.1f s)"
                  % (wall.shown(name), res.get("score", "-"), res.get("max_score", "-"),
                     res["extra_data"]["kevlab_status"], time.monotonic() - t0), flush=True)
        return name, res

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        rows = list(pool.map(one, names))
    if not args.keep:
        shutil.rmtree(os.path.join(out, ".work"), ignore_errors=True)
    csv_path = os.path.join(out, "scores.csv")
    write_csv(csv_path, [(wall.shown(n), r) for n, r in rows], [t["name"] for t in spec["tests"]])
    print("batch: %d graded in %.1f s; scores: %s; each one's results: %s/<submission>/results.json"
          % (len(rows), time.monotonic() - start, shown(csv_path), shown(out)))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.SubprocessError as e:
        sys.exit("batch: %s" % e)
