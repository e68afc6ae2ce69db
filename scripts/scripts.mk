# scripts/: the instructors' targets (docs/instructors.md). Neither ships
# to students: make release leaves this file out. PROJECT= picks the
# project (default: the course's current one); EARLIER=objects (default)
# or EARLIER=skeleton says how the earlier projects' student files ship.
#
#   make release [PROJECT=N]        project N's student tree: build/release/p<N>/kevlab/ and .tar.gz, checked by grading it
#   make autograder [PROJECT=N]     build/autograder/p<N>.zip for Gradescope, checked with the solution and the skeleton
#   make batch DIR=<folder>         grade every submission folder in DIR as the autograder does: build/batch/scores.csv

# The headers a project's student files may #include (the autograder
# rejects any other): the project's own and the API its handout names. What
# they include is allowed too. This line belongs in project2/project.mk;
# it stands here, with ?=, until it moves there.
ALLOWED_HEADERS_2 ?= project2/hypercall.h kev/kev.h kernel/types.h kernel/printk.h \
                     kernel/panic.h kernel/string.h kernel/mm.h

.PHONY: release autograder batch instructor-deps
# Beyond the build's tools: unifdef strips the solutions, unzip lays out
# the autograder for its check. scripts/install-deps installs both.
instructor-deps: | $(DEPS_STAMP)
	@for t in unifdef unzip; do \
	  command -v $$t >/dev/null 2>&1 || { echo "$$t is missing: running scripts/install-deps"; \
	    scripts/install-deps; break; }; \
	done

INSTRUCTOR_OPTS = --project $(PROJECT) $(if $(EARLIER),--earlier $(EARLIER)) \
                  $(if $(filter 1,$(NO_CHECK)),--no-check)

release: instructor-deps
	@$(PYTHON) scripts/release.py $(INSTRUCTOR_OPTS)

autograder: instructor-deps
	@$(PYTHON) scripts/autograder/build.py $(INSTRUCTOR_OPTS)

batch: instructor-deps
	@$(if $(DIR),,echo "usage: make batch DIR=<folder of submission folders> [PROJECT=N]"; exit 2)
	@$(PYTHON) grader/batch.py --batch '$(DIR)' --project $(PROJECT) \
		$(if $(EARLIER),--earlier $(EARLIER)) $(if $(J),-j $(J)) $(if $(SEED),--seed $(SEED)) \
		$(if $(OUT),--out '$(OUT)') $(if $(MANIFEST),--manifest '$(MANIFEST)') \
		--backend $(or $(BACKEND),auto)

# A variable's value, for the scripts: make -s print-var-ALLOWED_HEADERS_2
print-var-%:
	@echo '$($*)'
