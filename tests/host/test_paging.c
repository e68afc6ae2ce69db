/*
 * kernel/paging.c over the shim's pages (a table's "physical" address is
 * its host address, as under the kernel's identity map). Map, walk and
 * unmap with their errors, the canonical-address rule, mappings that need
 * new tables at every level, 2 MiB and 1 GiB leaves (written by hand, as the
 * boot code and paging_init make them), running out of table pages, and
 * pt_destroy returning every table page.
 */
#include "kernel/paging.h"
#include "tests/host/harness.h"
#include "tests/host/shim.h"

#define GiB (1UL << 30)
#define MiB2 (1UL << 21)

static uint64_t *tbl(uint64_t entry)
{
    return (uint64_t *)(uintptr_t)(entry & PTE_ADDR_MASK);
}

HOST_TEST(paging_map_walk_unmap)
{
    size_t before = host_pages_out;
    paddr_t pml4 = pt_create();
    if (!CHECK(pml4 != 0))
        return;
    CHECK_EQ_UINT(host_pages_out, before + 1);
    uint64_t va = 0x40000000, pa = 0x12345000;
    CHECK_EQ_INT(pt_map(pml4, va, pa, PTE_W), 0);
    CHECK_EQ_UINT(host_pages_out, before + 4); /* a PDPT, a PD and a PT */

    paddr_t got = 0;
    uint64_t flags = 0;
    CHECK_EQ_INT(pt_walk(pml4, va + 0x123, &got, &flags), 0);
    CHECK_EQ_UINT(got, pa + 0x123);
    CHECK_EQ_UINT(flags, PTE_P | PTE_W);
    CHECK_EQ_INT(pt_walk(pml4, va, NULL, NULL), 0);
    CHECK_EQ_INT(pt_walk(pml4, va + PAGE_SIZE, &got, &flags), PAGING_ENOENT);

    CHECK_EQ_INT(pt_map(pml4, va, pa, PTE_W), PAGING_EEXIST);
    CHECK_EQ_INT(pt_map(pml4, va, 0x5000, 0), PAGING_EEXIST);
    CHECK_EQ_INT(pt_unmap(pml4, va), 0);
    CHECK_EQ_INT(pt_walk(pml4, va, &got, &flags), PAGING_ENOENT);
    CHECK_EQ_INT(pt_unmap(pml4, va), PAGING_ENOENT);
    CHECK_EQ_INT(pt_unmap(pml4, 0x7000000000), PAGING_ENOENT); /* no tables there at all */
    CHECK_EQ_INT(pt_map(pml4, va, pa + PAGE_SIZE, PTE_U | PTE_NX), 0); /* remap */
    CHECK_EQ_INT(pt_walk(pml4, va, &got, &flags), 0);
    CHECK_EQ_UINT(got, pa + PAGE_SIZE);
    CHECK_EQ_UINT(flags, PTE_P | PTE_U | PTE_NX);
    CHECK_EQ_UINT(host_pages_out, before + 4);

    pt_destroy(pml4);
    CHECK_EQ_UINT(host_pages_out, before);
}

HOST_TEST(paging_invalid_arguments)
{
    paddr_t pml4 = pt_create();
    CHECK_EQ_INT(pt_map(pml4, 0x1001, 0x2000, 0), PAGING_EINVAL);          /* va unaligned */
    CHECK_EQ_INT(pt_map(pml4, 0x1000, 0x2001, 0), PAGING_EINVAL);          /* pa unaligned */
    CHECK_EQ_INT(pt_map(pml4, 0x1000, 1UL << 52, 0), PAGING_EINVAL);       /* pa too wide */
    CHECK_EQ_INT(pt_map(pml4, 0x1000, 0x2000, 0x3000), PAGING_EINVAL);     /* an address as flags */
    CHECK_EQ_INT(pt_map(pml4, 0x1000, 0x2000, PTE_PS), PAGING_EINVAL);
    CHECK_EQ_INT(pt_map(pml4, 0x0000800000000000, 0x2000, 0), PAGING_EINVAL); /* non-canonical */
    CHECK_EQ_INT(pt_map(pml4, 0xffff7ffffffff000, 0x2000, 0), PAGING_EINVAL);
    CHECK_EQ_INT(pt_unmap(pml4, 0x0000800000000000), PAGING_EINVAL);
    CHECK_EQ_INT(pt_unmap(pml4, 0x1800), PAGING_EINVAL);
    CHECK_EQ_INT(pt_walk(pml4, 0x0000800000000000, NULL, NULL), PAGING_EINVAL);
    CHECK_EQ_INT(pt_walk(pml4, 0x1800, NULL, NULL), PAGING_ENOENT); /* walk takes any offset */
    pt_destroy(pml4);
}

HOST_TEST(paging_canonical_edges)
{
    size_t before = host_pages_out;
    paddr_t pml4 = pt_create();
    static const uint64_t vas[] = {
        0x0, 0x1ff000, 0x200000, 0x3ffff000, 0x40000000, 0x7ffffffff000, /* top of the low half */
        0xffff800000000000, 0xffffffffc0000000, 0xfffffffffffff000,     /* the high half */
    };
    for (size_t i = 0; i < ARRAY_SIZE(vas); i++)
        CHECK_EQ_INT(pt_map(pml4, vas[i], 0x100000 + i * PAGE_SIZE, PTE_W), 0);
    for (size_t i = 0; i < ARRAY_SIZE(vas); i++) {
        paddr_t pa = 0;
        CHECK_EQ_INT(pt_walk(pml4, vas[i] + 0xfff, &pa, NULL), 0);
        CHECK_EQ_UINT(pa, 0x100000 + i * PAGE_SIZE + 0xfff);
    }
    /* PML4 index 256 holds the first high-half address. */
    CHECK(tbl(((uint64_t *)(uintptr_t)pml4)[256]) != NULL);
    pt_destroy(pml4);
    CHECK_EQ_UINT(host_pages_out, before);
}

HOST_TEST(paging_many_pages)
{
    size_t before = host_pages_out;
    paddr_t pml4 = pt_create();
    /* 1500 pages across a 2 MiB and a 1 GiB boundary: several page tables. */
    uint64_t base = GiB - 700 * PAGE_SIZE;
    for (uint64_t i = 0; i < 1500; i++)
        if (!CHECK_EQ_INT(pt_map(pml4, base + i * PAGE_SIZE, i * PAGE_SIZE, PTE_W), 0))
            break;
    for (uint64_t i = 0; i < 1500; i += 7) {
        paddr_t pa;
        CHECK_EQ_INT(pt_walk(pml4, base + i * PAGE_SIZE + 8, &pa, NULL), 0);
        CHECK_EQ_UINT(pa, i * PAGE_SIZE + 8);
    }
    for (uint64_t i = 0; i < 1500; i++)
        CHECK_EQ_INT(pt_unmap(pml4, base + i * PAGE_SIZE), 0);
    CHECK_EQ_INT(pt_walk(pml4, base, NULL, NULL), PAGING_ENOENT);
    pt_destroy(pml4);
    CHECK_EQ_UINT(host_pages_out, before);
}

HOST_TEST(paging_large_pages)
{
    size_t before = host_pages_out;
    paddr_t pml4 = pt_create();
    CHECK_EQ_INT(pt_map(pml4, 0x1000, 0x1000, PTE_W), 0); /* builds PDPT[0] and PD[0] */
    uint64_t *pdpt = tbl(((uint64_t *)(uintptr_t)pml4)[0]);
    uint64_t *pd = tbl(pdpt[0]);
    pd[3] = 0x80000000UL | PTE_P | PTE_W | PTE_PS;          /* 6 MiB -> 2 GiB, 2 MiB page */
    pdpt[2] = 0x1c0000000UL | PTE_P | PTE_PS | PTE_NX;       /* 2 GiB -> 7 GiB, 1 GiB page */

    paddr_t pa;
    uint64_t flags;
    CHECK_EQ_INT(pt_walk(pml4, 3 * MiB2 + 0x12345, &pa, &flags), 0);
    CHECK_EQ_UINT(pa, 0x80012345);
    CHECK_EQ_UINT(flags, PTE_P | PTE_W | PTE_PS);
    CHECK_EQ_INT(pt_walk(pml4, 2 * GiB + 0x3456789, &pa, &flags), 0);
    CHECK_EQ_UINT(pa, 0x1c3456789);
    CHECK_EQ_UINT(flags, PTE_P | PTE_PS | PTE_NX);

    /* 4 KiB operations inside a large page: it is mapped, and not split. */
    CHECK_EQ_INT(pt_map(pml4, 3 * MiB2 + PAGE_SIZE, 0x5000, 0), PAGING_EEXIST);
    CHECK_EQ_INT(pt_map(pml4, 2 * GiB + MiB2, 0x5000, 0), PAGING_EEXIST);
    CHECK_EQ_INT(pt_unmap(pml4, 3 * MiB2), PAGING_EINVAL);
    CHECK_EQ_INT(pt_unmap(pml4, 2 * GiB), PAGING_EINVAL);

    /* pt_destroy frees the tables, not what large pages map. */
    pt_destroy(pml4);
    CHECK_EQ_UINT(host_pages_out, before);
}

HOST_TEST(paging_out_of_memory)
{
    size_t before = host_pages_out;
    paddr_t pml4 = pt_create();
    host_pages_limit = (long)host_pages_out + 2; /* room for a PDPT and a PD, not a PT */
    CHECK_EQ_INT(pt_map(pml4, 0x1000, 0x1000, 0), PAGING_ENOMEM);
    CHECK_EQ_INT(pt_walk(pml4, 0x1000, NULL, NULL), PAGING_ENOENT);
    host_pages_limit = -1;
    CHECK_EQ_INT(pt_map(pml4, 0x1000, 0x1000, 0), 0); /* the partial tables are reused */
    CHECK_EQ_UINT(host_pages_out, before + 4);
    host_pages_limit = (long)host_pages_out;
    CHECK_EQ_UINT(pt_create(), 0);
    host_pages_limit = -1;
    pt_destroy(pml4);
    CHECK_EQ_UINT(host_pages_out, before);
}

HOST_TEST(paging_strerror_names_each_error)
{
    const int errs[] = {0, PAGING_ENOMEM, PAGING_EEXIST, PAGING_ENOENT, PAGING_EINVAL, -99};
    for (size_t i = 0; i < ARRAY_SIZE(errs); i++) {
        const char *s = paging_strerror(errs[i]);
        CHECK(s != NULL && s[0] != '\0');
        for (size_t j = 0; j < i; j++)
            CHECK(s != paging_strerror(errs[j]));
    }
}

HOST_TEST(paging_kernel_table_absent_on_host)
{
    CHECK_EQ_UINT(kernel_pml4(), 0); /* paging_init never runs here */
}

/* pt_clear_accessed: A and D cleared at every level of one path (as a CPU
 * walking it would have set them), other flags and other paths untouched. */
HOST_TEST(paging_clear_accessed)
{
    paddr_t pml4 = pt_create();
    if (!CHECK(pml4 != 0))
        return;
    uint64_t va = 0x40000000, other = 0x40001000;
    CHECK_EQ_INT(pt_map(pml4, va, 0x12345000, PTE_W | PTE_NX), 0);
    CHECK_EQ_INT(pt_map(pml4, other, 0x22345000, PTE_W), 0);
    uint64_t *l4 = tbl(pml4), *l3 = tbl(l4[0]), *l2 = tbl(l3[1]), *l1 = tbl(l2[0]);
    l4[0] |= PTE_A, l3[1] |= PTE_A, l2[0] |= PTE_A;
    l1[0] |= PTE_A | PTE_D, l1[1] |= PTE_A | PTE_D;
    CHECK_EQ_INT(pt_clear_accessed(pml4, va), 1); /* it was dirty */
    CHECK_EQ_INT(pt_clear_accessed(pml4, va), 0); /* no more */
    CHECK_EQ_UINT(l4[0] & (PTE_A | PTE_D), 0);
    CHECK_EQ_UINT(l3[1] & (PTE_A | PTE_D), 0);
    CHECK_EQ_UINT(l2[0] & (PTE_A | PTE_D), 0);
    CHECK_EQ_UINT(l1[0], 0x12345000 | PTE_P | PTE_W | PTE_NX);
    CHECK_EQ_UINT(l1[1], 0x22345000 | PTE_P | PTE_W | PTE_A | PTE_D); /* another page's entry */
    CHECK_EQ_INT(pt_clear_accessed(pml4, va + 2 * PAGE_SIZE), PAGING_ENOENT);
    CHECK_EQ_INT(pt_clear_accessed(pml4, va + 1), PAGING_EINVAL);
    CHECK_EQ_INT(pt_clear_accessed(pml4, 0x7000000000), PAGING_ENOENT);
    pt_destroy(pml4);
}
