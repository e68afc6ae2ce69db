"""The rubric of "project 0": the kernel's own self-tests that kernel/tests.c
marks graded (KTEST_INFO), for the grader's end-to-end tests
(tests/grader/e2e.py): passing tests, and crash tests that must each cost
only themselves."""
from grader.rubric import Category

CATEGORIES = [Category("Kernel", 60), Category("Crashes", 40)]
