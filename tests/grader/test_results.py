"""The results files: Gradescope's results.json and JUnit XML stay valid
and bounded whatever the kernel printed."""
import json
import math
import os
import tempfile
import unittest
import xml.etree.ElementTree as ET

from grader import results
from grader.judge import Result
from helpers import p2_rubric

# Text the kernel may hand the grader: every C0 control, the two
# non-characters XML refuses, bytes that were not UTF-8 (kept as lone
# surrogates by surrogateescape), other lone surrogates, and ordinary text.
NASTY = ("".join(chr(c) for c in range(0x20)) + "\ufffe\uffff"
         + b"bad \xff\xfe bytes".decode("utf-8", "surrogateescape")
         + "\ud800\udbff\udfff" + " é \u20ac \U0001F600 \ufffd end")


def no_constants(name):
    raise ValueError("not JSON: %s" % name)


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


class Files(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, res, header="project 2, backend bochs, seed 1"):
        jpath, xpath = results.write(os.path.join(self.tmp.name, "out"), res, 2.5, header,
                                     "project2")
        with open(jpath, "rb") as f:
            raw = f.read()
        data = json.loads(raw.decode("utf-8"), parse_constant=no_constants)
        for s in strings(data):
            s.encode("utf-8")  # no lone surrogates: any JSON reader takes it
        root = ET.parse(xpath).getroot()
        return data, root

    def p2_results(self):
        rub = p2_rubric()
        maxes = rub.max_scores(rub.tests)
        out = []
        for t in rub.tests:
            ok = t.name != "p2_print_hello"
            out.append(Result(t.name, t.category, ok, "" if ok else "wrong capture: 1 byte",
                              ["-a", "+b\x01"], 0.5, maxes[t.name] if ok else 0.0,
                              maxes[t.name], t.hidden, "/b/serial.log"))
        return out

    def test_the_gradescope_fields(self):
        res = self.p2_results()
        data, root = self.write(res)
        self.assertEqual(data["max_score"], 100.0)
        self.assertEqual(data["score"], round(100 - res[2].max_score, 4))
        self.assertEqual((data["execution_time"], data["output"]),
                         (2.5, "project 2, backend bochs, seed 1"))
        self.assertEqual(len(data["tests"]), 18)
        hello = data["tests"][2]
        self.assertEqual(hello, {"name": "p2_print_hello", "score": 0.0, "max_score": 4.6,
                                 "status": "failed", "not_graded": False, "output": "wrong capture: 1 byte\n-a\n+b\x01",
                                 "tags": ["Print"], "visibility": "visible",
                                 "execution_time": 0.5})
        utf8 = [t for t in data["tests"] if t["name"] == "p2_print_utf8"][0]
        self.assertEqual((utf8["visibility"], utf8["status"], utf8["output"]),
                         ("after_published", "passed", "passed"))
        suite = root.find("testsuite")
        self.assertEqual((suite.get("name"), suite.get("tests"), suite.get("failures"),
                          suite.get("errors"), suite.get("time")), ("project2", "18", "1", "0",
                                                                    "2.500"))
        cases = suite.findall("testcase")
        self.assertEqual([c.get("name") for c in cases], [r.name for r in res])
        self.assertEqual(cases[2].get("classname"), "project2.Print")
        failure = cases[2].find("failure")
        self.assertEqual(failure.get("message"), "wrong capture: 1 byte")
        self.assertEqual(failure.text, "wrong capture: 1 byte\n-a\n+b\\x01")
        self.assertIsNone(cases[0].find("failure"))

    def test_the_backtrace_of_a_stop_is_in_the_output(self):
        r = Result("a", "Print", False, "TODO() in f() at a.c:1", ["your code stopped: x"],
                   fault="x", fault_details=["    backtrace (most recent call first):"])
        data, _ = self.write([r])
        self.assertEqual(data["tests"][0]["output"], "TODO() in f() at a.c:1\nyour code stopped: "
                         "x\n    backtrace (most recent call first):")

    def test_every_code_point_class_stays_valid(self):
        r = Result("t" + NASTY[:3], "Print", False, "summary " + NASTY, ["detail " + NASTY, NASTY],
                   max_score=5.0)
        data, root = self.write([r], header="header " + NASTY)
        out = data["tests"][0]["output"]
        self.assertTrue(out.startswith("summary \x00\x01"))
        for shown in ("bad \\xff\\xfe bytes", "\\ud800\\udbff\\udfff", " é \u20ac \U0001F600 "
                      "\ufffd end", "\ufffe\uffff"):
            self.assertIn(shown, out)
        self.assertIn("bad \\xff\\xfe bytes", data["output"])
        failure = root.find(".//failure")
        for text in (failure.text, failure.get("message")):
            for shown in ("\\x00", "\\x01", "\\x1f", "\\ufffe", "\\uffff", "bad \\xff\\xfe bytes",
                          "\\ud800\\udbff\\udfff", " é \u20ac \U0001F600 \ufffd end"):
                self.assertIn(shown, text)
        self.assertIn("\t\n", failure.text)  # tab and newline are XML's own
        self.assertTrue(root.find(".//testcase").get("name").startswith("t\\x00"))

    def test_every_single_code_point_below_0x10000(self):
        # One file per 4096 code points; each must parse back.
        for start in range(0, 0x10000, 0x1000):
            text = "".join(chr(c) for c in range(start, start + 0x1000))
            r = Result("t", "Print", False, text, [text])
            xml = results.junit([r], 1.0, "s")
            ET.fromstring(xml)
            json.loads(json.dumps(results.gradescope([r], 1.0, "h")), parse_constant=no_constants)

    def test_each_code_point_is_kept_or_escaped_by_the_rules(self):
        # Every code point, against XML 1.0's production Char: kept when XML
        # holds it, else \\xNN (below 0x100 and for surrogateescape's bytes)
        # or \\uNNNN; in the JSON only the lone surrogates are escaped.
        def xml_char(n):
            return (n in (0x9, 0xA, 0xD) or 0x20 <= n <= 0xD7FF or 0xE000 <= n <= 0xFFFD
                    or 0x10000 <= n <= 0x10FFFF)

        def shown(n):
            if 0xDC80 <= n <= 0xDCFF:
                return "\\x%02x" % (n - 0xDC00)
            if 0xD800 <= n <= 0xDFFF or n >= 0x100:
                return "\\u%04x" % n
            return "\\x%02x" % n

        every = "".join(chr(n) for n in range(0x110000))
        self.assertEqual(results._xml_safe(every),
                         "".join(chr(n) if xml_char(n) else shown(n) for n in range(0x110000)))
        self.assertEqual(results._clean(every),
                         "".join(shown(n) if 0xD800 <= n <= 0xDFFF else chr(n)
                                 for n in range(0x110000)))

    def test_scores_stay_within_zero_and_the_maximum(self):
        res = [Result("nan", "Print", True, "", score=math.nan, max_score=5.0),
               Result("inf", "Print", True, "", score=math.inf, max_score=5.0),
               Result("neg", "Print", False, "x", score=-3.0, max_score=5.0),
               Result("over", "Print", True, "", score=9.0, max_score=5.0),
               Result("fine", "Print", True, "", score=2.5, max_score=2.5),
               Result("badmax", "Print", True, "", score=1.0, max_score=math.nan)]
        data, root = self.write(res)
        got = {t["name"]: (t["score"], t["max_score"]) for t in data["tests"]}
        self.assertEqual(got, {"nan": (0.0, 5.0), "inf": (0.0, 5.0), "neg": (0.0, 5.0),
                               "over": (5.0, 5.0), "fine": (2.5, 2.5), "badmax": (0.0, 0.0)})
        self.assertEqual((data["score"], data["max_score"]), (7.5, 22.5))
        for t in data["tests"]:
            self.assertTrue(0 <= t["score"] <= t["max_score"])

    def test_a_huge_panic_message_is_capped(self):
        message = "the kernel panicked: " + "p" * (1 << 20) + " (vcpu_run() at kev/vcpu.c:212)"
        r = Result("a", "Print", False, message, ["  at kev/vcpu.c:212: " + "q" * (1 << 20)]
                   + ["    #%d frame" % i for i in range(5000)], serial_log="/b/serial.log")
        data, root = self.write([r])
        out = data["tests"][0]["output"]
        lines = out.split("\n")
        self.assertLessEqual(len(lines), results.MAX_LINES + 1)
        self.assertLessEqual(max(map(len, lines)), results.MAX_LINE + 40)
        self.assertTrue(lines[0].startswith("the kernel panicked: ppp"))
        self.assertTrue(lines[0].endswith("p (vcpu_run() at kev/vcpu.c:212)"))
        self.assertEqual(lines[-1], "... %d more lines (the whole serial log: /b/serial.log)"
                         % (5002 - results.MAX_LINES))
        self.assertLess(len(out), 300_000)
        failure = root.find(".//failure")
        self.assertLessEqual(len(failure.get("message")), results.MAX_LINE + 40)


if __name__ == "__main__":
    unittest.main()
