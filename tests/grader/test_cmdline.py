"""Command-line building and percent-encoding; patching the ISO copy."""
import os
import tempfile
import unittest

from grader import cmdline, image
from helpers import fake_iso


class PercentEncoding(unittest.TestCase):
    def test_only_safe_bytes_stay(self):
        enc = cmdline.percent_encode(bytes(range(256)))
        kept = [c for c in enc.replace("%", "") if not c.isalnum()]
        self.assertTrue(set(kept) <= set("_.-"), kept)
        self.assertEqual(cmdline.percent_decode(enc), bytes(range(256)))
        for c in " %=,\"'$;#{}\\\n":
            self.assertNotIn(c, enc.replace("%", "").replace(",", "").replace("=", ""))

    def test_forms(self):
        self.assertEqual(cmdline.percent_encode("a b%c"), "a%20b%25c")
        self.assertEqual(cmdline.percent_encode("é"), "%C3%A9")
        self.assertEqual(cmdline.percent_encode(42), "42")
        self.assertEqual(cmdline.percent_encode(b"x-y_z.0"), "x-y_z.0")
        self.assertEqual(cmdline.percent_encode(""), "")

    def test_build(self):
        line = cmdline.build(["a", "b"], {"a": {"msg": "hi there", "code": 7}, "c": {"x": 1}},
                             [("kev.trace", 1)])
        self.assertEqual(line, "test=a,b a.msg=hi%20there a.code=7 kev.trace=1")
        self.assertEqual(cmdline.build([]), "test=none")

    def test_user_args(self):
        self.assertEqual(cmdline.parse_user_args(["k=v", "a.b=x=y"]), [("k", "v"), ("a.b", "x=y")])
        with self.assertRaises(ValueError):
            cmdline.parse_user_args(["novalue"])


class Patching(unittest.TestCase):
    def test_patch_keeps_size_and_rest(self):
        data = fake_iso()
        out = image.patch(data, "test=a a.msg=x%20y")
        self.assertEqual(len(out), len(data))
        at = data.find(image.MARKER)
        self.assertEqual(out[:at], data[:at])
        self.assertEqual(out[at + image.CMDLINE_SPACE:], data[at + image.CMDLINE_SPACE:])
        self.assertEqual(out[at:at + image.CMDLINE_SPACE].rstrip(b" "), b"test=a a.msg=x%20y")
        self.assertNotIn(image.MARKER, out)

    def test_marker_must_occur_once(self):
        for n in (0, 2):
            with self.assertRaises(image.ImageError):
                image.patch(fake_iso(n), "test=none")

    def test_too_long_or_multi_line(self):
        with self.assertRaises(image.ImageError):
            image.patch(fake_iso(), "x" * (image.CMDLINE_SPACE + 1))
        with self.assertRaises(image.ImageError):
            image.patch(fake_iso(), "test=a\nboot")
        self.assertEqual(len(image.patch(fake_iso(), "x" * image.CMDLINE_SPACE)), len(fake_iso()))

    def test_copy_leaves_the_original_alone(self):
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "kevlab.iso")
            with open(src, "wb") as f:
                f.write(fake_iso())
            dst = image.make_boot_image(src, "test=none", os.path.join(d, "run", "kevlab.iso"))
            self.assertEqual(open(src, "rb").read(), fake_iso())
            self.assertIn(b"test=none    ", open(dst, "rb").read())
            with self.assertRaises(image.ImageError):
                image.make_boot_image(os.path.join(d, "missing.iso"), "test=none", dst)


if __name__ == "__main__":
    unittest.main()
