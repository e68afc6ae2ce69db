/*
 * Boot modules: files GRUB loads beside the kernel (a guest kernel's ELF, a
 * disk image). A project asks for one in its project.mk
 * (`MODULES += name:path`); the ISO holds it and grub.cfg loads it as
 * `module2 /boot/modules/<name> <name>`. Physical memory is identity-mapped
 * (kernel/mm.h), so a module's start is also a pointer to its bytes; its
 * pages are kept from the page allocator. Read-only by convention: a user
 * of a module's bytes that must change them copies them first.
 */
#ifndef KERNEL_MODULE_H
#define KERNEL_MODULE_H

#include "kernel/types.h"

#define MODULE_MAX 8
#define MODULE_NAME_MAX 32

struct multiboot_info;

struct boot_module {
    char name[MODULE_NAME_MAX];
    paddr_t start;
    size_t size;
};

/*
 * Records GRUB's modules (before pmm_init, which keeps their pages). A
 * module past MODULE_MAX, above 4 GiB or with a name of MODULE_NAME_MAX
 * bytes or more is left out, with a line on the console saying why.
 */
void module_init(const struct multiboot_info *mb);
/* The module GRUB loaded under `name`, or NULL when there is none. */
const struct boot_module *module_find(const char *name);
size_t module_count(void);
/* The i-th module (i < module_count()), in the order GRUB loaded them. */
const struct boot_module *module_at(size_t i);

#endif
