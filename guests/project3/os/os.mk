# guests/project3/os/: minos, the guest OS project 3's loader boots
# (main.c says what it is). Built on its own flags as its own ELF (not
# into the kernel): the kernel gets the file as the multiboot2 module
# "minos", the native ISO boots it alone under GRUB.
#   make minos-native PROJECT=3   boot minos natively under Bochs; its serial output
#                                 must be guests/project3/os/native.txt
MINOS_DIR := $(OBJ)/guests/project3/os
MINOS_ELF := $(MINOS_DIR)/minos.elf
MINOS_CFLAGS := -std=c11 -ffreestanding -fno-builtin -nostdlib -fno-stack-protector -fno-pic -fno-pie \
                -mno-red-zone -mgeneral-regs-only -fno-asynchronous-unwind-tables -O2 -Wall -Wextra \
                $(if $(filter 1,$(WERROR)),-Werror)

$(MINOS_DIR)/main.o: guests/project3/os/main.c $(FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $< (minos)"
	@$(CC) $(MINOS_CFLAGS) -c $< -o $@
$(MINOS_DIR)/boot.o: guests/project3/os/boot.asm $(FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  NASM    $< (minos)"
	@$(NASM) -f elf64 $< -o $@
$(MINOS_ELF): $(MINOS_DIR)/boot.o $(MINOS_DIR)/main.o guests/project3/os/linker.ld
	@echo "  LD      $@"
	@$(LD) -nostdlib -static -z max-page-size=0x1000 -z noexecstack -T guests/project3/os/linker.ld \
		-o $@ $(MINOS_DIR)/boot.o $(MINOS_DIR)/main.o

$(MINOS_DIR)/minos.iso: $(MINOS_ELF)
	@rm -rf $(MINOS_DIR)/isodir && mkdir -p $(MINOS_DIR)/isodir/boot/grub
	@cp $(MINOS_ELF) $(MINOS_DIR)/isodir/boot/minos.elf
	@printf 'set timeout=0\nset default=0\nmenuentry "minos" {\n    multiboot2 /boot/minos.elf\n    boot\n}\n' \
		> $(MINOS_DIR)/isodir/boot/grub/grub.cfg
	@grub-mkrescue --install-modules="multiboot2 normal" --fonts= --locales= --themes= \
		--compress=no -o $@.tmp $(MINOS_DIR)/isodir 2> $(MINOS_DIR)/grub-mkrescue.log \
		|| { cat $(MINOS_DIR)/grub-mkrescue.log; exit 1; }
	@mv $@.tmp $@

.PHONY: minos-native
minos-native: $(MINOS_DIR)/minos.iso
	@$(PYTHON) guests/project3/os/native.py $(MINOS_DIR)/minos.iso $(MINOS_ELF) guests/project3/os/native.txt
