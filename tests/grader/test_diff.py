"""Diff rendering: invisible bytes made visible, where outputs first differ."""
import unittest

from grader import diff


class Visible(unittest.TestCase):
    def test_bytes(self):
        self.assertEqual(diff.visible(b"a\tb\\c\x00\x7f\xc3\xa9"), "a\\tb\\\\c\\x00\\x7f\\xc3\\xa9")
        self.assertEqual(diff.visible(b"end  "), "end\\x20\\x20")
        self.assertEqual(diff.visible(b"a b"), "a b")
        self.assertEqual(diff.visible(b"line\n"), "line\\n")

    def test_lines_and_wrapping(self):
        self.assertEqual(diff.visible_lines(b"a\nb"), ["a\\n", "b"])
        self.assertEqual(diff.visible_lines(b"x" * 130, wrap=64), ["x" * 64, "x" * 64, "xx"])
        self.assertEqual(diff.visible_lines(b""), [])


class Differences(unittest.TestCase):
    def test_first_difference(self):
        self.assertIn("byte 2", diff.first_difference(b"abcd", b"abXd"))
        self.assertIn("'c' (0x63)", diff.first_difference(b"abcd", b"abXd"))
        self.assertIn("missing", diff.first_difference(b"abcd", b"ab"))
        self.assertIn("2 more", diff.first_difference(b"ab", b"abcd"))
        self.assertEqual(diff.first_difference(b"a", b"a"), "identical")

    def test_unified(self):
        self.assertEqual(diff.unified(b"same", b"same"), "")
        text = diff.unified(b"Hello\n", b"Hello", "capture")
        self.assertIn("--- expected capture", text)
        self.assertIn("+++ your capture", text)
        self.assertIn("-Hello\\n", text)
        self.assertIn("+Hello", text.split("\n"))
        text = diff.unified(b"", b"\x00")
        self.assertIn("-(nothing)", text)
        self.assertIn("+\\x00", text)

    def test_a_huge_diff_is_cut_to_a_screenful(self):
        expected = b"".join(b"line %d\n" % i for i in range(1000))
        text = diff.unified(expected, b"", "capture")
        self.assertLessEqual(len(text.splitlines()), diff.MAX_DIFF_LINES + 2)
        self.assertIn("more lines of the diff (the whole capture is in the serial log)", text)

    def test_long_single_line_points_at_the_change(self):
        exp = b"abcdefgh" * 40
        act = exp[:200] + b"X" + exp[201:]
        text = diff.unified(exp, act)
        self.assertIn("byte 200", text)
        changed = [l for l in text.split("\n") if l.startswith(("-", "+")) and
                   not l.startswith(("---", "+++"))]
        self.assertEqual(len(changed), 2)  # only the wrapped piece that differs


if __name__ == "__main__":
    unittest.main()
