# tests/grader/: the grader's own unit tests (no emulator, no kernel needed).
#
#   make grader-tests               the grader's unit tests (parser, scoring, timeouts, resumption)
.PHONY: grader-tests
grader-tests:
	@$(PYTHON) tests/grader/run.py
