"""What the grader prints: progress, the one-screen summary, the details.

Colors only when the stream is a terminal and NO_COLOR is unset or empty
(https://no-color.org).
"""

import os
import sys


def use_color(stream) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")


class Style:
    def __init__(self, color: bool):
        self.color = color

    def _wrap(self, code, text):
        return "\x1b[%sm%s\x1b[0m" % (code, text) if self.color else text

    def good(self, t):
        return self._wrap("32;1", t)

    def bad(self, t):
        return self._wrap("31;1", t)

    def dim(self, t):
        return self._wrap("2", t)

    def bold(self, t):
        return self._wrap("1", t)


class Progress:
    """`[done/total]` as tests finish: one rewritten line on a terminal,
    one line per test otherwise."""

    def __init__(self, total: int, stream=None):
        self.total, self.done = total, 0
        self.stream = stream or sys.stdout
        self.tty = getattr(self.stream, "isatty", lambda: False)()

    def update(self, name: str, passed: bool | None):
        self.done += 1
        mark = "" if passed is None else (" ok" if passed else " FAILED")
        line = "[%d/%d] %s%s" % (self.done, self.total, name, mark)
        if self.tty:
            self.stream.write("\r\x1b[K" + line)
            if self.done == self.total:
                self.stream.write("\r\x1b[K")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


CHECK_WIDTH = 160  # make check: detail lines cut to this width
DETAIL_WIDTH = 200
SUMMARY_MAX = 400  # characters of a reason in the summary (a kernel's 1 MB panic message)
DETAIL_LINES = 200  # lines of one failure's details; the whole story is in the serial log


def clip(text: str, limit: int) -> str:
    """text, or its start and its end around a note of what was cut: the end
    often says where (`... (f() at F:L)`)."""
    if len(text) <= limit:
        return text
    half = max(1, limit // 2)
    return "%s[... %d characters cut ...]%s" % (text[:half], len(text) - 2 * half, text[-half:])


def shown(text: str) -> str:
    """text for a terminal: control characters (an escape sequence that
    would clear the screen, a carriage return) written as \\xNN."""
    return "".join(c if c == "\t" or not (ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0)
                   else "\\x%02x" % ord(c) for c in text)


def fmt_points(x: float) -> str:
    return "%.1f" % x if x != int(x) else "%d" % x


# Tests in a row that stopped at the same place in student code (a TODO()
# every test of a part reaches) are one line more, not one line each,
# from this many on: a skeleton's `make grade` fits on a screen.
SAME_STOP_RUN = 3


def _same_stop_run(results, i):
    """The failed tests right after results[i] that stopped where it did."""
    r, run = results[i], []
    if r.passed or not r.fault:
        return run
    for x in results[i + 1:]:
        if x.passed or x.fault != r.fault or x.not_graded:
            break
        run.append(x)
    return run


def summary(results, rubric, seed, wall: float, style: Style, rerun: str) -> str:
    """The summary: a line per test, a line per category, the total, the seed.
    A failure's reason is whole: reasons are written short, and a cut
    file:line would send a student to the wrong line."""
    width = max([len(r.name) for r in results] + [4])
    lines = []
    skip = 0
    for i, r in enumerate(results):
        if skip:
            skip -= 1
            continue
        verdict = (style.good("PASS") if r.passed else
                   style.dim("----") if r.not_graded else style.bad("FAIL"))
        line = "%s  %-*s %6.2f s %5s/%-5s%-7s" % (verdict, width, r.name, r.time,
                                                fmt_points(r.score), fmt_points(r.max_score),
                                                "hidden" if r.hidden else "")
        if not r.passed:
            line += shown(clip(r.summary.split("\n")[0], SUMMARY_MAX))
        lines.append(line.rstrip())
        run = _same_stop_run(results, i)
        if len(run) >= SAME_STOP_RUN:
            skip = len(run)
            lines.append("%s  ... and %d more tests that stopped there too (%s to %s), %s/%s"
                         % (style.bad("FAIL"), len(run), run[0].name, run[-1].name,
                            fmt_points(round(sum(x.score for x in run), 1)),
                            fmt_points(round(sum(x.max_score for x in run), 1))))
    lines.append("")
    total = maximum = 0.0
    for cat in rubric.categories:
        mine = [r for r in results if r.category == cat.name]
        if not mine:
            continue
        got, most = sum(r.score for r in mine), sum(r.max_score for r in mine)
        npass = sum(r.passed for r in mine)
        total, maximum = total + got, maximum + most
        lines.append("%-12s %5s / %-5s (%d of %d tests)" % (cat.name, fmt_points(round(got, 1)),
                                                          fmt_points(round(most, 1)), npass, len(mine)))
    npass = sum(r.passed for r in results)
    head = style.good if npass == len(results) else style.bad
    lines.append(head("%-12s %5s / %-5s (%d of %d tests passed)"
                      % ("total", fmt_points(round(total, 1)), fmt_points(round(maximum, 1)),
                         npass, len(results))))
    ungraded = [r.name for r in results if r.not_graded]
    if ungraded:
        lines.append(style.bad("not graded (a failure of the grader or the emulator, not of your "
                               "code): " + ", ".join(ungraded)))
    lines.append("seed %s (%s reproduces this test data); %.1f s" % (seed, rerun, wall))
    return "\n".join(lines)


def _cut(line: str, width: int) -> str:
    return line if len(line) <= width else line[:width - 3] + "..."


def details(results, style: Style, width: int = DETAIL_WIDTH) -> str:
    """The failures in full: the case, the diff, the hints, the log path.
    Tests that stopped at the same place in student code (twelve tests at
    one TODO()) are shown once, with the list of tests."""
    failed = [r for r in results if not r.passed]
    same = {}
    for r in failed:
        if r.fault:
            same.setdefault(r.fault, []).append(r.name)
    out = []
    for r in failed:
        if r.fault and same[r.fault][0] != r.name:
            continue
        out.append(style.bold("--- %s: %s" % (r.name, shown(clip(r.summary, SUMMARY_MAX)))))
        lines = [d for d in r.details + r.fault_details if d]
        out += [_cut(shown(d), width) for d in lines[:DETAIL_LINES]]
        if len(lines) > DETAIL_LINES:
            out.append("... %d more lines (see the serial log)" % (len(lines) - DETAIL_LINES))
        others = same.get(r.fault, [])[1:] if r.fault else []
        if others:
            out.append("The same stop ended %d more test%s: %s" % (
                len(others), "" if len(others) == 1 else "s", ", ".join(others)))
        if r.serial_log:
            out.append(style.dim("whole serial log: " + r.serial_log))
        out.append("")
    return "\n".join(out).rstrip("\n")
