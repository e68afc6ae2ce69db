"""Writes the results files: Gradescope's results.json and JUnit XML.

Gradescope's format: score, max_score, execution_time, output, and tests[]
each with name, score, max_score, status ("passed"/"failed") and output.
Hidden tests are shown to students only after grades are published.
"""

import json
import math
import os
import re
import xml.etree.ElementTree as ET

from grader.report import clip

MAX_LINE = 1000  # characters of one line of a test's output (a kernel's 1 MB panic message)
MAX_LINES = 200  # lines of a test's output; the whole story stays in the serial log


def _output(r) -> str:
    if r.passed:
        return "passed"
    lines = [r.summary] + [d for d in r.details + r.fault_details if d]
    more = len(lines) - MAX_LINES
    lines = [clip(line, MAX_LINE) for line in lines[:MAX_LINES]]
    if more > 0:
        lines.append("... %d more lines (the whole serial log: %s)" % (more, r.serial_log or "?"))
    return "\n".join(lines)


def _points(x, most=None) -> float:
    """x rounded for the file, never NaN or infinite, within [0, most]."""
    if not isinstance(x, (int, float)) or not math.isfinite(x):
        return 0.0
    x = max(0.0, float(x))
    return round(min(x, most) if most is not None else x, 4)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(value):
    """value with lone surrogates written as \\xNN (the undecodable bytes
    surrogateescape kept) or \\uNNNN: JSON readers other than Python's
    reject them."""
    if isinstance(value, str):
        return _SURROGATE.sub(_escaped, value)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _escaped(m) -> str:
    """The matched character as \\xNN (below 0x100, or a byte that
    surrogateescape kept as U+DC80-U+DCFF) or \\uNNNN."""
    n = ord(m.group())
    if 0xDC80 <= n <= 0xDCFF:
        n -= 0xDC00
    return "\\x%02x" % n if n < 0x100 else "\\u%04x" % n


def gradescope(results, wall: float, header: str) -> dict:
    tests = [{
        "name": r.name,
        "score": _points(r.score, _points(r.max_score)),
        "max_score": _points(r.max_score),
        "status": "passed" if r.passed else "failed",
        # kevlab's own: the grader or the emulator failed, not the code (no verdict)
        "not_graded": bool(getattr(r, "not_graded", False)),
        "output": _output(r),
        "tags": [r.category],
        "visibility": "after_published" if r.hidden else "visible",
        "execution_time": round(_points(r.time), 3),
    } for r in results]
    return _clean({
        "score": round(sum(t["score"] for t in tests), 4),
        "max_score": round(sum(t["max_score"] for t in tests), 4),
        "execution_time": round(_points(wall), 3),
        "output": header,
        "tests": tests,
    })


def junit(results, wall: float, suite: str) -> bytes:
    root = ET.Element("testsuites")
    s = ET.SubElement(root, "testsuite", name=suite, tests=str(len(results)),
                      failures=str(sum(not r.passed for r in results)),
                      errors="0", time="%.3f" % wall)
    for r in results:
        case = ET.SubElement(s, "testcase", classname=_xml_safe("%s.%s" % (suite, r.category)),
                             name=_xml_safe(r.name), time="%.3f" % _points(r.time))
        if not r.passed:
            f = ET.SubElement(case, "failure", message=_xml_safe(clip(r.summary, MAX_LINE)))
            f.text = _xml_safe(_output(r))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


# The code points XML 1.0 cannot hold at all, even escaped (not in its
# production Char; tests/grader/test_results.py checks every code point).
# One pattern, not a test of each character: a report holds tens of
# thousands of them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    """text with what _NOT_XML matches written as \\xNN or \\uNNNN."""
    return _NOT_XML.sub(_escaped, text)


def write(out_dir: str, results, wall: float, header: str, suite: str) -> tuple:
    """Writes results.json and junit.xml into out_dir; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    jpath = os.path.join(out_dir, "results.json")
    with open(jpath, "w") as f:
        json.dump(gradescope(results, wall, header), f, indent=2)
        f.write("\n")
    xpath = os.path.join(out_dir, "junit.xml")
    with open(xpath, "wb") as f:
        f.write(junit(results, wall, suite))
    return jpath, xpath
