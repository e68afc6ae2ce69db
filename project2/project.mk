# project2/: "VMCS and VM exits". Its student files are compiled for ring 3
# into the user image (user/user.mk), -DSOLUTION when SOLUTION names 2;
# every other .c file here is given kernel code.
STUDENT_FILES_2 := project2/hypercall.c project2/entry.c project2/pio.c
# The student functions the framework calls (upcalls).
ENTRIES_2 := hypercall_resolve hypercall_handle entry_setup pio_decode pio_handle
# Given pure code student code may call too (compiled into both images).
ULIB_SHARED += project2/hypercall_table.c
KERNEL_C += $(filter-out $(STUDENT_FILES_2),$(wildcard project2/*.c))

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
