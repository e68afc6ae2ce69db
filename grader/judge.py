"""Decides whether one test passed, and says why not.

A graded test (kev/gtest.h) runs its cases in the kernel, which compares
each case's outcome with the expected one byte for byte and reports the
first case that failed: its inputs, what the VM did and what it should
have done, and windows of the capture around the first difference. A test
passes only when its `test end` frame says pass, every planned case
passed (`cases n/n`) and no case was reported failed.

The first line of a failure names its real cause: student code that
stopped (its fault, e.g. a TODO()) before a wrong outcome, a wrong outcome
before a wrong capture. Hints (grader/hints.py) follow the details.
"""

import re
from dataclasses import dataclass, field

from grader import diff, hints
from grader import outcome as oc

LOG_TAIL = 12  # lines of a crashed test's log shown
# Endings where the grader stopped the boot: their detail is its own words.
STOPPED_BY_GRADER = (oc.TIMEOUT, oc.RUNAWAY_OUTPUT)
# What TODO() says (kernel/panic.h; tests/grader/test_judge.py checks they agree).
TODO_MESSAGE = "not yet implemented"


@dataclass
class Result:
    """The verdict on one test, ready for the reports."""
    name: str
    category: str
    passed: bool
    summary: str  # one line: why it failed ('' when it passed)
    details: list = field(default_factory=list)  # lines shown after the summary
    time: float = 0.0
    score: float = 0.0
    max_score: float = 0.0
    hidden: bool = False
    serial_log: str = ""  # path of the boot's whole serial log
    fault: str = ""  # the student code's stop, if that is why it failed (groups failures)
    fault_details: list = field(default_factory=list)  # its backtrace
    not_graded: bool = False  # the grader or the emulator failed, not the student's code


def judge(test, ran, project: int = 0, max_score: float = 0.0) -> Result:
    """The Result of rubric Test `test`, run as `ran` (scheduler.Ran)."""
    res = Result(test.name, test.category, False, "", time=ran.time, max_score=max_score,
                 hidden=test.hidden, serial_log=ran.boot.serial_path if ran.boot else "")
    rec = ran.record
    if ran.outcome == oc.PROTOCOL_VIOLATION:
        res.summary = "not graded: protocol violation: %s" % ran.boot.log.violation
        res.details = [oc.EXPLAIN[oc.PROTOCOL_VIOLATION]]
        res.not_graded = True
        return res
    if rec is None or not rec.began:
        _not_run(res, ran)
        return res
    if not rec.ended:
        _crashed(res, ran)
        return res
    data = rec.data
    cases = data.get("cases")
    done, planned = _cases(cases)
    # A project's test (kev/gtest.h) must report `cases n/n`; the kernel's
    # own graded self-tests ("project 0") report only their verdict.
    needs_cases = test.project > 0
    if rec.verdict == "pass" and "failed_case" not in data and (
            (not needs_cases and cases is None) or (planned and done == planned)):
        res.passed = True
        res.score = max_score
        return res
    if rec.verdict == "skip":
        res.summary = "not graded: the kernel skipped the test: " + (rec.reason or "no reason given")
        res.not_graded = True
        return res
    _failed(res, rec, project, done, planned)
    return res


def _cases(value):
    m = re.match(rb"^(\d+)/(\d+)$", value or b"")
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


def _text(data, key):
    v = data.get(key)
    return v.decode("utf-8", "replace") if v is not None else None


def _int(data, key) -> int:
    """A number the kernel reported; 0 when it is missing or not a number."""
    try:
        return int(_text(data, key) or 0)
    except ValueError:
        return 0


def _number(v: str) -> str:
    """'4294967296 (0x100000000)': a 64-bit exit code both ways."""
    try:
        n = int(v) & 0xFFFFFFFFFFFFFFFF
    except (TypeError, ValueError):
        return str(v)
    return "%d (%#x)" % (n, n)


def fault_summary(message: str) -> str:
    """A student stop in a few words: `TODO() in f() at F:L` without the
    TODO's own words, others as the kernel put them."""
    if message.startswith("TODO() in ") and message.endswith(": " + TODO_MESSAGE):
        return message[:-len(": " + TODO_MESSAGE)]
    return message


def _failed(res, rec, project, done, planned):
    data = rec.data
    fault = rec.faults[0] if rec.faults else None
    error, want_error = _text(data, "error"), _text(data, "expect.error")
    code, want_code = _text(data, "exit_code"), _text(data, "expect.exit_code")
    message = _text(data, "message")
    lines = []
    if "failed_case" in data:
        index = _text(data, "failed_case")
        lines.append("case %s of %s failed%s; its inputs: %s"
                     % (index, planned if planned else "?",
                        " (the cases before it passed)" if index != "0" else "",
                        _text(data, "inputs") or "(none)"))
    if fault is not None and error == "KEV_ESTUDENT":
        res.fault = fault.message
        res.fault_details = list(fault.details)
        summary = fault_summary(fault.message)
        lines.append("your code stopped: " + fault.message)
    elif want_error is not None and code is not None:
        summary = "the VM exited with code %s where it should have stopped with %s" % (
            _number(code), want_error)
    elif want_code is not None and error is not None:
        summary = "the VM stopped with %s where it should have exited with code %s" % (
            error, _number(want_code))
        if message:
            summary += ": " + message
    elif want_code is not None and code is not None and code != want_code:
        summary = "the VM exited with code %s, expected %s" % (_number(code), _number(want_code))
    elif want_error is not None and error is not None and error != want_error:
        summary = "the VM stopped with %s, expected %s" % (error, want_error)
    elif "capture.len" in data:
        summary = "wrong capture: %s" % _capture_sentence(data)
    elif rec.reason:
        summary = "the kernel's own check failed: " + rec.reason
    elif planned is None:
        summary = "failed without saying why (the test reported no `cases n/n`)"
    else:
        summary = "failed without saying why (cases %d/%d)" % (done, planned)
    if message and error and not summary.endswith(message) and error != "KEV_ESTUDENT":
        lines.append("the VM's message: " + message)
    # Code that stopped at a TODO() printed nothing of its own: what the
    # test expected to see is no news then.
    at_todo = res.fault is not None and res.fault.startswith("TODO()")
    if "capture.len" in data and not _capture_equal(data) and not at_todo:
        lines += _capture_diff(data)
    case = hints.Case(res.name, dict(data))
    if fault is not None:
        case.data["fault"] = fault.message.encode()
    found = hints.for_case(project, case)
    lines += ["hint: " + h for h in found]
    res.summary = summary
    res.details = lines


def _capture_equal(data):
    return (data.get("capture") == data.get("expect.capture")
            and data.get("capture.len") == data.get("expect.capture.len"))


def _capture_sentence(data):
    n, m = _text(data, "capture.len"), _text(data, "expect.capture.len")
    got, want = data.get("capture", b""), data.get("expect.capture", b"")
    at = _int(data, "capture.at")
    i = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]), min(len(got), len(want)))
    return "%s bytes printed, %s expected, the first difference at byte %d" % (n, m, at + i)


def _capture_diff(data):
    at = _int(data, "capture.at")
    got, want = data.get("capture", b""), data.get("expect.capture", b"")
    head = "the capture%s (- expected, + printed): %s" % (
        " from byte %d" % at if at else "", _capture_sentence(data))
    # The diff's own first line counts from the start of the windows and
    # knows only their lengths: the head says it for the whole capture.
    lines = diff.unified(want, got, "capture").split("\n")[1:]
    return [head] + ["    " + line for line in lines]


def _not_run(res, ran):
    if ran.outcome == oc.NOT_RUN:
        res.summary = "not run: the kernel did not start this test"
        res.details = ["The kernel finished its run without starting this test: is it "
                       "built into this kernel (its name spelled the same)?"]
    else:
        how = ran.boot.outcome
        res.summary = "not run: the boot ended before it (%s)" % how.kind
        res.details = ["The boot ended before this test began: " + how.describe() + ".",
                       oc.EXPLAIN.get(how.kind, "")]
        res.details += _boot_panic(ran.boot.log)
        res.not_graded = how.kind == oc.EMULATOR_ERROR


def _crashed(res, ran):
    rec, boot = ran.record, ran.boot
    kind = ran.outcome
    if rec.panic is not None:
        res.summary = "the kernel panicked: " + _panic_summary(rec.panic.message)
        res.details = ["The kernel itself panicked while this test ran (a bug in the "
                       "framework, or in code the project gives you, not a fault of your "
                       "ring-3 code, which costs only its test):",
                       "  " + rec.panic.message] + ["  " + d for d in rec.panic.details]
    else:
        res.summary = kind + (": " + boot.outcome.detail if kind in STOPPED_BY_GRADER
                              and boot.outcome.detail else "")
        res.details = ["The test began and never ended: " + kind + "."]
        if boot.outcome.detail and kind not in STOPPED_BY_GRADER:
            res.details.append("The emulator said: " + boot.outcome.detail)
    res.details.append(oc.EXPLAIN.get(kind, ""))
    res.not_graded = kind == oc.EMULATOR_ERROR
    if rec.lost_begin:
        res.details.append("The crash cut off this test's `test begin` line (its bytes were "
                           "still in the serial port): it happened as this test started.")
    tail = [l for l in rec.lines if l.strip()][-LOG_TAIL:]
    if tail:
        res.details.append("The last lines this test printed:")
        res.details += ["  | " + l for l in tail]
    if boot.log.partial_line:
        res.details.append("  | " + boot.log.partial_line.decode("utf-8", "backslashreplace")
                           + "   <- cut off here")


def _panic_summary(message: str) -> str:
    """The panic's own words first: `at F:L in f(): words` -> `words (f() at F:L)`."""
    m = re.match(r"at (\S+) in (\S+\(\)): (.*)$", message)
    if not m:
        return message
    where, func, words = m.groups()
    if words == TODO_MESSAGE:
        return "TODO() in %s at %s" % (func, where)
    return "%s (%s at %s)" % (words, func, where)


def _boot_panic(log) -> list:
    if not log.panics:
        return []
    p = log.panics[0]
    return ["The kernel panicked: " + p.message] + ["  " + d for d in p.details]
