"""Decides whether one test passed, and says why not.

A test passes only when its `test end` frame says pass, every expected
`test data` value matches byte for byte (or, for Present, is there and
holds what it must), and no outcome key it did not expect was reported.
"""

import re
from dataclasses import dataclass, field

from grader import diff
from grader import outcome as oc
from grader.rubric import Present, expected_bytes

LOG_TAIL = 12  # lines of a crashed test's log shown
# Endings where the grader stopped the boot: their detail is its own words.
STOPPED_BY_GRADER = (oc.TIMEOUT, oc.RUNAWAY_OUTPUT)


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
    params: dict = field(default_factory=dict)
    serial_log: str = ""  # path of the boot's whole serial log


def judge(test, params: dict, ran, outcome_keys=(), max_score: float = 0.0) -> Result:
    """The Result of rubric Test `test` drawn with params, run as `ran`."""
    res = Result(test.name, test.category, False, "", time=ran.time,
                 max_score=max_score, hidden=test.hidden, params=params,
                 serial_log=ran.boot.serial_path if ran.boot else "")
    rec = ran.record
    if rec is None or not rec.began:
        _not_run(res, ran)
        return res
    if not rec.ended:
        _crashed(res, ran)
        return res
    problems = []
    expected = test.expect(params)
    # An outcome key reported where another was expected: say that (below),
    # not that the expected one is missing.
    other_outcome = any(k in rec.data and k not in expected for k in outcome_keys)
    for key, want in expected.items():
        got = rec.data.get(key)
        if got is None and key in outcome_keys and other_outcome:
            continue
        if got is None:
            problems.append("the test reported no `%s` (expected %s)" % (key, _show(want)))
        elif isinstance(want, Present):
            if not want.matches(got):
                problems.append("`%s` is %s, but %s was expected%s"
                                % (key, _quote(got), want.describe(),
                                   " (" + want.why + ")" if want.why else ""))
        else:
            want_b = expected_bytes(want)
            if got != want_b and _number(want, got) is not None:
                problems.append("wrong `%s`: %s, expected %s"
                                % (key, _number(want, got), _number(want, want_b)))
            elif got != want_b:
                problems.append("wrong `%s`:\n%s" % (key, _indent(diff.unified(want_b, got, key))))
    for key in outcome_keys:
        if key in rec.data and key not in expected:
            problems.append("unexpected `%s` %s%s: %s" % (key, _quote(rec.data[key]),
                                                          _as_hex(key, rec.data[key]),
                                                          _unexpected_hint(key, expected)))
    for key in rec.repeated_keys:
        problems.append("`%s` was reported more than once (the last value counts)" % key)
    if rec.verdict == "skip":
        problems.append("the kernel skipped the test: " + (rec.reason or "(no reason given)"))
    elif rec.verdict != "pass":
        problems.append("the kernel's own check failed: " + (rec.reason or "(no reason given)"))
    if problems:
        lines = [line for p in problems for line in p.split("\n")]
        res.summary = lines[0].rstrip(":")
        res.details = lines[1:] if not lines[0].endswith(":") else lines
        return res
    res.passed = True
    res.score = max_score
    return res


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


def _crashed(res, ran):
    rec, boot = ran.record, ran.boot
    kind = ran.outcome
    if rec.panic is not None:
        res.summary = "panic: " + _panic_summary(rec.panic.message)
        res.details = ["The kernel panicked while this test ran:",
                       "  " + rec.panic.message] + ["  " + d for d in rec.panic.details]
    else:
        res.summary = kind + (": " + boot.outcome.detail if kind in STOPPED_BY_GRADER
                              and boot.outcome.detail else "")
        res.details = ["The test began and never ended: " + kind + "."]
        if boot.outcome.detail and kind not in STOPPED_BY_GRADER:
            res.details.append("The emulator said: " + boot.outcome.detail)
    res.details.append(oc.EXPLAIN.get(kind, ""))
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


# What TODO() panics with (kernel/panic.h; tests/grader/test_judge.py checks they agree).
TODO_MESSAGE = "not yet implemented"


def _panic_summary(message: str) -> str:
    """The panic's own words first: `at F:L in f(): words` -> `words (f() at F:L)`."""
    m = re.match(r"at (\S+) in (\S+\(\)): (.*)$", message)
    if not m:
        return message
    where, func, words = m.groups()
    if words == TODO_MESSAGE:  # TODO(): say which function is left to write
        return "TODO() in %s at %s: %s" % (func, where, words)
    return "%s (%s at %s)" % (words, func, where)


def _boot_panic(log) -> list:
    if not log.panics:
        return []
    p = log.panics[0]
    return ["The kernel panicked: " + p.message] + ["  " + d for d in p.details]


def _unexpected_hint(key, expected) -> str:
    code = expected.get("exit_code")
    if key == "vm_error" and isinstance(code, int):
        return ("the VM was stopped by an error where the guest should have run to "
                "HaltCpu(%d)" % code)
    if key == "vm_error":
        return "the VM was stopped by an error where the guest should have run to its end"
    if key == "exit_code":
        return "the guest ran to HaltCpu where the VM should have been stopped by an error"
    return "this test should not report it"


def _number(want, value: bytes):
    """'765200 (0xbad10)' when an int was expected and value is one (a byte
    diff of decimal digits says nothing); else None."""
    if not isinstance(want, int) or isinstance(want, bool):
        return None
    try:
        n = int(value)
    except ValueError:
        return None
    return "%d (%#x)" % (n, n)


def _as_hex(key, value: bytes) -> str:
    """' (0xbad)' for an exit code: the guests' own codes are written in hex."""
    if key != "exit_code":
        return ""
    try:
        return " (%#x)" % int(value)
    except ValueError:
        return ""


def _show(want) -> str:
    if isinstance(want, Present):
        return want.describe()
    return _quote(expected_bytes(want))


def _quote(value: bytes, limit: int = 200) -> str:
    shown = diff.visible(value)
    if len(shown) > limit:
        shown = shown[:limit] + "..."
    return '"' + shown + '"'


def _indent(text: str) -> str:
    return "\n".join("    " + l for l in text.split("\n"))
