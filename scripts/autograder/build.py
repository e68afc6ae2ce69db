#!/usr/bin/env python3
"""make autograder PROJECT=N: build/autograder/p<N>.zip, a Gradescope autograder.

  scripts/autograder/build.py --project N              build the zip, then grade the reference
                                                      solution (full marks) and the skeleton
                                                      (zero) through it
  scripts/autograder/build.py --project N --no-check   build the zip only
  scripts/autograder/build.py --earlier skeleton       earlier projects as skeletons the
                                                      students fill (default: objects)

The zip, in Gradescope's layout (its root becomes /autograder/source):

  setup.sh                 installs the Debian packages (kevlab/scripts/install-deps),
                           creates the build user, builds the framework once, makes
                           the folder root-only
  run_autograder           grades /autograder/submission into /autograder/results
  autograder.py, wall.py,  what run_autograder runs (autograder.py's docstring tells
  sandbox.mk               the steps; wall.py the rules and the sandboxed compile)
  autograder.json          the project's facts: its number, the editable files, the
                           headers each may include, the tests with their points, the
                           limits (stage() writes them; autograder.py reads them)
  headers/                 the headers a student file may include (the project's
                           ALLOWED_HEADERS_N and what they include), as released: all
                           the build user's compiler sees of the tree
  release-manifest.sha256  the student release's MANIFEST.sha256: framework files a
                           submission changed are named in its output
  kevlab/                  the framework: project N's tree as make release makes it
                           (earlier projects the same way), but with the hidden tests

The check runs the whole flow in a temporary AUTOGRADER_ROOT, as
tests/e2e/instructor.py does for more submissions. grader/batch.py grades
many submissions through stage() and autograder.grade_submission().
"""

import argparse
import json
import os
import re
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
sys.path.insert(0, ROOT)
import release  # noqa: E402  (scripts/release.py)
from grader import rubric as rubric_mod  # noqa: E402

FILES = ["setup.sh", "run_autograder", "autograder.py", "wall.py", "sandbox.mk"]
EXECUTABLE = ("setup.sh", "run_autograder", "autograder.py", "wall.py")
INCLUDE_LINE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*([<"][^>"\n]+[>"])', re.M)
# The limits autograder.json sets (autograder.py and wall.py read them).
LIMITS = {"size_cap": 256 * 1024, "compile_timeout": 60, "build_timeout": 600,
          "grade_timeout": 1800, "build_user": "kevlab-build"}


def say(msg):
    print("autograder: " + msg, flush=True)


def header_closure(tree, named):
    """Every header reachable from the named ones by #include, as an
    #include writes it: "kev/kev.h" for the tree's (resolved next to the
    including file, then from the top), "<stdint.h>" for the system's."""
    seen, queue = set(), list(named)
    while queue:
        h = queue.pop()
        if h in seen:
            continue
        seen.add(h)
        if h.startswith("<"):
            continue
        path = os.path.join(tree, h)
        if not os.path.isfile(path):
            raise release.ReleaseError("the allowed header %s is not in the release tree" % h)
        with open(path, errors="replace") as f:
            text = f.read()
        for inc in INCLUDE_LINE.findall(text):
            if inc.startswith("<"):
                queue.append(inc)
                continue
            inner = inc[1:-1]
            near = os.path.normpath(os.path.join(os.path.dirname(h), inner))
            top = os.path.normpath(inner)
            if os.path.isfile(os.path.join(tree, near)):
                queue.append(near)
            elif os.path.isfile(os.path.join(tree, top)):
                queue.append(top)
            else:
                raise release.ReleaseError("%s includes %s, which is not in the release tree (a "
                                           "generated header? the sandbox cannot see it)" % (h, inc))
    return sorted(seen)


def allowed_headers(plan, project):
    value = release.make_var("ALLOWED_HEADERS_%d" % project, plan.project, plan.root).split()
    if not value:
        raise release.ReleaseError(
            "project %d has no ALLOWED_HEADERS_%d: list the headers its student files may "
            "include in project%d/project.mk (e.g. `ALLOWED_HEADERS_%d := project%d/<its "
            "header>.h kev/kev.h kernel/types.h`)" % (project, project, project, project, project))
    return value


def graded_tests(plan):
    """[{name, category, hidden, max_score}] of every test project N's
    autograder grades (hidden ones included), from the instructors' kernel
    and projectN/rubric.py."""
    release.instructor_tests(plan)  # builds it
    build = os.path.join(plan.root, release.make_info(plan.project, "all", plan.root)["build"])
    rub = rubric_mod.load(build, plan.project, plan.root)
    maxes = rub.max_scores(rub.tests)
    return [{"name": t.name, "category": t.category, "hidden": t.hidden,
             "max_score": round(maxes[t.name], 4)} for t in rub.tests]


def stage(plan, dest):
    """Writes the autograder's files to dest (emptied first); returns the spec."""
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    tests = graded_tests(plan)
    hidden = [t["name"] for t in tests if t["hidden"]]
    files, _ = release.make_tree(os.path.join(dest, "kevlab"), plan, hidden=True)
    problems = [p for p in release.static_checks(os.path.join(dest, "kevlab"), files, [], (), plan)
                if "SOLUTION" in p]
    if problems:
        raise release.ReleaseError("; ".join(problems))
    with tempfile.TemporaryDirectory(prefix="kevlab-autograder-release-") as tmp:
        student = os.path.join(tmp, "kevlab")
        student_files, _ = release.make_tree(student, plan, hidden=False)
        lines = release.manifest_lines(student, student_files, plan.editable)
        allowed, named = {}, {}
        headers = set()
        for f in plan.editable:
            p = plan.project_of(f)
            named[f] = allowed_headers(plan, p)
            allowed[f] = header_closure(student, named[f])
            headers.update(h for h in allowed[f] if not h.startswith("<"))
        for h in sorted(headers):
            dst = os.path.join(dest, "headers", h)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(os.path.join(student, h), dst)
    with open(os.path.join(dest, "release-manifest.sha256"), "w") as f:
        f.write("\n".join(lines) + "\n")
    spec = dict(LIMITS, project=plan.project, projects=plan.projects, earlier=plan.earlier_mode,
                editable=plan.editable, allowed=allowed, allowed_named=named,
                build="build/p%d" % plan.project, tests=tests, hidden_tests=hidden,
                files=len(files))
    with open(os.path.join(dest, "autograder.json"), "w") as f:
        json.dump(spec, f, indent=1)
        f.write("\n")
    for name in FILES:
        shutil.copy2(os.path.join(HERE, name), os.path.join(dest, name))
        if name in EXECUTABLE:
            mode = os.stat(os.path.join(dest, name)).st_mode
            os.chmod(os.path.join(dest, name), mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return spec


def write_zip(folder, path):
    """folder's contents as a zip at path, Unix modes kept (unzip restores
    them; Gradescope runs setup.sh and run_autograder as programs)."""
    tmp = path + ".tmp"
    os.makedirs(os.path.dirname(path), exist_ok=True)
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


def install(zip_path, root):
    """Lays out an AUTOGRADER_ROOT at root as Gradescope does: the zip in
    source/, then setup.sh. Returns (status, output) of setup.sh."""
    source = os.path.join(root, "source")
    os.makedirs(source)
    subprocess.run(["unzip", "-q", zip_path, "-d", source], check=True)
    for d in ("submission", "results"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    proc = subprocess.run(["sh", os.path.join(source, "setup.sh")], cwd=source,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace")
    return proc.returncode, proc.stdout


def run_submission(root, files=None, prepare=None, env=None):
    """Empties root/submission, puts files ({relative path (str or bytes):
    bytes}) there, calls prepare(submission folder) when given (symlinks,
    odd names), runs run_autograder; returns (status, output, results
    dict or None, the raw bytes of results.json)."""
    sub = os.path.join(root, "submission")
    shutil.rmtree(sub, ignore_errors=True)
    os.makedirs(sub)
    for name, data in (files or {}).items():
        path = os.path.join(os.fsencode(sub), os.fsencode(name))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    if prepare:
        prepare(sub)
    results = os.path.join(root, "results", "results.json")
    if os.path.lexists(results):
        os.unlink(results)
    # Gradescope copies run_autograder to /autograder and runs it from there.
    shutil.copy2(os.path.join(root, "source", "run_autograder"), os.path.join(root, "run_autograder"))
    env = dict(os.environ if env is None else env, AUTOGRADER_ROOT=root)
    proc = subprocess.run([os.path.join(root, "run_autograder")], cwd=root, env=env,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace")
    raw = None
    res = None
    if os.path.exists(results):
        with open(results, "rb") as f:
            raw = f.read()
        try:
            res = json.loads(raw.decode("utf-8"))
        except ValueError:
            res = None
    return proc.returncode, proc.stdout, res, raw


def check(zip_path, plan):
    """Through setup.sh and run_autograder: the reference solution, uploaded
    as bare files, scores full marks, hidden tests included; the skeleton
    scores zero with every test stopped by TODO(). Returns a list of problems."""
    root = tempfile.mkdtemp(prefix="kevlab-autograder-check-")
    problems = []
    try:
        status, out = install(zip_path, root)
        if status != 0:
            return ["setup.sh failed (status %d):\n%s" % (status, out)]
        with open(os.path.join(root, "source", "autograder.json")) as f:
            spec = json.load(f)
        want_hidden = set(spec["hidden_tests"])
        solution = release.solution_files(plan)
        start = time.monotonic()
        status, out, res, _ = run_submission(root, {os.path.basename(n): d for n, d in solution.items()})
        if res is None:
            return ["run_autograder wrote no results.json for the solution (status %d):\n%s"
                    % (status, out)]
        s = release.summarize(res)
        hidden = [t["name"] for t in s["tests"] if t["hidden"]]
        say("  reference solution: %s / %s, %d tests (%d hidden), %.1f s"
            % (s["score"], s["max"], len(s["tests"]), len(hidden), time.monotonic() - start))
        if not s["max"] or s["score"] != s["max"]:
            failed = ["%s (%s)" % (t["name"], t["reason"]) for t in s["tests"] if not t["passed"]]
            problems.append("the reference solution scores %s / %s through the autograder "
                            "(%s); failed: %s\n%s" % (s["score"], s["max"], s["status"],
                                                      "; ".join(failed), s["output"]))
        missing = sorted(want_hidden - set(hidden))
        if missing:
            problems.append("the autograder did not grade the hidden tests %s" % ", ".join(missing))
        with tempfile.TemporaryDirectory() as tmp:
            release.make_tree(os.path.join(tmp, "kevlab"), plan, hidden=False)
            skeleton = {}
            for n in plan.editable:
                with open(os.path.join(tmp, "kevlab", n), "rb") as f:
                    skeleton["kevlab/" + n] = f.read()
        start = time.monotonic()
        status, out, res, _ = run_submission(root, skeleton)
        if res is None:
            return problems + ["run_autograder wrote no results.json for the skeleton (status "
                               "%d):\n%s" % (status, out)]
        s = release.summarize(res)
        todo = release.todo_message(plan.root)
        on_todo = [t for t in s["tests"] if todo in t["output"]]
        say("  skeleton: %s / %s, %d tests, %d on TODO(), %.1f s"
            % (s["score"], s["max"], len(s["tests"]), len(on_todo), time.monotonic() - start))
        if s["score"] != 0 or not s["max"] or s["status"] != "graded":
            problems.append("the skeleton scores %s / %s through the autograder (%s):\n%s"
                            % (s["score"], s["max"], s["status"], s["output"]))
        if len(on_todo) != len(s["tests"]):
            problems.append("the skeleton's tests not stopped by TODO(): %s"
                            % ", ".join(t["name"] for t in s["tests"] if todo not in t["output"]))
        return problems
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv):
    ap = argparse.ArgumentParser(description="Builds the Gradescope autograder zip of a project.")
    ap.add_argument("--project", type=int, default=None,
                    help="the project (default: the Makefile's COURSE_PROJECT)")
    ap.add_argument("--earlier", default="objects", choices=release.EARLIER_MODES,
                    help="how earlier projects' student files ship (as make release)")
    ap.add_argument("--out", default=None, help="the zip (build/autograder/p<N>.zip)")
    ap.add_argument("--no-check", action="store_true",
                    help="do not grade the solution and the skeleton through the zip")
    args = ap.parse_args(argv)
    start = time.monotonic()
    try:
        plan = release.Plan(args.project, args.earlier)
        out = os.path.abspath(args.out or os.path.join(ROOT, "build", "autograder",
                                                       "p%d.zip" % plan.project))
        stage_dir = os.path.splitext(out)[0]
        spec = stage(plan, stage_dir)
        write_zip(stage_dir, out)
    except release.ReleaseError as e:
        say("error: %s" % e)
        return 1
    say("wrote %s: project %d, %d framework files, %d tests (hidden: %s), editable: %s"
        % (os.path.relpath(out, ROOT), plan.project, spec["files"], len(spec["tests"]),
           ", ".join(spec["hidden_tests"]) or "none", ", ".join(spec["editable"])))
    if not args.no_check:
        say("checking through setup.sh and run_autograder: the reference solution (expected: "
            "full marks) and the skeleton (expected: zero)")
        problems = check(out, plan)
        if problems:
            say("the autograder is NOT ready:")
            for p in problems:
                print("  - " + p.replace("\n", "\n    "))
            return 1
    say("done in %.1f s%s" % (time.monotonic() - start, " (check skipped)" if args.no_check else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
