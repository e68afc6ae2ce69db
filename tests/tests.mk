# tests/: the framework's own tests. Each kind has its own .mk; this file
# only includes them.
include tests/host/host.mk

#   make test                       the framework's own tests (what CI runs; SUITES='host kernel' for some)
.PHONY: test
test: | $(DEPS_STAMP)
	@$(MAKE) --no-print-directory SOLUTION=0 BUILD=build/skeleton WERROR=1 all
	@$(MAKE) --no-print-directory SOLUTION=1 BUILD=build/solution WERROR=1 all
	@$(PYTHON) tests/run.py $(SUITES)
-include tests/grader/grader-tests.mk
