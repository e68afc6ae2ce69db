# tests/host: unit tests of the kernel's pure code (string, formatter,
# command line, multiboot2 parsing, page-allocator bookkeeping, heap, page
# tables), built with the host's gcc as a normal program and run natively.
#
#   make host-tests                 build $(BUILD)/host/host-tests and run it
#
# The kernel files are compiled unchanged; tests/host/kernel_names.h,
# force-included into them and into the test files, renames the kernel's
# memset, snprintf, ... to kern_* so they do not replace the C library's
# (see that file). harness.c and shim.c are built without it. The
# sanitizers are used when the host's gcc has them (HOST_SAN= turns them off).

HOST_CC     ?= gcc
HOST_DIR    := $(BUILD)/host
HOST_CFLAGS := -std=c11 -O1 -g -Wall -Wextra -Wno-unused-parameter -fno-builtin \
               -fno-omit-frame-pointer -I. -MMD -MP
HOST_RENAME := -include tests/host/kernel_names.h

# Probed once, and only when a host target needs it (deferred := trick).
HOST_SAN = $(eval HOST_SAN := $(shell echo 'int main(void){return 0;}' | \
	$(HOST_CC) -fsanitize=address,undefined -x c - -o /dev/null 2>/dev/null && \
	echo -fsanitize=address,undefined -fno-sanitize-recover=all))$(HOST_SAN)

HOST_KERNEL_SRC := kernel/string.c kernel/printf.c kernel/cmdline.c kernel/multiboot.c \
                   kernel/pmm_zone.c kernel/heap.c kernel/paging.c
HOST_TEST_SRC   := $(wildcard tests/host/test_*.c)
HOST_PLAIN_SRC  := tests/host/harness.c tests/host/shim.c

HOST_RENAMED_OBJS := $(patsubst %.c,$(HOST_DIR)/%.o,$(HOST_KERNEL_SRC) $(HOST_TEST_SRC))
HOST_PLAIN_OBJS   := $(patsubst %.c,$(HOST_DIR)/%.o,$(HOST_PLAIN_SRC))

$(HOST_RENAMED_OBJS): $(HOST_DIR)/%.o: %.c tests/host/kernel_names.h
	@mkdir -p $(@D)
	@echo "  HOSTCC  $<"
	@$(HOST_CC) $(HOST_CFLAGS) $(HOST_SAN) $(HOST_RENAME) -c $< -o $@

$(HOST_PLAIN_OBJS): $(HOST_DIR)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  HOSTCC  $<"
	@$(HOST_CC) $(HOST_CFLAGS) $(HOST_SAN) -c $< -o $@

# The object list as a file that changes only when the list does, so that
# deleting a test file relinks the program too.
$(HOST_DIR)/objects: host-force
	@mkdir -p $(@D)
	@echo '$(HOST_RENAMED_OBJS) $(HOST_PLAIN_OBJS)' | cmp -s - $@ || \
		echo '$(HOST_RENAMED_OBJS) $(HOST_PLAIN_OBJS)' > $@
host-force:

$(HOST_DIR)/host-tests: $(HOST_RENAMED_OBJS) $(HOST_PLAIN_OBJS) $(HOST_DIR)/objects
	@echo "  HOSTLD  $@"
	@$(HOST_CC) $(HOST_SAN) -o $@ $(HOST_RENAMED_OBJS) $(HOST_PLAIN_OBJS)

.PHONY: host-tests
host-tests: $(HOST_DIR)/host-tests
	@$(HOST_DIR)/host-tests
