"""Reading the tests a kernel holds from its ELF file: the graded tests'
records in the section ktest_info, the ktest_entry_* symbols."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from grader import kernelinfo
from helpers import P2_BUILD, ROOT, info_record, write_elf

# A C file that uses kernel/ktest.h's own macros, so the section's layout is
# the kernel's, not a copy of it.
SOURCE = r"""
#include "kernel/ktest.h"
KTEST_GRADED(p9_first, 9, "Print", 3, "prints a = b, with spaces")
{ return KTEST_PASS; }
KTEST_GRADED_HIDDEN(p9_second, 9, "HaltCpu", 1, "a hidden one")
{ return KTEST_PASS; }
KTEST(selftest_only, 0) { return KTEST_PASS; }
KTEST_GRADED(p9_third, 9, "Robust ness", 12, "")
{ return KTEST_PASS; }
"""


@unittest.skipUnless(shutil.which("gcc"), "needs gcc to compile kernel/ktest.h")
class RealMacros(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        with open(os.path.join(cls.tmp.name, "t.c"), "w") as f:
            f.write(SOURCE)
        cls.obj = os.path.join(cls.tmp.name, "t.o")
        subprocess.run(["gcc", "-std=c11", "-ffreestanding", "-Wall", "-Wextra", "-I", ROOT,
                        "-c", "t.c", "-o", cls.obj], cwd=cls.tmp.name, check=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_records(self):
        self.assertEqual(kernelinfo.tests(self.obj), [
            {"test": "p9_first", "project": "9", "category": "Print", "weight": "3",
             "hidden": "0", "description": "prints a = b, with spaces", "file": "t.c"},
            {"test": "p9_second", "project": "9", "category": "HaltCpu", "weight": "1",
             "hidden": "1", "description": "a hidden one", "file": "t.c"},
            {"test": "p9_third", "project": "9", "category": "Robust ness", "weight": "12",
             "hidden": "0", "description": "", "file": "t.c"},
        ])

    def test_symbols_name_every_test(self):
        self.assertEqual(kernelinfo.kernel_tests(self.obj),
                         {"p9_first", "p9_second", "selftest_only", "p9_third"})
        self.assertIn(("ktest_info", 2), kernelinfo.sections(self.obj))  # SHF_ALLOC


class Records(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "kernel.elf")

    def tearDown(self):
        self.tmp.cleanup()

    def elf(self, info):
        write_elf(self.path, {".text": b"\x90", "ktest_info": info} if info is not None
                  else {".text": b"\x90"})
        return kernelinfo.tests(self.path)

    def test_in_link_order(self):
        got = self.elf(info_record("b", weight=5, hidden=1) + info_record("a", category="X"))
        self.assertEqual([(r["test"], r["weight"], r["hidden"], r["category"]) for r in got],
                         [("b", "5", "1", "Print"), ("a", "1", "0", "X")])

    def test_padding_and_records_without_a_name_are_skipped(self):
        got = self.elf(b"\0\0" + info_record("a") + b"\0" * 7 + b"project=2\nweight=1\n\0"
                       + b"  \n\0" + info_record("b"))
        self.assertEqual([r["test"] for r in got], ["a", "b"])

    def test_values_keep_equals_signs_and_odd_bytes(self):
        got = self.elf(b"test=a\ncategory=C\ndescription=x = y\nnot a pair\nfile=\xff.c\n\0")
        self.assertEqual(got, [{"test": "a", "category": "C", "description": "x = y",
                                "file": "\ufffd.c"}])

    def test_limits_join_their_test_and_alone_are_no_test(self):
        got = self.elf(b"test=a\ncategory=C\n\0test=a\ntimeout=4\nbudget=9\n\0"
                       b"test=b\ntimeout=1\n\0")
        self.assertEqual(got, [{"test": "a", "category": "C", "timeout": "4", "budget": "9"}])

    def test_no_section_is_no_tests(self):
        self.assertEqual(self.elf(None), [])

    def test_unreadable_files_are_none(self):
        self.assertIsNone(kernelinfo.tests(os.path.join(self.tmp.name, "missing.elf")))
        with open(self.path, "wb") as f:
            f.write(b"#!/bin/sh\n" * 20)
        self.assertIsNone(kernelinfo.tests(self.path))
        self.elf(info_record("a"))
        data = open(self.path, "rb").read()
        for cut in (10, 64, len(data) - 30):
            with open(self.path, "wb") as f:
                f.write(data[:cut])
            self.assertIsNone(kernelinfo.tests(self.path), cut)
        with open(self.path, "wb") as f:  # a 32-bit ELF
            f.write(b"\x7fELF\x01\x01" + data[6:])
        self.assertIsNone(kernelinfo.tests(self.path))


class RecordedBuild(unittest.TestCase):
    """fixtures/build-p2/kernel.elf: a real build's records, read back whole.
    (Not compared with project2/tests.c: adding a test must not mean
    recording fixtures again; tests/e2e/add_test.py checks the live table.)"""

    def test_its_records_are_complete(self):
        recorded = kernelinfo.tests(os.path.join(P2_BUILD, "kernel.elf"))
        self.assertGreater(len(recorded), 10)
        for r in recorded:
            self.assertEqual(set(r) >= {"test", "project", "category", "weight", "hidden",
                                        "description", "file"}, True, r)
            self.assertEqual(r["project"], "2", r)


if __name__ == "__main__":
    unittest.main()
