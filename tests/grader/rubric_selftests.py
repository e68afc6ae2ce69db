"""A rubric of the kernel's own self-tests, for the grader's end-to-end
tests before (and besides) any project: passing tests, one that checks a
command-line parameter, and crash tests that must each cost only
themselves."""
from grader.rubric import Category, Fixed, Test

PROJECT = "selftests"
EDITABLE = []
OUTCOME_KEYS = ()

CATEGORIES = [Category("Kernel", 60), Category("Crashes", 40)]

TESTS = [
    Test("printk_formats", "Kernel", expect=lambda p: {}),
    Test("string_functions", "Kernel", expect=lambda p: {}),
    Test("cmdline_params", "Kernel", params={"text": Fixed("a b%c\u20ac\n")}, expect=lambda p: {}),
    Test("exception_caught", "Kernel", expect=lambda p: {}),
    Test("backtrace_symbols", "Kernel", expect=lambda p: {}),
    Test("crash_panic", "Crashes", expect=lambda p: {}),
    Test("crash_triple_fault", "Crashes", expect=lambda p: {}),
    Test("crash_hang", "Crashes", expect=lambda p: {}, timeout=4, budget=100_000_000),
    Test("crash_page_fault", "Crashes", expect=lambda p: {}),
]
