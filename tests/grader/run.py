#!/usr/bin/env python3
"""The grader's unit tests (tests/grader/test_*.py), standard library only.

Runs them with unittest and ends with one line `N passed, N failed`; a
test marked to be expected to fail (unittest.expectedFailure, see its
comment) is named on a line of its own and counted in neither.
  python3 tests/grader/run.py            every test
  python3 tests/grader/run.py -v         one line per test
  python3 tests/grader/run.py protocol   only test_protocol.py
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)


def main(argv):
    verbose = "-v" in argv
    names = [a for a in argv if not a.startswith("-")]
    loader = unittest.TestLoader()
    if names:
        suite = unittest.TestSuite(loader.loadTestsFromName("test_" + n) for n in names)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2 if verbose else 1, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    expected = len(result.expectedFailures)
    passed = result.testsRun - failed - len(result.skipped) - expected
    for test, _ in result.expectedFailures:
        print("expected to fail (see its comment): %s" % test.id())
    for test, why in result.skipped:
        print("skipped: %s: %s" % (test.id(), why))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
