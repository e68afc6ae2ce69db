r"""Reads the kernel's serial log: the `@@ ` frames of docs/protocol.md.

LogParser takes the log in pieces as it arrives (feed) and keeps one
TestRecord per test; parse() is the one-shot form. The parser never
raises on bad input: a crash halfway, garbage, a cut-off last line and
`\r\n` line ends are all normal in a log of a kernel under test.

Given the tests a boot was asked to run, in order, the parser also holds
the kernel to the protocol: tests begin in that order, `test data` and
`test end` frames belong to the test that is running, each test ends once,
and nothing follows the power-off. The first violation is kept
(Log.violation) and every frame after it is ignored: the boot's remaining
tests are not graded on it, and the summary says why.
"""

import time
from dataclasses import dataclass, field

FRAME = b"@@ "
MAX_LINES = 1000  # of a test's own output kept (the last ones), of a panic's or fault's details


def escape(value: bytes) -> str:
    """Escapes bytes the way the kernel writes frame values (docs/protocol.md).
    diff.visible() shows bytes to a person and follows other rules."""
    if not value:
        return "\\e"
    out = []
    for b in value:
        if b == 0x5C:
            out.append("\\\\")
        elif 0x21 <= b <= 0x7E:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


def unescape(text: str) -> bytes:
    """Undoes escape(). A malformed escape is kept as it was written."""
    if text == "\\e":
        return b""
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and text[i + 1:i + 2] == "\\":
            out.append(0x5C)
            i += 2
        elif c == "\\" and text[i + 1:i + 2] == "x" and _is_hex(text[i + 2:i + 4]):
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        else:
            out += c.encode("utf-8", "surrogateescape")
            i += 1
    return bytes(out)


def _is_hex(s: str) -> bool:
    return len(s) == 2 and all(c in "0123456789abcdefABCDEF" for c in s)


@dataclass
class Panic:
    """A `@@ panic` frame and the indented detail lines after it."""
    message: str
    details: list = field(default_factory=list)
    test: str | None = None  # the test running when it happened


@dataclass
class Fault:
    """A `@@ fault` frame: student code stopped (the test goes on to its end)."""
    message: str
    details: list = field(default_factory=list)


@dataclass
class TestRecord:
    """What the log says about one test."""
    name: str
    began: bool = False
    ended: bool = False
    verdict: str | None = None  # "pass", "fail" or "skip" once ended
    reason: str = ""  # the kernel's own reason after `fail`
    data: dict = field(default_factory=dict)  # key -> bytes
    repeated_keys: list = field(default_factory=list)
    panic: Panic | None = None
    faults: list = field(default_factory=list)  # Fault, in order
    lines: list = field(default_factory=list)  # non-frame lines while it ran
    begin_time: float | None = None
    end_time: float | None = None
    lost_begin: bool = False  # inferred: the crash cut off its begin frame

    @property
    def crashed(self) -> bool:
        return self.began and not self.ended


@dataclass
class Log:
    """Everything parsed from one boot's serial output."""
    cmdline: bytes | None = None  # from `@@ boot kevlab cmdline=`
    tests: dict = field(default_factory=dict)  # name -> TestRecord, in order
    panics: list = field(default_factory=list)
    done: dict | None = None  # {"passed": n, "failed": m}
    poweroff: str | None = None  # "ok" or "fail"
    unknown_frames: list = field(default_factory=list)
    partial_line: bytes = b""  # a last line with no newline (not parsed)
    violation: str | None = None  # the first protocol violation

    @property
    def booted(self) -> bool:
        return self.cmdline is not None

    def running(self) -> TestRecord | None:
        """The test that began and has not ended, if any."""
        for rec in reversed(list(self.tests.values())):
            if rec.crashed:
                return rec
        return None


class LogParser:
    """Incremental parser: feed() bytes as they arrive, read .log."""

    def __init__(self, expected=None):
        self.log = Log()
        self._buf = b""
        self._current = None  # TestRecord running
        self._panic = None  # Panic or Fault collecting detail lines
        self._expected = list(expected) if expected is not None else None
        self._next = 0  # index of the next test expected to begin

    def feed(self, data: bytes, now: float | None = None) -> list:
        """Adds output; returns the frames (as text) completed by it."""
        if now is None:
            now = time.monotonic()
        *lines, self._buf = (self._buf + data).split(b"\n")
        frames = []
        for line in lines:
            frame = self._line(line.rstrip(b"\r"), now)
            if frame is not None:
                frames.append(frame)
        self.log.partial_line = self._buf
        return frames

    def _line(self, line: bytes, now: float):
        if not line.startswith(FRAME):
            if self._panic is not None and line[:1] in (b" ", b"\t"):
                if len(self._panic.details) < MAX_LINES:  # a kernel printing forever
                    self._panic.details.append(_text(line))
            elif self._current is not None:
                kept = self._current.lines
                kept.append(_text(line))
                if len(kept) > 2 * MAX_LINES:  # a test printing forever
                    del kept[:-MAX_LINES]
            return None
        self._panic = None
        text = _text(line[len(FRAME):])
        if self.log.violation is not None:
            return text
        words = text.split(" ")
        kind = words[0]
        if self.log.poweroff is not None and self._expected is not None:
            self._violate("a frame after the power-off: %r" % text[:120])
            return text
        handler = {
            "boot": self._boot, "test": self._test, "panic": self._panic_frame,
            "fault": self._fault_frame, "done": self._done, "poweroff": self._poweroff,
        }.get(kind)
        if handler is None or not handler(words, text, now):
            self.log.unknown_frames.append(text)
        return text

    def _violate(self, what):
        if self.log.violation is None:
            self.log.violation = what

    def _record(self, name: str) -> TestRecord:
        rec = self.log.tests.get(name)
        if rec is None:
            rec = self.log.tests[name] = TestRecord(name)
        return rec

    def _boot(self, words, text, now):
        if len(words) >= 3 and words[1] == "kevlab" and words[2].startswith("cmdline="):
            self.log.cmdline = unescape(words[2][len("cmdline="):])
            return True
        return False

    def _test(self, words, text, now):
        if len(words) < 3 or not words[2]:
            return False
        what, name = words[1], words[2]
        if what == "begin" and len(words) == 3:
            if self._expected is not None:
                if self._current is not None:
                    self._violate("test %s began while %s had not ended" % (name, self._current.name))
                    return True
                want = self._expected[self._next] if self._next < len(self._expected) else None
                if name != want:
                    self._violate("test %s began, but %s" % (
                        name, "%s was next" % want if want else "every test asked for had run"))
                    return True
                self._next += 1
            rec = self._record(name)
            if rec.began and self._expected is not None:
                self._violate("test %s began twice" % name)
                return True
            rec.began, rec.begin_time = True, now
            self._current = rec
            return True
        if what in ("data", "end") and self._expected is not None and (
                self._current is None or self._current.name != name):
            self._violate("`test %s %s` while %s" % (
                what, name, "test %s was running" % self._current.name if self._current
                else "no test was running"))
            return True
        if what == "data" and len(words) == 5:
            rec = self._record(name)
            key = words[3]
            if key in rec.data:
                rec.repeated_keys.append(key)
            rec.data[key] = unescape(words[4])
            return True
        if what == "end" and len(words) >= 4 and words[3] in ("pass", "fail", "skip"):
            rec = self._record(name)
            rec.ended, rec.end_time = True, now
            rec.verdict = words[3]
            rec.reason = " ".join(words[4:])
            if self._current is rec:
                self._current = None
            return True
        return False

    def _panic_frame(self, words, text, now):
        running = self._current
        self._panic = Panic(text[len("panic"):].strip(),
                            test=running.name if running else None)
        self.log.panics.append(self._panic)
        if running is not None and running.panic is None:
            running.panic = self._panic
        return True

    def _fault_frame(self, words, text, now):
        if self._current is None:
            if self._expected is not None:
                self._violate("a fault frame while no test was running")
            return True
        self._panic = Fault(text[len("fault"):].strip())
        self._current.faults.append(self._panic)
        return True

    def _done(self, words, text, now):
        counts = {}
        for w in words[1:]:
            k, _, v = w.partition("=")
            if v.isdigit():
                counts[k] = int(v)
        self.log.done = counts
        return True

    def _poweroff(self, words, text, now):
        if len(words) == 2 and words[1] in ("ok", "fail"):
            self.log.poweroff = words[1]
            return True
        return False


def _text(line: bytes) -> str:
    # Frames are ASCII; anything else in a line is shown, never fatal.
    return line.decode("utf-8", "backslashreplace")


def parse(data: bytes, expected=None) -> Log:
    """Parses a whole serial log."""
    p = LogParser(expected)
    p.feed(data, now=0.0)
    return p.log
