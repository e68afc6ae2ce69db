# kev/: the VMX layer. Every .c and .asm file here is part of the kernel,
# except asm_offsets.c (compiled to assembly only, for vmenter.asm).
#
#   make bench-kev    boot kev_bench_vmcall under Bochs, print the cost of a null vmcall
KERNEL_C   += $(filter-out kev/asm_offsets.c,$(wildcard kev/*.c))
KERNEL_ASM += $(wildcard kev/*.asm)

$(BUILD)/kev/vmenter.asm.o: $(BUILD)/kev/asm_offsets.inc

.PHONY: bench-kev
bench-kev: $(BUILD)/kevlab.iso
	@$(PYTHON) kev/bench.py $(BUILD)/kevlab.iso
