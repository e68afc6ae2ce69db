# project3/: "Hardware virtualization". Its student files are compiled for
# ring 3 into the user image (user/user.mk), -DSOLUTION when SOLUTION names
# 3; every other .c file here is given kernel code.
STUDENT_FILES_3 := project3/ept.c project3/mmio.c
# The student functions the framework calls (upcalls).
ENTRIES_3 := ept_map ept_unmap ept_translate ept_gva_to_hpa mmio_handle
# The headers student files may include (the autograder rejects others).
ALLOWED_HEADERS_3 := project3/ept.h project3/mmio.h kev/kev.h kernel/types.h kernel/printk.h kernel/panic.h \
                     kernel/string.h kernel/mm.h
KERNEL_C += $(filter-out $(STUDENT_FILES_3),$(wildcard project3/*.c))

# The parts' benchmarks (KTEST_BENCH tests in project3/tests.c), as
# project 2's: each reports `@@ test data <test> figure <words>`, printed
# here; figures are printed, never asserted.
#   make bench-p3 PROJECT=3         emulated instructions per MMIO write (reference solution, Bochs)
P3_BENCHES += p3_bench_mmio
.PHONY: bench-p3
bench-p3:
	@$(MAKE) --no-print-directory PROJECT=3 SOLUTION=all all
	@$(PYTHON) grader/grade.py run --build $(BUILD_ALL_SOLUTIONS) --backend bochs $(if $(CPU),--cpu-model $(CPU)) \
		--test $(subst $(space),$(comma),$(strip $(P3_BENCHES))) > $(BUILD_ALL_SOLUTIONS)/bench-p3.log 2>&1; \
	n=$$(grep -c '^@@ test data p3_bench_[a-z0-9_]* figure ' $(BUILD_ALL_SOLUTIONS)/bench-p3.log); \
	[ "$$n" = "$(words $(P3_BENCHES))" ] \
		|| { cat $(BUILD_ALL_SOLUTIONS)/bench-p3.log; echo "bench-p3: a benchmark did not run (log above)"; exit 1; }; \
	sed -n 's/^@@ test data p3_bench_[a-z0-9_]* figure \(.*\)/p3: \1/p' $(BUILD_ALL_SOLUTIONS)/bench-p3.log \
		| sed "s/\\\\x20/ /g"
bench: bench-p3
