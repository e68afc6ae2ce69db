/*
 * Memory: the physical page allocator and the kernel heap.
 *
 * All of physical memory the kernel uses is identity-mapped (virtual address
 * == physical address), so a page's physical address is also a pointer to it.
 */
#ifndef KERNEL_MM_H
#define KERNEL_MM_H

#include "kernel/types.h"

struct multiboot_info;

/* Builds the free-page list from the multiboot2 memory map. */
void pmm_init(const struct multiboot_info *mb);

/* Returns a zeroed 4 KiB page, or 0 when memory is exhausted. */
paddr_t page_alloc(void);
/* Returns `count` contiguous zeroed pages, or 0. */
paddr_t pages_alloc(size_t count);
void page_free(paddr_t page);
void pages_free(paddr_t first, size_t count);
size_t pmm_free_pages(void);
size_t pmm_total_pages(void);

/*
 * The page allocator's bookkeeping (kernel/pmm_zone.c), kept apart from the
 * kernel's globals so tests/host can run it on made-up memory maps. A zone
 * describes the pages 0..npages-1 from physical address 0 with two bitmaps
 * the caller provides (PMM_BITMAP_WORDS(npages) words each): `usable` marks
 * the RAM the allocator manages, `used` the pages it has handed out. Page 0
 * is never usable, so an address of 0 can mean "no memory".
 */
struct pmm_zone {
    size_t npages;
    uint64_t *usable;
    uint64_t *used;
    size_t nusable; /* usable pages */
    size_t nfree;   /* usable pages not handed out */
    size_t first_free; /* no page below it is free (a hint for single pages) */
};
#define PMM_BITMAP_WORDS(npages) (((npages) + 63) / 64)

/* Errors of pmm_zone_free (negative values). */
#define PMM_EINVAL (-1)   /* not page-aligned, outside the zone, or no pages */
#define PMM_ENOTRAM (-2)  /* a page the allocator does not manage */
#define PMM_EFREE (-3)    /* a page that is free already (a double free?) */

/* A range [start, end) of physical addresses. */
struct pmm_range {
    paddr_t start, end;
};

/* Starts a zone with no usable page (clears both bitmaps). */
void pmm_zone_init(struct pmm_zone *z, size_t npages, uint64_t *usable, uint64_t *used);
/* Marks the whole pages inside [start, end) usable. Only before allocating. */
void pmm_zone_add(struct pmm_zone *z, paddr_t start, paddr_t end);
/* Marks every page that touches [start, end) unusable. Only before allocating. */
void pmm_zone_reserve(struct pmm_zone *z, paddr_t start, paddr_t end);
/*
 * Fills a zone from the multiboot2 memory map: available RAM is added, then
 * every other region and each of the `nreserved` ranges is reserved (so a
 * reserved region wins where the map overlaps). Returns the number of map
 * entries, or -1 when there is no memory map.
 */
int pmm_zone_from_map(struct pmm_zone *z, const struct multiboot_info *mb,
                      const struct pmm_range *reserved, size_t nreserved);
/*
 * Where `bytes` (a multiple of the page size) of the allocator's own
 * bookkeeping can go: the lowest page-aligned address at or above `floor`
 * whose whole range lies in one available region of the multiboot2 map,
 * below `limit`, and overlaps none of the `nreserved` ranges and no other
 * region of the map; 0 when there is none (or more than 64 other regions).
 */
paddr_t pmm_zone_place(const struct multiboot_info *mb, const struct pmm_range *reserved,
                       size_t nreserved, size_t bytes, paddr_t floor, paddr_t limit);
/* First fit: the lowest `count` contiguous free pages, marked used; 0 if none. */
paddr_t pmm_zone_alloc(struct pmm_zone *z, size_t count);
/* Returns `count` pages from `first` to the zone: 0 or a PMM_E* error (then nothing changed). */
int pmm_zone_free(struct pmm_zone *z, paddr_t first, size_t count);
bool pmm_zone_is_free(const struct pmm_zone *z, paddr_t page);

/* Heap: 16-byte aligned blocks; kmalloc returns NULL when out of memory. */
void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *p);

#endif
