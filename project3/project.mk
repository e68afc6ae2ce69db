# project3/: "Hardware virtualization". Its student files are compiled for
# ring 3 into the user image (user/user.mk), -DSOLUTION when SOLUTION names
# 3; every other .c file here is given kernel code.
STUDENT_FILES_3 := project3/ept.c project3/mmio.c project3/loader.c
# The student functions the framework calls (upcalls).
ENTRIES_3 := ept_map ept_unmap ept_translate ept_gva_to_hpa mmio_handle loader_parse loader_fault
# The headers student files may include (the autograder rejects others).
ALLOWED_HEADERS_3 := project3/ept.h project3/mmio.h project3/loader.h kev/kev.h kernel/types.h kernel/printk.h kernel/panic.h \
                     kernel/string.h kernel/mm.h
include guests/project3/os/os.mk
# The loader's kernel, and what it prints booted natively (the loader
# tests' expectation), as boot modules (kernel/module.h).
MODULES += minos:$(MINOS_ELF) minos-native:guests/project3/os/native.txt
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

# The MMIO decoder (mmio_insn.c) built for the host and checked against
# objdump -d of every guest's bytes (tests/run.py's "decoder" suite).
#   make mmio-decoder-test PROJECT=3 the decoder against objdump on every guest encoding
MMIO_DEC_DIR := $(BUILD)/host-mmio
MMIO_DEC_SRC := project3/mmio_insn.c kernel/printf.c kernel/string.c
$(MMIO_DEC_DIR)/mmio-insn: $(MMIO_DEC_SRC) tests/host/mmio_insn_main.c project3/mmio_insn.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@$(CC) -std=c11 -O1 -Wall -Wextra -Wno-unused-parameter -fno-builtin -I. -include tests/host/kernel_names.h \
		-c project3/mmio_insn.c -o $(@D)/mmio_insn.o
	@$(CC) -std=c11 -O1 -Wall -Wextra -Wno-unused-parameter -fno-builtin -I. -include tests/host/kernel_names.h \
		-c kernel/printf.c -o $(@D)/printf.o
	@$(CC) -std=c11 -O1 -Wall -Wextra -Wno-unused-parameter -fno-builtin -I. -include tests/host/kernel_names.h \
		-c kernel/string.c -o $(@D)/string.o
	@$(CC) -std=c11 -O1 -Wall -Wextra -I. -c tests/host/mmio_insn_main.c -o $(@D)/main.o
	@$(CC) -o $@ $(@D)/main.o $(@D)/mmio_insn.o $(@D)/printf.o $(@D)/string.o
.PHONY: mmio-decoder-test
mmio-decoder-test: $(MMIO_DEC_DIR)/mmio-insn
	@$(MAKE) --no-print-directory -s $(GUEST_BINS)
	@$(PYTHON) tests/host/mmio_insn_check.py $(MMIO_DEC_DIR)/mmio-insn $(GUEST_BINS)
