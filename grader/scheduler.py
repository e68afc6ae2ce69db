"""Spreads tests over boots and runs the boots in parallel.

All tests share one boot (a boot costs far more than a test). When a test
crashes its boot (it began and did not end), the tests after it are resumed
in a fresh boot, shared out among the idle workers; a boot that ran no test
at all charges its failure to every test it was given, so every boot makes
progress and the run always ends.
"""

import threading
from dataclasses import dataclass

from grader import outcome as oc
from grader.protocol import TestRecord


@dataclass
class Planned:
    """A test as scheduled: its name and its limits."""
    name: str
    timeout: float
    budget: int


@dataclass
class Ran:
    """What happened to one test: its record (None if it never began) and
    the boot it ran in."""
    name: str
    record: object  # protocol.TestRecord | None
    boot: object  # runner.BootResult
    outcome: str  # oc.SUCCESS when it ended; else how its boot ended
    time: float


def split(items: list, parts: int) -> list:
    """items in `parts` contiguous chunks of nearly equal size."""
    parts = max(1, min(parts, len(items)))
    size, extra = divmod(len(items), parts)
    chunks, at = [], 0
    for i in range(parts):
        n = size + (1 if i < extra else 0)
        chunks.append(items[at:at + n])
        at += n
    return [c for c in chunks if c]


def settle(batch: list, boot) -> tuple:
    """Sorts a boot's tests into finished Ran records and tests to resume."""
    log = boot.log
    done, leftover, progressed = [], [], False
    for t in batch:
        rec = log.tests.get(t.name)
        if log.violation is not None and (rec is None or not rec.ended):
            done.append(Ran(t.name, rec, boot, oc.PROTOCOL_VIOLATION, 0.0))
            continue
        if rec is not None and rec.ended:
            done.append(Ran(t.name, rec, boot, oc.SUCCESS, _time(rec, boot)))
            progressed = True
        elif rec is not None and rec.began:
            kind = boot.outcome.kind
            if kind == oc.SUCCESS or kind == oc.KERNEL_FAILURE:
                kind = oc.NO_END_FRAME  # the kernel went on (or off) without ending it
            done.append(Ran(t.name, rec, boot, kind, _time(rec, boot)))
            progressed = True
        else:
            leftover.append(t)
    crashed = not boot.outcome.ok and log.done is None
    if leftover and crashed and log.booted and not any(r.outcome != oc.SUCCESS for r in done):
        # The boot crashed between tests: the kernel was starting the next
        # one, whose begin frame was lost with the bytes still in the UART.
        t = leftover.pop(0)
        rec = TestRecord(t.name, began=True, begin_time=boot.end, lost_begin=True)
        rec.panic = next((p for p in log.panics if p.test is None), None)
        done.append(Ran(t.name, rec, boot, boot.outcome.kind, 0.0))
        progressed = True
    if leftover and (not progressed or log.done is not None):
        # Nothing ran, or the kernel said it was done without these: resuming
        # would not help.
        kind = oc.NOT_RUN if boot.outcome.ok or log.done is not None else boot.outcome.kind
        done += [Ran(t.name, None, boot, kind, 0.0) for t in leftover]
        leftover = []
    return done, leftover


def _time(rec, boot) -> float:
    if rec.begin_time is None:
        return 0.0
    end = rec.end_time if rec.end_time is not None else boot.end
    return max(0.0, end - rec.begin_time)


def run(tests: list, boot_fn, jobs: int, per_boot: int | None = None,
        fits=None, on_done=None) -> list:
    """Runs every Planned test; returns their Ran records in test order.

    boot_fn(batch) boots once with a list of Planned tests and returns a
    BootResult. per_boot caps the tests of a boot; fits(batch) says whether
    a batch's command line fits. on_done(ran) is called as tests finish.
    """
    # One boot for every test first: a boot costs far more than a test, and
    # two emulators on two cores each run slower than one (measured: the
    # project-2 suite in one boot took 1.05x a bare boot, in two 1.4x).
    # Workers share out the tests left after a crash.
    queue = _cap(tests, per_boot, fits)
    results = {}
    lock = threading.Condition()
    state = {"busy": 0, "idle": 0, "error": None}

    def worker():
        while True:
            with lock:
                while not queue and state["busy"] and state["error"] is None:
                    state["idle"] += 1
                    lock.wait()
                    state["idle"] -= 1
                if not queue or state["error"] is not None:
                    lock.notify_all()
                    return
                batch = queue.pop(0)
                state["busy"] += 1
            try:
                boot = boot_fn(batch)
                done, leftover = settle(batch, boot)
            except BaseException as e:  # report it once, stop the others
                with lock:
                    state["error"] = e
                    state["busy"] -= 1
                    lock.notify_all()
                return
            with lock:
                for r in done:
                    results[r.name] = r
                if leftover:
                    helpers = min(state["idle"], len(leftover) - 1)
                    for chunk in split(leftover, helpers + 1):
                        queue.extend(_cap(chunk, per_boot, fits))
                state["busy"] -= 1
                lock.notify_all()
            if on_done:
                for r in done:
                    on_done(r)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, jobs))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if state["error"] is not None:
        raise state["error"]
    return [results[t.name] for t in tests]


def _cap(batch: list, per_boot, fits) -> list:
    """Splits a batch into batches of at most per_boot tests that fit."""
    out, cur = [], []
    for t in batch:
        if cur and ((per_boot and len(cur) >= per_boot) or (fits and not fits(cur + [t]))):
            out.append(cur)
            cur = []
        cur.append(t)
    if cur:
        out.append(cur)
    return out
