# project2/: "VMCS and VM exits". Its student files are compiled for ring 3
# into the user image (user/user.mk), -DSOLUTION when SOLUTION names 2;
# every other .c file here is given kernel code, but USER_GIVEN_2's.
#
#   make bench-p2                   emulated instructions per VM exit of project 2's parts (reference solution, Bochs)
STUDENT_FILES_2 := project2/hypercall.c project2/entry.c project2/cpuid.c project2/pio.c \
                   project2/msr.c
# The functions in the user image the framework calls (upcalls): the
# students', and the given user-side code's that calls theirs (msr_dev.c).
ENTRIES_2 := hypercall_resolve hypercall_handle entry_setup cpuid_emulate pio_decode pio_handle \
             msr_user_setup msr_user_exit
# The headers student files may include (the autograder rejects others).
ALLOWED_HEADERS_2 := project2/hypercall.h project2/entry.h project2/cpuid.h project2/pio.h \
                     project2/msr.h kev/kev.h kev/cpuid.h kernel/types.h kernel/printk.h \
                     kernel/panic.h kernel/string.h kernel/mm.h
# Given code that runs in ring 3 only, beside the students' (the MSR devices
# and the VM's registry, whose functions call theirs).
USER_GIVEN_2 := project2/msr_dev.c
# Given pure code student code may call too (compiled into both images),
# and the user-only given code.
ULIB_SHARED += project2/hypercall_table.c kev/cpuid.c $(USER_GIVEN_2)
KERNEL_C += $(filter-out $(STUDENT_FILES_2) $(USER_GIVEN_2),$(wildcard project2/*.c))

# The parts' benchmarks (KTEST_BENCH tests in project2/tests.c): each
# reports `@@ test data <test> figure <words>`, printed here. Figures are
# printed, never asserted.
P2_BENCHES += p2_bench_cpuid p2_bench_msr
.PHONY: bench-p2
bench-p2:
	@$(MAKE) --no-print-directory SOLUTION=all all
	@$(PYTHON) grader/grade.py run --build $(BUILD_ALL_SOLUTIONS) --backend bochs $(if $(CPU),--cpu-model $(CPU)) \
		--test $(subst $(space),$(comma),$(strip $(P2_BENCHES))) > $(BUILD_ALL_SOLUTIONS)/bench-p2.log 2>&1; \
	n=$$(grep -c '^@@ test data p2_bench_[a-z0-9_]* figure ' $(BUILD_ALL_SOLUTIONS)/bench-p2.log); \
	[ "$$n" = "$(words $(P2_BENCHES))" ] \
		|| { cat $(BUILD_ALL_SOLUTIONS)/bench-p2.log; echo "bench-p2: a benchmark did not run (log above)"; exit 1; }; \
	sed -n 's/^@@ test data p2_bench_[a-z0-9_]* figure \(.*\)/p2: \1/p' $(BUILD_ALL_SOLUTIONS)/bench-p2.log \
		| sed "s/\\\\x20/ /g"
bench: bench-p2
#   make bench-pio [CPU=model]      port I/O under Bochs with the reference solution: emulated instructions per OUT exit and per REP OUTSB of 4 KiB
# Figures are printed, never asserted (project2/pio_bench.c).
.PHONY: bench-pio
bench-pio:
	@$(MAKE) --no-print-directory SOLUTION=all all
	@$(PYTHON) grader/grade.py run --build $(BUILD_ALL_SOLUTIONS) --backend bochs $(if $(CPU),--cpu-model $(CPU)) \
		--test p2_bench_pio_out,p2_bench_pio_outsb > $(BUILD_ALL_SOLUTIONS)/bench-pio.log 2>&1; \
	grep -q '^@@ test end p2_bench_pio_outsb pass' $(BUILD_ALL_SOLUTIONS)/bench-pio.log \
		|| { cat $(BUILD_ALL_SOLUTIONS)/bench-pio.log; echo "bench-pio: the benchmark did not run (log above)"; exit 1; }; \
	sed -n 's/^@@ test data p2_bench_pio_out instructions_per_out \(.*\)/port I\/O: an OUT exit costs \1 emulated instructions (Bochs$(if $(CPU), $(CPU)), the reference solution)/p; s/^@@ test data p2_bench_pio_outsb instructions_per_rep_outsb_4k \(.*\)/port I\/O: a REP OUTSB of 4 KiB, \1/p' \
		$(BUILD_ALL_SOLUTIONS)/bench-pio.log
bench: bench-pio
