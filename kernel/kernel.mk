# kernel/: the teaching OS. Every .c and .asm file here is part of it,
# except asm_offsets.c (compiled to assembly only, for the offsets).
KERNEL_C   += $(filter-out kernel/asm_offsets.c,$(wildcard kernel/*.c))
KERNEL_ASM += $(wildcard kernel/*.asm)

$(OBJ)/kernel/trap.asm.o $(OBJ)/kernel/user.asm.o: $(OBJ)/kernel/asm_offsets.inc

# A boot module of known bytes, which the kernel's boot_modules test reads
# back through GRUB's module path (kernel/module.h); in the self-tests'
# image only (kevlab-test.iso): graded boots do without its cost.
# Byte i is (7i + 3) mod 251; 5000 bytes, not a whole number of pages.
TEST_MODULES += kevlab-pattern:$(OBJ)/kernel/pattern.bin
$(OBJ)/kernel/pattern.bin: kernel/kernel.mk
	@mkdir -p $(@D)
	@$(PYTHON) -c 'import sys; sys.stdout.buffer.write(bytes((7 * i + 3) % 251 for i in range(5000)))' > $@
