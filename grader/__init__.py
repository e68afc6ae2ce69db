"""kevlab's grader: boots the kernel, reads its serial frames, grades them.

Python 3 standard library only. Entry point: grader/grade.py (run, check,
grade, gdb, bench); see docs/grader.md.
"""
