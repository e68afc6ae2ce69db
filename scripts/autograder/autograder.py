#!/usr/bin/env python3
"""Grades one Gradescope submission (run_autograder calls this).

Layout under AUTOGRADER_ROOT (default /autograder, Gradescope's):

  source/kevlab/                 the framework: the instructors' tree less the
                                 reference solution, hidden tests included
                                 (built once by setup.sh)
  source/release-manifest.sha256 the student release's MANIFEST.sha256
  submission/                    what the student uploaded, in any layout
  results/results.json           written here, always, in Gradescope's format

The student's editable files (the rubric's EDITABLE, e.g.
project2/hypercall.c) are looked for anywhere in submission/ and copied into
a copy of the framework; nothing else of theirs is used. Framework files they
changed are named in the output (the originals are used). The kernel is
built and every test, hidden ones included, is graded by grade.py.
"""

import json
import os
import shutil
import sys
import tempfile
import traceback

ROOT = os.environ.get("AUTOGRADER_ROOT") or "/autograder"
SOURCE = os.path.join(ROOT, "source")
FRAMEWORK = os.path.join(SOURCE, "kevlab")
MANIFEST = os.path.join(SOURCE, "release-manifest.sha256")
SUBMISSION = os.path.join(ROOT, "submission")
RESULTS = os.path.join(ROOT, "results", "results.json")
PROJECT = "project2"


def write_results(res):
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")


def main():
    work = tempfile.mkdtemp(prefix="kevlab-autograder-")
    try:
        sys.path.insert(0, FRAMEWORK)
        from grader import batch
        manifest = batch.read_manifest(MANIFEST) if os.path.exists(MANIFEST) else None
        res = batch.grade_submission(FRAMEWORK, SUBMISSION, os.path.join(work, "tree"),
                                     os.path.join(work, "out"), PROJECT, backend="auto",
                                     jobs=os.cpu_count() or 1, manifest=manifest,
                                     with_build=True)
        write_results(res)
        # Gradescope shows run_autograder's output to instructors only.
        for name in ("build.log", "grade.log"):
            path = os.path.join(work, "out", name)
            if os.path.exists(path):
                print("==> %s" % name)
                with open(path, errors="replace") as f:
                    sys.stdout.write(f.read())
        print("autograder: %s / %s (%s)" % (res.get("score"), res.get("max_score"),
                                            res.get("extra_data", {}).get("kevlab_status")))
        return 0
    except Exception:
        why = ("The autograder itself failed; this is not your fault. Please tell your "
               "instructors. Details:\n" + traceback.format_exc())
        print(why)
        write_results({"score": 0, "output": why, "tests": []})
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
