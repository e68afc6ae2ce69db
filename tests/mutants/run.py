#!/usr/bin/env python3
"""The grader tested by mutation (tests/mutants/README.md).

Each project's projectN/mutants.py lists MUTANTS (wrong implementations:
each must fail at least one public test under every seed) and ALTERNATIVES
(correct ones built another way: each must score every public point under
every seed). For each entry this script writes the patched student file to
build/mutants/p<N>/<name>/src/, builds it beside the tree's own files
(make SRC_OVERRIDE=..., incremental: an entry whose file did not change
rebuilds nothing), grades the build under Bochs once per seed, and reads
results.json. The reference solution, unchanged, goes first and must score
100%; without it no other verdict means anything.

  tests/mutants/run.py                        every project that has a mutants.py
  tests/mutants/run.py --project 2 --seeds 1,2,3 -j 2
  tests/mutants/run.py --only nr_u32,chunk_page   some entries (and the solution)
  tests/mutants/run.py --list                 the entries, and what each models
  tests/mutants/run.py --check                only apply the replacements (no build)

Prints a table (entry, kind, verdict, the tests that caught a mutant or an
alternative's score, the first line of the first failure's reason) and
ends with `N passed, N failed`, one check per entry (and one for the
replacement engine's unit tests); exits 1 when a mutant survives, an
alternative loses a point, or an entry does not apply or build.
"""

import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import time
import unittest
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)
from tests.mutants import mutation  # noqa: E402
from tests.mutants.mutation import PatchError, Solution  # noqa: E402

OUT = os.path.join("build", "mutants")  # relative to ROOT, as make wants it
DEFAULT_SEEDS = "1,2"
BUILD_TIMEOUT = 600  # seconds; the grader bounds its own runs
GRADE_TIMEOUT = 900
REASON_MAX = 110


@dataclass
class Verdict:
    """What became of one entry."""
    entry: object
    ok: bool = False
    caught: str = ""   # mutants: the tests that failed; alternatives: the score
    reason: str = ""   # the first failure's reason, or why the check failed
    seconds: float = 0.0
    per_seed: dict = field(default_factory=dict)  # seed -> results.json


# --- making an entry ---------------------------------------------------------

def entry_dir(project, name):
    return os.path.join(OUT, "p%d" % project, name)


def write_if_changed(path, text):
    """Writes text to path unless it holds it already (make then rebuilds nothing)."""
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except OSError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def prepare(project, entry, originals):
    """Writes the entry's source folder: its file patched, the project's
    other mutated files as they are. PatchError when it does not apply."""
    if entry.file not in originals:
        raise PatchError("%s: %s is not a student file of project %d (make info lists %s)"
                         % (entry.name, entry.file, project, ", ".join(sorted(originals))))
    text = mutation.apply(originals[entry.file], entry)
    if entry.replace and text == originals[entry.file]:
        raise PatchError("%s: its replacements leave %s as it was" % (entry.name, entry.file))
    src = os.path.join(entry_dir(project, entry.name), "src")
    for f, original in originals.items():
        write_if_changed(os.path.join(ROOT, src, f), text if f == entry.file else original)
    return src


def make_argv(project, solutions, src, build):
    return ["make", "-s", "--no-print-directory", "WERROR=1", "PROJECT=%d" % project,
            "SOLUTION=" + ",".join(str(p) for p in solutions),
            "SRC_OVERRIDE=" + src, "BUILD=" + build, "all"]


def build(project, solutions, src, build_dir):
    """(ok, output) of the entry's incremental build."""
    try:
        p = subprocess.run(make_argv(project, solutions, src, build_dir), cwd=ROOT,
                           capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        return False, "make took longer than %d s" % BUILD_TIMEOUT
    return p.returncode == 0, p.stdout + p.stderr


def grade(build_dir, seed, out):
    """results.json of one grading run (public tests only), or (None, why)."""
    shutil.rmtree(os.path.join(ROOT, out), ignore_errors=True)
    argv = [sys.executable, os.path.join(ROOT, "grader", "grade.py"), "grade",
            "--build", build_dir, "--backend", "bochs", "--seed", str(seed), "--public-only",
            "--out", out, "-j", "1"]
    try:
        p = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True,
                           timeout=GRADE_TIMEOUT, env=dict(os.environ, NO_COLOR="1"))
    except subprocess.TimeoutExpired:
        return None, "grade.py took longer than %d s" % GRADE_TIMEOUT
    try:  # the grader's copy of the image is of no use once graded (1 MB an entry and seed)
        os.unlink(os.path.join(ROOT, out, "kevlab.iso"))
    except OSError:
        pass
    try:
        with open(os.path.join(ROOT, out, "results.json")) as f:
            return json.load(f), ""
    except (OSError, ValueError):
        return None, "grade.py wrote no results.json (status %d): %s" % (
            p.returncode, (p.stdout + p.stderr)[-800:])


# --- judging ---------------------------------------------------------------------

def first_line(text):
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= REASON_MAX else line[:REASON_MAX - 3] + "..."


def public(res):
    return [t for t in res.get("tests", []) if t.get("visibility") == "visible"]


def grading_trouble(res):
    """Why a grading run gives no verdict on the code (None when it does):
    no public test, or a test the grader or the emulator could not grade."""
    tests = public(res)
    if not tests:
        return "the grading run holds no public test"
    bad = [t for t in tests if t.get("not_graded")]
    if bad:
        return "%s not graded (the grader or the emulator failed): %s" % (
            bad[0]["name"], first_line(bad[0].get("output")))
    return None


def judge(v, seeds):
    """Sets v.ok, v.caught and v.reason from v.per_seed."""
    e = v.entry
    for seed in seeds:
        trouble = grading_trouble(v.per_seed[seed])
        if trouble:
            v.ok, v.reason = False, "seed %s: %s" % (seed, trouble)
            return
    failed = {s: [t for t in public(v.per_seed[s]) if t["status"] != "passed"] for s in seeds}
    if e.kind == "mutant":
        survived = [s for s in seeds if not failed[s]]
        every = [t["name"] for t in failed[seeds[0]]
                 if all(t["name"] in {u["name"] for u in failed[s]} for s in seeds)]
        some = sorted({t["name"] for s in seeds for t in failed[s]} - set(every))
        # a test that caught it under some seeds only is marked with *
        v.caught = ",".join([short(n) for n in every] + [short(n) + "*" for n in some])
        if survived:
            v.ok = False
            v.reason = "SURVIVED seed%s %s: every public test passed" % (
                "s" if len(survived) > 1 else "", ",".join(map(str, survived)))
        else:
            v.ok = True
            first = next(failed[s] for s in seeds if failed[s])[0]
            v.reason = "%s: %s" % (short(first["name"]), first_line(first.get("output")))
        return
    # the solution and the alternatives: every public point, every seed
    scores = []
    for s in seeds:
        tests = public(v.per_seed[s])
        got, most = sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)
        scores.append("%g/%g" % (round(got, 1), round(most, 1)))
    v.caught = scores[0] if len(set(scores)) == 1 else " ".join(scores)
    bad = [(s, failed[s][0]) for s in seeds if failed[s]]
    v.ok = not bad
    if bad:
        s, t = bad[0]
        v.reason = "seed %s: %s: %s" % (s, short(t["name"]), first_line(t.get("output")))


def short(test_name):
    """p2_print_hole -> print_hole: the table is wide enough as it is."""
    head, _, rest = test_name.partition("_")
    return rest if head[:1] == "p" and head[1:].isdigit() and rest else test_name


def run_entry(project, solutions, entry, seeds, originals, seed_pool=None):
    """Prepares, builds and grades one entry; returns its Verdict."""
    v = Verdict(entry)
    start = time.monotonic()
    try:
        src = prepare(project, entry, originals)
    except PatchError as err:
        v.reason = "does not apply: %s" % err
        return v
    build_dir = os.path.join(entry_dir(project, entry.name), "build")
    ok, log = build(project, solutions, src, build_dir)
    if not ok:
        v.reason = "does not build: %s" % first_line(
            next((ln for ln in log.splitlines() if "error" in ln), log.strip()[-300:]))
        v.seconds = time.monotonic() - start
        return v

    def one(seed):
        return seed, grade(build_dir, seed, os.path.join(entry_dir(project, entry.name),
                                                        "seed-%s" % seed))
    runs = seed_pool.map(one, seeds) if seed_pool else map(one, seeds)
    for seed, (res, why) in runs:
        if res is None:
            v.reason = "seed %s: %s" % (seed, why)
            v.seconds = time.monotonic() - start
            return v
        v.per_seed[seed] = res
    judge(v, seeds)
    v.seconds = time.monotonic() - start
    return v


# --- the replacement engine's own tests ---------------------------------------

def engine_tests():
    """(ok, summary) of tests/mutants/test_mutation.py, run in this process."""
    suite = unittest.defaultTestLoader.loadTestsFromName("tests.mutants.test_mutation")
    stream = open(os.devnull, "w")
    result = unittest.TextTestRunner(stream=stream, verbosity=0).run(suite)
    stream.close()
    bad = result.failures + result.errors
    if bad:
        test, trace = bad[0]
        return False, "%d of %d failed; first: %s: %s" % (
            len(bad), result.testsRun, test.id(), first_line(trace.strip().splitlines()[-1]))
    return True, "%d unit tests of the find-exactly-once rule passed" % result.testsRun


# --- the whole run ---------------------------------------------------------------

def make_info(project):
    p = subprocess.run(["make", "-s", "--no-print-directory", "info", "PROJECT=%d" % project,
                        "SOLUTION=all"], cwd=ROOT, capture_output=True, text=True)
    return json.loads(p.stdout)


def print_row(cells, widths):
    print("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip())


CAUGHT_MAX = 44  # characters of the "caught by" column


def clip_list(text, most=CAUGHT_MAX):
    """a,b,c,d cut at a comma to fit `most` characters, with how many were left out."""
    if len(text) <= most:
        return text
    names, kept = text.split(","), []
    for i, name in enumerate(names):
        tail = " +%d" % (len(names) - i - 1) if i + 1 < len(names) else ""
        if len(",".join(kept + [name])) + len(tail) > most:
            break
        kept.append(name)
    return ",".join(kept) + " +%d" % (len(names) - len(kept))


def print_table(rows):
    head = ["entry", "kind", "verdict", "caught by / score", "first failure"]
    cells = [[v.entry.name, v.entry.kind, "ok" if v.ok else "FAIL", clip_list(v.caught),
              v.reason] for v in rows]
    widths = [max([len(head[i])] + [len(c[i]) for c in cells]) for i in range(4)] + [0]
    print_row(head, widths)
    print_row(["-" * w for w in widths[:4]] + ["-" * 13], widths)
    for c in cells:
        print_row(c, widths)


def clean_stale(project, names):
    """Removes build/mutants/p<N>/<folder> of entries no longer listed."""
    top = os.path.join(ROOT, OUT, "p%d" % project)
    if os.path.isdir(top):
        for d in os.listdir(top):
            if d not in names:
                shutil.rmtree(os.path.join(top, d), ignore_errors=True)


def list_entries(projects):
    for n in projects:
        mutants, alternatives = mutation.load(n)
        print("project %d: %d mutants, %d alternatives" % (n, len(mutants), len(alternatives)))
        for e in mutants:
            print("  mutant       %-28s %s" % (e.name, e.bug))
        for e in alternatives:
            print("  alternative  %-28s %s" % (e.name, e.how))


def run_project(n, args, seeds, pool, seed_pool):
    """The verdicts of project n's entries (the solution first)."""
    info = make_info(n)
    try:
        mutants, alternatives = mutation.load(n)
    except (PatchError, Exception) as err:  # a broken mutants.py is one failed check
        v = Verdict(Solution(file="project%d/mutants.py" % n))
        v.reason = "project%d/mutants.py does not load: %s" % (n, err)
        return [v]
    entries = mutants + alternatives
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {e.name for e in entries}
        if unknown:
            sys.exit("--only: project %d has no entry %s" % (n, ", ".join(sorted(unknown))))
        entries = [e for e in entries if e.name in wanted]
    files = sorted({e.file for e in mutants + alternatives})
    originals = {}
    for f in files:
        with open(os.path.join(ROOT, f)) as fh:
            originals[f] = fh.read()
    if not args.only:
        clean_stale(n, {e.name for e in entries} | {mutation.SOLUTION})
    solutions = info["projects"]
    print("project %d: %d mutants, %d alternatives; seeds %s; %d jobs" % (
        n, sum(e.kind == "mutant" for e in entries), sum(e.kind == "alternative" for e in entries),
        ",".join(map(str, seeds)), args.jobs), flush=True)

    if args.check:
        rows = []
        for e in entries:
            v = Verdict(e)
            try:
                prepare(n, e, originals)
                v.ok, v.reason = True, "applies"
            except PatchError as err:
                v.reason = "does not apply: %s" % err
            rows.append(v)
        return rows

    # The solution first, alone: it also brings the shared objects up to
    # date, so that the entries' builds running at once share only what
    # is built already.
    sanity = run_entry(n, solutions, Solution(file=files[0]), seeds, originals, seed_pool)
    print("  %-28s %s (%.1f s)" % (sanity.entry.name, "ok" if sanity.ok else "FAIL",
                                   sanity.seconds), flush=True)
    if not sanity.ok:
        sanity.reason = "the reference solution must score 100%% first: %s" % sanity.reason
        return [sanity]

    futures = [pool.submit(run_entry, n, solutions, e, seeds, originals) for e in entries]
    rows = [sanity]
    done = 0
    for fut in concurrent.futures.as_completed(futures):
        v = fut.result()
        done += 1
        print("  [%d/%d] %-28s %s (%.1f s)" % (done, len(entries), v.entry.name,
                                              "ok" if v.ok else "FAIL", v.seconds), flush=True)
    order = {id(e): i for i, e in enumerate(entries)}
    rows += sorted((f.result() for f in futures), key=lambda v: order[id(v.entry)])
    return rows


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--project", type=int, action="append",
                    help="this project only (repeatable; default: every project with a mutants.py)")
    ap.add_argument("--seeds", default=DEFAULT_SEEDS,
                    help="grading seeds, comma-separated (default %s)" % DEFAULT_SEEDS)
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                    help="entries built and graded at once (default: the CPU count, %d)"
                    % (os.cpu_count() or 1))
    ap.add_argument("--only", help="these entries only (comma-separated), after the solution")
    ap.add_argument("--list", action="store_true", help="list the entries and stop")
    ap.add_argument("--check", action="store_true",
                    help="only apply every entry's replacements (no build, no grading)")
    args = ap.parse_args(argv)
    args.jobs = max(1, args.jobs)
    seeds = [s.strip() for s in args.seeds.split(",") if s.strip()]
    if not seeds or not all(s.isdigit() for s in seeds):
        sys.exit("--seeds: a comma-separated list of numbers, e.g. 1,2")
    projects = args.project or mutation.projects_with_mutants()
    for n in projects:
        if not os.path.isfile(mutation.mutants_file(n)):
            sys.exit("project %d ships no project%d/mutants.py" % (n, n))
    if args.list:
        list_entries(projects)
        return 0

    start = time.monotonic()
    passed = failed = 0
    ok, summary = engine_tests()
    print("%s  the replacement engine: %s" % ("PASS" if ok else "FAIL", summary), flush=True)
    passed, failed = (1, 0) if ok else (0, 1)
    grading_runs = 0
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool, \
            concurrent.futures.ThreadPoolExecutor(args.jobs) as seed_pool:
        for n in projects:
            rows = run_project(n, args, seeds, pool, seed_pool)
            print()
            print_table(rows)
            survivors = [v.entry.name for v in rows if not v.ok and v.entry.kind == "mutant"
                         and v.reason.startswith("SURVIVED")]
            if survivors:
                print("survivors: %s" % ", ".join(survivors))
            print()
            passed += sum(v.ok for v in rows)
            failed += sum(not v.ok for v in rows)
            grading_runs += sum(len(v.per_seed) for v in rows)
    print("%d grading runs in %.1f s" % (grading_runs, time.monotonic() - start))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
