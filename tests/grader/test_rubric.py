"""A project's rubric: its categories (projectN/rubric.py), its tests (from
kernel.elf), each test's points, and the errors that name what is wrong."""
import json
import os
import random
import tempfile
import unittest
from fractions import Fraction

from grader import rubric as R
from grade_cli import RUBRIC
from helpers import P2_BUILD, info_record, make_build, p2_rubric, write_elf


def tests_of(cat_counts, rng):
    """Tests with random weights 1..5: cat_counts maps category -> count."""
    out = []
    for cat, n in cat_counts.items():
        out += [R.Test("%s_%d" % (cat, i), cat, rng.randint(1, 5)) for i in range(n)]
    rng.shuffle(out)
    return out


class Points(unittest.TestCase):
    def check(self, rub, tests):
        scores = rub.max_scores(tests)
        for cat in rub.categories:
            members = [t for t in tests if t.category == cat.name]
            if not members:
                self.assertFalse(any(t.category == cat.name for t in tests))
                continue
            shares = [scores[t.name] for t in members]
            for s in shares:  # one decimal, exactly
                self.assertEqual(s, round(s, 1))
                self.assertGreaterEqual(s, 0)
            self.assertEqual(sum(round(s * 10) for s in shares), cat.points * 10)
            self.assertAlmostEqual(sum(shares), cat.points, places=9)
            self.assertEqual(round(sum(shares), 1), cat.points)  # as the report shows it
            total = sum(t.weight for t in members)
            for t in members:
                exact = Fraction(cat.points * t.weight, total)
                self.assertLess(abs(Fraction(scores[t.name]).limit_denominator(10) - exact),
                                Fraction(1, 10), (t, exact))
            by_weight = {}
            for t in members:  # the same weight, the same points give or take 0.1
                by_weight.setdefault(t.weight, []).append(scores[t.name])
            for w, s in by_weight.items():
                self.assertLessEqual(round(max(s) - min(s), 1), 0.1)
        self.assertEqual(set(scores), {t.name for t in tests
                                       if any(c.name == t.category for c in rub.categories)})
        return scores

    def test_many_weight_combinations_add_up_exactly(self):
        rng = random.Random(2024)
        layouts = [(20, 50, 30), (7, 13, 80), (1, 1, 98), (33, 33, 34), (100, 0, 0)]
        for round_ in range(400):
            points = layouts[round_ % len(layouts)] if round_ < 200 else tuple(
                rng.randint(1, 100) for _ in range(3))
            cats = [R.Category(n, p) for n, p in zip("ABC", points)]
            rub = R.Rubric(9, cats, [])
            tests = tests_of({c.name: rng.randint(1, 15) for c in cats}, rng)
            self.check(rub, tests)

    def test_a_subset_of_the_tests_adds_up_again(self):
        rub = p2_rubric()
        self.check(rub, rub.tests)
        public = [t for t in rub.tests if not t.hidden]
        self.assertEqual(round(sum(self.check(rub, public).values()), 1), 100)
        one = [rub.test("p2_print_hello")]
        self.assertEqual(self.check(rub, one), {"p2_print_hello": 50.0})

    def test_project2s_points(self):
        scores = p2_rubric().max_scores(p2_rubric().tests)
        self.assertEqual(scores, {
            "p2_halt_code": 13.3, "p2_print_exit_code": 6.7,  # 20 points, weights 2 and 1
            # 50 points over weights 1,1,3,1,2,1,1,1: the largest remainders (the
            # weight-2 test, then the first three of weight 1) get the tenths left
            "p2_print_hello": 4.6, "p2_print_empty": 4.6, "p2_print_lengths": 13.6,
            "p2_print_bytes": 4.6, "p2_print_cross_page": 9.1, "p2_print_many": 4.5,
            "p2_regs_preserved": 4.5, "p2_print_utf8": 4.5,
            "p2_unknown_hypercall": 6.0, "p2_print_unmapped": 3.0, "p2_print_past_end": 3.0,
            "p2_print_hole": 6.0, "p2_print_wrap": 3.0, "p2_print_huge_size": 3.0,
            "p2_print_capture_limit": 3.0, "p2_print_noncanonical": 3.0})

    def test_ties_go_to_the_earlier_test(self):
        rub = R.Rubric(9, [R.Category("A", 10)], [])
        tests = [R.Test(n, "A") for n in "xyz"]
        self.assertEqual(rub.max_scores(tests), {"x": 3.4, "y": 3.3, "z": 3.3})


class Loading(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def error(self, *args, **kw) -> str:
        with self.assertRaises(R.RubricError) as cm:
            R.load(*args, **kw)
        return str(cm.exception)

    def test_the_recorded_project2_build(self):
        rub = p2_rubric()
        self.assertEqual((rub.project, rub.name), (2, "project2"))
        self.assertEqual([c.name for c in rub.categories], ["HaltCpu", "Print", "Robustness"])
        self.assertEqual([c.points for c in rub.categories], [20, 50, 30])
        self.assertEqual(rub.editable, ["project2/hypercall.c"])
        self.assertEqual(len(rub.tests), 18)
        self.assertEqual({t.name for t in rub.tests if t.hidden},
                         {"p2_print_utf8", "p2_print_noncanonical"})
        halt = rub.test("p2_halt_code")
        self.assertEqual((halt.category, halt.weight, halt.project, halt.file, halt.timeout),
                         ("HaltCpu", 2, 2, "project2/tests.c", R.Test.timeout))
        self.assertIsNone(rub.test("p2_nope"))
        self.assertEqual(rub.category("Print").points, 50)
        self.assertEqual(R.load(P2_BUILD, 2, rubric_path=RUBRIC).tests, rub.tests)

    def test_only_the_projects_tests_and_their_timeouts(self):
        make_build(self.d, [])
        write_elf(os.path.join(self.d, "kernel.elf"), {"ktest_info": (
            info_record("mine", 2, "Print", 4)
            + info_record("other", 3, "Print")
            + b"test=slow\nproject=2\ncategory=HaltCpu\nweight=1\nhidden=1\ntimeout=45\n\0")})
        rub = R.load(self.d, rubric_path=RUBRIC)
        self.assertEqual([(t.name, t.weight, t.hidden, t.timeout) for t in rub.tests],
                         [("mine", 4, False, 20.0), ("slow", 1, True, 45.0)])

    def test_an_unknown_category_is_named(self):
        make_build(self.d, [("p2_a", "Print", 1), ("p2_b", "Printing", 2)])
        self.assertEqual(self.error(self.d, rubric_path=RUBRIC),
                         "test p2_b (project2/tests.c) is in category 'Printing', which "
                         "tests/grader/fixtures/build-p2/rubric.py does not have (it has: HaltCpu, "
                         "Print, Robustness)")

    def test_a_missing_rubric_is_named(self):
        make_build(self.d, [("p7_a", "Print", 1)], project=7)
        self.assertEqual(self.error(self.d), "there is no project7/rubric.py")
        self.assertEqual(self.error(P2_BUILD, 7), "there is no project7/rubric.py")

    def test_a_missing_or_broken_build_is_named(self):
        msg = self.error(self.d)
        path = os.path.join(self.d, "build.json")
        self.assertTrue(msg.startswith(path + " is missing or unreadable ("), msg)
        self.assertTrue(msg.endswith("): build the kernel with `make` first"), msg)
        with open(path, "w") as f:
            f.write("{not json")
        self.assertTrue(self.error(self.d).startswith(path + " is missing or unreadable ("))
        with open(path, "w") as f:
            json.dump({"project": 2}, f)
        self.assertEqual(self.error(self.d), "cannot read the tests of %s/kernel.elf" % self.d)

    def test_two_tests_of_one_name(self):
        make_build(self.d, [("p2_a", "Print", 1), ("p2_a", "HaltCpu", 1)])
        self.assertEqual(self.error(self.d, rubric_path=RUBRIC), "two tests of project 2 have one name")

    def test_a_category_named_twice(self):
        root = os.path.join(self.d, "tree")
        os.makedirs(os.path.join(root, "project5"))
        path = os.path.join(root, "project5", "rubric.py")
        with open(path, "w") as f:
            f.write("from grader.rubric import Category\n"
                    "CATEGORIES = [Category('A', 50), Category('A', 50)]\n")
        make_build(self.d, [("p5_a", "A", 1)], project=5)
        self.assertEqual(self.error(self.d, root=root), "%s names a category twice" % path)

    def test_another_projects_rubric_from_another_tree(self):
        root = os.path.join(self.d, "tree")
        os.makedirs(os.path.join(root, "project3"))
        with open(os.path.join(root, "project3", "rubric.py"), "w") as f:
            f.write("from grader.rubric import Category\n"
                    "CATEGORIES = [Category('EPT', 60, 'x'), Category('MMIO', 40)]\n")
        make_build(self.d, [("p3_a", "EPT", 1), ("p3_b", "MMIO", 3)], project=3,
                   student_files=["project3/ept.c"])
        rub = R.load(self.d, root=root)
        self.assertEqual((rub.project, [t.name for t in rub.tests], rub.editable),
                         (3, ["p3_a", "p3_b"], ["project3/ept.c"]))
        self.assertEqual(rub.max_scores(rub.tests), {"p3_a": 60.0, "p3_b": 40.0})


if __name__ == "__main__":
    unittest.main()
