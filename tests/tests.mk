# tests/: the framework's own tests. Each kind has its own .mk; this file
# only includes them.
include tests/host/host.mk

#   make test                       the framework's own tests (what CI runs; SUITES='host kernel' for some)
.PHONY: test
test: | $(DEPS_STAMP)
	@$(MAKE) --no-print-directory WERROR=1 all test-iso
	@$(MAKE) --no-print-directory WERROR=1 SOLUTION=all all
	@$(MAKE) --no-print-directory WERROR=1 PROJECT=$(LAST_PROJECT) SOLUTION=all all
	@$(PYTHON) tests/run.py $(SUITES)
# The handouts' generated tables (tests, hints) come from the instructors'
# build of the last project, which holds every project: the hidden tests
# show, marked instructors-only.
#   make handouts                   rewrite the generated parts of docs/projectN.md
.PHONY: handouts
handouts:
	@$(MAKE) --no-print-directory PROJECT=$(LAST_PROJECT) SOLUTION=all all
	@$(PYTHON) scripts/handout.py $$($(MAKE) -s --no-print-directory info PROJECT=$(LAST_PROJECT) SOLUTION=all | $(PYTHON) -c 'import json,sys; print(json.load(sys.stdin)["build"])')
-include tests/grader/grader-tests.mk
-include tests/mutants/mutants.mk
