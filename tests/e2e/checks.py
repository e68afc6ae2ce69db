"""A tally of named checks for the end-to-end scripts in tests/e2e.

Each check prints PASS or FAIL with its name (and why it failed); summary()
prints the closing `N passed, N failed` line that tests/run.py reads.
"""


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, why=""):
        if ok:
            self.passed += 1
            print("PASS  %s" % name, flush=True)
        else:
            self.failed += 1
            print("FAIL  %s: %s" % (name, why), flush=True)
        return ok

    def summary(self):
        """Prints the closing line; returns the exit status."""
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 0 if self.failed == 0 else 1
