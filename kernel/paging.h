/*
 * x86-64 four-level page tables: the helpers the kernel, kev and the
 * projects build page tables with (the kernel's own and guests').
 * Intel SDM Vol. 3A, 4.5 "4-Level Paging and 5-Level Paging".
 *
 * A page table is named by the physical address of its PML4. Tables are
 * allocated from the page allocator; every table page is identity-mapped in
 * the kernel, so the walk is done with plain pointers.
 */
#ifndef KERNEL_PAGING_H
#define KERNEL_PAGING_H

#include "kernel/types.h"

/* Page-table entry bits (Vol. 3A, 4.5, Tables 4-15 to 4-20). */
#define PTE_P (1UL << 0)   /* present */
#define PTE_W (1UL << 1)   /* writable */
#define PTE_U (1UL << 2)   /* user-mode accessible */
#define PTE_A (1UL << 5)   /* accessed (set by the CPU) */
#define PTE_D (1UL << 6)   /* dirty: written through this entry (set by the CPU) */
#define PTE_PS (1UL << 7)  /* a large page (in a PDPTE or PDE) */
#define PTE_G (1UL << 8)   /* global */
#define PTE_NX (1UL << 63) /* no execute (needs EFER.NXE) */
#define PTE_ADDR_MASK 0x000ffffffffff000UL

/* Errors (negative values). */
#define PAGING_ENOMEM (-1)  /* no page for a table */
#define PAGING_EEXIST (-2)  /* the address is mapped already */
#define PAGING_ENOENT (-3)  /* the address is not mapped */
#define PAGING_EINVAL (-4)  /* an address is not page-aligned or not canonical */

/* Returns a new, empty PML4, or 0 when out of memory. */
paddr_t pt_create(void);
/* Frees every table page of the hierarchy (not the pages it maps). */
void pt_destroy(paddr_t pml4);
/*
 * Maps the 4 KiB page at va to pa with flags (PTE_W, PTE_U, PTE_NX; P is
 * added). PAGING_EEXIST when va is mapped already, by a 4 KiB page or a
 * large one; PAGING_EINVAL also for flags that hold address bits or PS.
 */
int pt_map(paddr_t pml4, uint64_t va, paddr_t pa, uint64_t flags);
/*
 * Unmaps the 4 KiB page at va: PAGING_ENOENT when nothing maps it,
 * PAGING_EINVAL when a 2 MiB or 1 GiB page does (large pages are not split).
 * Flushes va's TLB entry when pml4 is the kernel's (live) table.
 */
int pt_unmap(paddr_t pml4, uint64_t va);
/*
 * Translates va: on success stores the physical address (with va's offset
 * within the page) in *pa and the leaf entry's flags in *flags (either may be
 * NULL) and returns 0; returns PAGING_ENOENT when va is not mapped. Handles
 * 2 MiB and 1 GiB pages.
 */
int pt_walk(paddr_t pml4, uint64_t va, paddr_t *pa, uint64_t *flags);
/*
 * Whether the 4 KiB page at va was written through this mapping since the
 * last call: returns its leaf entry's D bit (1 or 0) and clears it, or
 * PAGING_ENOENT. Flushes va's TLB entry when pml4 is the kernel's table, so
 * the CPU sets D again at the next write (Vol. 3A, 4.8 "Accessed and Dirty
 * Flags").
 */
int pt_take_dirty(paddr_t pml4, uint64_t va);
/*
 * Clears the accessed and dirty flags of every entry on the path to the
 * 4 KiB page at va, as they were when the path was made: 1 when the page's
 * own entry was dirty (the page was written through it), 0 when not, or
 * PAGING_ENOENT / PAGING_EINVAL as pt_unmap. For a table no CPU is using
 * (a guest's, between two runs): it flushes nothing.
 */
int pt_clear_accessed(paddr_t pml4, uint64_t va);
const char *paging_strerror(int err);
/* Maps the 2 MiB page at va (2 MiB-aligned, as pa) with flags; PS is added. */
int pt_map_2m(paddr_t pml4, uint64_t va, paddr_t pa, uint64_t flags);

/* The kernel's own page table (set up by paging_init). */
paddr_t kernel_pml4(void);
/* Loads pml4 into CR3 as the kernel's table. */
void paging_use(paddr_t pml4);
/*
 * Builds and switches to the kernel's table (kernel/kmap.c): page 0 and the
 * page below the boot stack unmapped, kernel text read-only, the user
 * image's sections user-accessible, every other page supervisor-only.
 */
void paging_init(void);

#endif
