/*
 * Self-tests of memory management on the real machine: the page allocator
 * over GRUB's memory map, the heap, page tables and the kernel's own table
 * that paging_init loaded. tests/host checks the same code's logic in
 * detail; these check what only the booted kernel can: that the pages
 * handed out are real, writable, zeroed, outside the kernel and the first
 * MiB, and that CR3 holds a table with the NULL page unmapped. Every test
 * gives back what it takes, so the tests after it see the same free count.
 */
#include "kernel/ktest.h"
#include "kernel/mm.h"
#include "kernel/paging.h"
#include "kernel/string.h"
#include "kernel/x86.h"

extern char __kernel_start[], __kernel_end[];

#define MiB (1UL << 20)
#define SIZE_2M (1UL << 21)

/* True when [pa, pa + n pages) is RAM the allocator may hand out. */
static bool outside_kernel(paddr_t pa, size_t n)
{
    paddr_t end = pa + n * PAGE_SIZE;
    return pa >= MiB && end <= (1UL << 32) &&
           (end <= (paddr_t)(uintptr_t)__kernel_start || pa >= (paddr_t)(uintptr_t)__kernel_end);
}

static bool all_zero(const void *p, size_t n)
{
    const uint64_t *w = p;
    for (size_t i = 0; i < n / 8; i++)
        if (w[i] != 0)
            return false;
    return true;
}

KTEST(pmm_alloc_free, 0)
{
    size_t free0 = pmm_free_pages();
    KTEST_CHECK(pmm_total_pages() >= free0 && free0 > 0);
    paddr_t a = page_alloc(), b = page_alloc();
    KTEST_CHECK(a != 0 && b != 0 && a != b);
    KTEST_CHECK(a % PAGE_SIZE == 0 && b % PAGE_SIZE == 0);
    KTEST_CHECK(outside_kernel(a, 1) && outside_kernel(b, 1));
    KTEST_CHECK(pmm_free_pages() == free0 - 2);
    memset((void *)a, 0x5a, PAGE_SIZE); /* the page is real and writable */
    page_free(a);
    page_free(b);
    KTEST_CHECK(pmm_free_pages() == free0);
    return KTEST_PASS;
}

KTEST(pmm_pages_are_zeroed, 0)
{
    paddr_t a = pages_alloc(3);
    KTEST_CHECK(a != 0);
    memset((void *)a, 0xff, 3 * PAGE_SIZE);
    pages_free(a, 3);
    /* First fit hands the same pages out again: they must come back zeroed. */
    paddr_t b = pages_alloc(3);
    KTEST_CHECK(b == a);
    KTEST_CHECK(all_zero((void *)b, 3 * PAGE_SIZE));
    pages_free(b, 3);
    return KTEST_PASS;
}

KTEST(pmm_contiguous, 0)
{
    size_t free0 = pmm_free_pages();
    paddr_t run = pages_alloc(64);
    KTEST_CHECK(run != 0 && run % PAGE_SIZE == 0 && outside_kernel(run, 64));
    KTEST_CHECK(pmm_free_pages() == free0 - 64);
    /* Every page of the run is ours: a single page comes from elsewhere. */
    paddr_t one = page_alloc();
    KTEST_CHECK(one != 0 && (one < run || one >= run + 64 * PAGE_SIZE));
    memset((void *)run, 0xab, 64 * PAGE_SIZE);
    KTEST_CHECK(*(volatile uint8_t *)one == 0);
    page_free(one);
    pages_free(run, 64);
    KTEST_CHECK(pmm_free_pages() == free0);
    return KTEST_PASS;
}

/*
 * Takes every free page in runs (halving the run when it no longer fits),
 * checks that the next request fails, then gives all back. The runs are
 * chained through their first words, so the test needs no memory of its own.
 */
KTEST(pmm_exhaustion, 0)
{
    size_t free0 = pmm_free_pages();
    KTEST_CHECK(pages_alloc(free0 + 1) == 0);
    KTEST_CHECK(pages_alloc(0) == 0);
    KTEST_CHECK(pages_alloc(SIZE_MAX / PAGE_SIZE) == 0);
    KTEST_CHECK(pmm_free_pages() == free0);

    paddr_t chain = 0;
    size_t taken = 0;
    for (size_t n = 1024; n > 0;) {
        paddr_t run = pages_alloc(n);
        if (run == 0) {
            n /= 2;
            continue;
        }
        uint64_t *head = (uint64_t *)run;
        head[0] = chain;
        head[1] = n;
        chain = run;
        taken += n;
    }
    bool empty = pmm_free_pages() == 0 && page_alloc() == 0;
    while (chain != 0) {
        uint64_t *head = (uint64_t *)chain;
        paddr_t next = head[0];
        pages_free(chain, head[1]);
        chain = next;
    }
    KTEST_CHECK(empty);
    KTEST_CHECK(taken == free0);
    KTEST_CHECK(pmm_free_pages() == free0);
    return KTEST_PASS;
}

KTEST(heap_sizes_and_alignment, 0)
{
    static const size_t sizes[] = {0, 1, 15, 16, 17, 100, 500, 2032, 2033, 4080, 4081, 10000};
    enum { N = ARRAY_SIZE(sizes) };
    uint8_t *p[N];
    for (size_t i = 0; i < N; i++) {
        p[i] = kmalloc(sizes[i]);
        KTEST_CHECK(p[i] != NULL);
        KTEST_CHECK((uintptr_t)p[i] % 16 == 0);
        memset(p[i], (int)i + 1, sizes[i]);
    }
    /* No block overlaps another: each still holds its own byte. */
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < sizes[i]; j++)
            if (p[i][j] != (uint8_t)(i + 1))
                return ktest_fail("block %zu (%zu bytes) was overwritten at byte %zu", i,
                                  sizes[i], j);
    for (size_t i = 0; i < N; i++)
        kfree(p[i]);
    return KTEST_PASS;
}

KTEST(heap_reuse_and_kzalloc, 0)
{
    uint8_t *a = kmalloc(200);
    KTEST_CHECK(a != NULL);
    memset(a, 0xee, 200);
    kfree(a);
    uint8_t *b = kzalloc(200);
    KTEST_CHECK(b == a); /* the freed block is handed out again */
    KTEST_CHECK(all_zero(b, 200));
    kfree(b);

    /* Many small objects, freed and taken again, need no more pages. */
    void *objs[256];
    for (int i = 0; i < 256; i++)
        kfree(kmalloc(48)); /* warm the 64-byte class */
    size_t free0 = pmm_free_pages();
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 64; i++)
            KTEST_CHECK((objs[i] = kmalloc(48)) != NULL);
        for (int i = 0; i < 64; i++)
            kfree(objs[i]);
    }
    KTEST_CHECK(pmm_free_pages() == free0);
    return KTEST_PASS;
}

KTEST(heap_large_blocks, 0)
{
    size_t free0 = pmm_free_pages();
    void *p = kmalloc(5 * PAGE_SIZE); /* 6 pages with the header */
    KTEST_CHECK(p != NULL && (uintptr_t)p % PAGE_SIZE == 16);
    KTEST_CHECK(pmm_free_pages() == free0 - 6);
    memset(p, 1, 5 * PAGE_SIZE);
    kfree(p);
    KTEST_CHECK(pmm_free_pages() == free0);
    KTEST_CHECK(kmalloc((pmm_free_pages() + 1) * PAGE_SIZE) == NULL);
    KTEST_CHECK(kmalloc(SIZE_MAX) == NULL);
    KTEST_CHECK(pmm_free_pages() == free0);
    return KTEST_PASS;
}

KTEST(paging_map_walk_unmap, 0)
{
    size_t free0 = pmm_free_pages();
    paddr_t pml4 = pt_create();
    paddr_t page = page_alloc();
    KTEST_CHECK(pml4 != 0 && page != 0);
    uint64_t va = 0x00007f0000001000UL;
    KTEST_CHECK(pt_map(pml4, va, page, PTE_W | PTE_U | PTE_NX) == 0);
    paddr_t pa;
    uint64_t flags;
    KTEST_CHECK(pt_walk(pml4, va + 0x7ff, &pa, &flags) == 0);
    KTEST_CHECK(pa == page + 0x7ff);
    KTEST_CHECK(flags == (PTE_P | PTE_W | PTE_U | PTE_NX));
    KTEST_CHECK(pt_map(pml4, va, page, PTE_W) == PAGING_EEXIST);
    KTEST_CHECK(pt_walk(pml4, va + PAGE_SIZE, &pa, NULL) == PAGING_ENOENT);
    KTEST_CHECK(pt_map(pml4, va + 1, page, 0) == PAGING_EINVAL);
    KTEST_CHECK(pt_map(pml4, 0x0000800000000000UL, page, 0) == PAGING_EINVAL);
    KTEST_CHECK(pt_walk(pml4, 0xffff000000000000UL, &pa, NULL) == PAGING_EINVAL);
    KTEST_CHECK(pt_unmap(pml4, va) == 0);
    KTEST_CHECK(pt_walk(pml4, va, &pa, NULL) == PAGING_ENOENT);
    KTEST_CHECK(pt_unmap(pml4, va) == PAGING_ENOENT);
    pt_destroy(pml4); /* frees the PML4, PDPT, PD and PT */
    page_free(page);
    KTEST_CHECK(pmm_free_pages() == free0);
    return KTEST_PASS;
}

KTEST(paging_kernel_table, 0)
{
    paddr_t k = kernel_pml4();
    KTEST_CHECK(k != 0);
    KTEST_CHECK((read_cr3() & PTE_ADDR_MASK) == k);
    paddr_t pa;
    uint64_t flags;
    /* Page 0 is unmapped, the rest of the first 2 MiB uses 4 KiB pages. */
    KTEST_CHECK(pt_walk(k, 0, &pa, NULL) == PAGING_ENOENT);
    KTEST_CHECK(pt_walk(k, 0xfff, &pa, NULL) == PAGING_ENOENT);
    KTEST_CHECK(pt_walk(k, 0x1000, &pa, &flags) == 0 && pa == 0x1000 && !(flags & PTE_PS));
    uint64_t code = (uint64_t)(uintptr_t)kernel_pml4; /* the kernel's own text, at 1 MiB+ */
    KTEST_CHECK(pt_walk(k, code, &pa, &flags) == 0 && pa == code && !(flags & PTE_PS));
    /* Above 2 MiB: 2 MiB pages, identity, up to 4 GiB. */
    KTEST_CHECK(pt_walk(k, SIZE_2M + 0x12345, &pa, &flags) == 0);
    KTEST_CHECK(pa == SIZE_2M + 0x12345 && (flags & PTE_PS) && (flags & PTE_W));
    KTEST_CHECK(pt_walk(k, 0xfffff000UL, &pa, &flags) == 0 && pa == 0xfffff000UL);
    KTEST_CHECK(pt_walk(k, 0x100000000UL, &pa, NULL) == PAGING_ENOENT);
    /* A 4 KiB mapping cannot go where a 2 MiB page is. */
    KTEST_CHECK(pt_map(k, 4 * SIZE_2M, 0x1000, 0) == PAGING_EEXIST);
    return KTEST_PASS;
}

KTEST(paging_null_faults, 0)
{
    int v = ktest_try();
    if (v == 0) {
        (void)*(volatile int *)NULL;
        ktest_try_end();
        return ktest_fail("reading address 0 did not fault");
    }
    ktest_try_end();
    KTEST_CHECK(v == 14 + 1); /* #PF */
    return KTEST_PASS;
}

/* Crash tests (run only when named): a broken invariant must stop the kernel
 * with a panic that names the culprit. */
KTEST(crash_page_double_free, KTEST_CRASH)
{
    paddr_t page = page_alloc();
    page_free(page);
    page_free(page); /* panics: "a page is free already (double free?)" */
    return ktest_fail("freeing a page twice did not panic");
}

KTEST(crash_kfree_bad_pointer, KTEST_CRASH)
{
    uint8_t *p = kzalloc(64);
    kfree(p + 16); /* panics: "not a pointer kmalloc returned" */
    return ktest_fail("kfree of a pointer into a block did not panic");
}
