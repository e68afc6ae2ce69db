"""grade.py's choices: which tests (hidden ones), its options, its bound."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import grade_cli  # noqa: F401  (puts grader/grade.py in reach)
from grader import rubric as R

grade = grade_cli.grade
RUB = R.load("project2")


def args_for(*argv):
    return grade.parse_args(list(argv))


class Options(unittest.TestCase):
    def test_defaults(self):
        a = args_for()
        self.assertEqual(a.command, "grade")
        self.assertEqual(a.hidden, "auto")
        self.assertEqual(a.jobs, os.cpu_count() or 1)
        self.assertTrue(a.seed.isdigit())
        a = args_for("-j", "3", "--seed", "9", "--public-only", "--backend", "bochs",
                     "--cpu-model", "tigerlake")
        self.assertEqual((a.jobs, a.seed, a.hidden, a.backend, a.cpu_model),
                         (3, "9", "none", "bochs", "tigerlake"))
        self.assertEqual(args_for("--include-hidden").hidden, "all")
        self.assertEqual(args_for("run").test, "none")
        self.assertEqual(args_for("check", "--test", "x").test, "x")

    def test_help(self):
        p = subprocess.run([sys.executable, grade_cli.PATH, "--help"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        for word in ("run", "check", "grade", "gdb", "bench"):
            self.assertIn(word, p.stdout)


@unittest.skipUnless(shutil.which("gcc"), "needs gcc to make an ELF file")
class HiddenTests(unittest.TestCase):
    def build_with(self, d, names):
        src = os.path.join(d, "k.c")
        with open(src, "w") as f:
            for n in names:
                f.write("static const int ktest_entry_%s __attribute__((used)) = 1;\n" % n)
        subprocess.run(["gcc", "-c", src, "-o", os.path.join(d, "kernel.elf")], check=True)

    def test_hidden_graded_only_if_built_in(self):
        with tempfile.TemporaryDirectory() as d:
            public = [t.name for t in RUB.tests if not t.hidden]
            self.build_with(d, public)
            tests, note = grade.select_tests(args_for("--build", d), RUB)
            self.assertEqual([t.name for t in tests], public)
            self.assertIn("p2_print_wrap", note)
            self.build_with(d, [t.name for t in RUB.tests])
            tests, note = grade.select_tests(args_for("--build", d), RUB)
            self.assertEqual(len(tests), len(RUB.tests))
            self.assertEqual(note, "")
            tests, _ = grade.select_tests(args_for("--build", d, "--public-only"), RUB)
            self.assertEqual([t.name for t in tests], public)
            self.build_with(d, public)
            tests, _ = grade.select_tests(args_for("--build", d, "--include-hidden"), RUB)
            self.assertEqual(len(tests), len(RUB.tests))

    def test_chosen_tests(self):
        tests, _ = grade.select_tests(args_for("--tests", "p2_print_hello,p2_halt_code",
                                               "--include-hidden"), RUB)
        self.assertEqual([t.name for t in tests], ["p2_print_hello", "p2_halt_code"])
        with self.assertRaises(SystemExit):
            grade.select_tests(args_for("--tests", "p2_nope"), RUB)


if __name__ == "__main__":
    unittest.main()
