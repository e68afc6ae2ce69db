/*
 * kernel/pmm_zone.c: the page allocator's bookkeeping on made-up memory.
 * Addresses here are never touched, so a zone can describe 4 GiB of RAM
 * that the host does not have. Covers rounding of regions, reservations,
 * first-fit contiguous runs across bitmap words and holes, exhaustion, every
 * free error (and that a failed free changes nothing), the multiboot2 map
 * with overlaps, and a long random run checked against a simple model.
 */
#include "kernel/mm.h"
#include "tests/host/harness.h"
#include "tests/host/mbi_builder.h"

#define MiB (1UL << 20)
#define PG PAGE_SIZE

#define MAX_TEST_PAGES (1UL << 20) /* 4 GiB */
static uint64_t usable[PMM_BITMAP_WORDS(MAX_TEST_PAGES)];
static uint64_t used[PMM_BITMAP_WORDS(MAX_TEST_PAGES)];

static void zone_new(struct pmm_zone *z, size_t npages)
{
    pmm_zone_init(z, npages, usable, used);
}

HOST_TEST(pmm_add_rounds_inward)
{
    struct pmm_zone z;
    zone_new(&z, 64);
    CHECK_EQ_UINT(z.nfree, 0);
    pmm_zone_add(&z, 2 * PG + 1, 6 * PG - 1); /* whole pages 3, 4 */
    CHECK_EQ_UINT(z.nusable, 2);
    CHECK_EQ_UINT(z.nfree, 2);
    CHECK(!pmm_zone_is_free(&z, 2 * PG));
    CHECK(pmm_zone_is_free(&z, 3 * PG));
    CHECK(pmm_zone_is_free(&z, 4 * PG));
    CHECK(!pmm_zone_is_free(&z, 5 * PG));
    pmm_zone_add(&z, 3 * PG, 5 * PG); /* adding twice counts once */
    CHECK_EQ_UINT(z.nusable, 2);
}

HOST_TEST(pmm_page_zero_never_usable)
{
    struct pmm_zone z;
    zone_new(&z, 16);
    pmm_zone_add(&z, 0, 16 * PG);
    CHECK_EQ_UINT(z.nusable, 15);
    CHECK(!pmm_zone_is_free(&z, 0));
    CHECK_EQ_UINT(pmm_zone_alloc(&z, 1), PG);
}

HOST_TEST(pmm_add_clipped_to_zone)
{
    struct pmm_zone z;
    zone_new(&z, 100);
    pmm_zone_add(&z, 90 * PG, 200 * PG);
    CHECK_EQ_UINT(z.nusable, 10);
    CHECK(!pmm_zone_is_free(&z, 100 * PG));
    pmm_zone_add(&z, 500 * PG, 600 * PG); /* entirely outside */
    CHECK_EQ_UINT(z.nusable, 10);
}

HOST_TEST(pmm_reserve_rounds_outward)
{
    struct pmm_zone z;
    zone_new(&z, 64);
    pmm_zone_add(&z, PG, 64 * PG);
    pmm_zone_reserve(&z, 10 * PG + 100, 12 * PG + 1); /* touches pages 10, 11, 12 */
    CHECK_EQ_UINT(z.nusable, 60);
    CHECK(pmm_zone_is_free(&z, 9 * PG));
    CHECK(!pmm_zone_is_free(&z, 10 * PG));
    CHECK(!pmm_zone_is_free(&z, 12 * PG));
    CHECK(pmm_zone_is_free(&z, 13 * PG));
    pmm_zone_reserve(&z, 11 * PG, 11 * PG); /* empty: nothing */
    pmm_zone_reserve(&z, 1000 * PG, 2000 * PG); /* outside the zone */
    CHECK_EQ_UINT(z.nusable, 60);
    CHECK_EQ_UINT(z.nfree, 60);
}

HOST_TEST(pmm_alloc_first_fit)
{
    struct pmm_zone z;
    zone_new(&z, 256);
    pmm_zone_add(&z, 16 * PG, 256 * PG);
    CHECK_EQ_UINT(pmm_zone_alloc(&z, 1), 16 * PG);
    CHECK_EQ_UINT(pmm_zone_alloc(&z, 1), 17 * PG);
    CHECK_EQ_UINT(pmm_zone_alloc(&z, 3), 18 * PG);
    CHECK_EQ_UINT(z.nfree, 240 - 5);
    CHECK_EQ_INT(pmm_zone_free(&z, 17 * PG, 1), 0);
    CHECK_EQ_UINT(pmm_zone_alloc(&z, 1), 17 * PG); /* the hole is reused */
    CHECK_EQ_UINT(pmm_zone_alloc(&z, 2), 21 * PG); /* a run never fits a 1-page hole */
}

HOST_TEST(pmm_alloc_contiguous_across_words_and_holes)
{
    struct pmm_zone z;
    zone_new(&z, 512);
    pmm_zone_add(&z, 60 * PG, 70 * PG);   /* 10 pages across the word boundary at 64 */
    pmm_zone_add(&z, 100 * PG, 300 * PG); /* 200 pages */
    CHECK_EQ_UINT(pmm_zone_alloc(&z, 10), 60 * PG);
    CHECK_EQ_UINT(pmm_zone_alloc(&z, 11), 100 * PG);
    CHECK_EQ_UINT(pmm_zone_alloc(&z, 150), 111 * PG); /* spans several words */
    CHECK_EQ_UINT(pmm_zone_alloc(&z, 40), 0);         /* only 39 left */
    CHECK_EQ_UINT(pmm_zone_alloc(&z, 39), 261 * PG);
    CHECK_EQ_UINT(z.nfree, 0);
}

HOST_TEST(pmm_alloc_run_that_does_not_fit_a_gap)
{
    struct pmm_zone z;
    zone_new(&z, 128);
    pmm_zone_add(&z, PG, 5 * PG);       /* 4 pages */
    pmm_zone_add(&z, 8 * PG, 20 * PG);  /* 12 pages */
    CHECK_EQ_UINT(pmm_zone_alloc(&z, 5), 8 * PG);
    CHECK_EQ_UINT(pmm_zone_alloc(&z, 4), PG);
    CHECK_EQ_UINT(pmm_zone_alloc(&z, 8), 0);
    CHECK_EQ_UINT(pmm_zone_alloc(&z, 7), 13 * PG);
}

HOST_TEST(pmm_exhaustion_and_recovery)
{
    struct pmm_zone z;
    zone_new(&z, 1024);
    pmm_zone_add(&z, MiB, 4 * MiB); /* 768 pages */
    size_t n = 0;
    while (pmm_zone_alloc(&z, 1) != 0)
        n++;
    CHECK_EQ_UINT(n, 768);
    CHECK_EQ_UINT(z.nfree, 0);
    CHECK_EQ_UINT(pmm_zone_alloc(&z, 1), 0);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_INT(pmm_zone_free(&z, MiB + i * PG, 1), 0);
    CHECK_EQ_UINT(z.nfree, 768);
    CHECK_EQ_UINT(pmm_zone_alloc(&z, 768), MiB); /* all of it, in one run again */
    CHECK_EQ_UINT(pmm_zone_alloc(&z, 0), 0);
    CHECK_EQ_UINT(pmm_zone_alloc(&z, (size_t)-1), 0);
}

HOST_TEST(pmm_free_errors_change_nothing)
{
    struct pmm_zone z;
    zone_new(&z, 64);
    pmm_zone_add(&z, 8 * PG, 32 * PG);
    paddr_t a = pmm_zone_alloc(&z, 4);
    CHECK_EQ_UINT(a, 8 * PG);
    size_t nfree = z.nfree;

    CHECK_EQ_INT(pmm_zone_free(&z, a + 1, 1), PMM_EINVAL);        /* misaligned */
    CHECK_EQ_INT(pmm_zone_free(&z, a, 0), PMM_EINVAL);            /* no pages */
    CHECK_EQ_INT(pmm_zone_free(&z, 64 * PG, 1), PMM_EINVAL);      /* past the zone */
    CHECK_EQ_INT(pmm_zone_free(&z, 60 * PG, 8), PMM_EINVAL);      /* runs past it */
    CHECK_EQ_INT(pmm_zone_free(&z, 2 * PG, 1), PMM_ENOTRAM);      /* never RAM */
    CHECK_EQ_INT(pmm_zone_free(&z, 12 * PG, 1), PMM_EFREE);       /* never allocated */
    CHECK_EQ_INT(pmm_zone_free(&z, a, 5), PMM_EFREE);             /* the last one is free */
    CHECK_EQ_INT(pmm_zone_free(&z, a - PG, 2), PMM_ENOTRAM);      /* the first is not RAM */
    CHECK_EQ_UINT(z.nfree, nfree);
    for (int i = 0; i < 4; i++)
        CHECK(!pmm_zone_is_free(&z, a + i * PG)); /* still allocated */

    CHECK_EQ_INT(pmm_zone_free(&z, a, 4), 0);
    CHECK_EQ_INT(pmm_zone_free(&z, a, 4), PMM_EFREE); /* the double free */
    CHECK_EQ_INT(pmm_zone_free(&z, a + PG, 1), PMM_EFREE);
    CHECK_EQ_UINT(z.nfree, nfree + 4);
}

/* Boot information whose memory map is `map` (24-byte entries, as GRUB's). */
static const struct multiboot_info *boot_info(struct mbi_builder *b, const struct mbi_region *map,
                                              size_t n)
{
    mbi_begin(b);
    mbi_mmap(b, map, n, 24);
    return mbi_finish(b);
}

HOST_TEST(pmm_from_multiboot_map)
{
    /* QEMU's map with 128 MiB, a reserved hole inside RAM that overlaps an
     * available entry (firmware does that), and RAM above 4 GiB. */
    static const struct mbi_region map[] = {
        {0x0, 0x9fc00, 1},
        {0x9fc00, 0x400, 2},
        {0xf0000, 0x10000, 2},
        {0x100000, 0x7ee0000, 1},
        {0x4000800, 0x1000, 2},
        {0x7fe0000, 0x20000, 2},
        {0xfffc0000, 0x40000, 2},
        {0x100000000, 0x40000000, 1},
    };
    static struct mbi_builder b;
    const struct multiboot_info *mb = boot_info(&b, map, ARRAY_SIZE(map));

    const struct pmm_range reserved[] = {
        {0, MiB},                 /* low memory */
        {0x100000, 0x180000},     /* a 512 KiB kernel */
        {0x200010, 0x200800},     /* boot information inside one page */
    };
    struct pmm_zone z;
    zone_new(&z, MAX_TEST_PAGES);
    CHECK_EQ_INT(pmm_zone_from_map(&z, mb, reserved, ARRAY_SIZE(reserved)), 8);

    /* RAM pages 0x180..0x7fdf, minus page 0x200 and pages 0x4000, 0x4001. */
    size_t want = (0x7fe0 - 0x180) - 1 - 2;
    CHECK_EQ_UINT(z.nusable, want);
    CHECK_EQ_UINT(z.nfree, want);
    CHECK(!pmm_zone_is_free(&z, 0x1000));    /* below 1 MiB */
    CHECK(!pmm_zone_is_free(&z, 0x17f000));  /* the kernel's last page */
    CHECK(pmm_zone_is_free(&z, 0x180000));
    CHECK(!pmm_zone_is_free(&z, 0x200000));  /* the boot information */
    CHECK(pmm_zone_is_free(&z, 0x201000));
    CHECK(!pmm_zone_is_free(&z, 0x4000000));
    CHECK(!pmm_zone_is_free(&z, 0x4001000));
    CHECK(pmm_zone_is_free(&z, 0x4002000));
    CHECK(pmm_zone_is_free(&z, 0x7fdf000));
    CHECK(!pmm_zone_is_free(&z, 0x7fe0000));
    CHECK_EQ_UINT(pmm_zone_alloc(&z, 1), 0x180000);

    static struct mbi_builder empty;
    mbi_begin(&empty);
    CHECK_EQ_INT(pmm_zone_from_map(&z, mbi_finish(&empty), NULL, 0), -1);
}

/* A tiny deterministic generator, so a failure reproduces. */
static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

HOST_TEST(pmm_random_against_model)
{
    enum { NPAGES = 2048, SLOTS = 64 };
    static bool model[NPAGES]; /* page handed out */
    struct {
        paddr_t pa;
        size_t n;
    } slot[SLOTS] = {{0, 0}};
    struct pmm_zone z;
    zone_new(&z, NPAGES);
    pmm_zone_add(&z, 0, NPAGES * PG);
    pmm_zone_reserve(&z, 700 * PG, 760 * PG);
    for (size_t i = 0; i < NPAGES; i++)
        model[i] = false;

    uint32_t seed = 42;
    bool ok = true;
    for (int step = 0; step < 20000 && ok; step++) {
        int s = lcg(&seed) % SLOTS;
        if (slot[s].n == 0) {
            size_t n = 1 + lcg(&seed) % (lcg(&seed) % 4 == 0 ? 100 : 4);
            paddr_t pa = pmm_zone_alloc(&z, n);
            if (pa == 0)
                continue;
            size_t first = pa / PG;
            for (size_t i = first; i < first + n; i++) {
                ok = ok && CHECK(!model[i]) && CHECK(i > 0) && CHECK(i < 700 || i >= 760);
                model[i] = true;
            }
            slot[s].pa = pa;
            slot[s].n = n;
        } else {
            ok = ok && CHECK_EQ_INT(pmm_zone_free(&z, slot[s].pa, slot[s].n), 0);
            for (size_t i = slot[s].pa / PG; i < slot[s].pa / PG + slot[s].n; i++)
                model[i] = false;
            slot[s].n = 0;
        }
        size_t out = 0;
        for (size_t i = 0; i < NPAGES; i++)
            out += model[i];
        ok = ok && CHECK_EQ_UINT(z.nfree, z.nusable - out);
    }
    for (int s = 0; s < SLOTS; s++)
        if (slot[s].n)
            CHECK_EQ_INT(pmm_zone_free(&z, slot[s].pa, slot[s].n), 0);
    CHECK_EQ_UINT(z.nfree, NPAGES - 1 - 60);
}

/* Adds and reservations of random byte ranges (word boundaries crossed,
 * overlaps, ranges past the zone) against a model of one flag per page with
 * the rounding rules: an add takes the whole pages inside its range (never
 * page 0), a reservation every page it touches. */
HOST_TEST(pmm_add_reserve_random_ranges_against_model)
{
    enum { NPAGES = 700 };
    static bool model[NPAGES];
    struct pmm_zone z;
    zone_new(&z, NPAGES);
    for (size_t i = 0; i < NPAGES; i++)
        model[i] = false;
    uint32_t seed = 7;
    bool ok = true;
    for (int step = 0; step < 3000 && ok; step++) {
        paddr_t start = (paddr_t)(lcg(&seed) % ((NPAGES + 40) * PG));
        paddr_t len = (paddr_t)(lcg(&seed) % (lcg(&seed) % 3 == 0 ? 300 * PG : 3 * PG));
        bool add = lcg(&seed) % 3 != 0;
        size_t first, last;
        if (add) {
            pmm_zone_add(&z, start, start + len);
            first = ALIGN_UP(start, PG) / PG, last = ALIGN_DOWN(start + len, PG) / PG;
            if (first == 0)
                first = 1;
        } else {
            pmm_zone_reserve(&z, start, start + len);
            first = start / PG, last = len ? ALIGN_UP(start + len, PG) / PG : first;
        }
        for (size_t i = first; i < last && i < NPAGES; i++)
            model[i] = add;
        size_t n = 0;
        for (size_t i = 0; i < NPAGES; i++) {
            n += model[i];
            bool bit = (usable[i / 64] >> (i % 64)) & 1;
            if (bit != model[i]) {
                ok = CHECK_EQ_INT(bit, model[i]);
                break;
            }
        }
        ok = ok && CHECK_EQ_UINT(z.nusable, n) && CHECK_EQ_UINT(z.nfree, n);
    }
}

/* pmm_zone_place: the lowest page-aligned fit in one available region, past
 * reserved ranges and the map's own holes (which may lie inside RAM),
 * within [floor, limit). */
HOST_TEST(pmm_place_bookkeeping)
{
    static const struct mbi_region map[] = {
        {0x0, 0x9fc00, 1},
        {0x9fc00, 0x400, 2},
        {0x100000, 0x3000, 1},      /* 3 pages: too small for 4 */
        {0x200000, 0x7de0000, 1},
        {0x4000800, 0x1000, 2},     /* a hole inside RAM */
        {0x7fe0000, 0x20000, 2},
        {0x100000000, 0x40000000, 1},
    };
    static struct mbi_builder b;
    const struct multiboot_info *mb = boot_info(&b, map, ARRAY_SIZE(map));
    const struct pmm_range reserved[] = {
        {0, MiB},
        {0x200000, 0x280000},   /* the kernel */
        {0x280010, 0x280800},   /* boot information inside one page */
    };
    const size_t n = ARRAY_SIZE(reserved);
    CHECK_EQ_UINT(pmm_zone_place(mb, reserved, n, 2 * PG, MiB, 1UL << 32), 0x100000);
    CHECK_EQ_UINT(pmm_zone_place(mb, reserved, n, 4 * PG, MiB, 1UL << 32), 0x281000);
    CHECK_EQ_UINT(pmm_zone_place(mb, reserved, n, 2 * PG, 0x4000000, 1UL << 32), 0x4002000);
    CHECK_EQ_UINT(pmm_zone_place(mb, reserved, n, PG, 0x3fff000, 1UL << 32), 0x3fff000);
    CHECK_EQ_UINT(pmm_zone_place(mb, reserved, n, PG, 0x4000000, 1UL << 32), 0x4002000); /* the hole is in its page */
    CHECK_EQ_UINT(pmm_zone_place(mb, reserved, n, 0x10000, 0x7fd8000, 1UL << 32), 0); /* RAM ends */
    CHECK_EQ_UINT(pmm_zone_place(mb, reserved, n, 4 * PG, MiB, 0x282000), 0);       /* limit */
    CHECK_EQ_UINT(pmm_zone_place(mb, reserved, n, 4 * PG, MiB, 0x285000), 0x281000);
    CHECK_EQ_UINT(pmm_zone_place(mb, reserved, n, 0, MiB, 1UL << 32), 0);
    const struct pmm_range all[] = {{0, 0x8000000}};
    CHECK_EQ_UINT(pmm_zone_place(mb, all, 1, PG, MiB, 1UL << 32), 0);
    static struct mbi_builder empty;
    mbi_begin(&empty);
    CHECK_EQ_UINT(pmm_zone_place(mbi_finish(&empty), NULL, 0, PG, MiB, 1UL << 32), 0);
}
