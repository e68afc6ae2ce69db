"""A tally of named checks for the end-to-end scripts (tests/e2e, tests/grader/e2e.py).

Each check prints PASS or FAIL with its name (and why it failed, cut to
WHY_MAX characters); summary() prints the closing `N passed, N failed` line
that tests/run.py reads.
"""

WHY_MAX = 2000


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def check(self, name, ok, why=""):
        if ok:
            self.passed += 1
            print("PASS  %s" % name, flush=True)
        else:
            self.failed += 1
            print("FAIL  %s: %s" % (name, str(why)[:WHY_MAX]), flush=True)
        return ok

    def skip(self, name, why):
        """A check that could not run here: counted apart, not as a pass."""
        self.skipped += 1
        print("SKIP  %s: %s" % (name, why), flush=True)

    def summary(self):
        """Prints the closing line; returns the exit status."""
        print("%d passed, %d failed%s" % (self.passed, self.failed,
                                          " (%d skipped)" % self.skipped if self.skipped else ""))
        return 0 if self.failed == 0 else 1
