"""Project 2's rubric: its categories (one per part of the project) and
their points. The tests, each with its category and weight, are defined in
project2/tests.c; the grader reads them from the built kernel
(grader/rubric.py)."""

from grader.rubric import Category

CATEGORIES = [
    Category("Entry", 10, "entry_setup(): the VM's entry state, GUEST_CR3 and GUEST_RIP"),
    Category("Hypercalls", 35, "HaltCpu and Print, and the errors of bad hypercalls"),
    Category("CPUID", 15, "a CPUID exit emulated, with what must not leak adjusted"),
    Category("PortIO", 25, "IN, OUT, INS and OUTS emulated against the given devices"),
    Category("MSR", 15, "RDMSR and WRMSR emulated through a registry of MSRs"),
]
