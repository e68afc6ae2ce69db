/*
 * The physical page allocator: hands out 4 KiB pages of RAM, one at a time
 * or as contiguous runs, zeroed. It manages the RAM the multiboot2 memory map
 * reports below 4 GiB (the boot code identity-maps only that much), minus the
 * first MiB (BIOS data, the real-mode IVT, video memory), the kernel image
 * (__kernel_start..__kernel_end from kernel/linker.ld, .bss included),
 * GRUB's boot information, the boot modules (kernel/module.h) and its own
 * bitmaps. The bookkeeping is kernel/pmm_zone.c; this file
 * holds the kernel's one zone, zeroes pages and turns a bad free into a
 * panic: freeing a page twice, or one the allocator never gave out, is a
 * broken invariant that would otherwise corrupt memory much later.
 */
#include "kernel/mm.h"
#include "kernel/module.h"
#include "kernel/multiboot.h"
#include "kernel/panic.h"

#define LOW_MEMORY_END 0x100000UL   /* 1 MiB */
#define MANAGED_END 0x100000000UL   /* 4 GiB: the end of the identity map */

extern char __kernel_start[], __kernel_end[];

/* The bitmaps live in RAM found at boot, sized for the RAM there is (8 KiB
 * for 128 MiB), not in .bss sized for 4 GiB: GRUB zeroes .bss a byte at a
 * time, and 256 KiB of it cost every boot 900,000 Bochs instructions. */
static struct pmm_zone zone;

/* Raises *(paddr_t *)arg to the end of r when r is RAM below 4 GiB. */
static void find_top(const struct mb_mem_region *r, void *arg)
{
    paddr_t *top = arg;
    if (r->type != MB_MEM_AVAILABLE || r->base >= MANAGED_END)
        return;
    paddr_t end = r->length > MANAGED_END - r->base ? MANAGED_END : r->base + r->length;
    if (end > *top)
        *top = end;
}

void pmm_init(const struct multiboot_info *mb)
{
    /* The zone ends at the top of RAM, so a scan for free pages never walks
     * the bitmap of memory this machine does not have. */
    paddr_t top = 0;
    if (multiboot_memory_map(mb, find_top, &top) < 0)
        panic("pmm_init: GRUB passed no memory map (multiboot2 tag 6)");
    /* The boot modules' pages too (module_init ran first), and the bitmaps'. */
    struct pmm_range reserved[4 + MODULE_MAX] = {
        {0, LOW_MEMORY_END},
        {(paddr_t)(uintptr_t)__kernel_start, (paddr_t)(uintptr_t)__kernel_end},
        {(paddr_t)(uintptr_t)mb, multiboot_end(mb)},
    };
    size_t n = 3;
    for (size_t i = 0; i < module_count(); i++, n++)
        reserved[n] = (struct pmm_range){module_at(i)->start,
                                         module_at(i)->start + module_at(i)->size};
    size_t words = PMM_BITMAP_WORDS(top / PAGE_SIZE);
    size_t bytes = ALIGN_UP(2 * words * sizeof(uint64_t), PAGE_SIZE);
    paddr_t at = pmm_zone_place(mb, reserved, n, bytes, LOW_MEMORY_END, MANAGED_END);
    if (at == 0)
        panic("pmm_init: no room in RAM for the page allocator's bitmaps (%zu bytes)", bytes);
    reserved[n++] = (struct pmm_range){at, at + bytes};
    uint64_t *usable = (uint64_t *)(uintptr_t)at;
    pmm_zone_init(&zone, top / PAGE_SIZE, usable, usable + words); /* clears them */
    pmm_zone_from_map(&zone, mb, reserved, n);
    if (zone.nfree == 0)
        panic("pmm_init: the memory map reports no usable RAM between 1 MiB and 4 GiB");
}

/*
 * Every page is zeroed on its way out, so zeroing is the allocator's hot
 * path: one `rep stosq` stores 8 bytes a step, and emulators run it as one
 * instruction (ten times faster than a byte loop under Bochs: exhausting
 * 126 MiB took 6 s before, 0.6 s now).
 */
static void zero_pages(paddr_t pa, size_t count)
{
    void *dst = (void *)(uintptr_t)pa;
    size_t words = count * PAGE_SIZE / 8;
    __asm__ volatile("rep stosq" : "+D"(dst), "+c"(words) : "a"(0UL) : "memory");
}

paddr_t pages_alloc(size_t count)
{
    paddr_t pa = pmm_zone_alloc(&zone, count);
    if (pa != 0)
        zero_pages(pa, count);
    return pa;
}

paddr_t page_alloc(void)
{
    return pages_alloc(1);
}

void pages_free(paddr_t first, size_t count)
{
    switch (pmm_zone_free(&zone, first, count)) {
    case 0:
        return;
    case PMM_EFREE:
        panic("pages_free(0x%lx, %zu): a page is free already (double free?)", first, count);
    case PMM_ENOTRAM:
        panic("pages_free(0x%lx, %zu): not memory the page allocator gave out", first, count);
    default:
        panic("pages_free(0x%lx, %zu): not a page-aligned range of allocated pages", first,
              count);
    }
}

void page_free(paddr_t page)
{
    pages_free(page, 1);
}

size_t pmm_free_pages(void)
{
    return zone.nfree;
}

size_t pmm_total_pages(void)
{
    return zone.nusable;
}
