/*
 * Multiboot2: what GRUB hands the kernel (the command line and the memory
 * map). Multiboot2 specification, 3.6 "Boot information format".
 */
#ifndef KERNEL_MULTIBOOT_H
#define KERNEL_MULTIBOOT_H

#include "kernel/types.h"

#define MULTIBOOT2_BOOTLOADER_MAGIC 0x36d76289

struct multiboot_info; /* opaque: GRUB's boot information structure */

struct mb_mem_region {
    uint64_t base;
    uint64_t length;
    uint32_t type; /* 1 = available RAM */
};
#define MB_MEM_AVAILABLE 1

/* Returns the command line ("" when GRUB gave none). */
const char *multiboot_cmdline(const struct multiboot_info *mb);
/*
 * Calls fn for each memory-map entry; returns the number of entries, or -1
 * when the boot information has no memory map.
 */
int multiboot_memory_map(const struct multiboot_info *mb,
                         void (*fn)(const struct mb_mem_region *r, void *arg), void *arg);
/*
 * A boot module: a file GRUB loaded beside the kernel (`module2` in
 * grub.cfg), at physical [start, end), with the string GRUB was given after
 * its path (kevlab puts the module's name there). 3.6.6 "Modules".
 */
struct mb_module {
    uint64_t start;
    uint64_t end;
    const char *string; /* "" when none */
};
/*
 * Calls fn for each module tag, in the order GRUB loaded them; returns the
 * number of modules. A tag too short or whose string is not terminated
 * inside it is skipped (not counted).
 */
int multiboot_modules(const struct multiboot_info *mb,
                      void (*fn)(const struct mb_module *m, void *arg), void *arg);
/* The first byte past the boot information (so the allocator can skip it). */
uint64_t multiboot_end(const struct multiboot_info *mb);

#endif
