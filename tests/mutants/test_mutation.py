"""Unit tests of the mutation suite's replacement engine (tests/mutants/mutation.py):
the find-exactly-once rule, the checks on a project's lists, and every
project's entries applying to the files as they are now.

  python3 -m unittest tests.mutants.test_mutation     (tests/mutants/run.py runs them first)
"""
import os
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
from tests.mutants import mutation  # noqa: E402
from tests.mutants.mutation import Alternative, Mutant, PatchError  # noqa: E402

TEXT = "int f(void)\n{\n    return a + b;\n}\n\nint g(void)\n{\n    return a - b;\n}\n"


def mutant(*replace, name="m1"):
    return Mutant(name, "x.c", list(replace), "a bug")


class ApplyTest(unittest.TestCase):
    def test_one_occurrence_is_replaced(self):
        out = mutation.apply(TEXT, mutant(("a + b", "a * b")))
        self.assertEqual(out, TEXT.replace("a + b", "a * b"))

    def test_absent_find_fails_naming_the_entry(self):
        with self.assertRaises(PatchError) as cm:
            mutation.apply(TEXT, mutant(("a / b", "a * b"), name="gone_anchor"))
        self.assertIn("gone_anchor", str(cm.exception))
        self.assertIn("not there", str(cm.exception))
        self.assertIn("a / b", str(cm.exception))

    def test_two_occurrences_fail_naming_the_entry(self):
        with self.assertRaises(PatchError) as cm:
            mutation.apply(TEXT, mutant(("return a", "return 0"), name="ambiguous"))
        self.assertIn("ambiguous", str(cm.exception))
        self.assertIn("occurs 2 times", str(cm.exception))

    def test_replacements_apply_in_order(self):
        # The second find exists only once the first replacement has been made.
        out = mutation.apply(TEXT, mutant(("a + b", "c + d"), ("c + d", "e")))
        self.assertIn("return e;", out)

    def test_a_later_find_is_counted_in_the_patched_text(self):
        # "a - b" occurs once in the file but twice after the first replacement.
        with self.assertRaises(PatchError) as cm:
            mutation.apply(TEXT, mutant(("a + b", "a - b"), ("a - b", "0")))
        self.assertIn("replacement 2", str(cm.exception))
        self.assertIn("occurs 2 times", str(cm.exception))

    def test_empty_find_fails(self):
        with self.assertRaises(PatchError):
            mutation.apply(TEXT, mutant(("", "x")))

    def test_a_replacement_is_a_pair_of_strings(self):
        with self.assertRaises(PatchError):
            mutation.apply(TEXT, mutant(("a + b",)))
        with self.assertRaises(PatchError):
            mutation.apply(TEXT, Mutant("m", "x.c", ["a + b"], "a bug"))

    def test_multiline_find(self):
        out = mutation.apply(TEXT, mutant(("{\n    return a - b;\n}", "{\n    return 0;\n}")))
        self.assertTrue(out.endswith("{\n    return 0;\n}\n"))

    def test_the_text_is_not_changed_in_place(self):
        before = TEXT
        mutation.apply(TEXT, mutant(("a + b", "x")))
        self.assertEqual(TEXT, before)


class CheckEntriesTest(unittest.TestCase):
    def test_good_lists_pass(self):
        mutation.check_entries([mutant(("a", "b")), Alternative("a1", "x.c", [("a", "b")], "so")])

    def test_repeated_name(self):
        with self.assertRaises(PatchError) as cm:
            mutation.check_entries([mutant(("a", "b")), mutant(("c", "d"))])
        self.assertIn("m1", str(cm.exception))

    def test_bad_names(self):
        for name in ("Upper", "has space", "", "../up", mutation.SOLUTION):
            with self.assertRaises(PatchError, msg=name):
                mutation.check_entries([mutant(("a", "b"), name=name)])

    def test_no_replacement(self):
        with self.assertRaises(PatchError):
            mutation.check_entries([mutant()])

    def test_a_mutant_says_what_bug_it_models(self):
        with self.assertRaises(PatchError):
            mutation.check_entries([Mutant("m", "x.c", [("a", "b")], " ")])


class LoadTest(unittest.TestCase):
    def write_project(self, root, body):
        os.makedirs(os.path.join(root, "project7"))
        with open(os.path.join(root, "project7", "mutants.py"), "w") as f:
            f.write("from tests.mutants.mutation import Alternative, Mutant\n" + body)

    def test_load_and_discover(self):
        with tempfile.TemporaryDirectory() as root:
            self.write_project(root, "MUTANTS = [Mutant('m', 'project7/a.c', [('x', 'y')], 'bug')]\n"
                                     "ALTERNATIVES = []\n")
            self.assertEqual(mutation.projects_with_mutants(root), [7])
            mutants, alternatives = mutation.load(7, root)
            self.assertEqual([m.name for m in mutants], ["m"])
            self.assertEqual(alternatives, [])

    def test_an_alternative_in_mutants_is_refused(self):
        with tempfile.TemporaryDirectory() as root:
            self.write_project(root, "MUTANTS = [Alternative('a', 'f.c', [('x', 'y')], 'how')]\n")
            with self.assertRaises(PatchError):
                mutation.load(7, root)


class ProjectsTest(unittest.TestCase):
    """Every entry of every project fits its file as the tree has it now."""

    def test_every_entry_applies(self):
        projects = mutation.projects_with_mutants()
        self.assertTrue(projects, "no project ships a mutants.py")
        for n in projects:
            mutants, alternatives = mutation.load(n)
            self.assertTrue(mutants, "project %d has no mutants" % n)
            for e in mutants + alternatives:
                with open(os.path.join(ROOT, e.file)) as f:
                    text = f.read()
                with self.subTest(entry=e.name):
                    self.assertNotEqual(mutation.apply(text, e), text)


if __name__ == "__main__":
    unittest.main()
