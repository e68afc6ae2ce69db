#!/usr/bin/env python3
"""Writes the generated parts of the handouts from their one source.

  handout.py BUILD [--check]

In docs/projectN.md, the text between

  <!-- generated: tests projectN -->  ...  <!-- generated: end -->

is the table of project N's tests (name, category, points, what it checks),
read from BUILD/kernel.elf (the tests' table, projectN/tests.c), and the
text between

  <!-- generated: hints projectN -->  ...  <!-- generated: end -->

is the list of the grader's hints for project N (grader/hints.py), word for
word. BUILD must hold the projects and, for instructors, the hidden tests
(their rows are marked instructors-only, so the release drops them).
--check changes nothing and fails when a handout is out of date
(make test runs it).
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from grader import hints, rubric  # noqa: E402

BLOCK = re.compile(r"(<!-- generated: (tests|hints) project(\d+) -->\n)(.*?)(<!-- generated: end -->)",
                   re.S)


def tests_table(build, n):
    rub = rubric.load(build, n)
    points = rub.max_scores([t for t in rub.tests if not t.hidden])
    lines = ["| test | category | points | what it checks |", "| --- | --- | --- | --- |"]
    for t in rub.tests:
        shown = "hidden" if t.hidden else "%g" % points[t.name]
        row = "| `%s` | %s | %s | %s |" % (t.name, t.category, shown, t.description.replace("|", "\\|"))
        lines.append(row + (" <!-- instructors-only -->" if t.hidden else ""))
    return "\n".join(lines) + "\n"


def hints_list(n):
    # A hint's {fields} are the failed case's; the handout names them in words.
    words = {"{reg}": "a register", "{fault}": "the fault the case names", "{test}": "(its name)"}
    def text(h):
        t = h.text
        for field, w in words.items():
            t = t.replace(field, w)
        return t
    return "".join("- %s\n" % text(h) for h in hints.HINTS if h.project == n)


def render(text, build):
    def repl(m):
        kind, n = m.group(2), int(m.group(3))
        body = tests_table(build, n) if kind == "tests" else hints_list(n)
        return m.group(1) + body + m.group(5)
    return BLOCK.sub(repl, text)


def main(argv):
    if not argv:
        sys.exit(__doc__)
    build, check = argv[0], "--check" in argv
    stale = []
    docs = os.path.join(ROOT, "docs")
    for name in sorted(os.listdir(docs)):
        if not re.fullmatch(r"project\d+\.md", name):
            continue
        path = os.path.join(docs, name)
        with open(path) as f:
            old = f.read()
        new = render(old, build)
        if new != old:
            stale.append(name)
            if not check:
                with open(path, "w") as f:
                    f.write(new)
    if check:
        if stale:
            print("handout.py: out of date: %s (run `make handouts`)" % ", ".join(stale))
            print("0 passed, 1 failed")
            return 1
        print("1 passed, 0 failed")
        return 0
    for name in stale:
        print("handout.py: wrote docs/%s" % name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
