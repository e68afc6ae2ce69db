#!/usr/bin/env python3
"""Writes compile_commands.json (for clangd) from the Makefile's flags.

Usage: compile_commands.py CC "CFLAGS" BUILD_DIR SOURCE...
"""
import json
import os
import shlex
import sys

cc, cflags, build, sources = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
root = os.getcwd()
entries = []
for src in sources:
    obj = os.path.join(build, src[:-2] + ".o")
    entries.append({
        "directory": root,
        "file": os.path.join(root, src),
        "arguments": [cc] + shlex.split(cflags) + ["-c", src, "-o", obj],
    })
json.dump(entries, sys.stdout, indent=1)
print()
