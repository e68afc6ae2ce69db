"""Builds the kernel command line of a boot (docs/protocol.md).

Words are `key=value`; every value byte outside [A-Za-z0-9_.-] is
percent-encoded, so a value never holds a space, a quote or anything GRUB's
script parser would read.
"""

SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def percent_encode(value) -> str:
    """Encodes a str (as UTF-8), bytes or int for the command line."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str):
        value = value.encode("utf-8")
    return "".join(chr(b) if b in SAFE else "%%%02X" % b for b in value)


def percent_decode(text: str) -> bytes:
    """The inverse of percent_encode (for tests and for reading logs)."""
    out = bytearray()
    i = 0
    raw = text.encode("utf-8")
    while i < len(raw):
        if raw[i] == 0x25 and _hex(raw[i + 1:i + 3]):
            out.append(int(raw[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)


def _hex(b: bytes) -> bool:
    return len(b) == 2 and all(c in b"0123456789abcdefABCDEF" for c in b)


def build(tests, params=None, extra=()) -> str:
    """The command line that runs `tests` (names, in order).

    params maps a test name to {param: value}; extra is a list of
    (key, value) pairs added as they are (e.g. ("kev.trace", 1)).
    """
    words = ["test=" + (",".join(tests) if tests else "none")]
    for test in tests:
        for param, value in (params or {}).get(test, {}).items():
            words.append("%s.%s=%s" % (test, param, percent_encode(value)))
    for key, value in extra:
        words.append("%s=%s" % (key, percent_encode(value)))
    return " ".join(words)


def parse_user_args(words) -> list:
    """Turns `key=value` words a person typed (ARGS=) into (key, value) pairs."""
    pairs = []
    for w in words:
        key, eq, value = w.partition("=")
        if not eq or not key:
            raise ValueError("ARGS word %r is not key=value" % w)
        pairs.append((key, value))
    return pairs
