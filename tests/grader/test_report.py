"""What the grader prints: the summary (a line per test, per category, the
total), the details of the failures, the progress lines."""
import io
import os
import random
import re
import unittest
from fractions import Fraction

from grader import report
from grader import rubric as R
from grader.judge import Result
from helpers import p2_rubric

PLAIN = report.Style(False)
CATS = [R.Category("HaltCpu", 20), R.Category("Print", 50), R.Category("Robustness", 30)]
TODO = "TODO() in hypercall_resolve() at project2/hypercall.c:121"


def small():
    tests = [R.Test("p2_halt_code", "HaltCpu", 2), R.Test("p2_print_exit_code", "HaltCpu", 1),
             R.Test("p2_print_hello", "Print", 1), R.Test("p2_print_wrap", "Robustness", 1, True)]
    rub = R.Rubric(2, CATS, tests)
    m = rub.max_scores(tests)
    return rub, [
        Result("p2_halt_code", "HaltCpu", True, "", time=0.02, score=m["p2_halt_code"],
               max_score=m["p2_halt_code"]),
        Result("p2_print_exit_code", "HaltCpu", False, TODO, time=0.015,
               max_score=m["p2_print_exit_code"]),
        Result("p2_print_hello", "Print", True, "", time=1.5, score=50, max_score=50),
        Result("p2_print_wrap", "Robustness", False, "not graded: protocol violation: x",
               max_score=30, hidden=True, not_graded=True)]


def summary(rub, results, seed=42, wall=3.25):
    return report.summary(results, rub, seed, wall, PLAIN, "make grade SEED=%s" % seed)


class Summary(unittest.TestCase):
    def test_exact_layout(self):
        rub, results = small()
        self.assertEqual(summary(rub, results), "\n".join([
            "PASS  p2_halt_code         0.02 s  13.3/13.3",
            "FAIL  p2_print_exit_code   0.01 s     0/6.7         " + TODO,
            "PASS  p2_print_hello       1.50 s    50/50",
            "----  p2_print_wrap        0.00 s     0/30   hidden not graded: protocol violation: x",
            "",
            "HaltCpu       13.3 / 20    (1 of 2 tests)",
            "Print           50 / 50    (1 of 1 tests)",
            "Robustness       0 / 30    (0 of 1 tests)",
            "total         63.3 / 100   (2 of 4 tests passed)",
            "not graded (a failure of the grader or the emulator, not of your code): p2_print_wrap",
            "seed 42 (make grade SEED=42 reproduces this test data); 3.2 s"]))

    def test_a_run_of_tests_stopped_at_one_place_is_two_lines(self):
        full = TODO + ": not yet implemented"
        tests = [R.Test(n, "Print", 1) for n in "abcdefg"]
        rub = R.Rubric(2, [R.Category("Print", 100)], tests)
        def r(name, passed=False, fault=full):
            return Result(name, "Print", passed, "" if passed else TODO, fault="" if passed else fault,
                          max_score=10)
        results = [r("a"), r("b"), r("c"), r("d"), r("e", True), r("f"), r("g", fault="other")]
        lines = summary(rub, results).split("\n")
        self.assertEqual(lines[0][:7], "FAIL  a")
        self.assertEqual(lines[1], "FAIL  ... and 3 more tests that stopped there too (b to d), 0/30")
        self.assertTrue(lines[2].startswith("PASS  e"))
        # Different stops are shown each, and so are runs of fewer than
        # SAME_STOP_RUN more tests.
        self.assertTrue(lines[3].startswith("FAIL  f") and lines[4].startswith("FAIL  g"))
        self.assertEqual(lines[5], "")
        short = summary(rub, results[:3]).split("\n")
        self.assertEqual([l[:7] for l in short[:3]], ["FAIL  a", "FAIL  b", "FAIL  c"])

    def test_a_reason_is_never_cut(self):
        rub, results = small()
        long_reason = ("the VM stopped with KEV_EUNMAPPED where it should have exited with code "
                       "0 (0x0): " + "Print(0x700000, 0x10) failed, " * 8
                       + "at project2/hypercall.c:77")
        results[1].summary = long_reason
        line = summary(rub, results).split("\n")[1]
        self.assertTrue(line.endswith(long_reason), line)
        self.assertGreater(len(line), 300)

    def test_a_huge_reason_is_capped_and_keeps_its_ends(self):
        rub, results = small()
        results[1].summary = "the kernel panicked: " + "x" * (1 << 20) + " (f() at kev/vm.c:9)"
        line = summary(rub, results).split("\n")[1]
        self.assertLess(len(line), report.SUMMARY_MAX + 100)
        self.assertIn("FAIL  p2_print_exit_code   0.01 s     0/6.7         the kernel panicked: x",
                      line)
        self.assertTrue(line.endswith("x (f() at kev/vm.c:9)"), line[-80:])
        self.assertIn("characters cut ...]", line)

    def test_only_the_first_line_of_a_reason_and_no_control_characters(self):
        rub, results = small()
        results[1].summary = "first\x1b[2J line\nsecond line"
        line = summary(rub, results).split("\n")[1]
        self.assertTrue(line.endswith("first\\x1b[2J line"), line)

    def test_points(self):
        for x, shown in ((4.6, "4.6"), (6.0, "6"), (0, "0"), (13.3, "13.3"), (100, "100"),
                         (0.1, "0.1"), (99.9, "99.9")):
            self.assertEqual(report.fmt_points(x), shown)

    def test_categories_and_total_add_up(self):
        rng = random.Random(7)
        for round_ in range(150):
            points = [(20, 50, 30), (7, 13, 80), (1, 1, 98)][round_ % 3]
            cats = [R.Category(n, p) for n, p in zip(("HaltCpu", "Print", "Robustness"), points)]
            tests = [R.Test("t%d" % i, rng.choice(cats).name, rng.randint(1, 5))
                     for i in range(rng.randint(3, 25))]
            rub = R.Rubric(2, cats, tests)
            maxes = rub.max_scores(tests)
            results = []
            for t in tests:
                ok = rng.random() < 0.6
                results.append(Result(t.name, t.category, ok, "" if ok else "wrong",
                                      score=maxes[t.name] if ok else 0.0, max_score=maxes[t.name]))
            text = summary(rub, results)
            rows = dict((m.group(1), (Fraction(m.group(2)), Fraction(m.group(3)))) for m in
                        re.finditer(r"^(\w+) +([\d.]+) / ([\d.]+) +\(", text, re.M))
            total = rows.pop("total")
            present = [c for c in cats if any(t.category == c.name for t in tests)]
            self.assertEqual(sorted(rows), sorted(c.name for c in present))
            for c in present:
                self.assertEqual(rows[c.name][1], c.points, text)
                got = sum(Fraction(str(r.score)) for r in results if r.category == c.name)
                self.assertEqual(rows[c.name][0], got, text)
            self.assertEqual(total[0], sum(g for g, _ in rows.values()), text)
            self.assertEqual(total[1], sum(c.points for c in present), text)
            for r in results:  # every test's points to one decimal
                m = re.search(r"^\S+  %s +[\d.]+ s +([\d.]+)/([\d.]+)" % r.name, text, re.M)
                self.assertEqual(Fraction(m.group(2)), Fraction(str(maxes[r.name])))

    def test_project2_adds_up_to_100(self):
        rub = p2_rubric()
        maxes = rub.max_scores(rub.tests)
        results = [Result(t.name, t.category, True, "", score=maxes[t.name],
                          max_score=maxes[t.name], hidden=t.hidden) for t in rub.tests]
        text = summary(rub, results)
        self.assertIn("\ntotal          100 / 100   (18 of 18 tests passed)\n", text)
        self.assertIn("\nHaltCpu         20 / 20    (2 of 2 tests)\n", text)
        self.assertIn("PASS  p2_print_utf8            0.00 s   4.5/4.5  hidden\n", text)
        lines = text.split("\n")
        self.assertLessEqual(len(lines), 30)
        self.assertLessEqual(max(map(len, lines)), 100)

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
            os.environ["NO_COLOR"] = ""
            self.assertTrue(report.use_color(Tty()))
        finally:
            os.environ.pop("NO_COLOR", None)
            if old is not None:
                os.environ["NO_COLOR"] = old
        rub, results = small()
        colored = report.summary(results, rub, 1, 1.0, report.Style(True), "x")
        self.assertIn("\x1b[32;1mPASS\x1b[0m", colored)
        self.assertIn("\x1b[31;1mFAIL\x1b[0m", colored)
        self.assertIn("\x1b[2m----\x1b[0m", colored)
        self.assertNotIn("\x1b", summary(rub, results))


def failed(name, summary_, details=(), fault="", fault_details=(), log="/b/serial.log"):
    return Result(name, "Print", False, summary_, list(details), fault=fault,
                  fault_details=list(fault_details), serial_log=log)


class Details(unittest.TestCase):
    def test_one_block_for_every_test_stopped_at_one_place(self):
        bt = ["    backtrace (most recent call first):", "      #0  11301f hypercall_resolve+0x1f"]
        full = TODO + ": not yet implemented"
        results = [
            failed("a", TODO, ["case 0 of 3 failed; its inputs: x", "your code stopped: " + full],
                   full, bt),
            Result("ok", "Print", True, ""),
            failed("b", "the VM exited with code 1 (0x1), expected 2 (0x2)",
                   ["case 1 of 4 failed (the cases before it passed); its inputs: y", ""]),
            failed("c", TODO, ["case 0 of 9 failed; its inputs: z"], full, bt),
            failed("d", TODO, ["case 0 of 2 failed; its inputs: w"], full, bt),
        ]
        self.assertEqual(report.details(results, PLAIN), "\n".join([
            "--- a: " + TODO,
            "case 0 of 3 failed; its inputs: x",
            "your code stopped: " + full,
            "    backtrace (most recent call first):",
            "      #0  11301f hypercall_resolve+0x1f",
            "The same stop ended 2 more tests: c, d",
            "whole serial log: /b/serial.log",
            "",
            "--- b: the VM exited with code 1 (0x1), expected 2 (0x2)",
            "case 1 of 4 failed (the cases before it passed); its inputs: y",
            "whole serial log: /b/serial.log"]))
        one_more = report.details(results[:2] + results[3:4], PLAIN)
        self.assertIn("The same stop ended 1 more test: c\n", one_more)

    def test_nothing_when_everything_passed(self):
        self.assertEqual(report.details([Result("ok", "Print", True, "")], PLAIN), "")

    def test_repeated_lines_of_a_diff_stay(self):
        diff = ["the capture (- expected, + printed): ...", "    --- expected capture",
                "    +++ your capture", "    @@ -1,3 +1,3 @@", "     " + "ab" * 32,
                "     " + "ab" * 32, "    -x", "    +y"]
        text = report.details([failed("many", "wrong capture: ...", diff, log="")], PLAIN)
        self.assertEqual(text.split("\n")[1:], diff)

    def test_lines_are_cut_to_the_width(self):
        long_line = "your code stopped: " + "y" * 400
        text = report.details([failed("a", "s", [long_line])], PLAIN, width=report.CHECK_WIDTH)
        line = text.split("\n")[1]
        self.assertEqual(len(line), report.CHECK_WIDTH)
        self.assertEqual(line, long_line[:report.CHECK_WIDTH - 3] + "...")
        wide = report.details([failed("a", "s", [long_line])], PLAIN).split("\n")[1]
        self.assertEqual(len(wide), report.DETAIL_WIDTH)
        fits = "z" * report.CHECK_WIDTH
        self.assertEqual(report.details([failed("a", "s", [fits])], PLAIN,
                                        width=report.CHECK_WIDTH).split("\n")[1], fits)

    def test_a_huge_story_is_capped(self):
        many = ["  detail %d" % i for i in range(5000)]
        text = report.details([failed("a", "the kernel panicked: " + "m" * 100000, many)], PLAIN)
        lines = text.split("\n")
        self.assertLess(len(lines), report.DETAIL_LINES + 5)
        self.assertLess(len(lines[0]), report.SUMMARY_MAX + 100)
        self.assertIn("... %d more lines (see the serial log)" % (5000 - report.DETAIL_LINES),
                      lines)

    def test_control_characters_are_shown(self):
        text = report.details([failed("a", "bad\rline", ["\x1b[2Jx\x07", "tab\there"])], PLAIN)
        self.assertEqual(text.split("\n")[:3], ["--- a: bad\\x0dline", "\\x1b[2Jx\\x07",
                                                "tab\there"])

    def test_clip(self):
        self.assertEqual(report.clip("short", 10), "short")
        self.assertEqual(report.clip("a" * 10 + "b" * 10, 10),
                         "aaaaa[... 10 characters cut ...]bbbbb")


class ProgressLines(unittest.TestCase):
    def test_one_line_each_off_a_terminal(self):
        out = io.StringIO()
        p = report.Progress(2, out)
        p.update("a", None)
        p.update("b", False)
        self.assertEqual(out.getvalue(), "[1/2] a\n[2/2] b FAILED\n")

    def test_one_rewritten_line_on_a_terminal(self):
        class Tty(io.StringIO):
            def isatty(self):
                return True
        out = Tty()
        p = report.Progress(2, out)
        p.update("a", True)
        p.update("b", None)
        self.assertEqual(out.getvalue(), "\r\x1b[K[1/2] a ok\r\x1b[K[2/2] b\r\x1b[K")


if __name__ == "__main__":
    unittest.main()
