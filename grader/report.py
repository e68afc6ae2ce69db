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


def fmt_points(x: float) -> str:
    return ("%.2f" % x).rstrip("0").rstrip(".")


def summary(results, rubric, seed, wall: float, style: Style, rerun: str) -> str:
    """The summary: a line per test, a line per category, the total, the seed."""
    width = max([len(r.name) for r in results] + [4])
    lines = []
    for r in results:
        verdict = style.good("PASS") if r.passed else style.bad("FAIL")
        line = "%s  %-*s %6.2f s %6s/%-6s%-7s" % (verdict, width, r.name, r.time,
                                                fmt_points(r.score), fmt_points(r.max_score),
                                                "hidden" if r.hidden else "")
        if not r.passed:
            line += _short(r.summary, 56)
        lines.append(line.rstrip())
    lines.append("")
    total = maximum = 0.0
    for cat in rubric.categories:
        mine = [r for r in results if r.category == cat.name]
        if not mine:
            continue
        got, most = sum(r.score for r in mine), sum(r.max_score for r in mine)
        npass = sum(r.passed for r in mine)
        total, maximum = total + got, maximum + most
        lines.append("%-12s %6s / %-4s (%d of %d tests)" % (cat.name, fmt_points(got),
                                                           fmt_points(most), npass, len(mine)))
    npass = sum(r.passed for r in results)
    head = style.good if npass == len(results) else style.bad
    lines.append(head("%-12s %6s / %-4s (%d of %d tests passed)"
                      % ("total", fmt_points(total), fmt_points(maximum), npass, len(results))))
    lines.append("seed %s (%s reproduces these test inputs); %.1f s" % (seed, rerun, wall))
    return "\n".join(lines)


def details(results, style: Style) -> str:
    """The failures in full: diff, panic and backtrace, reason, log path."""
    out = []
    for r in results:
        if r.passed:
            continue
        out.append(style.bold("--- %s: %s" % (r.name, r.summary)))
        if r.params:
            out.append("inputs: " + ", ".join("%s=%r" % kv for kv in r.params.items()))
        out += [d for d in r.details if d]
        if r.serial_log:
            out.append(style.dim("whole serial log: " + r.serial_log))
        out.append("")
    return "\n".join(out).rstrip("\n")


def _short(text: str, n: int) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= n else text[:n - 3] + "..."
