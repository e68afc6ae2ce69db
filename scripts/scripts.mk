# scripts/: the instructors' targets (docs/instructors.md). Neither ships
# to students: make release leaves this file out.
#
#   make release                    the student tree: build/release/kevlab/ and .tar.gz, checked by grading it
#   make autograder                 build/autograder.zip for Gradescope, checked with the reference solution
#   make batch DIR=<folder>         grade every submission folder in DIR: build/batch/scores.csv

.PHONY: release autograder batch instructor-deps
# Beyond the build's tools: unifdef strips the solutions, unzip lays out
# the autograder for its check. scripts/install-deps installs both.
instructor-deps: | $(DEPS_STAMP)
	@for t in unifdef unzip; do \
	  command -v $$t >/dev/null 2>&1 || { echo "$$t is missing: running scripts/install-deps"; \
	    scripts/install-deps; break; }; \
	done

release: instructor-deps
	@$(PYTHON) scripts/release.py $(if $(filter 1,$(NO_CHECK)),--no-check)

autograder: instructor-deps
	@$(PYTHON) scripts/autograder/build.py $(if $(filter 1,$(NO_CHECK)),--no-check)

batch: | $(DEPS_STAMP)
	@$(if $(DIR),,echo "usage: make batch DIR=<folder of submission folders>"; exit 2)
	@$(PYTHON) grader/batch.py --batch '$(DIR)' $(if $(J),-j $(J)) $(if $(SEED),--seed $(SEED)) \
		--backend $(or $(BACKEND),auto)
