# user/: the runtime student code runs on at CPL 3 (kernel/user.h says why),
# and the build of the user image: the student files of every project this
# kernel holds, compiled with -DKEVLAB_USER (and -DSOLUTION for the projects
# SOLUTION names), linked with the runtime by scripts/userlink.py.
#
# The runtime is user/*.c and user/*.asm, plus pure code of the other
# folders that student code may call as it is (string functions, the
# formatter, kev's error names; a project adds its own to ULIB_SHARED).
# The syscall stubs and the kernel's syscall table are generated per build
# from user/syscalls.tbl, for the projects the build holds.
#
# SRC_OVERRIDE=DIR: compile DIR/<student file> instead of the tree's (the
# mutation suite's variants; tests/mutants/).

USER_CFLAGS = $(CFLAGS) -DKEVLAB_USER
ULIB_SHARED += kernel/string.c kernel/printf.c kev/error.c
ULIB_C   = $(wildcard user/*.c) $(ULIB_SHARED)
ULIB_ASM := $(wildcard user/*.asm)
ULIB_OBJS = $(ULIB_C:%.c=$(OBJ)/ring3/%.o) $(ULIB_ASM:%.asm=$(OBJ)/ring3/%.asm.o)
SYSCALL_OWNERS = kernel kev $(foreach p,$(PROJECTS),project$(p))

$(OBJ)/ring3/%.o: %.c $(FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  CC3     $<"
	@$(CC) $(USER_CFLAGS) -c $< -o $@

$(OBJ)/ring3/%.asm.o: %.asm $(FLAGS_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  NASM3   $<"
	@$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) -MP $< -o $@

$(BUILD)/user/stubs.c: user/syscalls.tbl scripts/syscalls.py $(BUILD)/.config
	@mkdir -p $(@D)
	@$(PYTHON) scripts/syscalls.py stubs $< $(SYSCALL_OWNERS) > $@.tmp && mv $@.tmp $@

$(BUILD)/user/syscall_table.c: user/syscalls.tbl scripts/syscalls.py $(BUILD)/.config
	@mkdir -p $(@D)
	@$(PYTHON) scripts/syscalls.py dispatch $< $(SYSCALL_OWNERS) > $@.tmp && mv $@.tmp $@

$(BUILD)/user/stubs.o: $(BUILD)/user/stubs.c $(FLAGS_STAMP)
	@$(CC) $(USER_CFLAGS) -c $< -o $@

$(BUILD)/user/syscall_table.o: $(BUILD)/user/syscall_table.c $(FLAGS_STAMP)
	@$(CC) $(CFLAGS) -c $< -o $@

# Remade when its list of objects changes (a deleted source), as the kernel is.
ULIB_STAMP := $(BUILD)/user/.objects
$(call stamp,$(ULIB_STAMP),ULIB_OBJS)
$(BUILD)/user/libulib.a: $(ULIB_OBJS) $(BUILD)/user/stubs.o $(ULIB_STAMP)
	@rm -f $@
	@ar rcs $@ $(filter %.o,$^)

# A student file of project N: $(BUILD)/student/<file>.o, from the tree or
# from SRC_OVERRIDE. __FILE__ names the tree's path either way. The
# compiler's messages are also kept in <file>.warnings, which make grade
# repeats after its summary (they would scroll away).
student_src = $(if $(and $(SRC_OVERRIDE),$(wildcard $(SRC_OVERRIDE)/$(1))),$(SRC_OVERRIDE)/$(1),$(1))
define STUDENT_RULE
$(BUILD)/student/$(2:.c=.o): $(call student_src,$(2)) $(FLAGS_STAMP) $(BUILD)/.config | $(DEPS_STAMP)
	@mkdir -p $$(@D)
	@echo "  CC3     $(2)$(if $(filter $(1),$(SOLUTIONS)), (reference solution))$(if $(filter-out $(2),$(call student_src,$(2))), (from $(SRC_OVERRIDE)))"
	@$$(CC) $$(USER_CFLAGS) $(if $(filter $(1),$(SOLUTIONS)),-DSOLUTION) \
		$(if $(SRC_OVERRIDE),-fmacro-prefix-map=$(SRC_OVERRIDE)/=) -c $$< -o $$@ \
		2> $$(@:.o=.warnings); status=$$$$?; cat $$(@:.o=.warnings) >&2; exit $$$$status
endef
$(foreach p,$(PROJECTS),$(foreach f,$(STUDENT_FILES_$(p)),$(eval $(call STUDENT_RULE,$(p),$(f)))))

USER_STUDENT_FILES = $(foreach p,$(PROJECTS),$(STUDENT_FILES_$(p)))
STUDENT_OBJS = $(foreach f,$(USER_STUDENT_FILES),$(BUILD)/student/$(f:.c=.o))
# The runtime's own entry (kev's upcall benchmark) and the students'.
ENTRIES = ulib_bench_null ulib_test_poke $(foreach p,$(PROJECTS),$(ENTRIES_$(p)))

$(BUILD)/user/image.o: $(STUDENT_OBJS) $(BUILD)/user/libulib.a user/user.ld scripts/userlink.py grader/kernelinfo.py
	@echo "  LINK3   $@"
	@$(PYTHON) scripts/userlink.py --out $@ --lib $(BUILD)/user/libulib.a --entries '$(ENTRIES)' \
		$(foreach f,$(USER_STUDENT_FILES),$(BUILD)/student/$(f:.c=.o)=$(f))

EXTRA_OBJS += $(BUILD)/user/image.o $(BUILD)/user/syscall_table.o
