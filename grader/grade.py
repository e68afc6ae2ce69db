#!/usr/bin/env python3
"""kevlab's grader: boot the kernel with tests, check what they reported.

  grade.py [grade] [options]      grade every test of the project (make grade)
  grade.py run --test a,b          boot with tests, serial console live (make run)
  grade.py check --test a          one test, verbose: the whole serial log (make check)
  grade.py gdb --test a            QEMU waiting for GDB on :1234 (make gdb)
  grade.py bench                   wall-time figures (make bench)

It works from any directory. See docs/grader.md.
"""

import argparse
import fcntl
import json
import os
import random
import re
import shlex
import shutil
import signal
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from grader import backends, cmdline, protect, report, results  # noqa: E402
from grader import rubric as rubric_mod  # noqa: E402
from grader import outcome as oc  # noqa: E402
from grader import runner, scheduler  # noqa: E402
from grader.image import CMDLINE_SPACE  # noqa: E402

COMMANDS = ("grade", "run", "check", "gdb", "bench")
BOOT_LIMIT = 15.0  # seconds: firmware + GRUB + kernel start, and power-off
BOOT_BUDGET = 200_000_000  # instructions for the same (a boot needs about 40M)
TEST_BUDGET = 400_000_000  # instructions a test may take (every case of it)
SELF_TEST_TIMEOUT = 20.0  # seconds, for tests outside the project's rubric
# What the release records about the hidden tests it left out (scripts/release.py).
HIDDEN_NOTE = os.path.join(".kevlab", "hidden-tests.json")


def course_project() -> int:
    """The Makefile's COURSE_PROJECT: the default project."""
    try:
        with open(os.path.join(ROOT, "Makefile")) as f:
            m = re.search(r"^COURSE_PROJECT\s*:=\s*(\d+)", f.read(), re.M)
        return int(m.group(1)) if m else 2
    except OSError:
        return 2


def parse_args(argv):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--backend", default=os.environ.get("BACKEND") or "auto",
                        choices=backends.NAMES, help="emulator (default: auto)")
    common.add_argument("--cpu-model", default=None,
                        help="Bochs CPU model (default corei7_skylake_x; `bochs --help cpu` lists them)")
    common.add_argument("--project", type=int, default=None,
                        help="the project to grade (default: the build's)")
    common.add_argument("--rubric", default=None,
                        help="a rubric file instead of projectN/rubric.py (the framework's own tests)")
    common.add_argument("--build", default=None,
                        help="build directory holding kevlab.iso and kernel.elf "
                             "(default $BUILD or build/p<PROJECT>)")
    common.add_argument("--seed", default=None, help="seed of the randomized test data")
    common.add_argument("-v", "--verbose", action="store_true",
                        help="say more (each boot, its command line)")
    p = argparse.ArgumentParser(prog="grade.py", description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n", 1)[1])
    sub = p.add_subparsers(dest="command")
    g = sub.add_parser("grade", parents=[common], help="grade every test (default)")
    g.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                   help="boots run at the same time (default: the CPU count, %(default)s)")
    g.add_argument("--tests", default=None, help="grade only these tests (a,b,...)")
    g.add_argument("--public-only", action="store_true", help="leave the hidden tests out")
    g.add_argument("--per-boot", type=int, default=None,
                   help="at most this many tests in one boot (default: no limit)")
    g.add_argument("--out", default=None,
                   help="results and serial logs (default build/grade, or build/grade-<pid> "
                        "while another grading run uses it)")
    g.add_argument("--restore", action="store_true",
                   help="put back the released framework files that were changed, then stop")
    for name, what in (("run", "boot with tests, serial output live"),
                       ("check", "one test, verbose"), ("gdb", "QEMU waiting for GDB")):
        s = sub.add_parser(name, parents=[common], help=what)
        s.add_argument("--test", "--tests", dest="test",
                       default=None if name == "check" else "none",
                       help="test names, comma-separated" + ("" if name == "check" else
                                                            " (default none: boot, power off)"))
        s.add_argument("--args", default=os.environ.get("ARGS", ""),
                       help="extra kernel command-line words: 'k=v ...' (default $ARGS), "
                            "e.g. 'seed=7 p2_print_lengths.case=3 kev.trace=1'")
    b = sub.add_parser("bench", parents=[common], help="wall-time figures")
    b.add_argument("--repeat", type=int, default=5)
    if not argv or argv[0] not in COMMANDS + ("-h", "--help"):
        argv = ["grade"] + list(argv)
    args = p.parse_args(argv)
    if args.build is None:
        args.build = os.environ.get("BUILD") or "build/p%d" % (args.project or course_project())
    # Relative folders: from the current directory when they exist there,
    # else from the repository's root (make passes them so).
    if not os.path.isabs(args.build) and not os.path.isdir(args.build):
        args.build = os.path.join(ROOT, args.build)
    args.build = os.path.abspath(args.build)
    if args.seed is None:
        args.seed = str(random.SystemRandom().randrange(1, 1_000_000))
    if not re.fullmatch(r"\d{1,19}", args.seed):
        sys.exit("--seed must be a number (it was %r)" % args.seed)
    return args


def choose_backend(args):
    source = ("BACKEND=" + args.backend) if os.environ.get("BACKEND") == args.backend else "--backend"
    try:
        be, why = backends.choose(args.backend, args.cpu_model, source=source)
    except ValueError as e:
        sys.exit(str(e))
    return be, why


def say_backend(be, why, rub):
    print("project %d, backend: %s (%s)" % (rub.project, be.name, why), flush=True)


def iso_path(args):
    return os.path.join(args.build, "kevlab.iso")


def plan(rub, names) -> list:
    """The Planned tests for names (tests outside the rubric: self-tests)."""
    out = []
    for name in names:
        t = rub.test(name)
        out.append(scheduler.Planned(name, t.timeout if t else SELF_TEST_TIMEOUT,
                                     t.budget if t else TEST_BUDGET))
    return out


def limits_for(batch, not_after=None, no_timeout=False) -> runner.Limits:
    if no_timeout:
        return runner.Limits(boot=1e9, tests={}, budget=None)
    return runner.Limits(boot=BOOT_LIMIT, tests={t.name: t.timeout for t in batch},
                         budget=BOOT_BUDGET + sum(t.budget for t in batch),
                         not_after=not_after)


# What every `make grade` boot adds: no echo of guest output to the console
# (kev/printer.h: a failing case's report carries the capture, and the echo
# was a fifth of what a passing suite adds to a bare boot). run and check
# keep it.
GRADE_EXTRA = [("kev.echo", 0)]


def command_line(batch, seed, extra=(), rub=None) -> str:
    """The boot's command line. A batch of all of rub's tests in the
    kernel's order (a whole suite in one boot) is sent as `test=@N`: the
    kernel runs the same tests (docs/protocol.md), and GRUB reads some
    900 bytes fewer (350 Bochs instructions a byte)."""
    names = [t.name for t in batch]
    if rub is not None and rub.project > 0 and names and names == [t.name for t in rub.tests]:
        names = ["@%d" % rub.project]
    return cmdline.build(names, {}, [("seed", seed)] + list(extra))


def warn_cmdline(res, n=None):
    """Says so when the kernel did not get the command line that was sent."""
    got = res.log.cmdline
    if got is not None and got.split() != res.cmdline.encode().split():
        print("warning: %sthe kernel got the command line %r, not the %r sent: is the ISO's "
              "grub.cfg placeholder intact (scripts/grubcfg.py)?"
              % ("boot %d: " % n if n else "", got.decode("utf-8", "replace")[:200],
                 res.cmdline[:200]), flush=True)


# --- run / check / gdb ----------------------------------------------------

_locks = []


def own_dir(name: str) -> str:
    """build/<name> for this run's files, or build/<name>-<pid> while
    another run holds build/<name> (two runs at once)."""
    build = os.path.join(ROOT, "build")
    os.makedirs(build, exist_ok=True)
    lock = open(os.path.join(build, "." + name + ".lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        return os.path.join(build, "%s-%d" % (name, os.getpid()))
    _locks.append(lock)  # held until this process exits
    return os.path.join(build, name)


def stream_to_terminal(data: bytes):
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def user_args(args) -> list:
    """ARGS words as (key, value) pairs; seed= there replaces --seed."""
    try:
        pairs = cmdline.parse_user_args(shlex.split(args.args))
    except ValueError as e:
        sys.exit("ARGS: %s (write words like seed=7 or kev.trace=1)" % e)
    extra = []
    for key, value in pairs:
        if key == "seed":
            args.seed = value
        else:
            extra.append((key, value))
    return extra


def cmd_run(args, rub):
    """Boots once with args.test; returns (BootResult, the planned tests)."""
    be, why = choose_backend(args)
    say_backend(be, why, rub)
    names = [n for n in args.test.split(",") if n and n != "none"]
    batch = plan(rub, names)
    extra = user_args(args)
    line = command_line(batch, args.seed, extra)
    print("command line: %s   (seed %s: `make %s TEST=%s SEED=%s` runs the same data)"
          % (line, args.seed, args.command, args.test, args.seed), flush=True)
    run_dir = own_dir(args.command)
    # The image stays in the run directory (0.8 MB), so the boot can be
    # repeated there by hand, e.g. under Bochs's debugger (docs/debugging.md).
    res = runner.boot(be, iso_path(args), line, run_dir, limits_for(batch),
                      on_output=stream_to_terminal, keep_image=True, expected=names)
    if res.log.partial_line:
        print()
    warn_cmdline(res)
    out = res.outcome
    print("--- boot ended: %s (%.2f s); serial log: %s"
          % (out.describe(), res.wall, _rel(res.serial_path)))
    if not out.ok:
        print("    " + oc.EXPLAIN.get(out.kind, ""))
    if res.log.violation:
        print("    protocol violation: " + res.log.violation)
    return res, batch


def cmd_check(args, rub):
    if not args.test or "," in args.test or args.test == "none":
        sys.exit("check takes exactly one test: make check TEST=<name>")
    res, batch = cmd_run(args, rub)
    t = rub.test(args.test)
    ran = scheduler.settle(batch, res)[0][0]
    if t is None:  # a kernel self-test: its end frame is the verdict
        ok = ran.record is not None and ran.record.verdict == "pass"
        skipped = ran.record is not None and ran.record.verdict == "skip"
        print("%s %s%s" % ("PASS" if ok else "SKIP" if skipped else "FAIL", args.test,
                           "" if ok or ran.record is None else ": " + ran.record.reason))
        return 0 if ok else 1
    from grader import judge  # here, not above: `make run` needs none of it (its hints take 10 ms to load)
    r = judge.judge(t, ran, rub.project)
    style = report.Style(report.use_color(sys.stdout))
    if r.passed:
        print(style.good("PASS") + " %s (%.2f s)" % (r.name, r.time))
        return 0
    print(style.bad("FAIL") + " %s: %s" % (r.name, report.shown(report.clip(r.summary, report.SUMMARY_MAX))))
    print(report.details([r], style, width=report.CHECK_WIDTH))
    return 1


def cmd_gdb(args, rub):
    kvm_ok, why = backends.kvm_nested_vmx(backends.Host())
    be = backends.Qemu(kvm=kvm_ok, gdb=True)
    print("project %d, backend: %s (gdb needs QEMU; %s)" % (rub.project, be.name, why), flush=True)
    elf = os.path.join(args.build, "kernel.elf")
    gdbinit = os.path.join(ROOT, ".gdbinit")
    with open(gdbinit, "w") as f:
        f.write("# Written by `make gdb` (grader/grade.py).\nfile %s\ntarget remote :1234\n"
                % os.path.relpath(elf, ROOT))
    print("QEMU is waiting for GDB. In another terminal, in %s:\n"
          "    gdb -x .gdbinit\n"
          "then e.g. `break hypercall_handle`, `continue`. Ctrl-C here stops QEMU." % ROOT)
    if not kvm_ok:
        print("Note: QEMU without KVM has no VMX: kev will report that and stop.")
    names = [n for n in args.test.split(",") if n and n != "none"]
    batch = plan(rub, names)
    line = command_line(batch, args.seed, user_args(args))
    res = runner.boot(be, iso_path(args), line, own_dir("gdb"),
                      limits_for(batch, no_timeout=True), on_output=stream_to_terminal)
    print("--- QEMU ended: " + res.outcome.describe())
    return 0 if res.outcome.ok else 1


# --- grade ----------------------------------------------------------------

def hidden_note(rub) -> str:
    """In a student tree: how many hidden tests only the autograder grades."""
    try:
        with open(os.path.join(ROOT, HIDDEN_NOTE)) as f:
            n = json.load(f).get(str(rub.project), 0)
    except (OSError, ValueError, AttributeError):
        return ""
    if not n:
        return ""
    return ("%d hidden test%s of project %d %s graded by the autograder only: this score "
            "counts the public tests (docs/grader.md)" % (n, "" if n == 1 else "s", rub.project,
                                                         "is" if n == 1 else "are"))


def select_tests(args, rub):
    tests = list(rub.tests)
    if args.tests:
        wanted = [n for n in args.tests.split(",") if n]
        unknown = [n for n in wanted if rub.test(n) is None]
        if unknown:
            sys.exit("unknown test(s) %s; project %d has: %s" % (
                ", ".join(unknown), rub.project, ", ".join(t.name for t in rub.tests)))
        tests = [rub.test(n) for n in wanted]
    if args.public_only:
        tests = [t for t in tests if not t.hidden]
    return tests


def warnings_note(args, rub) -> str:
    """The compiler's warnings on the student's files (they scroll away)."""
    lines = []
    for f in rub.editable:
        path = os.path.join(args.build, "student", f[:-2] + ".warnings")
        try:
            with open(path, errors="replace") as fh:
                text = fh.read().strip()
        except OSError:
            continue
        if text:
            lines.append(text)
    return "\n".join(lines)


def _import_judge():
    from grader import judge  # noqa: F401


def cmd_grade(args, rub):
    if args.restore:
        return cmd_restore(rub)
    start = time.monotonic()
    warning = protect.message(protect.check(ROOT, rub.editable))
    be, why = choose_backend(args)
    say_backend(be, why, rub)
    if be.name == "qemu-tcg":
        warning = ("Warning: QEMU's TCG has no VMX, so no VM can run: these results do not "
                   "grade your code (use BACKEND=bochs).\n" + warning).rstrip("\n")
    if warning:
        print(warning)
    tests = select_tests(args, rub)
    note = hidden_note(rub)
    if note:
        print(note)
    if not tests:
        sys.exit("no tests to grade")
    planned = plan(rub, [t.name for t in tests])
    jobs = max(1, args.jobs)
    # Every test may crash its own boot: at most one boot per test plus one
    # per first batch, each phase at its limit.
    bound = ((len(planned) + jobs) * 2 * BOOT_LIMIT + sum(t.timeout for t in planned))
    not_after = start + bound
    print("grading %d tests of project %d, %d boot(s) at a time; the whole run ends within %.0f s"
          % (len(planned), rub.project, jobs, bound), flush=True)
    boots_dir = args.out or own_dir("grade")
    _clean(boots_dir)
    counter = iter(range(1, 10_000))
    count_lock = threading.Lock()
    # Every boot starts from one copy of the image, taken now: a `make` in
    # the same tree meanwhile cannot change what this run grades.
    iso = os.path.join(boots_dir, "kevlab.iso")
    try:
        shutil.copyfile(iso_path(args), iso)
    except OSError as e:
        sys.exit("cannot read the kernel image %s: %s (build it with `make`)" % (iso_path(args), e))

    def boot_fn(batch):
        with count_lock:
            n = next(counter)
        line = command_line(batch, args.seed, GRADE_EXTRA, rub)
        run_dir = os.path.join(boots_dir, "boot-%02d" % n)
        if args.verbose:
            print("boot %d: %s" % (n, line), flush=True)
        res = runner.boot(be, iso, line, run_dir, limits_for(batch, not_after),
                          expected=[t.name for t in batch])
        warn_cmdline(res, n)
        if args.verbose:
            print("boot %d ended: %s (%.2f s)" % (n, res.outcome.describe(), res.wall), flush=True)
        return res

    progress = report.Progress(len(planned))
    plock = threading.Lock()

    def on_done(ran):
        with plock:
            ok = ran.record is not None and ran.record.ended and ran.record.verdict == "pass"
            progress.update(ran.name, None if ok else False)

    def fits(batch):
        return len(command_line(batch, args.seed, GRADE_EXTRA, rub)) <= CMDLINE_SPACE
    # The judge and its hints are needed once the boots end: imported while
    # the emulator runs (compiling them, where Python writes no bytecode,
    # would otherwise add its time to every make grade).
    preload = threading.Thread(target=_import_judge, daemon=True)
    preload.start()
    ran = scheduler.run(planned, boot_fn, jobs, args.per_boot, fits, on_done)
    maxes = rub.max_scores(tests)
    preload.join()
    from grader import judge
    res = [judge.judge(t, r, rub.project, maxes[t.name]) for t, r in zip(tests, ran)]
    # A test the grader or the emulator failed is no verdict on the student:
    # it counts neither for nor against (and the summary says so).
    for r in res:
        if r.not_graded:
            r.score = r.max_score = 0.0
    wall = time.monotonic() - start
    style = report.Style(report.use_color(sys.stdout))
    print(report.summary(res, rub, args.seed, wall, style,
                         "make grade SEED=%s" % args.seed))
    header = "project %d, backend %s, seed %s" % (rub.project, be.name, args.seed)
    if note:
        header += "\n" + note
    if warning:
        header += "\n" + warning
    jpath, xpath = results.write(boots_dir, res, wall, header, rub.name)
    detail = report.details(res, style)
    if detail:
        print()
        print(detail)
    warns = warnings_note(args, rub)
    if warns:
        print()
        print(style.bold("The compiler warned about your code (fix these: they are often the bug):"))
        print(warns)
    print(style.dim("results: %s, %s; serial logs: %s/boot-*/serial.log"
                    % (_rel(jpath), _rel(xpath), _rel(boots_dir))))
    return 0 if all(r.passed for r in res) else 1


def _rel(path):
    """path relative to the current directory when it is inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _clean(out_dir):
    """Removes the previous run's boots and results from out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    for name in os.listdir(out_dir):
        path = os.path.join(out_dir, name)
        if name.startswith("boot-") and os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        elif name in ("results.json", "junit.xml", "kevlab.iso"):
            os.unlink(path)


def cmd_restore(rub):
    found = protect.check(ROOT, ())
    if found is None:
        print("no %s here: nothing to restore (an instructor's tree)" % protect.MANIFEST)
        return 0
    names = found["changed"] + found["missing"]
    if not names:
        print("every framework file is as released")
        return 0
    failed = protect.restore(ROOT, names)
    for n in names:
        print(("could not restore (no original in %s): " % protect.ORIGINALS
               if n in failed else "restored: ") + n)
    return 1 if failed else 0


def _stop_on_signal(signum, frame):
    """SIGTERM or SIGHUP: stop every emulator this run started, then exit."""
    runner.kill_all()
    print("\nstopped by signal %d" % signum, file=sys.stderr)
    os._exit(128 + signum)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "--batch" in argv:  # many submissions: grader/batch.py
        try:
            from grader import batch
        except ImportError:  # make release leaves the instructors' tools out
            sys.exit("--batch grades many submissions: it is an instructors' tool, not part of "
                     "the student release")
        return batch.main(argv)
    args = parse_args(argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop_on_signal)
    if args.command == "grade" and args.restore:  # needs no build
        return cmd_restore(None)
    try:
        rub = rubric_mod.load(args.build, args.project, rubric_path=args.rubric)
    except rubric_mod.RubricError as e:
        sys.exit("grade.py: %s" % e)
    try:
        if args.command == "run":
            return 0 if cmd_run(args, rub)[0].outcome.ok else 1
        if args.command == "check":
            return cmd_check(args, rub)
        if args.command == "gdb":
            return cmd_gdb(args, rub)
        if args.command == "bench":
            from grader import bench
            return bench.main(args)
        return cmd_grade(args, rub)
    except KeyboardInterrupt:
        runner.kill_all()
        print("\ninterrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
