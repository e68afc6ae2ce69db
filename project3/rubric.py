"""Project 3's rubric: its categories and their points. The tests, each
with its category and weight, are defined in project3/tests.c; the grader
reads them from the built kernel (grader/rubric.py). The EPT is the part
built so far: MMIO and the guest kernel on demand paging come next, each a
category of its own."""

from grader.rubric import Category

CATEGORIES = [
    Category("EPT", 100, "ept_map, ept_unmap, ept_translate, ept_gva_to_hpa, and a guest on your EPT"),
]
