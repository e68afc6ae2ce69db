"""Runs one boot: a patched ISO copy, an emulator, its serial output.

Each boot gets its own run directory (the emulator locks its image, and the
logs stay there). The serial file is followed while the emulator runs, so
output can be shown live and each test's wall-clock limit can be enforced
from the moment its `test begin` frame appears. Emulators are always
stopped with SIGKILL: Bochs can deadlock in its SIGTERM handler. They run
in a session of their own, so a Ctrl-C reaches only the grader, which then
stops them (kill_all).
"""

import contextlib
import os
import select
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field

from grader import image
from grader import outcome as oc
from grader.protocol import Log, LogParser

POLL = 0.02  # seconds between looks at the serial file
MAX_OUTPUT = 64 << 20  # bytes a boot's logs may grow to (a runaway guest)
CHUNK = 1 << 20  # bytes of serial output read at a time


@dataclass
class Limits:
    """Time limits of one boot. All in seconds; budget in instructions."""
    boot: float = 30.0  # before the first test begins, and after the last ends
    tests: dict = field(default_factory=dict)  # test name -> its wall-clock limit
    budget: int | None = None
    not_after: float | None = None  # time.monotonic() the whole run must end by

    def total(self) -> float:
        """The most a boot may take: every phase at its limit."""
        return 2 * self.boot + sum(self.tests.values())


@dataclass
class BootResult:
    outcome: oc.BootOutcome
    log: Log
    run_dir: str
    cmdline: str
    start: float  # time.monotonic()
    end: float

    @property
    def serial_path(self) -> str:
        return os.path.join(self.run_dir, "serial.log")

    @property
    def wall(self) -> float:
        return self.end - self.start


_live = set()
_live_lock = threading.Lock()
_stopping = threading.Event()


def kill_all():
    """Stops every emulator still running, and any about to start (Ctrl-C)."""
    _stopping.set()
    with _live_lock:
        for proc in list(_live):
            _kill(proc)


def _kill(proc):
    try:
        proc.kill()  # SIGKILL, never SIGTERM (see the module comment)
    except OSError:
        pass


def boot(backend, iso: str, cmdline: str, run_dir: str, limits: Limits,
         on_output=None, keep_image: bool = False, expected=None) -> BootResult:
    """Boots iso with cmdline under backend; returns how it went.

    on_output(bytes) is called with serial output as it arrives. expected:
    the tests the command line names, in order, which the kernel must
    follow (protocol.LogParser).
    """
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    start = time.monotonic()
    parser = LogParser(expected)

    def result(outcome):
        return BootResult(outcome, parser.log, run_dir, cmdline, start, time.monotonic())

    problem = backend.missing() or ("interrupted" if _stopping.is_set() else None)
    if problem:
        return result(oc.BootOutcome(oc.EMULATOR_ERROR, problem))
    try:
        img = image.make_boot_image(iso, cmdline, os.path.join(run_dir, "kevlab.iso"))
    except (image.ImageError, OSError) as e:
        return result(oc.BootOutcome(oc.EMULATOR_ERROR, str(e)))
    serial = os.path.join(run_dir, "serial.log")
    open(serial, "wb").close()
    argv, env = backend.command(run_dir, os.path.basename(img), "serial.log", limits.budget)
    with open(os.path.join(run_dir, "cmdline"), "w") as f:
        f.write(cmdline + "\n")
    with open(os.path.join(run_dir, "command"), "w") as f:
        f.write(" ".join(argv) + "\n")
    try:
        with open(os.path.join(run_dir, "emulator.out"), "wb") as out, \
             open(os.path.join(run_dir, "emulator.err"), "wb") as err:
            proc = subprocess.Popen(argv, cwd=run_dir, env=env, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=err, start_new_session=True)
    except OSError as e:
        return result(oc.BootOutcome(oc.EMULATOR_ERROR, "cannot start %s: %s" % (argv[0], e)))
    with _live_lock:
        _live.add(proc)
        if _stopping.is_set():
            _kill(proc)
    try:
        killed = _follow(proc, serial, parser, limits, start, on_output, run_dir)
    finally:
        if proc.poll() is None:
            _kill(proc)
        proc.wait()
        with _live_lock:
            _live.discard(proc)
    if not keep_image:
        for name in os.listdir(run_dir):
            if name.startswith("kevlab.iso"):  # the copy and Bochs's .lock
                os.unlink(os.path.join(run_dir, name))
    if killed is not None:
        return result(killed)
    return result(backend.classify(proc.returncode, run_dir, parser.log))


def _follow(proc, serial, parser, limits, start, on_output, run_dir):
    """Feeds the serial file to parser until proc exits or a limit passes.
    Returns the outcome when it killed proc, else None."""
    polls = total = 0
    backlog = False
    with _exit_fd(proc) as exit_fd, open(serial, "rb") as f:

        def take():
            nonlocal total, backlog
            data = f.read(CHUNK)
            backlog = len(data) == CHUNK
            total += len(data)
            if data:
                parser.feed(data, time.monotonic())
                if on_output:
                    on_output(data)

        def stop(outcome):
            _kill(proc)
            proc.wait()
            take()
            return outcome

        while True:
            polls += 1
            exited = _wait(proc, exit_fd, 0 if backlog else POLL)
            take()
            if total > MAX_OUTPUT or (polls % 25 == 0 and _output_size(run_dir) > MAX_OUTPUT):
                return stop(oc.BootOutcome(
                    oc.RUNAWAY_OUTPUT, "the boot's logs grew past %d MB" % (MAX_OUTPUT >> 20)))
            if exited:
                if backlog:
                    continue
                return None
            deadline, why = _deadline(parser.log, limits, start)
            if time.monotonic() > deadline:
                return stop(oc.BootOutcome(oc.TIMEOUT, why))


def _output_size(run_dir) -> int:
    """Bytes of the boot's logs (everything but the image)."""
    total = 0
    for name in os.listdir(run_dir):
        if not name.startswith("kevlab.iso"):
            try:
                total += os.path.getsize(os.path.join(run_dir, name))
            except OSError:
                pass
    return total


def _exit_fd(proc):
    """A file that turns readable when proc exits (Linux's pidfd), so that
    _wait sees the exit at once: Popen.wait(timeout) polls with sleeps of up
    to 8 ms here, a boot's last milliseconds. Elsewhere a context of None."""
    try:
        return os.fdopen(os.pidfd_open(proc.pid), "rb", buffering=0)
    except (AttributeError, OSError):
        return contextlib.nullcontext(None)


def _wait(proc, exit_fd, seconds) -> bool:
    """Whether proc exited, waiting up to seconds for it to."""
    if seconds and exit_fd is not None:
        select.select([exit_fd], [], [], seconds)
        return proc.poll() is not None
    try:
        proc.wait(timeout=seconds)
        return True
    except subprocess.TimeoutExpired:
        return False


def _deadline(log: Log, limits: Limits, start: float) -> tuple:
    """The time the boot must have moved on by, and what to say if not."""
    cap = start + limits.total()
    options = [(cap, "the boot took longer than its %.0f s limit" % limits.total())]
    if limits.not_after is not None:
        options.append((limits.not_after, "the whole run reached its time limit"))
    running = log.running()
    if running is not None and running.name in limits.tests:
        t = limits.tests[running.name]
        options.append((running.begin_time + t,
                        "test %s ran longer than its %g s limit" % (running.name, t)))
    elif running is None:
        ends = [r.end_time for r in log.tests.values() if r.end_time is not None]
        if not ends:
            options.append((start + limits.boot, "the kernel did not start a test within "
                            "%g s of booting" % limits.boot))
        else:
            options.append((max(ends) + limits.boot, "the kernel did not move on within "
                            "%g s of the last test's end" % limits.boot))
    return min(options, key=lambda o: o[0])
