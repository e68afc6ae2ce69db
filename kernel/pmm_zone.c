/*
 * The page allocator's bookkeeping: two bitmaps with one bit per 4 KiB page
 * of physical memory, one saying which pages are RAM the allocator manages
 * ("usable") and one saying which of those are handed out ("used"). Two
 * bitmaps instead of one so that freeing a page that was never RAM (the
 * kernel image, a BIOS area) is caught just like a double free. Allocation is
 * first fit, which also gives contiguous runs for pages_alloc(count); whole
 * words with no free page are skipped, so a scan costs one load per 64 pages.
 * Nothing here touches the memory it describes: kernel/pmm.c wraps a zone
 * for the kernel (and zeroes pages), tests/host drives zones of made-up maps.
 */
#include "kernel/mm.h"
#include "kernel/multiboot.h"

static bool test_bit(const uint64_t *map, size_t i)
{
    return (map[i / 64] >> (i % 64)) & 1;
}

static void set_bit(uint64_t *map, size_t i)
{
    map[i / 64] |= 1UL << (i % 64);
}

static void clear_bit(uint64_t *map, size_t i)
{
    map[i / 64] &= ~(1UL << (i % 64));
}

/* The bits set in x (a SWAR count: the kernel may run on a CPU without POPCNT). */
static unsigned bits_in(uint64_t x)
{
    x -= (x >> 1) & 0x5555555555555555ULL;
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (unsigned)((x * 0x0101010101010101ULL) >> 56);
}

/* Sets (or clears) the bits [first, last) of map, a word at a time (the
 * boot adds 32,000 pages and more); returns how many changed. */
static size_t change_bits(uint64_t *map, size_t first, size_t last, bool set)
{
    size_t changed = 0;
    for (size_t i = first; i < last;) {
        size_t b = i % 64, n = 64 - b < last - i ? 64 - b : last - i;
        uint64_t mask = (n == 64 ? ~0ULL : (1ULL << n) - 1) << b, old = map[i / 64];
        map[i / 64] = set ? old | mask : old & ~mask;
        changed += bits_in(old ^ map[i / 64]);
        i += n;
    }
    return changed;
}

void pmm_zone_init(struct pmm_zone *z, size_t npages, uint64_t *usable, uint64_t *used)
{
    z->npages = npages;
    z->usable = usable;
    z->used = used;
    z->nusable = 0;
    z->nfree = 0;
    z->first_free = 0;
    for (size_t w = 0; w < PMM_BITMAP_WORDS(npages); w++) {
        usable[w] = 0;
        used[w] = 0;
    }
}

void pmm_zone_add(struct pmm_zone *z, paddr_t start, paddr_t end)
{
    /* Only whole pages: a partial page at either end may be shared with a
     * region that is not RAM. */
    size_t first = ALIGN_UP(start, PAGE_SIZE) / PAGE_SIZE;
    size_t last = ALIGN_DOWN(end, PAGE_SIZE) / PAGE_SIZE;
    if (first == 0)
        first = 1; /* 0 means "no memory" to the callers */
    if (last > z->npages)
        last = z->npages;
    if (first < last) {
        size_t n = change_bits(z->usable, first, last, true);
        z->nusable += n;
        z->nfree += n;
    }
}

void pmm_zone_reserve(struct pmm_zone *z, paddr_t start, paddr_t end)
{
    if (end <= start)
        return;
    size_t first = start / PAGE_SIZE;
    size_t last = ALIGN_UP(end, PAGE_SIZE) / PAGE_SIZE;
    if (last > z->npages)
        last = z->npages;
    if (first < last) {
        size_t n = change_bits(z->usable, first, last, false);
        z->nusable -= n;
        z->nfree -= n;
    }
}

static void add_available(const struct mb_mem_region *r, void *arg)
{
    if (r->type == MB_MEM_AVAILABLE)
        pmm_zone_add(arg, r->base, r->base + r->length);
}

static void reserve_other(const struct mb_mem_region *r, void *arg)
{
    if (r->type != MB_MEM_AVAILABLE)
        pmm_zone_reserve(arg, r->base, r->base + r->length);
}

int pmm_zone_from_map(struct pmm_zone *z, const struct multiboot_info *mb,
                      const struct pmm_range *reserved, size_t nreserved)
{
    /* Firmware maps sometimes overlap; reserving second makes "not RAM"
     * win wherever they disagree. */
    int n = multiboot_memory_map(mb, add_available, z);
    if (n < 0)
        return -1;
    multiboot_memory_map(mb, reserve_other, z);
    for (size_t i = 0; i < nreserved; i++)
        pmm_zone_reserve(z, reserved[i].start, reserved[i].end);
    return n;
}

#define PLACE_HOLES 64

struct place {
    const struct pmm_range *reserved;
    size_t nreserved, nholes, bytes;
    struct pmm_range holes[PLACE_HOLES]; /* the map's regions that are not RAM */
    bool too_many;
    paddr_t floor, limit, best;
};

static void collect_hole(const struct mb_mem_region *r, void *arg)
{
    struct place *p = arg;
    if (r->type == MB_MEM_AVAILABLE)
        return;
    if (p->nholes == PLACE_HOLES)
        p->too_many = true;
    else
        p->holes[p->nholes++] = (struct pmm_range){r->base, r->base + r->length};
}

/* Whether [a, a + bytes) overlaps one of the ranges; *next is where that one ends. */
static bool overlaps(const struct pmm_range *t, size_t n, paddr_t a, size_t bytes, paddr_t *next)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i].end > a && t[i].start < a + bytes) {
            *next = t[i].end;
            return true;
        }
    }
    return false;
}

static void try_region(const struct mb_mem_region *r, void *arg)
{
    struct place *p = arg;
    if (r->type != MB_MEM_AVAILABLE || r->base >= p->limit)
        return;
    paddr_t end = r->length > p->limit - r->base ? p->limit : r->base + r->length;
    paddr_t at = ALIGN_UP(r->base > p->floor ? r->base : p->floor, PAGE_SIZE);
    /* Each clash moves past one range: at most as many steps as ranges. */
    for (size_t step = 0; step <= p->nreserved + p->nholes; step++) {
        paddr_t next;
        if (at >= end || p->bytes > end - at)
            return;
        if (!overlaps(p->reserved, p->nreserved, at, p->bytes, &next) &&
            !overlaps(p->holes, p->nholes, at, p->bytes, &next)) {
            if (p->best == 0 || at < p->best)
                p->best = at;
            return;
        }
        if (next <= at) /* a range that wraps: nothing sensible fits past it */
            return;
        at = ALIGN_UP(next, PAGE_SIZE);
    }
}

paddr_t pmm_zone_place(const struct multiboot_info *mb, const struct pmm_range *reserved,
                       size_t nreserved, size_t bytes, paddr_t floor, paddr_t limit)
{
    static struct place p; /* 1 KiB: off the boot stack */
    p = (struct place){.reserved = reserved, .nreserved = nreserved, .bytes = bytes,
                       .floor = floor, .limit = limit};
    if (bytes == 0 || multiboot_memory_map(mb, collect_hole, &p) < 0 || p.too_many)
        return 0;
    multiboot_memory_map(mb, try_region, &p);
    return p.best;
}

/* The free pages of the 64-page word w, as bits. */
static uint64_t free_word(const struct pmm_zone *z, size_t w)
{
    return z->usable[w] & ~z->used[w];
}

/* One page, the lowest free: a word at a time from the first word that
 * may have one (every VM allocates dozens of single pages). */
static paddr_t alloc_one(struct pmm_zone *z)
{
    for (size_t w = z->first_free / 64; w < PMM_BITMAP_WORDS(z->npages); w++) {
        uint64_t bits = free_word(z, w);
        if (bits == 0)
            continue;
        size_t page = w * 64 + (size_t)__builtin_ctzll(bits);
        if (page >= z->npages)
            break;
        set_bit(z->used, page);
        z->nfree--;
        z->first_free = page + 1;
        return (paddr_t)page * PAGE_SIZE;
    }
    return 0;
}

paddr_t pmm_zone_alloc(struct pmm_zone *z, size_t count)
{
    if (count == 0 || count > z->nfree)
        return 0;
    if (count == 1)
        return alloc_one(z);
    size_t run = 0; /* free pages just before page i */
    size_t i = 0;
    while (i < z->npages) {
        uint64_t bits = free_word(z, i / 64);
        if (i % 64 == 0 && bits == 0) {
            run = 0;
            i += 64;
            continue;
        }
        if (!((bits >> (i % 64)) & 1)) {
            run = 0;
            i++;
            continue;
        }
        i++;
        if (++run == count) {
            size_t first = i - count;
            for (size_t j = first; j < i; j++)
                set_bit(z->used, j);
            z->nfree -= count;
            return (paddr_t)first * PAGE_SIZE;
        }
    }
    return 0;
}

int pmm_zone_free(struct pmm_zone *z, paddr_t first, size_t count)
{
    if (first % PAGE_SIZE != 0 || count == 0)
        return PMM_EINVAL;
    size_t start = first / PAGE_SIZE;
    if (start >= z->npages || count > z->npages - start)
        return PMM_EINVAL;
    /* Check every page before changing any, so an error leaves the zone as
     * it was (and the panic that follows reports a consistent state). */
    for (size_t i = start; i < start + count; i++) {
        if (!test_bit(z->usable, i))
            return PMM_ENOTRAM;
        if (!test_bit(z->used, i))
            return PMM_EFREE;
    }
    for (size_t i = start; i < start + count; i++)
        clear_bit(z->used, i);
    z->nfree += count;
    if (start < z->first_free)
        z->first_free = start;
    return 0;
}

bool pmm_zone_is_free(const struct pmm_zone *z, paddr_t page)
{
    size_t i = page / PAGE_SIZE;
    return i < z->npages && test_bit(z->usable, i) && !test_bit(z->used, i);
}
