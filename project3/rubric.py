"""Project 3's rubric: its categories and their points. The tests, each
with its category and weight, are defined in project3/tests.c; the grader
reads them from the built kernel (grader/rubric.py)."""

from grader.rubric import Category

CATEGORIES = [
    Category("EPT", 40, "ept_map, ept_unmap, ept_translate, ept_gva_to_hpa, and a guest on your EPT"),
    Category("MMIO", 25, "mmio_handle: the printer behind a page the EPT leaves out"),
    Category("Loader", 35, "loader_parse and loader_fault: minos, a guest kernel, booted from its "
             "ELF file on demand paging"),
]
