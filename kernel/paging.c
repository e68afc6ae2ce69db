/*
 * Four-level page tables with 4 KiB pages, and the kernel's own table.
 * Intel SDM Vol. 3A, 4.5 "4-Level Paging and 5-Level Paging". A table is a
 * 4 KiB page of 512 entries; a virtual address gives one 9-bit index per
 * level (PML4 = level 4 down to the page table = level 1) and a 12-bit
 * offset. Table pages come from page_alloc and are reached through the
 * identity map, so a table's physical address is also a pointer to it (on
 * the host, tests/host hands out ordinary memory the same way). Mappings are
 * made with 4 KiB pages only; pt_walk also understands the 2 MiB and 1 GiB
 * pages that paging_init and the boot code use.
 */
#include "kernel/paging.h"
#include "kernel/mm.h"
#include "kernel/panic.h"
#include "kernel/x86.h"

#define PT_ENTRIES 512
#define SIZE_2M (1UL << 21)

/* Intermediate entries allow everything; the leaf decides the access. */
#define PTE_TABLE (PTE_P | PTE_W | PTE_U)
/* Bits a pt_map caller may not pass as flags: an address (a pa passed in the
 * wrong argument) or PS (bit 7 of a page-table entry is PAT, not a size). */
#define PTE_BAD_FLAGS (PTE_ADDR_MASK | PTE_PS)

static paddr_t kernel_table;

static uint64_t *table(paddr_t pa)
{
    return (uint64_t *)(uintptr_t)pa;
}

static unsigned index_at(uint64_t va, int level)
{
    return (va >> (12 + 9 * (level - 1))) & (PT_ENTRIES - 1);
}

/* The bytes one entry at `level` maps: 4 KiB, 2 MiB, 1 GiB, 512 GiB. */
static uint64_t level_size(int level)
{
    return 1UL << (12 + 9 * (level - 1));
}

/* Bits 63:47 all equal (Vol. 3A, 4.5: "canonical" addresses). */
static bool canonical(uint64_t va)
{
    return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

static void invlpg(uint64_t va)
{
    __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
}

/*
 * Returns the entry that maps va at `level` (1 = page table, 2 = page
 * directory, 3 = PDPT), walking down from the PML4. With create, missing
 * tables are allocated on the way. Returns NULL with *err set when a table
 * is missing (PAGING_ENOENT), cannot be allocated (PAGING_ENOMEM), or a
 * large page above `level` already maps va (PAGING_EEXIST).
 */
static uint64_t *entry_at(paddr_t pml4, uint64_t va, int level, bool create, int *err)
{
    uint64_t *t = table(pml4);
    for (int l = 4; l > level; l--) {
        uint64_t *e = &t[index_at(va, l)];
        if (!(*e & PTE_P)) {
            if (!create) {
                *err = PAGING_ENOENT;
                return NULL;
            }
            paddr_t next = page_alloc(); /* zeroed: no entry present */
            if (next == 0) {
                *err = PAGING_ENOMEM;
                return NULL;
            }
            *e = next | PTE_TABLE;
        } else if (*e & PTE_PS) {
            *err = PAGING_EEXIST;
            return NULL;
        }
        t = table(*e & PTE_ADDR_MASK);
    }
    return &t[index_at(va, level)];
}

paddr_t pt_create(void)
{
    return page_alloc();
}

/* Frees the table at `level` and every table below it. */
static void free_table(paddr_t pa, int level)
{
    uint64_t *t = table(pa);
    if (level > 1) {
        for (int i = 0; i < PT_ENTRIES; i++)
            if ((t[i] & PTE_P) && !(t[i] & PTE_PS))
                free_table(t[i] & PTE_ADDR_MASK, level - 1);
    }
    page_free(pa);
}

void pt_destroy(paddr_t pml4)
{
    if (pml4 == kernel_table)
        panic("pt_destroy: the kernel's page table is in use");
    free_table(pml4, 4);
}

int pt_map(paddr_t pml4, uint64_t va, paddr_t pa, uint64_t flags)
{
    if (!canonical(va) || va % PAGE_SIZE != 0 || (pa & ~PTE_ADDR_MASK) != 0 ||
        (flags & PTE_BAD_FLAGS) != 0)
        return PAGING_EINVAL;
    int err = 0;
    uint64_t *e = entry_at(pml4, va, 1, true, &err);
    if (e == NULL)
        return err;
    if (*e & PTE_P)
        return PAGING_EEXIST;
    /* A not-present entry is never cached in the TLB (Vol. 3A, 4.10.4.3
     * "Optional Invalidation"), so no flush is needed. */
    *e = pa | flags | PTE_P;
    return 0;
}

/*
 * The present 4 KiB entry of va (*e), or a negative error: PAGING_EINVAL
 * for an address that is not canonical or not page-aligned, or that lies
 * in a 2 MiB or 1 GiB page (never split into 4 KiB pages here),
 * PAGING_ENOENT for one not mapped.
 */
static int present_4k(paddr_t pml4, uint64_t va, uint64_t **e)
{
    if (!canonical(va) || va % PAGE_SIZE != 0)
        return PAGING_EINVAL;
    int err = 0;
    *e = entry_at(pml4, va, 1, false, &err);
    if (*e == NULL)
        return err == PAGING_EEXIST ? PAGING_EINVAL : err;
    return (**e & PTE_P) ? 0 : PAGING_ENOENT;
}

int pt_unmap(paddr_t pml4, uint64_t va)
{
    uint64_t *e;
    int err = present_4k(pml4, va, &e);
    if (err < 0)
        return err;
    *e = 0;
    /* The kernel's table is the one in CR3: drop the stale translation. */
    if (pml4 == kernel_table)
        invlpg(va);
    return 0;
}

int pt_take_dirty(paddr_t pml4, uint64_t va)
{
    uint64_t *e;
    int err = present_4k(pml4, va, &e);
    if (err < 0)
        return err;
    if (!(*e & PTE_D))
        return 0;
    *e &= ~PTE_D;
    if (pml4 == kernel_table)
        invlpg(va);
    return 1;
}

int pt_clear_accessed(paddr_t pml4, uint64_t va)
{
    uint64_t *leaf;
    int err = present_4k(pml4, va, &leaf);
    if (err < 0)
        return err;
    uint64_t *t = table(pml4);
    for (int l = 4; l > 1; l--) {
        uint64_t *e = &t[index_at(va, l)];
        *e &= ~(PTE_A | PTE_D);
        t = table(*e & PTE_ADDR_MASK);
    }
    int dirty = (*leaf & PTE_D) != 0;
    *leaf &= ~(PTE_A | PTE_D);
    return dirty;
}

int pt_walk(paddr_t pml4, uint64_t va, paddr_t *pa, uint64_t *flags)
{
    if (!canonical(va))
        return PAGING_EINVAL;
    uint64_t *t = table(pml4);
    for (int level = 4; level >= 1; level--) {
        uint64_t e = t[index_at(va, level)];
        if (!(e & PTE_P))
            return PAGING_ENOENT;
        /* A leaf: a page-table entry, or a PS entry in a PD or PDPT. */
        if (level == 1 || (level <= 3 && (e & PTE_PS))) {
            uint64_t offset_mask = level_size(level) - 1;
            uint64_t addr_mask = PTE_ADDR_MASK & ~offset_mask;
            if (pa != NULL)
                *pa = (e & addr_mask) | (va & offset_mask);
            if (flags != NULL)
                *flags = e & ~addr_mask;
            return 0;
        }
        t = table(e & PTE_ADDR_MASK);
    }
    return PAGING_ENOENT; /* not reached: level 1 is always a leaf */
}

const char *paging_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case PAGING_ENOMEM:
        return "out of memory for a page-table page";
    case PAGING_EEXIST:
        return "the address is mapped already";
    case PAGING_ENOENT:
        return "the address is not mapped";
    case PAGING_EINVAL:
        return "an address is not page-aligned or not canonical (or bad flags)";
    default:
        return "unknown paging error";
    }
}

paddr_t kernel_pml4(void)
{
    return kernel_table;
}

int pt_map_2m(paddr_t pml4, uint64_t va, paddr_t pa, uint64_t flags)
{
    if (!canonical(va) || va % SIZE_2M != 0 || pa % SIZE_2M != 0 || (pa & ~PTE_ADDR_MASK) != 0 ||
        (flags & PTE_BAD_FLAGS) != 0)
        return PAGING_EINVAL;
    int err = 0;
    uint64_t *pde = entry_at(pml4, va, 2, true, &err);
    if (pde == NULL)
        return err;
    if (*pde & PTE_P)
        return PAGING_EEXIST;
    *pde = pa | flags | PTE_P | PTE_PS;
    return 0;
}

void paging_use(paddr_t pml4)
{
    write_cr3(pml4);
    kernel_table = pml4;
}
