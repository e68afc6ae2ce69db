# tests/mutants/: the grader tested by mutation (tests/mutants/README.md).
# Each projectN/mutants.py lists wrong implementations (each must fail a
# public test under every seed) and correct alternatives (each must score
# 100%); tests/mutants/run.py builds them beside the tree (SRC_OVERRIDE,
# into build/mutants/p<N>/) and grades them under Bochs.
#
#   make mutants                    PROJECT's mutants fail a public test, its alternatives score 100% (MUTANT_SEEDS=1,2 JOBS=n ONLY=a,b)
#   make mutants-check              only apply every project's replacements, and the engine's unit tests (no build)
MUTANT_SEEDS ?= 1,2
.PHONY: mutants mutants-check
mutants: | $(DEPS_STAMP)
	@$(PYTHON) tests/mutants/run.py --project $(PROJECT) --seeds $(MUTANT_SEEDS) \
		$(if $(JOBS),-j $(JOBS)) $(if $(ONLY),--only $(ONLY))
mutants-check:
	@$(PYTHON) tests/mutants/run.py --check
