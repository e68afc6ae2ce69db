"""Project 2's rubric: its categories and their points. The tests, each
with its category and weight, are defined in project2/tests.c; the grader
reads them from the built kernel (grader/rubric.py)."""

from grader.rubric import Category

CATEGORIES = [
    Category("HaltCpu", 20, "hypercall 0 ends the VM with the guest's exit code"),
    Category("Print", 50, "hypercall 1 prints the guest's buffer through the PrinterProxy"),
    Category("Robustness", 30, "a bad hypercall stops the VM with the handout's error, not the host"),
]
