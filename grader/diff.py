r"""Shows how two byte strings differ, with every invisible byte made visible.

Printable ASCII stands for itself; a backslash is `\\`, a tab `\t`, a
newline `\n` at the end of its line, a trailing space `\x20`, and every
other byte `\xNN` (so UTF-8 text shows as its bytes: the comparison is
byte for byte, and two look-alike characters must not look alike here).
"""

import difflib

WRAP = 64  # bytes of a long line per diff line


def visible(data: bytes) -> str:
    """One line of data (no newline inside), made visible.

    Not protocol.escape(), on purpose: that one is the frame format, which
    escapes every space so that a value stays one word and writes the empty
    value as `\\e`; this one is for a person reading a diff, so spaces stay
    spaces (but trailing ones) and a tab or a newline is named."""
    out = []
    for b in data:
        if b == 0x5C:
            out.append("\\\\")
        elif b == 0x09:
            out.append("\\t")
        elif b == 0x0A:
            out.append("\\n")
        elif 0x20 <= b <= 0x7E:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    text = "".join(out)
    stripped = text.rstrip(" ")
    return stripped + "\\x20" * (len(text) - len(stripped))


def visible_lines(data: bytes, wrap: int = WRAP) -> list:
    """data as visible lines: split after each newline, long lines wrapped."""
    lines = []
    for raw in data.splitlines(keepends=True):
        for i in range(0, len(raw), wrap):
            lines.append(visible(raw[i:i + wrap]))
    return lines


def first_difference(expected: bytes, actual: bytes) -> str:
    """One sentence on where the two first differ."""
    n = min(len(expected), len(actual))
    at = next((i for i in range(n) if expected[i] != actual[i]), n)
    if at == n:
        if len(expected) == len(actual):
            return "identical"
        if len(actual) < len(expected):
            return ("yours is %d bytes, the first %d of the %d expected: the rest is "
                    "missing" % (len(actual), len(actual), len(expected)))
        return ("yours starts with the %d expected bytes, then has %d more"
                % (len(expected), len(actual) - len(expected)))
    return ("first difference at byte %d (counting from 0): expected %s, yours has %s"
            % (at, _byte(expected[at]), _byte(actual[at])))


def _byte(b: int) -> str:
    return "'%s' (0x%02x)" % (visible(bytes([b])), b)


MAX_DIFF_LINES = 80  # a screenful; the whole capture stays in the serial log


def unified(expected: bytes, actual: bytes, what: str = "output") -> str:
    """A unified diff, expected first, at most MAX_DIFF_LINES lines; '' when equal."""
    if expected == actual:
        return ""
    exp, act = visible_lines(expected), visible_lines(actual)
    if not exp:
        exp = ["(nothing)"]
    if not act:
        act = ["(nothing)"]
    lines = list(difflib.unified_diff(exp, act, "expected " + what, "your " + what,
                                      n=2, lineterm=""))
    if len(lines) > MAX_DIFF_LINES:
        more = len(lines) - MAX_DIFF_LINES
        lines = lines[:MAX_DIFF_LINES] + ["... %d more lines of the diff (the whole %s is in "
                                          "the serial log)" % (more, what)]
    return "\n".join([first_difference(expected, actual)] + lines)
