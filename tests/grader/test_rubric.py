"""Rubric loading, randomized parameters, project 2's expectations."""
import random
import unittest

from grader import cmdline, image
from grader import rubric as R


class Params(unittest.TestCase):
    def test_printable(self):
        rng = random.Random(1)
        for _ in range(200):
            s = R.Printable(8, 60).draw(rng)
            self.assertTrue(8 <= len(s) <= 60)
            self.assertTrue(all(0x20 <= ord(c) <= 0x7E for c in s))

    def test_utf8_has_every_length(self):
        rng = random.Random(2)
        for _ in range(200):
            s = R.Utf8(4, 20).draw(rng)
            self.assertTrue(4 <= len(s) <= 20)
            lengths = {len(c.encode()) for c in s}
            self.assertTrue({1, 2, 3, 4} <= lengths, s)
            self.assertTrue(s.isprintable())

    def test_int_and_fixed(self):
        rng = random.Random(3)
        vals = {R.IntRange(1, 3).draw(rng) for _ in range(100)}
        self.assertEqual(vals, {1, 2, 3})
        self.assertEqual(R.Fixed("x").draw(rng), "x")

    def test_draw_depends_on_seed_and_test_only(self):
        t = R.Test("a", "C", expect=lambda p: {}, params={"m": R.Printable(5, 50)})
        self.assertEqual(t.draw(7), t.draw(7))
        self.assertEqual(t.draw("7"), t.draw(7))
        self.assertNotEqual(t.draw(7), t.draw(8))
        u = R.Test("b", "C", expect=lambda p: {}, params={"m": R.Printable(5, 50)})
        self.assertNotEqual(t.draw(7), u.draw(7))

    def test_present(self):
        self.assertTrue(R.ANY.matches(b""))
        p = R.Present(("300", "0x12c"))
        self.assertTrue(p.matches(b"unknown hypercall 300"))
        self.assertTrue(p.matches(b"unknown hypercall 0x12C"))
        self.assertFalse(p.matches(b"unknown hypercall"))
        self.assertFalse(p.matches(b"bad hypercall 3000"[:13]))

    def test_expected_bytes(self):
        self.assertEqual(R.expected_bytes(7), b"7")
        self.assertEqual(R.expected_bytes("é"), b"\xc3\xa9")
        self.assertEqual(R.expected_bytes(b"\x00"), b"\x00")


class Project2(unittest.TestCase):
    def setUp(self):
        self.r = R.load("project2")

    def test_the_tests_of_the_brief(self):
        names = [t.name for t in self.r.tests]
        self.assertEqual(set(names), {
            "p2_halt_code", "p2_regs_preserved", "p2_print_hello", "p2_print_empty",
            "p2_print_exit_code", "p2_print_many", "p2_print_utf8", "p2_print_cross_page",
            "p2_unknown_hypercall", "p2_print_unmapped", "p2_print_past_end", "p2_print_wrap"})
        self.assertEqual({t.name for t in self.r.tests if t.hidden},
                         {"p2_print_wrap", "p2_print_utf8"})
        self.assertEqual(self.r.editable, ["project2/hypercall.c"])
        self.assertEqual(set(self.r.outcome_keys), {"exit_code", "vm_error"})

    def test_points_add_up(self):
        scores = self.r.max_scores(self.r.tests)
        self.assertAlmostEqual(sum(scores.values()), sum(c.points for c in self.r.categories))
        for cat in self.r.categories:
            got = sum(scores[t.name] for t in self.r.tests if t.category == cat.name)
            self.assertAlmostEqual(got, cat.points)
        public = [t for t in self.r.tests if not t.hidden]
        self.assertAlmostEqual(sum(self.r.max_scores(public).values()), 100)

    def test_expectations(self):
        for seed in range(30):
            for t in self.r.tests:
                p = t.draw(seed)
                exp = t.expect(p)
                self.assertIn("capture", exp)
                self.assertEqual(len(set(exp) & {"exit_code", "vm_error"}), 1, t.name)
                for v in exp.values():
                    if not isinstance(v, R.Present):
                        R.expected_bytes(v)
        p = self.r.test("p2_print_many").draw(1)
        self.assertEqual(self.r.test("p2_print_many").expect(p)["capture"], p["msg"] * p["count"])
        p = self.r.test("p2_unknown_hypercall").draw(1)
        err = self.r.test("p2_unknown_hypercall").expect(p)["vm_error"]
        self.assertTrue(err.matches(("unknown hypercall %d" % p["nr"]).encode()))
        self.assertTrue(err.matches(("unknown hypercall %#x" % p["nr"]).encode()))
        self.assertFalse(err.matches(b"unknown hypercall"))

    def test_one_boot_fits_every_test(self):
        for seed in range(200):
            tests = self.r.tests
            line = cmdline.build([t.name for t in tests], {t.name: t.draw(seed) for t in tests})
            self.assertLessEqual(len(line), image.CMDLINE_SPACE)

    def test_bad_rubric_is_refused(self):
        import types
        import sys
        mod = types.ModuleType("grader.rubrics._bad")
        mod.CATEGORIES = [R.Category("A", 10)]
        mod.TESTS = [R.Test("x", "B", expect=lambda p: {})]
        mod.EDITABLE = []
        sys.modules["grader.rubrics._bad"] = mod
        try:
            with self.assertRaises(ValueError):
                R.load("_bad")
        finally:
            del sys.modules["grader.rubrics._bad"]


if __name__ == "__main__":
    unittest.main()
