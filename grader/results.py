"""Writes the results files: Gradescope's results.json and JUnit XML.

Gradescope's format: score, max_score, execution_time, output, and tests[]
each with name, score, max_score, status ("passed"/"failed") and output.
Hidden tests are shown to students only after grades are published.
"""

import json
import os
import xml.etree.ElementTree as ET


def _output(r) -> str:
    if r.passed:
        return "passed"
    return "\n".join([r.summary] + [d for d in r.details if d])


def gradescope(results, wall: float, header: str) -> dict:
    return {
        "score": round(sum(r.score for r in results), 4),
        "max_score": round(sum(r.max_score for r in results), 4),
        "execution_time": round(wall, 3),
        "output": header,
        "tests": [{
            "name": r.name,
            "score": round(r.score, 4),
            "max_score": round(r.max_score, 4),
            "status": "passed" if r.passed else "failed",
            "output": _output(r),
            "tags": [r.category],
            "visibility": "after_published" if r.hidden else "visible",
            "execution_time": round(r.time, 3),
        } for r in results],
    }


def junit(results, wall: float, suite: str) -> bytes:
    root = ET.Element("testsuites")
    s = ET.SubElement(root, "testsuite", name=suite, tests=str(len(results)),
                      failures=str(sum(not r.passed for r in results)),
                      errors="0", time="%.3f" % wall)
    for r in results:
        case = ET.SubElement(s, "testcase", classname="%s.%s" % (suite, r.category),
                             name=r.name, time="%.3f" % r.time)
        if not r.passed:
            f = ET.SubElement(case, "failure", message=_xml_safe(r.summary))
            f.text = _xml_safe(_output(r))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _xml_safe(text: str) -> str:
    # XML 1.0 cannot hold most control characters, even escaped.
    return "".join(c if c in "\t\n\r" or ord(c) >= 0x20 else "\\x%02x" % ord(c) for c in text)


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
