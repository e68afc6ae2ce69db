# kernel/: the teaching OS. Every .c and .asm file here is part of it,
# except asm_offsets.c (compiled to assembly only, for the offsets).
KERNEL_C   += $(filter-out kernel/asm_offsets.c,$(wildcard kernel/*.c))
KERNEL_ASM += $(wildcard kernel/*.asm)

$(OBJ)/kernel/trap.asm.o $(OBJ)/kernel/user.asm.o: $(OBJ)/kernel/asm_offsets.inc
