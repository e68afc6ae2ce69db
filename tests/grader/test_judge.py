"""Verdicts, scoring, and the summary / results files built from them."""
import io
import json
import os
import tempfile
import unittest
import xml.etree.ElementTree as ET

from grader import judge, report, results
from grader import outcome as oc
from grader import rubric as R
from grader.protocol import TestRecord
from grader.scheduler import Ran
from helpers import fixture, replayed_boot

RUB = R.load("project2")


def ran_with(name, data, verdict="pass", reason=""):
    rec = TestRecord(name, began=True, ended=True, verdict=verdict, reason=reason, data=data)
    return Ran(name, rec, replayed_boot(b"", oc.SUCCESS), oc.SUCCESS, 0.25)


def verdict(name, data, params=None, **kw):
    t = RUB.test(name)
    params = t.draw(1) if params is None else params
    return judge.judge(t, params, ran_with(name, data, **kw), RUB.outcome_keys, 10.0)


class Verdicts(unittest.TestCase):
    def test_pass(self):
        p = {"msg": "Hi there", "code": 9}
        r = verdict("p2_print_exit_code", {"capture": b"Hi there", "exit_code": b"9"}, p)
        self.assertTrue(r.passed, r.details)
        self.assertEqual((r.score, r.max_score, r.summary), (10.0, 10.0, ""))

    def test_a_skipped_test_fails_and_says_so(self):
        p = {"msg": "Hi there"}
        r = verdict("p2_print_hello", {"capture": b"Hi there", "exit_code": b"0"}, p,
                    verdict="skip", reason="this CPU has no VMX")
        self.assertFalse(r.passed)
        self.assertEqual(r.summary, "the kernel skipped the test: this CPU has no VMX")

    def test_wrong_capture_shows_a_diff(self):
        p = {"msg": "Hi there"}
        r = verdict("p2_print_hello", {"capture": b"Hi ther", "exit_code": b"0"}, p)
        self.assertFalse(r.passed)
        self.assertEqual(r.score, 0)
        self.assertEqual(r.summary, "wrong `capture`")
        text = "\n".join(r.details)
        self.assertIn("-Hi there", text)
        self.assertIn("+Hi ther", text)
        self.assertIn("missing", text)

    def test_bytes_compared_exactly(self):
        p = {"msg": "é!"}
        ok = verdict("p2_print_utf8", {"capture": "é!".encode(), "exit_code": b"0"}, p)
        self.assertTrue(ok.passed)
        nfd = verdict("p2_print_utf8", {"capture": "e\u0301!".encode(), "exit_code": b"0"}, p)
        self.assertFalse(nfd.passed)  # the same text to the eye, other bytes
        text = "\n".join(nfd.details)
        self.assertIn("-\\xc3\\xa9!", text)
        self.assertIn("+e\\xcc\\x81!", text)

    def test_missing_key(self):
        r = verdict("p2_halt_code", {"exit_code": b"5"}, {"code": 5})
        self.assertFalse(r.passed)
        self.assertIn("no `capture`", r.summary)

    def test_unexpected_outcome_key(self):
        r = verdict("p2_print_empty", {"capture": b"", "exit_code": b"0", "vm_error": b"boom"})
        self.assertFalse(r.passed)
        self.assertIn("unexpected `vm_error`", r.summary)
        self.assertIn("boom", r.summary)
        r = verdict("p2_print_unmapped", {"capture": b"", "vm_error": b"x", "exit_code": b"0"})
        self.assertFalse(r.passed)
        # Keys that tell nothing about the outcome are allowed.
        r = verdict("p2_print_empty", {"capture": b"", "exit_code": b"0", "note": b"x"})
        self.assertTrue(r.passed)

    def test_wrong_number_is_shown_as_numbers(self):
        r = verdict("p2_halt_code", {"capture": b"", "exit_code": b"765200"}, {"code": 93})
        self.assertFalse(r.passed)
        self.assertEqual(r.summary, "wrong `exit_code`: 765200 (0xbad10), expected 93 (0x5d)")
        r = verdict("p2_halt_code", {"capture": b"", "exit_code": b"oops"}, {"code": 93})
        self.assertEqual(r.summary, "wrong `exit_code`")  # not a number: the diff

    def test_the_other_ending_leads(self):
        # The guest ended the other way: say how, not that the expected key is missing.
        r = verdict("p2_halt_code", {"capture": b"", "vm_error": b"the guest raised #UD"},
                    {"code": 92}, verdict="fail", reason="the VM stopped with an error")
        self.assertTrue(r.summary.startswith('unexpected `vm_error` "the guest raised #UD"'),
                        r.summary)
        self.assertIn("HaltCpu(92)", r.summary)
        self.assertNotIn("reported no", "\n".join([r.summary] + r.details))
        r = verdict("p2_print_unmapped", {"capture": b"", "exit_code": b"2989"})
        self.assertTrue(r.summary.startswith('unexpected `exit_code` "2989" (0xbad)'), r.summary)
        r = verdict("p2_halt_code", {"capture": b""}, {"code": 5})  # neither: still missing
        self.assertIn("no `exit_code`", r.summary)

    def test_any_and_naming_the_number(self):
        self.assertTrue(verdict("p2_print_wrap", {"capture": b"", "vm_error": b""}).passed)
        p = {"nr": 4660}
        good = verdict("p2_unknown_hypercall", {"capture": b"", "vm_error": b"no hypercall 0x1234"}, p)
        self.assertTrue(good.passed)
        bad = verdict("p2_unknown_hypercall", {"capture": b"", "vm_error": b"unknown hypercall"}, p)
        self.assertFalse(bad.passed)
        self.assertIn("'4660' or '0x1234'", bad.summary)

    def test_kernel_failure_shown_even_when_data_match(self):
        r = verdict("p2_halt_code", {"capture": b"", "exit_code": b"5"}, {"code": 5},
                    verdict="fail", reason="guest RIP did not advance")
        self.assertFalse(r.passed)
        self.assertIn("guest RIP did not advance", r.summary)

    def test_todo_message_is_the_kernels(self):
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        with open(os.path.join(root, "kernel", "panic.h")) as f:
            self.assertIn('"%s")' % judge.TODO_MESSAGE, f.read())

    def test_crash_panic(self):
        boot = replayed_boot(fixture("batch_crash.serial"), oc.PANIC)
        rec = boot.log.tests["p2_print_hello"]
        r = judge.judge(RUB.test("p2_print_hello"), {"msg": "Hi there"},
                        Ran(rec.name, rec, boot, oc.PANIC, 0.1), RUB.outcome_keys, 5)
        self.assertFalse(r.passed)
        self.assertEqual(r.summary, "panic: TODO() in hypercall_handle() at "
                                    "project2/hypercall.c:57: not yet implemented")
        text = "\n".join(r.details)
        self.assertIn("hypercall_controller_handle+0x48", text)
        self.assertIn("kev: VM 1 vCPU 0 entered the guest", text)

    def test_crash_kinds_are_named(self):
        for kind in (oc.TRIPLE_FAULT, oc.BUDGET, oc.TIMEOUT, oc.RUNAWAY_OUTPUT, oc.EMULATOR_ERROR,
                     oc.NO_END_FRAME):
            boot = replayed_boot(b"@@ test begin p2_halt_code\n", kind, "detail")
            rec = boot.log.tests["p2_halt_code"]
            r = judge.judge(RUB.test("p2_halt_code"), {"code": 1},
                            Ran(rec.name, rec, boot, kind, 1.0), RUB.outcome_keys, 5)
            self.assertFalse(r.passed)
            self.assertTrue(r.summary.startswith(kind), r.summary)
            self.assertIn(oc.EXPLAIN[kind], r.details)

    def test_runaway_output_is_the_graders_stop_not_the_emulators(self):
        boot = replayed_boot(b"@@ test begin p2_halt_code\nretrying\nretrying\n",
                             oc.RUNAWAY_OUTPUT, "the boot's logs grew past 64 MB")
        rec = boot.log.tests["p2_halt_code"]
        r = judge.judge(RUB.test("p2_halt_code"), {"code": 1},
                        Ran(rec.name, rec, boot, oc.RUNAWAY_OUTPUT, 1.0), RUB.outcome_keys, 5)
        self.assertEqual(r.summary, "runaway output: the boot's logs grew past 64 MB")
        text = "\n".join(r.details)
        self.assertNotIn("emulator", text)
        self.assertIn("  | retrying", text)

    def test_not_run(self):
        boot = replayed_boot(b"", oc.EMULATOR_ERROR, "bochs is not installed")
        r = judge.judge(RUB.test("p2_halt_code"), {"code": 1},
                        Ran("p2_halt_code", None, boot, oc.EMULATOR_ERROR, 0), RUB.outcome_keys, 5)
        self.assertIn("not run", r.summary)
        self.assertIn("bochs is not installed", "\n".join(r.details))


def some_results():
    out = []
    for t in RUB.tests:
        r = judge.Result(t.name, t.category, t.name != "p2_print_hello",
                         "" if t.name != "p2_print_hello" else "wrong `capture`",
                         ["-a", "+b\x01"], 0.5, hidden=t.hidden)
        out.append(r)
    maxes = RUB.max_scores(RUB.tests)
    for r in out:
        r.max_score = maxes[r.name]
        r.score = r.max_score if r.passed else 0
    return out


class Reports(unittest.TestCase):
    def test_summary_fits_one_screen(self):
        res = some_results()
        text = report.summary(res, RUB, 42, 3.2, report.Style(False), "--seed 42")
        lines = text.split("\n")
        self.assertLessEqual(len(lines), 24)
        self.assertLessEqual(max(map(len, lines)), 110)
        self.assertIn("FAIL  p2_print_hello", text)
        self.assertIn("seed 42", text)
        self.assertRegex(text, r"total\s+90 / 100 ")
        self.assertNotIn("\x1b", text)

    def test_colors_only_on_a_terminal_without_no_color(self):
        class Tty(io.StringIO):
            def isatty(self):
                return True
        old = os.environ.pop("NO_COLOR", None)
        try:
            self.assertTrue(report.use_color(Tty()))
            self.assertFalse(report.use_color(io.StringIO()))
            os.environ["NO_COLOR"] = "1"
            self.assertFalse(report.use_color(Tty()))
        finally:
            os.environ.pop("NO_COLOR", None)
            if old is not None:
                os.environ["NO_COLOR"] = old

    def test_details_only_for_failures(self):
        text = report.details(some_results(), report.Style(False))
        self.assertIn("--- p2_print_hello: wrong `capture`", text)
        self.assertNotIn("p2_halt_code", text)

    def test_progress(self):
        out = io.StringIO()
        p = report.Progress(2, out)
        p.update("a", None)
        p.update("b", False)
        self.assertEqual(out.getvalue(), "[1/2] a\n[2/2] b FAILED\n")

    def test_results_files(self):
        res = some_results()
        with tempfile.TemporaryDirectory() as d:
            jpath, xpath = results.write(d, res, 2.5, "backend bochs, seed 1", "project2")
            data = json.load(open(jpath))
            self.assertAlmostEqual(data["max_score"], 100, places=2)
            self.assertAlmostEqual(data["score"], 100 - res[2].max_score, places=2)
            self.assertEqual(data["execution_time"], 2.5)
            self.assertEqual(len(data["tests"]), len(res))
            for t in data["tests"]:
                self.assertEqual(set(t) >= {"name", "score", "max_score", "status", "output"}, True)
                self.assertIn(t["status"], ("passed", "failed"))
            hidden = [t for t in data["tests"] if t["name"] == "p2_print_wrap"][0]
            self.assertEqual(hidden["visibility"], "after_published")
            root = ET.parse(xpath).getroot()
            suite = root.find("testsuite")
            self.assertEqual(suite.get("tests"), str(len(res)))
            self.assertEqual(suite.get("failures"), "1")
            self.assertIn("\\x01", root.find(".//failure").text)


if __name__ == "__main__":
    unittest.main()
