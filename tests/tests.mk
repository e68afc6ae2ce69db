# tests/: the framework's own tests. Each kind has its own .mk; this file
# only includes them.
include tests/host/host.mk

#   make test                       the framework's own tests (what CI runs; SUITES='host kernel' for some)
.PHONY: test
test: | $(DEPS_STAMP)
	@$(MAKE) --no-print-directory WERROR=1 all
	@$(MAKE) --no-print-directory WERROR=1 SOLUTION=all all
	@$(PYTHON) tests/run.py $(SUITES)
-include tests/grader/grader-tests.mk
-include tests/mutants/mutants.mk
