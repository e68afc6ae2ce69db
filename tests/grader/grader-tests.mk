# tests/grader/: the grader's own unit tests. No emulator and no kernel
# build: recorded serial logs and a recorded build in tests/grader/fixtures/
# (see its README.md), made-up builds, and tests/grader/fake_emulator.py
# standing in for QEMU or Bochs.
#
#   make grader-tests               the grader's unit tests (parser, verdicts, points, reports,
#                                   results files, timeouts, resumption, grade.py's options)
.PHONY: grader-tests
grader-tests:
	@$(PYTHON) tests/grader/run.py
