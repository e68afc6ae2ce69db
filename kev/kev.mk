# kev/: the VMX layer. Every .c and .asm file here is part of the kernel,
# except asm_offsets.c (compiled to assembly only, for vmenter.asm).
#
#   make bench-kev [CPU=model]      100,000 null vmcalls under Bochs: emulated instructions per round trip, with and without an upcall
KERNEL_C   += $(filter-out kev/asm_offsets.c,$(wildcard kev/*.c))
KERNEL_ASM += $(wildcard kev/*.asm)

$(OBJ)/kev/vmenter.asm.o: $(OBJ)/kev/asm_offsets.inc

# Figures are printed, never asserted. Under Bochs an RDTSC tick is one
# emulated instruction, so the guest's tick count per vmcall is the cost of
# the whole round trip (its own vmcall, dec and jnz included); the second
# figure adds an upcall into ring 3 to each (a student handler's path).
.PHONY: bench-kev
bench-kev: $(BUILD)/kevlab.iso
	@$(PYTHON) grader/grade.py run --build $(BUILD) --backend bochs $(if $(CPU),--cpu-model $(CPU)) \
		--test kev_bench_vmcall,kev_bench_upcall > $(BUILD)/bench-kev.log 2>&1; \
	grep -q '^@@ test end kev_bench_upcall pass' $(BUILD)/bench-kev.log \
		|| { cat $(BUILD)/bench-kev.log; echo "bench-kev: the benchmark did not run (log above)"; exit 1; }; \
	sed -n 's/^@@ test data kev_bench_vmcall instructions_per_vmcall \(.*\)/kev: a null vmcall round trip costs \1 emulated instructions (Bochs$(if $(CPU), $(CPU)))/p; s/^@@ test data kev_bench_upcall instructions_per_vmcall \(.*\)/kev: with an upcall into ring 3, \1/p' \
		$(BUILD)/bench-kev.log

# make bench prints every figure: kev's and the grader's (grader/grader.mk).
bench: bench-kev
