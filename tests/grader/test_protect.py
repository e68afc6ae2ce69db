"""The release manifest check and restoring the originals."""
import hashlib
import os
import shutil
import tempfile
import unittest

from grader import protect


def write(root, name, text):
    path = os.path.join(root, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


class Manifest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp()
        files = {"kernel/main.c": "int main;\n", "kev/vmx.c": "vmx\n",
                 "project2/hypercall.c": "student\n", "Makefile": "all:\n"}
        lines = []
        for name, text in files.items():
            write(self.root, name, text)
            write(self.root, os.path.join(protect.ORIGINALS, name), text)
            lines.append("%s  %s" % (hashlib.sha256(text.encode()).hexdigest(), name))
        write(self.root, protect.MANIFEST, "\n".join(lines) + "\n")

    def tearDown(self):
        shutil.rmtree(self.root)

    def test_no_manifest_no_check(self):
        os.unlink(os.path.join(self.root, protect.MANIFEST))
        self.assertIsNone(protect.check(self.root))
        self.assertEqual(protect.message(None), "")

    def test_clean_tree(self):
        self.assertEqual(protect.check(self.root), {"changed": [], "missing": []})

    def test_changed_and_missing_and_editable(self):
        write(self.root, "kev/vmx.c", "hacked\n")
        write(self.root, "project2/hypercall.c", "my solution\n")
        os.unlink(os.path.join(self.root, "Makefile"))
        found = protect.check(self.root, editable=["project2/hypercall.c"])
        self.assertEqual(found, {"changed": ["kev/vmx.c"], "missing": ["Makefile"]})
        msg = protect.message(found)
        self.assertIn("changed: kev/vmx.c", msg)
        self.assertIn("missing: Makefile", msg)
        self.assertIn("--restore", msg)
        self.assertEqual(protect.restore(self.root, found["changed"] + found["missing"]), [])
        self.assertEqual(protect.check(self.root, ["project2/hypercall.c"]),
                         {"changed": [], "missing": []})
        self.assertEqual(open(os.path.join(self.root, "project2/hypercall.c")).read(),
                         "my solution\n")

    def test_restore_without_original(self):
        shutil.rmtree(os.path.join(self.root, protect.ORIGINALS))
        self.assertEqual(protect.restore(self.root, ["kev/vmx.c"]), ["kev/vmx.c"])

    def test_sha256sum_binary_marks(self):
        text = "%s *%s\n" % ("ab" * 32, "x/y.c")
        write(self.root, protect.MANIFEST, text)
        self.assertEqual(protect.read_manifest(self.root), {"x/y.c": "ab" * 32})


if __name__ == "__main__":
    unittest.main()
