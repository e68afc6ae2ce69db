# kevlab: the only entry point. Per-folder rules live in */*.mk; this file
# holds the toolchain flags, the kernel's two-pass link and the ISO.
#
#   make                            build the kernel ISO (the skeleton; SOLUTION=1: the reference solution)
#   make clean                      remove build/
#   make compile_commands.json      for clangd
#   make help                       every target (these lines come from each folder's .mk)

SOLUTION ?= 0
ifeq ($(SOLUTION),1)
BUILD ?= build/solution
else
BUILD ?= build/skeleton
endif

CC      := gcc
LD      := ld
NASM    := nasm
PYTHON  := python3

CFLAGS := -std=c11 -ffreestanding -fno-builtin -nostdlib -fno-stack-protector \
          -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
          -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-optimize-sibling-calls -fno-toplevel-reorder \
          -fno-asynchronous-unwind-tables -fno-strict-aliasing \
          -O2 -g -Wall -Wextra -Wno-unused-parameter -I. -I$(BUILD) -MMD -MP
ifeq ($(SOLUTION),1)
CFLAGS += -DSOLUTION
endif
ifeq ($(WERROR),1)
CFLAGS += -Werror
endif
# Hidden tests' kernel code sits in #ifdef KEVLAB_HIDDEN; the marker file
# exists in the instructors' tree only (make release leaves both out).
ifneq ($(wildcard .kevlab-hidden),)
CFLAGS += -DKEVLAB_HIDDEN
endif
NASMFLAGS := -f elf64 -g -F dwarf -I. -I$(BUILD)/
LDFLAGS   := -nostdlib -static -z max-page-size=0x1000 --no-warn-rwx-segments -z noexecstack -T kernel/linker.ld

# Objects depend on the flags they were compiled with: a change of SOLUTION,
# WERROR or KEVLAB_HIDDEN in the same BUILD rebuilds them (the file is
# rewritten only when the flags differ).
FLAGS_STAMP := $(BUILD)/.flags
$(shell mkdir -p $(BUILD) && echo '$(CFLAGS) | $(NASMFLAGS)' | cmp -s - $(FLAGS_STAMP) \
        || echo '$(CFLAGS) | $(NASMFLAGS)' > $(FLAGS_STAMP))

# Each folder's .mk appends its sources (and EXTRA_OBJS, objects built by
# their own rules) to these.
KERNEL_C   :=
KERNEL_ASM :=
include kernel/kernel.mk
-include kev/kev.mk
-include project2/project2.mk
-include guests/guests.mk
-include grader/grader.mk
-include tests/tests.mk
-include scripts/scripts.mk

KERNEL_OBJS := $(KERNEL_C:%.c=$(BUILD)/%.o) $(KERNEL_ASM:%.asm=$(BUILD)/%.asm.o) $(EXTRA_OBJS)

.DEFAULT_GOAL := all
.PHONY: all iso clean deps help compile_commands.json
all: $(BUILD)/kevlab.iso

# Every build step needs the toolchain: check once, install when missing.
DEPS_STAMP := build/.deps-ok
$(DEPS_STAMP): scripts/check-deps scripts/install-deps
	@scripts/check-deps
	@mkdir -p $(@D) && touch $@
deps: $(DEPS_STAMP)

$(BUILD)/%.o: %.c $(FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/%.asm.o: %.asm $(FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  NASM    $<"
	@$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) -MP $< -o $@

# Offsets that assembly takes from C structs (Linux's asm-offsets idea):
# <folder>/asm_offsets.c -> $(BUILD)/<folder>/asm_offsets.inc of %defines.
$(BUILD)/%/asm_offsets.inc: %/asm_offsets.c $(FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  OFFSETS $<"
	@$(CC) $(CFLAGS) -MF $(@:.inc=.d) -MT $@ -S $< -o $(@:.inc=.s)
	@sed -n 's/^[[:space:]]*@@asmoff \([A-Za-z0-9_]*\) \$$\{0,1\}\(-\{0,1\}[0-9]*\)$$/%define \1 \2/p' $(@:.inc=.s) > $@.tmp
	@grep -q define $@.tmp || { echo "no offsets found in $(@:.inc=.s)"; exit 1; }
	@mv $@.tmp $@

# Two-pass link: the first pass gives the addresses of every function, the
# second embeds them as the table that panic's backtrace symbolizes with.
# .ksyms comes after .text and .rodata, so no function moves (checked).
$(BUILD)/kernel.pass1.elf: $(KERNEL_OBJS) $(BUILD)/kernel/ksyms_empty.o kernel/linker.ld
	@echo "  LD      $@"
	@$(LD) $(LDFLAGS) -o $@ $(KERNEL_OBJS) $(BUILD)/kernel/ksyms_empty.o

$(BUILD)/kernel/ksyms.c: $(BUILD)/kernel.pass1.elf scripts/mksyms.py
	@$(PYTHON) scripts/mksyms.py $< > $@

$(BUILD)/kernel/ksyms_empty.c: scripts/mksyms.py | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@$(PYTHON) scripts/mksyms.py --empty > $@

$(BUILD)/kernel/%.o: $(BUILD)/kernel/%.c $(FLAGS_STAMP)
	@$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/kernel.elf: $(KERNEL_OBJS) $(BUILD)/kernel/ksyms.o kernel/linker.ld
	@echo "  LD      $@"
	@$(LD) $(LDFLAGS) -o $@ $(KERNEL_OBJS) $(BUILD)/kernel/ksyms.o
	@$(PYTHON) scripts/mksyms.py --check $(BUILD)/kernel.pass1.elf $@

# The boot image. GRUB with only the modules it needs boots much faster
# under Bochs (a 0.8 MB image instead of the default 9.5 MB). grub.cfg holds a fixed-size
# placeholder for the command line that the runner patches per boot.
$(BUILD)/kevlab.iso: $(BUILD)/kernel.elf scripts/grub.cfg scripts/grubcfg.py grader/image.py
	@echo "  ISO     $@"
	@rm -rf $(BUILD)/isodir && mkdir -p $(BUILD)/isodir/boot/grub
	@# GDB reads kernel.elf's debug information; GRUB need not load it
	@# (about 5M fewer Bochs instructions a boot). Backtraces use .ksyms.
	@strip --strip-debug -o $(BUILD)/isodir/boot/kernel.elf $(BUILD)/kernel.elf
	@$(PYTHON) scripts/grubcfg.py scripts/grub.cfg > $(BUILD)/isodir/boot/grub/grub.cfg
	@grub-mkrescue --install-modules="multiboot2 normal" --fonts= --locales= --themes= \
		--compress=no -o $@ $(BUILD)/isodir 2> $(BUILD)/grub-mkrescue.log \
		|| { cat $(BUILD)/grub-mkrescue.log; exit 1; }
iso: $(BUILD)/kevlab.iso

compile_commands.json:
	@$(PYTHON) scripts/compile_commands.py "$(CC)" "$(CFLAGS)" $(BUILD) $(KERNEL_C) > $@
	@echo "  wrote compile_commands.json"

clean:
	rm -rf build compile_commands.json

help:
	@sed -n 's/^#   //p' Makefile; \
	for f in */*.mk tests/*/*.mk; do sed -n 's/^#   //p' $$f; done

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
