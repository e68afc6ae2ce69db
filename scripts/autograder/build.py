#!/usr/bin/env python3
"""make autograder: build/autograder.zip, a Gradescope autograder.

  scripts/autograder/build.py              build the zip, then grade the reference
                                           solution through it (expected: full marks)
  scripts/autograder/build.py --no-check   build the zip only

The zip, in Gradescope's layout (its root becomes /autograder/source):

  setup.sh                 installs the Debian packages (kevlab/scripts/install-deps)
                           and builds the framework once
  run_autograder           grades /autograder/submission into /autograder/results
  autograder.py            what run_autograder runs (grader/batch.py does the work)
  release-manifest.sha256  the student release's MANIFEST.sha256: framework files a
                           submission changed are named in its output
  kevlab/                  the framework: the instructors' tree less the reference
                           solution (unifdef -USOLUTION), hidden tests kept

The check runs the whole flow in a temporary AUTOGRADER_ROOT, as
tests/e2e/instructor.py does for more submissions.
"""

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import release  # noqa: E402  (scripts/release.py)

FILES = ["setup.sh", "run_autograder", "autograder.py"]


def say(msg):
    print("autograder: " + msg, flush=True)


def write_zip(folder, path):
    """folder's contents as a zip at path, Unix modes kept (unzip restores
    them; Gradescope runs setup.sh and run_autograder as programs)."""
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for top, dirs, files in os.walk(folder):
            dirs.sort()
            for n in sorted(files):
                full = os.path.join(top, n)
                info = zipfile.ZipInfo.from_file(full, os.path.relpath(full, folder))
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(full, "rb") as f:
                    z.writestr(info, f.read())
    os.replace(tmp, path)


def build(out_zip, stage):
    """Stages the autograder's files in stage/ and zips them to out_zip."""
    if os.path.exists(stage):
        shutil.rmtree(stage)
    os.makedirs(stage)
    files = release.make_tree(os.path.join(stage, "kevlab"), hidden=True)
    problems = [p for p in release.static_checks(os.path.join(stage, "kevlab"), files, [])
                if "SOLUTION" in p]
    if problems:
        raise release.ReleaseError("; ".join(problems))
    # The student release's manifest, to tell which framework files a
    # submission changed: built the same way make release builds it.
    with tempfile.TemporaryDirectory(prefix="kevlab-autograder-release-") as tmp:
        student = os.path.join(tmp, "kevlab")
        student_files = release.make_tree(student, hidden=False)
        lines = release.manifest_lines(student, student_files, release.editable_files(ROOT))
    with open(os.path.join(stage, "release-manifest.sha256"), "w") as f:
        f.write("\n".join(lines) + "\n")
    for name in FILES:
        shutil.copy2(os.path.join(HERE, name), os.path.join(stage, name))
        os.chmod(os.path.join(stage, name),
                 os.stat(os.path.join(stage, name)).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    write_zip(stage, out_zip)
    return len(files)


def install(zip_path, root):
    """Lays out an AUTOGRADER_ROOT at root as Gradescope does: the zip in
    source/, then setup.sh. Returns (status, output) of setup.sh."""
    source = os.path.join(root, "source")
    os.makedirs(source)
    subprocess.run(["unzip", "-q", zip_path, "-d", source], check=True)
    for d in ("submission", "results"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    proc = subprocess.run(["sh", os.path.join(source, "setup.sh")], cwd=source,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc.returncode, proc.stdout


def run_submission(root, files):
    """Puts files ({relative path: bytes}) in root/submission (emptied first),
    runs run_autograder; returns (status, output, results dict or None)."""
    sub = os.path.join(root, "submission")
    shutil.rmtree(sub, ignore_errors=True)
    os.makedirs(sub)
    for name, data in files.items():
        os.makedirs(os.path.dirname(os.path.join(sub, name)) or sub, exist_ok=True)
        with open(os.path.join(sub, name), "wb") as f:
            f.write(data)
    results = os.path.join(root, "results", "results.json")
    if os.path.exists(results):
        os.unlink(results)
    # Gradescope copies run_autograder to /autograder and runs it from there.
    shutil.copy2(os.path.join(root, "source", "run_autograder"), os.path.join(root, "run_autograder"))
    env = dict(os.environ, AUTOGRADER_ROOT=root)
    proc = subprocess.run([os.path.join(root, "run_autograder")], cwd=root, env=env,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    res = None
    if os.path.exists(results):
        with open(results) as f:
            res = json.load(f)
    return proc.returncode, proc.stdout, res


def check(zip_path):
    """The reference solution, uploaded as a bare hypercall.c, scores full
    marks, hidden tests included. Returns a list of problems."""
    root = tempfile.mkdtemp(prefix="kevlab-autograder-check-")
    try:
        status, out = install(zip_path, root)
        if status != 0:
            return ["setup.sh failed (status %d):\n%s" % (status, out)]
        solution = release.solution_files(ROOT)
        files = {os.path.basename(n): data for n, data in solution.items()}
        status, out, res = run_submission(root, files)
        if res is None:
            return ["run_autograder wrote no results.json (status %d):\n%s" % (status, out)]
        s = release.summarize(res)
        hidden = [t["name"] for t in s["tests"] if t["hidden"]]
        say("  reference solution: %s / %s, %d tests (%d hidden: %s)"
            % (s["score"], s["max"], len(s["tests"]), len(hidden), ", ".join(hidden) or "none"))
        problems = []
        if not s["max"] or s["score"] != s["max"]:
            failed = ["%s (%s)" % (t["name"], t["reason"]) for t in s["tests"] if not t["passed"]]
            problems.append("the reference solution scores %s / %s through the autograder; "
                            "failed: %s\n%s" % (s["score"], s["max"], "; ".join(failed),
                                                s["output"]))
        want_hidden = release.hidden_test_names(ROOT)
        missing = sorted(set(want_hidden) - set(hidden))
        if missing:
            problems.append("the autograder did not grade the hidden tests %s" % ", ".join(missing))
        return problems
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv):
    ap = argparse.ArgumentParser(description="Builds the Gradescope autograder zip.")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "autograder.zip"))
    ap.add_argument("--no-check", action="store_true",
                    help="do not grade the reference solution through the zip")
    args = ap.parse_args(argv)
    start = time.monotonic()
    out = os.path.abspath(args.out)
    stage = os.path.join(os.path.dirname(out), "autograder")
    try:
        count = build(out, stage)
    except release.ReleaseError as e:
        say("error: %s" % e)
        return 1
    say("wrote %s (%d framework files, hidden tests: %s)"
        % (os.path.relpath(out, ROOT), count, ", ".join(release.hidden_test_names(ROOT)) or "none"))
    if not args.no_check:
        say("checking: the reference solution through setup.sh and run_autograder "
            "(expected: full marks)")
        problems = check(out)
        if problems:
            say("the autograder is NOT ready:")
            for p in problems:
                print("  - " + p.replace("\n", "\n    "))
            return 1
    say("done in %.1f s%s" % (time.monotonic() - start, " (check skipped)" if args.no_check else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
