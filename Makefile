# kevlab: the only entry point. Per-folder rules live in */*.mk; this file
# holds the course's current project, the toolchain flags, the kernel's
# two-pass link and the ISO.
#
#   make                            build the kernel ISO of PROJECT (the skeleton; SOLUTION=2,3 or all: reference solutions)
#   make clean                      remove build/
#   make compile_commands.json      for clangd
#   make info                       this build's facts as JSON (project, student files, build folder)
#   make help                       every target (these lines come from each folder's .mk)

# The course's current project: the default of PROJECT= on every target.
COURSE_PROJECT := 2

PROJECT ?= $(COURSE_PROJECT)
comma := ,
empty :=
space := $(empty) $(empty)

# Every project folder, and the ones this kernel holds: project N's kernel
# holds projects 2..N, each building on the one before.
ALL_PROJECTS := $(sort $(patsubst project%/project.mk,%,$(wildcard project*/project.mk)))
ifeq ($(filter $(PROJECT),$(ALL_PROJECTS)),)
$(error PROJECT=$(PROJECT): there is no project$(PROJECT)/ (the projects are: $(ALL_PROJECTS)))
endif
LAST_PROJECT := $(lastword $(ALL_PROJECTS))
PROJECTS := $(shell for p in $(ALL_PROJECTS); do [ $$p -le $(PROJECT) ] && echo $$p; done)

# SOLUTION= names the projects whose reference solutions are compiled in:
# SOLUTION=2, SOLUTION=2,3, SOLUTION=all (SOLUTION=1 is all). Empty: every
# project as students write it (the skeletons, or their own code).
SOLUTION ?=
SOLUTIONS := $(sort $(subst $(comma),$(space),$(SOLUTION)))
ifneq ($(filter all 1,$(SOLUTIONS)),)
SOLUTIONS := $(PROJECTS)
endif
ifneq ($(filter-out $(PROJECTS),$(SOLUTIONS)),)
$(error SOLUTION=$(SOLUTION): this kernel holds projects $(PROJECTS) only)
endif
SOLUTION_TAG := $(if $(SOLUTIONS),-sol$(subst $(space),_,$(SOLUTIONS)))

# Objects that every build shares (kernel, kev, the user runtime, the
# projects' given code, the guests) go to OBJ; a build's own files (student
# code, generated tables, the link, the ISO) to BUILD.
BUILD ?= build/p$(PROJECT)$(SOLUTION_TAG)
# The build with every project's reference solution (make handouts, bench).
BUILD_ALL_SOLUTIONS := build/p$(PROJECT)-sol$(subst $(space),_,$(PROJECTS))
OBJ   ?= build/obj$(if $(filter 1,$(WERROR)),-werror)

CC      := gcc
LD      := ld
NASM    := nasm
# -S: no site module for what make runs. The grader and the scripts use the
# standard library only, so a machine's installed packages stay out, and so
# does site's start-up (24 ms a run on a machine whose site-packages hold
# .pth files).
PYTHON  := python3 -S

CFLAGS := -std=c11 -ffreestanding -fno-builtin -nostdlib -fno-stack-protector \
          -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only -fno-common \
          -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-optimize-sibling-calls -fno-toplevel-reorder \
          -fno-asynchronous-unwind-tables -fno-strict-aliasing \
          -O2 -g -Wall -Wextra -Wno-unused-parameter -I. -I$(OBJ) -MMD -MP
ifeq ($(WERROR),1)
CFLAGS += -Werror
endif
# Hidden tests' kernel code sits in #ifdef KEVLAB_HIDDEN; the marker file
# exists in the instructors' tree only (make release leaves both out).
ifneq ($(wildcard .kevlab-hidden),)
CFLAGS += -DKEVLAB_HIDDEN
endif
NASMFLAGS := -f elf64 -g -F dwarf -I. -I$(OBJ)/
LDFLAGS   := -nostdlib -static -z max-page-size=0x1000 --no-warn-rwx-segments -z noexecstack -T kernel/linker.ld

# $(call stamp,file,text): writes text into file, while make reads this
# Makefile, only when it differs, so a target that lists the file reruns
# exactly when the text changes (flags, a list of objects or modules).
# text is a name of a variable: flags hold commas, which $(call) splits on.
stamp = $(shell mkdir -p $(dir $(1)) && echo '$($(2))' | cmp -s - $(1) || echo '$($(2))' > $(1))

# Objects depend on the flags they were compiled with: a change of WERROR
# or KEVLAB_HIDDEN rebuilds them.
FLAGS_STAMP := $(OBJ)/.flags
ALL_FLAGS = $(CFLAGS) | $(NASMFLAGS)
$(call stamp,$(FLAGS_STAMP),ALL_FLAGS)

# Each folder's .mk appends to these: KERNEL_C and KERNEL_ASM are built
# into OBJ, EXTRA_OBJS are objects with rules of their own (a build's
# student code, generated tables, the guests).
KERNEL_C   :=
KERNEL_ASM :=
EXTRA_OBJS :=
# Boot modules GRUB loads beside the kernel (kernel/module.h): each entry
# is name:path, path a file some rule builds. TEST_MODULES: those only the
# framework's self-tests read, which only their image, kevlab-test.iso,
# carries (GRUB takes some 1.4M Bochs instructions a module, every boot).
MODULES    :=
TEST_MODULES :=
# Per project N (its project.mk): STUDENT_FILES_N, the files its students
# edit; ENTRIES_N, the functions of theirs the framework calls.
include kernel/kernel.mk
include kev/kev.mk
include $(foreach p,$(PROJECTS),project$(p)/project.mk)
include user/user.mk
# The student release of a later project: earlier projects' solutions as
# objects only (scripts/release.py, EARLIER=objects).
-include scripts/prebuilt.mk
include guests/guests.mk
include grader/grader.mk
include tests/tests.mk
-include scripts/scripts.mk

STUDENT_FILES := $(foreach p,$(PROJECTS),$(STUDENT_FILES_$(p)))
EXTRA_OBJS += $(BUILD)/build_info.o
KERNEL_OBJS := $(KERNEL_C:%.c=$(OBJ)/%.o) $(KERNEL_ASM:%.asm=$(OBJ)/%.asm.o) $(EXTRA_OBJS)

.DEFAULT_GOAL := all
.PHONY: all iso test-iso clean deps help info compile_commands.json
all: $(BUILD)/kevlab.iso

# Every build step needs the toolchain: check once, install when missing.
DEPS_STAMP := build/.deps-ok
$(DEPS_STAMP): scripts/check-deps scripts/install-deps
	@scripts/check-deps
	@mkdir -p $(@D) && touch $@
deps: $(DEPS_STAMP)

$(OBJ)/%.o: %.c $(FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c $< -o $@

$(OBJ)/%.asm.o: %.asm $(FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  NASM    $<"
	@$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) -MP $< -o $@

# Offsets that assembly takes from C structs (Linux's asm-offsets idea):
# <folder>/asm_offsets.c -> $(OBJ)/<folder>/asm_offsets.inc of %defines.
$(OBJ)/%/asm_offsets.inc: %/asm_offsets.c $(FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  OFFSETS $<"
	@# Temporary files of this make's own (two builds may share OBJ).
	@$(CC) $(CFLAGS) -MF $(@:.inc=.d) -MT $@ -S $< -o $@.$$$$.s && \
	 sed -n 's/^[[:space:]]*@@asmoff \([A-Za-z0-9_]*\) \$$\{0,1\}\(-\{0,1\}[0-9]*\)$$/%define \1 \2/p' $@.$$$$.s > $@.$$$$.tmp && \
	 rm -f $@.$$$$.s && \
	 { grep -q define $@.$$$$.tmp || { echo "no offsets found in $<"; rm -f $@.$$$$.tmp; exit 1; }; } && \
	 mv $@.$$$$.tmp $@

# What this build is: the project, the solutions compiled in. The grader
# reads it from kernel.elf (grader/kernelinfo.py); the boot banner prints it.
$(BUILD)/build_info.c: $(BUILD)/.config
	@mkdir -p $(@D)
	@{ echo '/* Generated by the Makefile: this build'"'"'s facts. */'; \
	   echo '#include "kernel/build_info.h"'; \
	   echo 'const struct build_info build_info = {'; \
	   echo '    .project = $(PROJECT),'; \
	   echo '    .projects = "$(PROJECTS)",'; \
	   echo '    .solutions = "$(SOLUTIONS)",'; \
	   echo '};'; } > $@
# Rewritten only when the build's configuration changes.
$(BUILD)/.config: build-config-force
	@mkdir -p $(@D)
	@echo '$(PROJECT) | $(PROJECTS) | $(SOLUTIONS) | $(STUDENT_FILES)' | cmp -s - $@ \
		|| echo '$(PROJECT) | $(PROJECTS) | $(SOLUTIONS) | $(STUDENT_FILES)' > $@
.PHONY: build-config-force
build-config-force:
$(BUILD)/build_info.o: $(BUILD)/build_info.c $(BUILD)/build.json $(FLAGS_STAMP)
	@$(CC) $(CFLAGS) -c $< -o $@
# The same for the grader and the scripts (grader/rubric.py reads it).
$(BUILD)/build.json: $(BUILD)/.config scripts/buildinfo.py
	@$(MAKE) -s --no-print-directory info > $@

# The link is redone when the list of objects changes, as when a source file
# is deleted (its object is then no prerequisite that could be newer).
OBJS_STAMP := $(BUILD)/.objects
$(call stamp,$(OBJS_STAMP),KERNEL_OBJS)

# Two-pass link: the first pass gives the addresses of every function, the
# second embeds them as the table that panic's backtrace symbolizes with.
# .ksyms comes after .text and .rodata, so no function moves (checked).
$(BUILD)/kernel.pass1.elf: $(KERNEL_OBJS) $(OBJ)/kernel/ksyms_empty.o kernel/linker.ld $(OBJS_STAMP)
	@echo "  LD      $@"
	@$(LD) $(LDFLAGS) -o $@ $(KERNEL_OBJS) $(OBJ)/kernel/ksyms_empty.o

$(BUILD)/kernel/ksyms.c: $(BUILD)/kernel.pass1.elf scripts/mksyms.py
	@mkdir -p $(@D)
	@$(PYTHON) scripts/mksyms.py $< > $@

$(OBJ)/kernel/ksyms_empty.c: scripts/mksyms.py | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@$(PYTHON) scripts/mksyms.py --empty > $@

$(OBJ)/kernel/ksyms_empty.o: $(OBJ)/kernel/ksyms_empty.c $(FLAGS_STAMP)
	@$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/kernel/ksyms.o: $(BUILD)/kernel/ksyms.c $(FLAGS_STAMP)
	@$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/kernel.elf: $(KERNEL_OBJS) $(BUILD)/kernel/ksyms.o kernel/linker.ld $(OBJS_STAMP)
	@echo "  LD      $@"
	@$(LD) $(LDFLAGS) -o $@ $(KERNEL_OBJS) $(BUILD)/kernel/ksyms.o
	@$(PYTHON) scripts/mksyms.py --check $(BUILD)/kernel.pass1.elf $@

# The boot image. GRUB with only the modules it needs boots much faster
# under Bochs (a 0.8 MB image instead of the default 9.5 MB). grub.cfg holds a fixed-size
# placeholder for the command line that the runner patches per boot.
# The ISO is remade when the list of modules changes (a stamp, as for the flags).
MODULES_STAMP := $(BUILD)/.modules
ALL_MODULES = $(MODULES) | $(TEST_MODULES)
$(call stamp,$(MODULES_STAMP),ALL_MODULES)
module_name = $(word 1,$(subst :, ,$(1)))
module_path = $(word 2,$(subst :, ,$(1)))
# $(call make_iso,modules): the recipe of an image holding the kernel and
# those modules, made in its own folder (iso_dir).
iso_dir = $(dir $@)isodir-$(basename $(notdir $@))
define make_iso
	@echo "  ISO     $@"
	@rm -rf $(iso_dir) && mkdir -p $(iso_dir)/boot/grub $(iso_dir)/boot/modules
	@$(foreach m,$(1),cp $(call module_path,$(m)) $(iso_dir)/boot/modules/$(call module_name,$(m)) &&) true
	@# GDB reads kernel.elf's debug information and the grader its symbols
	@# (grader/kernelinfo.py); GRUB needs neither, and loads every section it
	@# is given (without the debug information 5M fewer Bochs instructions a
	@# boot, without the symbols 1M fewer still). Backtraces use .ksyms.
	@strip --strip-all -o $(iso_dir)/boot/kernel.elf $(BUILD)/kernel.elf
	@$(PYTHON) scripts/grubcfg.py scripts/grub.cfg $(foreach m,$(1),--module $(call module_name,$(m))) \
		> $(iso_dir)/boot/grub/grub.cfg
	@# Written aside and renamed: a grading run reading the image never sees half of one.
	@grub-mkrescue --install-modules="multiboot2 normal" --fonts= --locales= --themes= \
		--compress=no -o $@.tmp $(iso_dir) 2> $(iso_dir).log \
		|| { cat $(iso_dir).log; exit 1; }
	@mv $@.tmp $@
endef
ISO_DEPS := $(BUILD)/kernel.elf scripts/grub.cfg scripts/grubcfg.py grader/image.py $(MODULES_STAMP)
$(BUILD)/kevlab.iso: $(ISO_DEPS) $(foreach m,$(MODULES),$(call module_path,$(m)))
	$(call make_iso,$(MODULES))
# The framework's self-tests boot this one (tests/e2e/kernel.py).
$(BUILD)/kevlab-test.iso: $(ISO_DEPS) $(foreach m,$(MODULES) $(TEST_MODULES),$(call module_path,$(m)))
	$(call make_iso,$(MODULES) $(TEST_MODULES))
iso: $(BUILD)/kevlab.iso
test-iso: $(BUILD)/kevlab-test.iso

compile_commands.json:
	@$(PYTHON) scripts/compile_commands.py "$(CC)" "$(CFLAGS)" $(OBJ) $(KERNEL_C) > $@
	@echo "  wrote compile_commands.json"

# The facts scripts and the grader ask make for (one source: the .mk files).
info:
	@$(PYTHON) scripts/buildinfo.py '$(PROJECT)' '$(PROJECTS)' '$(SOLUTIONS)' '$(BUILD)' \
		'$(COURSE_PROJECT)' '$(ALL_PROJECTS)' $(foreach p,$(PROJECTS),$(foreach f,$(STUDENT_FILES_$(p)),$(p)=$(f)))

clean:
	rm -rf build compile_commands.json

help:
	@sed -n 's/^#   //p' Makefile; \
	for f in */*.mk tests/*/*.mk; do [ -f "$$f" ] && sed -n 's/^#   //p' $$f; done; true

-include $(shell find $(OBJ) $(BUILD) -name '*.d' 2>/dev/null)
