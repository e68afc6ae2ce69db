"""Project 3's rubric: its categories and their points. The tests, each
with its category and weight, are defined in project3/tests.c; the grader
reads them from the built kernel (grader/rubric.py). The EPT and MMIO are
the parts built so far; the guest kernel on demand paging comes next, a
category of its own (then EPT 40, MMIO 25, Loader 35)."""

from grader.rubric import Category

CATEGORIES = [
    Category("EPT", 75, "ept_map, ept_unmap, ept_translate, ept_gva_to_hpa, and a guest on your EPT"),
    Category("MMIO", 25, "mmio_handle: the printer behind a page the EPT leaves out"),
]
