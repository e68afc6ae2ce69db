# grader/: booting the kernel with tests and grading them (grader/grade.py;
# docs/grader.md). Each target builds the ISO first. Variables passed on:
# PROJECT, SOLUTION (through BUILD), TEST, ARGS (read from the environment),
# BACKEND (auto, bochs, qemu-tcg, qemu-kvm), SEED, J, CPU (a Bochs CPU model).
#
#   make run TEST=a,b [ARGS='k=v']  boot with tests a,b; serial console here (TEST=none: boot only; ARGS='a.case=3')
#   make check TEST=a               one test, verbose: its whole serial log and its verdict
#   make grade                      grade the project: PASS/FAIL, diffs, score (SEED=, J=, BACKEND=, OUT=)
#   make gdb TEST=a                 QEMU waits for GDB on :1234; then `gdb -x .gdbinit`
#   make grader-bench               wall time: one bare boot vs the whole suite (median of 5, the solution)
#   make bench                      every figure: make grader-bench and make bench-kev

TEST    ?= none
BACKEND ?= auto
GRADE   := $(PYTHON) grader/grade.py
GRADER_OPTS = --build $(BUILD) --project $(PROJECT) --backend $(BACKEND) \
              $(if $(SEED),--seed $(SEED)) $(if $(CPU),--cpu-model $(CPU)) $(if $(V),--verbose)

.PHONY: run check grade gdb grader-bench bench
run: $(BUILD)/kevlab.iso
	@$(GRADE) run $(GRADER_OPTS) --test '$(TEST)'

check: $(BUILD)/kevlab.iso
	@$(if $(filter-out none,$(TEST)),,echo "usage: make check TEST=<name>"; exit 2)
	@$(GRADE) check $(GRADER_OPTS) --test '$(TEST)'

grade: $(BUILD)/kevlab.iso
	@$(GRADE) grade $(GRADER_OPTS) $(if $(J),-j $(J)) $(if $(OUT),--out $(OUT)) \
		$(if $(filter-out none,$(TEST)),--tests '$(TEST)')

gdb: $(BUILD)/kevlab.iso
	@$(GRADE) gdb $(GRADER_OPTS) --test '$(TEST)'

# The suite is timed on the reference solution: the skeleton's tests all
# crash at their TODO(), which measures crash recovery, not grading.
grader-bench:
	@$(MAKE) --no-print-directory SOLUTION=all all
	@$(GRADE) bench $(GRADER_OPTS) --build $(BUILD_ALL_SOLUTIONS)
bench: grader-bench
