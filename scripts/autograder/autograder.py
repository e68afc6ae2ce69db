#!/usr/bin/env python3
"""Grades one submission: run_autograder runs this on Gradescope, and
grader/batch.py calls grade_submission() for each of many.

Layout under AUTOGRADER_ROOT (default /autograder, Gradescope's):

  source/autograder.json         the project's facts (build.py): its number, the
                                 editable files, the headers each may include,
                                 the tests with their points, the limits
  source/kevlab/                 the framework: project N's tree less its reference
                                 solution, hidden tests included, built once by
                                 setup.sh and readable by root only
  source/headers/                the public headers a student file may include:
                                 all the build user's compiler sees of the tree
  source/release-manifest.sha256 the student release's MANIFEST.sha256
  source/wall.py, sandbox.mk     the rules and the sandboxed compile (wall.py)
  submission/                    what the student uploaded, in any layout
  results/results.json           written here, always, in Gradescope's format

What happens to a submission (each step's failure is named in the output):

  1. its editable files are looked for anywhere in submission/, as regular
     files of at most size_cap bytes (wall.collect); nothing else of theirs
     is used, and framework files they changed are named (the originals
     are used);
  2. each is checked against the source rules (wall.check_source): a
     violation rejects the submission, naming the line and the rule;
  3. a copy of the framework gets them; make builds the kernel as root but
     compiles the student files through wall.py cc (sandbox.mk): as the
     build user, in a folder of its own, with limits;
  4. grade.py grades every test, hidden ones included, with the emulator
     auto picks; no emulator, or one that fails, is a grader error: the
     results say so and give no score (Gradescope then shows the
     submission as not graded, never as a zero);
  5. results.json: valid JSON whatever happened, scores within [0, max],
     written after the work folder is removed (wall.write_results).

Status (results.json's extra_data.kevlab_status, batch's scores.csv):
graded, missing (no editable file), rejected (a rule), build failed,
grader error.
"""

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import wall  # noqa: E402  (wall.py, beside this file)

SPEC = "autograder.json"
FRAMEWORK = "kevlab"
HEADERS = "headers"
MANIFEST = "release-manifest.sha256"
SANDBOX_MK = "sandbox.mk"
LOG_TAIL = 60  # lines of a failed build shown in results.json
# A test the grader could not grade: the judge's words for it (grader/judge.py).
NOT_GRADED = re.compile(r"^(?:not graded\b|emulator error\b)|\(emulator error\)")
GRADER_ERROR_TEXT = ("The autograder could not grade this submission; this is not a verdict "
                     "on your code and no score is given. Please tell your instructors. ")


def say(text):
    """Prints text whatever the console's encoding (Gradescope shows
    run_autograder's output to instructors)."""
    data = (wall.clean_text(text) + "\n").encode("utf-8", "replace")
    try:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    except (OSError, ValueError):
        pass


def load_spec(source):
    with open(os.path.join(source, SPEC)) as f:
        return json.load(f)


def read_manifest(path):
    """{name: sha256} from a MANIFEST.sha256 (sha256sum's format)."""
    entries = {}
    with open(path, errors="replace") as f:
        for line in f:
            digest, _, name = line.rstrip("\n").partition(" ")
            if name.strip() and not line.startswith("#"):
                entries[name.lstrip(" *")] = digest.lower()
    return entries


# --- results -----------------------------------------------------------------------

def failure_results(spec, why, test_output, status):
    """Every test 0 points, saying why at the top and in each test."""
    return {
        "score": 0.0,
        "max_score": round(sum(t["max_score"] for t in spec["tests"]), 4),
        "output": why,
        "tests": [{"name": t["name"], "score": 0.0, "max_score": t["max_score"],
                   "status": "failed", "output": test_output, "tags": [t["category"]],
                   "visibility": "after_published" if t["hidden"] else "visible"}
                  for t in spec["tests"]],
        "extra_data": {"kevlab_status": status},
    }


def grader_error(why, detail=""):
    """No score: the grader, not the submission, failed. why is shown to
    the student; detail (a log's tail) goes to run_autograder's output,
    which Gradescope shows the instructors."""
    res = {"output": GRADER_ERROR_TEXT + why, "tests": [],
           "extra_data": {"kevlab_status": "grader error"}}
    if detail:
        res["extra_data"]["detail"] = detail
    return res


def tail(text, lines=LOG_TAIL):
    parts = text.rstrip("\n").split("\n")
    cut = len(parts) > lines
    return ("(last %d lines)\n" % lines if cut else "") + "\n".join(parts[-lines:])


def _read_log(path, cap=1 << 20):
    try:
        with open(path, "rb") as f:
            data = f.read(cap + 1)
    except OSError:
        return ""
    text = data[:cap].decode("utf-8", "replace")
    return text + ("\n[... cut]" if len(data) > cap else "")


def run_logged(argv, cwd, log_path, timeout, env=None, sweep=()):
    """Runs argv in a session of its own with its output in log_path.
    On the timeout: SIGTERM to its process group (grade.py then stops its
    emulators), SIGKILL after 10 s, then every process whose working folder
    is under one of sweep. Returns (status or None on timeout, output)."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            status = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            status = None
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, None)):
                try:
                    os.killpg(proc.pid, sig)
                except OSError:
                    pass
                try:
                    proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
            proc.wait()
            for folder in sweep:
                wall.kill_under(folder)
    return status, _read_log(log_path)


# --- one submission ------------------------------------------------------------------

def copy_framework(framework, dest):
    """framework's tree (with its build/) at dest, without .git."""
    def ignore(folder, names):
        return [n for n in names if n in ("__pycache__", ".git")]
    if os.path.exists(dest):
        shutil.rmtree(dest)
    shutil.copytree(framework, dest, symlinks=True, ignore=ignore)


def emulator_problem(tree, backend, env):
    """Why the emulator cannot run (missing), or '' (grader/backends.py's
    own choice and check, with the PATH the grading will have)."""
    code = ("import sys\nfrom grader import backends\n"
            "be, why = backends.choose(sys.argv[1])\n"
            "print(be.name)\nprint(be.missing() or '')\n")
    proc = subprocess.run([sys.executable, "-c", code, backend], cwd=tree, env=env,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace", timeout=60)
    lines = proc.stdout.split("\n")
    if proc.returncode != 0:
        return None, "choosing the emulator failed: %s" % proc.stdout.strip()
    name, missing = lines[0].strip(), (lines[1].strip() if len(lines) > 1 else "")
    if name == "qemu-tcg":
        return name, "the only emulator left is QEMU's TCG, which has no VMX"
    return name, missing


def grade_submission(spec, source, submission, work, backend="auto", jobs=1, seed=None,
                     manifest=None, env=None, logs=None):
    """Grades one submission; returns its results (Gradescope's format,
    extra_data.kevlab_status set). source: the folder of autograder.json,
    kevlab/, headers/, wall.py and sandbox.mk; work: scratch space (made
    if missing, left for the caller to remove). logs, a dict, gets the
    build's and the grading's output."""
    logs = {} if logs is None else logs
    env = dict(os.environ if env is None else env)
    # work (0711): private/ (0700, root's: the tree, the logs, the grading)
    # and tmp/ (0711), where the build user's sandboxes go.
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o711)
    private = os.path.join(work, "private")
    os.makedirs(private, exist_ok=True)
    os.chmod(private, 0o700)
    project = spec["project"]
    editable = spec["editable"]
    found, paths, notes = wall.collect(submission, editable, spec.get("size_cap", wall.SIZE_CAP))
    changed = wall.protected_changes(submission, paths, editable, manifest)
    if changed:
        notes.append("Your submission changes framework files that only the instructors may "
                     "change; the originals were used instead: %s." % ", ".join(changed))
    if not found:
        return failure_results(spec, "\n".join(notes), "not run: the submission has none of "
                               "the files to grade (see the output at the top)", "missing")
    rules = env.get("KEVLAB_WALL_RULES", "on") != "off"
    violations = []
    for name, data in sorted(found.items()):
        if rules:
            violations += [v.text(name) for v in wall.check_source(
                name, data, spec["allowed"][name], spec["allowed_named"][name])]
    if violations:
        why = "\n".join(notes + ["Your code breaks the rules for student files, so it was not "
                                 "built and no test ran:"] + ["  " + v for v in violations])
        return failure_results(spec, why, "not run: the code breaks a rule for student files "
                               "(see the output at the top)", "rejected")
    tree = os.path.join(private, "kevlab")
    copy_framework(os.path.join(source, FRAMEWORK), tree)
    for name, data in found.items():
        with open(os.path.join(tree, name), "wb") as f:
            f.write(data)
        # Newer than the framework's objects, so make always rebuilds it.
        os.utime(os.path.join(tree, name))
    tmp = os.path.join(work, "tmp")
    os.makedirs(tmp, exist_ok=True)
    os.chmod(tmp, 0o711)
    report = os.path.join(private, "violations.jsonl")
    user = spec.get("build_user", wall.BUILD_USER)
    env.setdefault("KEVLAB_WALL_LOCK", os.path.join(tmp, "wall.lock"))
    env.update({"KEVLAB_WALL_USER": user,
                "KEVLAB_WALL_HEADERS": os.path.join(source, HEADERS),
                "KEVLAB_WALL_TMP": tmp, "KEVLAB_WALL_REPORT": report,
                "KEVLAB_WALL_TIMEOUT": env.get("KEVLAB_COMPILE_TIMEOUT")
                or str(spec.get("compile_timeout", wall.COMPILE_TIMEOUT))})
    if user and os.geteuid() == 0 and wall.build_user(user) is None:
        return grader_error("The build user %s does not exist (setup.sh creates it with "
                            "useradd)." % user)
    name, problem = emulator_problem(tree, backend, env)
    if problem:
        return grader_error("The emulator cannot run here: %s." % problem)
    build_log = os.path.join(private, "build.log")
    wall_cc = "%s %s cc" % (sys.executable, os.path.join(source, "wall.py"))
    status, output = run_logged(["make", "-s", "--no-print-directory", "-f", "Makefile", "-f",
                                 os.path.join(source, SANDBOX_MK), "PROJECT=%d" % project,
                                 "WALL_CC=" + wall_cc, "all"], tree, build_log,
                                spec.get("build_timeout", 600), env, sweep=[work])
    logs["build.log"] = output
    if status != 0:
        found_rules = _violations(report)
        if found_rules:
            why = "\n".join(notes + ["Your code breaks the rules for student files once its "
                                     "macros are expanded, so no test ran:"]
                            + ["  " + v for v in found_rules])
            return failure_results(spec, why, "not run: the code breaks a rule for student "
                                   "files (see the output at the top)", "rejected")
        what = ("did not finish building within %d s" % spec.get("build_timeout", 600)
                if status is None else "does not compile")
        why = "\n".join(notes + ["Your code %s, so no test ran. The build said:" % what, "",
                                 tail(output)])
        return failure_results(spec, why, "not run: the kernel did not build (see the output "
                               "at the top)", "build failed")
    out = os.path.join(private, "grade")
    argv = [sys.executable, "grader/grade.py", "grade", "--project", str(project),
            "--build", spec["build"], "--backend", name, "-j", str(jobs), "--out", out]
    if seed is not None:
        argv += ["--seed", str(seed)]
    status, output = run_logged(argv, tree, os.path.join(private, "grade.log"),
                                spec.get("grade_timeout", 1800), env, sweep=[work])
    logs["grade.log"] = output
    results = os.path.join(out, "results.json")
    try:
        with open(results) as f:
            res = json.load(f)
        if not isinstance(res, dict) or not isinstance(res.get("tests"), list):
            raise ValueError("not a results object")
    except (OSError, ValueError) as e:
        how = ("did not finish within %d s" % spec.get("grade_timeout", 1800) if status is None
               else "stopped with status %s and wrote no results (%s)" % (status, e))
        return grader_error("The grader %s." % how, tail(output))
    ungraded = [t.get("name") for t in res["tests"]
                if t.get("not_graded") or NOT_GRADED.search((t.get("output") or "").split("\n")[0])]
    if ungraded:
        first = next(t for t in res["tests"] if t.get("name") == ungraded[0])
        said = [l for l in (first.get("output") or "").split("\n")[1:2] if l]
        return grader_error("The emulator or the grader failed on %d test%s (%s)%s"
                            % (len(ungraded), "" if len(ungraded) == 1 else "s",
                               ", ".join(map(str, ungraded[:3])) + (", ..." if len(ungraded) > 3 else ""),
                               (": " + said[0]) if said else "."), tail(output))
    if notes:
        res["output"] = "\n".join(notes + [res.get("output") or ""]).rstrip("\n")
    res.setdefault("extra_data", {})["kevlab_status"] = "graded"
    return res


def _violations(report):
    try:
        with open(report) as f:
            return [json.loads(l)["text"] for l in f if l.strip()]
    except (OSError, ValueError, KeyError):
        return []


def disk_full(e):
    """Whether e (an OSError, or shutil.Error's list of them) is ENOSPC."""
    if isinstance(e, OSError) and e.errno == errno.ENOSPC:
        return True
    return isinstance(e, shutil.Error) and "[Errno %d]" % errno.ENOSPC in str(e)


def describe_error(e):
    """(what the student reads, the whole story for the instructors)."""
    story = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    if disk_full(e):
        return ("The disk is full (no space left on the device); the work folder was removed "
                "to write these results.", story[-4000:])
    return ("The autograder itself failed: %s: %s" % (type(e).__name__, str(e)[:500]),
            story[-8000:])


# --- Gradescope -----------------------------------------------------------------------

def main():
    start = time.monotonic()
    root = os.environ.get("AUTOGRADER_ROOT") or "/autograder"
    source = os.path.join(root, "source")
    results = os.path.join(root, "results", "results.json")
    work = None
    res = None
    logs = {}
    try:
        spec = load_spec(source)
        manifest_path = os.path.join(source, MANIFEST)
        manifest = read_manifest(manifest_path) if os.path.exists(manifest_path) else None
        work = tempfile.mkdtemp(prefix="kevlab-autograder-")
        res = grade_submission(spec, source, os.path.join(root, "submission"), work,
                               jobs=os.cpu_count() or 1, manifest=manifest, logs=logs)
    except BaseException as e:  # whatever it was, the student gets results.json
        res = grader_error(*describe_error(e))
    detail = (res.get("extra_data") or {}).pop("detail", "")
    problem = wall.write_results(results, res, free_first=[work] if work else [])
    # Gradescope shows this output to instructors only.
    for name, text in logs.items():
        say("==> %s\n%s" % (name, tail(text, 200)))
    status = (res.get("extra_data") or {}).get("kevlab_status")
    say("autograder: %s / %s (%s) in %.1f s" % (res.get("score", "no score"),
                                               res.get("max_score", "-"), status,
                                               time.monotonic() - start))
    if status == "grader error":
        say(res.get("output", ""))
        if detail:
            say(detail)
    if problem:
        say("autograder: %s" % problem)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
