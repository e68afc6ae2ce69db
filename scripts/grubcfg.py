#!/usr/bin/env python3
"""Prints grub.cfg with the command-line placeholder padded to its fixed size.

The runner finds the placeholder in the ISO and writes a command line of at
most CMDLINE_SPACE bytes over it (grader/image.py), padding with spaces.
"""
import sys

MARKER = "@KEVLAB-CMDLINE@"
CMDLINE_SPACE = 4096  # must match grader/image.py

text = open(sys.argv[1]).read()
assert text.count(MARKER) == 1, "grub.cfg must hold the placeholder once"
sys.stdout.write(text.replace(MARKER, MARKER + " " * (CMDLINE_SPACE - len(MARKER))))
