#!/usr/bin/env python3
"""Prints grub.cfg with the command-line placeholder padded to its fixed size.

The runner finds the placeholder in the ISO and writes a command line of at
most CMDLINE_SPACE bytes over it (grader/image.py), padding with spaces.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from grader.image import CMDLINE_SPACE  # noqa: E402
from grader.image import MARKER as MARKER_BYTES  # noqa: E402

MARKER = MARKER_BYTES.decode()

text = open(sys.argv[1]).read()
if text.count(MARKER) != 1:
    sys.exit("grubcfg: %s must hold the placeholder %s exactly once (it holds it %d times)"
             % (sys.argv[1], MARKER, text.count(MARKER)))
sys.stdout.write(text.replace(MARKER, MARKER + " " * (CMDLINE_SPACE - len(MARKER))))
