#!/usr/bin/env python3
"""Prints a build's facts as JSON (make info, $(BUILD)/build.json).

  buildinfo.py PROJECT "PROJECTS" "SOLUTIONS" BUILD CURRENT "ALL" N=FILE...

The Makefile is their one source; grader/rubric.py and the scripts read
this instead of parsing make's files.
"""
import json
import sys


def main(argv):
    project, projects, solutions, build, current, every = argv[:6]
    files = {}
    for pair in argv[6:]:
        n, _, f = pair.partition("=")
        files.setdefault(n, []).append(f)
    facts = {
        "project": int(project),
        "projects": [int(p) for p in projects.split()],
        "solutions": [int(p) for p in solutions.split()],
        "build": build,
        "current": int(current),
        "all_projects": [int(p) for p in every.split()],
        "student_files": {str(p): files.get(str(p), []) for p in projects.split()},
    }
    print(json.dumps(facts, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
