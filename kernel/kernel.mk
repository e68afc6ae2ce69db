# kernel/: the teaching OS. Every .c and .asm file here is part of it,
# except asm_offsets.c (compiled to assembly only, for the offsets).
KERNEL_C   += $(filter-out kernel/asm_offsets.c,$(wildcard kernel/*.c))
KERNEL_ASM += $(wildcard kernel/*.asm)

$(BUILD)/kernel/trap.asm.o: $(BUILD)/kernel/asm_offsets.inc
