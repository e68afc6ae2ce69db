"""Project 4's rubric: its categories and their points. The tests, each
with its category and weight, are defined in project4/tests.c; the grader
reads them from the built kernel (grader/rubric.py). The virtual timer is
the part built so far: the virtio block device comes next (then, e.g.,
Timer 40, Virtio 45, Guest 15)."""

from grader.rubric import Category

CATEGORIES = [
    Category("Timer", 100, "timer_wrmsr, timer_rdmsr, timer_expired, timer_deliver: the guest's "
             "TSC-deadline timer and its interrupt, injected or through the interrupt window"),
]
