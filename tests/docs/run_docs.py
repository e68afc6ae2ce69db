#!/usr/bin/env python3
"""Runs every shell block that the docs mark runnable, and says which failed.

A block is runnable when its fence's info string is `sh runnable`, with
optional words after it:

    ```sh runnable                 runs in the repository itself
    ```sh runnable copy            runs in a temporary copy of the repository
                                   (for blocks that change tracked files); the
                                   copy blocks of one file share one copy, in
                                   the order they appear
    ```sh runnable exit=2          the block is expected to end with status 2
    ```sh runnable timeout=900     seconds before the block is stopped (600)

A block without `copy` must leave the tracked files as they were: when the
work tree was clean before it (as in CI), it must be clean after it.

Each block runs as one script under `sh -e` (so it stops at the first
failing command), with no standard input, from the top of the repository
(or of the copy). Blocks of one file run in order; files run in the order
README.md, then docs/*.md by name.

  tests/docs/run_docs.py                  every runnable block
  tests/docs/run_docs.py docs/setup.md    only this file's blocks
  tests/docs/run_docs.py --list           the blocks, without running them

Ends with the line `N passed, N failed`; exits 1 when a block failed.
"""
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MARKER = "runnable"
DEFAULT_TIMEOUT = 600
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*)$")
SHOWN_LINES = 40  # of a failed block's output


class Block:
    def __init__(self, path, line, info, text):
        self.path = path  # relative to ROOT
        self.line = line  # of the opening fence, 1-based
        self.text = text
        words = info.split()
        self.copy = "copy" in words[2:]
        self.exit = 0
        self.timeout = DEFAULT_TIMEOUT
        self.problem = None
        for word in words[2:]:
            key, _, value = word.partition("=")
            if word == "copy":
                continue
            if key in ("exit", "timeout") and value.isdigit():
                setattr(self, key, int(value))
            else:
                self.problem = ("unknown word %r after `sh runnable` (known: copy, "
                                "exit=N, timeout=SECONDS)" % word)

    @property
    def where(self):
        return "%s:%d" % (self.path, self.line)


def is_runnable(info):
    words = info.split()
    return len(words) >= 2 and words[0] == "sh" and words[1] == MARKER


def blocks_of(path):
    """The runnable blocks of one Markdown file, in order."""
    rel = os.path.relpath(path, ROOT)
    found = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info, start = m.group("fence"), m.group("info").strip(), i
        body = []
        i += 1
        # A block ends at a fence of the same character, at least as long.
        while i < len(lines):
            close = FENCE.match(lines[i])
            if (close and close.group("fence")[0] == fence[0]
                    and len(close.group("fence")) >= len(fence) and not close.group("info").strip()):
                break
            body.append(lines[i][len(m.group("indent")):] if lines[i].startswith(m.group("indent")) else lines[i])
            i += 1
        i += 1
        if is_runnable(info):
            found.append(Block(rel, start + 1, info, "\n".join(body) + "\n"))
    return found


def doc_files(args):
    if args:
        return [os.path.abspath(a) for a in args]
    files = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    return [f for f in files if os.path.exists(f)]


def copy_repo(dest):
    """A copy of the repository without its build outputs."""
    def ignore(folder, names):
        if os.path.abspath(folder) == ROOT:
            return [n for n in names if n in ("build", "compile_commands.json")]
        return [n for n in names if n == "__pycache__"]
    shutil.copytree(ROOT, dest, symlinks=True, ignore=ignore)


def tracked_changes(cwd):
    """`git status` of tracked files, or None outside a git work tree."""
    if not os.path.isdir(os.path.join(cwd, ".git")):
        return None
    proc = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return proc.stdout if proc.returncode == 0 else None


def run_block(block, cwd):
    """Runs one block; returns (ok, why, output)."""
    if block.problem:
        return False, block.problem, ""
    clean_before = tracked_changes(cwd) == ""
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
        f.write(block.text)
        script = f.name
    try:
        proc = subprocess.Popen(["sh", "-e", script], cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=block.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            return False, "still running after %d s (stopped; raise it with timeout=N)" % block.timeout, \
                out.decode(errors="replace")
    finally:
        os.unlink(script)
    out = out.decode(errors="replace")
    if proc.returncode != block.exit:
        return False, "exit status %d, expected %d" % (proc.returncode, block.exit), out
    after = tracked_changes(cwd)
    if clean_before and after:
        return False, ("it changed tracked files (mark it `sh runnable copy`):\n" + after.rstrip()
                       .replace("\n", "\n      ")), out
    return True, "", out


def show_failure(block, why, out):
    print("FAIL %s: %s" % (block.where, why))
    print("  the block:")
    for line in block.text.rstrip("\n").split("\n"):
        print("    | " + line)
    lines = out.rstrip("\n").split("\n") if out.strip() else []
    if lines:
        cut = len(lines) > SHOWN_LINES
        print("  its output%s:" % (" (last %d lines)" % SHOWN_LINES if cut else ""))
        for line in lines[-SHOWN_LINES:]:
            print("    > " + line)
    else:
        print("  (it printed nothing)")


def main(argv):
    listing = "--list" in argv
    files = doc_files([a for a in argv if a != "--list"])
    missing = [f for f in files if not os.path.exists(f)]
    if missing:
        print("no such file: %s" % ", ".join(missing))
        return 2
    passed = failed = 0
    for path in files:
        blocks = blocks_of(path)
        copy_dir = None
        try:
            for block in blocks:
                if listing:
                    extra = " ".join(w for w in ("copy" if block.copy else "",
                                                 "exit=%d" % block.exit if block.exit else "") if w)
                    first = block.text.strip().split("\n")[0] if block.text.strip() else "(empty)"
                    print("%-28s %-8s %s" % (block.where, extra, first))
                    continue
                cwd = ROOT
                if block.copy:
                    if copy_dir is None:
                        copy_dir = tempfile.mkdtemp(prefix="kevlab-docs-")
                        copy_repo(os.path.join(copy_dir, "kevlab"))
                    cwd = os.path.join(copy_dir, "kevlab")
                start = time.monotonic()
                ok, why, out = run_block(block, cwd)
                if ok:
                    passed += 1
                    print("PASS %s (%.1f s)" % (block.where, time.monotonic() - start), flush=True)
                else:
                    failed += 1
                    show_failure(block, why, out)
                    sys.stdout.flush()
        finally:
            if copy_dir:
                shutil.rmtree(copy_dir, ignore_errors=True)
    if listing:
        return 0
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
