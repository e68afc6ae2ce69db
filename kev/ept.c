/*
 * EPT spaces: the pages of one EPT and of the guest memory it may map, the
 * CPU's walk done in software (for the probe, the checks and the tests),
 * kev's own map, and the check before VM entry (kev/ept.h).
 *
 * A space's pages are a sorted array (binary search): a test's EPT has a
 * few hundred pages at most. Table pages are lent to student code
 * writable; the D bit of that mapping tells kev whether student code wrote
 * to a table since the last check, so a VM exit whose upcall left the
 * tables alone costs no walk.
 */
#include "kev/ept.h"
#include "kernel/mm.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kev/internal.h"

enum page_kind {
    PAGE_TABLE,      /* an EPT table page, lent writable */
    PAGE_GUEST,      /* guest memory, lent read-only */
    PAGE_GUEST_RW,   /* guest memory, lent writable */
};

struct page {
    paddr_t pa;
    uint8_t kind;
    uint8_t visited; /* kev_ept_check: bit l-1 set once the table was walked as level l */
};

struct ept_space {
    paddr_t root;
    size_t max_tables, ntables;
    struct page *pages; /* sorted by pa */
    size_t npages, cap;
    bool dirty;         /* kev changed the tables since kev_ept_changed */
};

static struct ept_space *current;

/* The first page at or above pa. */
static size_t lower_bound(const struct ept_space *sp, paddr_t pa)
{
    size_t lo = 0, hi = sp->npages;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sp->pages[mid].pa < pa)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct page *find(const struct ept_space *sp, paddr_t pa)
{
    size_t i = lower_bound(sp, pa);
    return i < sp->npages && sp->pages[i].pa == pa ? &sp->pages[i] : NULL;
}

bool kev_ept_is_table(const struct ept_space *sp, paddr_t pa)
{
    const struct page *p = find(sp, pa);
    return p && p->kind == PAGE_TABLE;
}

bool kev_ept_is_guest(const struct ept_space *sp, paddr_t pa)
{
    const struct page *p = find(sp, pa);
    return p && p->kind != PAGE_TABLE;
}

/* A fresh zeroed page of the given kind, recorded and lent. */
static enum kev_error add_page(struct ept_space *sp, enum page_kind kind, paddr_t *out)
{
    if (sp->npages == sp->cap) {
        size_t cap = sp->cap ? sp->cap * 2 : 64;
        struct page *p = kmalloc(cap * sizeof(*p));
        if (p == NULL)
            return KEV_ENOMEM;
        if (sp->npages)
            memcpy(p, sp->pages, sp->npages * sizeof(*p));
        kfree(sp->pages);
        sp->pages = p;
        sp->cap = cap;
    }
    paddr_t pa = page_alloc(); /* zeroed */
    if (pa == 0)
        return KEV_ENOMEM;
    if (user_phys_map(pa, kind != PAGE_GUEST) == 0) {
        page_free(pa);
        return KEV_ENOMEM; /* past USER_PHYS_LIMIT: not in this machine's memory */
    }
    size_t i = lower_bound(sp, pa);
    memmove(&sp->pages[i + 1], &sp->pages[i], (sp->npages - i) * sizeof(sp->pages[0]));
    sp->pages[i] = (struct page){.pa = pa, .kind = (uint8_t)kind};
    sp->npages++;
    *out = pa;
    return KEV_OK;
}

struct ept_space *kev_ept_create(size_t max_tables)
{
    if (current != NULL || max_tables == 0)
        return NULL;
    struct ept_space *sp = kmalloc(sizeof(*sp));
    if (sp == NULL)
        return NULL;
    memset(sp, 0, sizeof(*sp));
    sp->max_tables = max_tables;
    if (kev_ept_table_alloc(sp, &sp->root) != KEV_OK) {
        kfree(sp);
        return NULL;
    }
    current = sp;
    return sp;
}

void kev_ept_destroy(struct ept_space *sp)
{
    if (sp == NULL)
        return;
    for (size_t i = 0; i < sp->npages; i++) {
        user_phys_unmap(sp->pages[i].pa);
        page_free(sp->pages[i].pa);
    }
    kfree(sp->pages);
    if (current == sp)
        current = NULL;
    kfree(sp);
}

struct ept_space *kev_ept_current(void)
{
    return current;
}

paddr_t kev_ept_root(const struct ept_space *sp)
{
    return sp->root;
}

size_t kev_ept_tables(const struct ept_space *sp)
{
    return sp->ntables;
}

/* Bits 2:0 memory type 6 (write-back), bits 5:3 the walk's length minus
 * one, bit 6 accessed and dirty flags (Vol. 3C, 25.6.11). */
#define EPTP_WB 6ULL
#define EPTP_WALK_4 (3ULL << 3)
#define EPTP_AD (1ULL << 6)

uint64_t kev_ept_pointer(const struct ept_space *sp)
{
    bool ad = kev_vmx_caps()->ept_vpid & EPT_CAP_AD;
    return sp->root | EPTP_WB | EPTP_WALK_4 | (ad ? EPTP_AD : 0);
}

enum kev_error kev_ept_table_alloc(struct ept_space *sp, paddr_t *page)
{
    if (sp->ntables == sp->max_tables)
        return KEV_ENOMEM;
    KEV_TRY(add_page(sp, PAGE_TABLE, page));
    sp->ntables++;
    sp->dirty = true;
    return KEV_OK;
}

enum kev_error kev_ept_guest_page(struct ept_space *sp, bool writable, paddr_t *page)
{
    return add_page(sp, writable ? PAGE_GUEST_RW : PAGE_GUEST, page);
}

enum kev_error sys_ept_table_alloc(paddr_t *page)
{
    if (current == NULL)
        return KEV_ESTOPPED; /* no test gave an EPT: nothing to allocate in */
    paddr_t pa = 0;
    enum kev_error e = kev_ept_table_alloc(current, &pa);
    *page = pa;
    return e;
}

void kev_ept_perm_name(uint64_t perm, char buf[4])
{
    buf[0] = perm & EPT_R ? 'r' : '-';
    buf[1] = perm & EPT_W ? 'w' : '-';
    buf[2] = perm & EPT_X ? 'x' : '-';
    buf[3] = '\0';
}

/* Bits 6:3 of an entry naming a table (Vol. 3C, 29.3.2, the tables
 * "Format of an EPT PML4 Entry" and after). */
#define EPT_TABLE_RESERVED 0x78ULL

static const char *const level_names[EPT_LEVELS + 1] = {
    "", "page table", "page directory", "page-directory-pointer table", "PML4 (the root)",
};

static unsigned index_at(uint64_t gpa, int level)
{
    return (gpa >> (12 + 9 * (level - 1))) & (EPT_ENTRIES - 1);
}

static const uint64_t *table(paddr_t pa)
{
    return (const uint64_t *)(uintptr_t)pa;
}

enum kev_error kev_ept_walk(const struct ept_space *sp, gpa_t gpa, struct ept_walk *w)
{
    memset(w, 0, sizeof(*w));
    if (gpa.addr >= EPT_GPA_LIMIT)
        return KEV_EINVAL;
    paddr_t t = sp->root;
    uint64_t perm = EPT_RWX;
    for (int level = EPT_LEVELS; level >= 1; level--) {
        unsigned i = index_at(gpa.addr, level);
        uint64_t e = table(t)[i];
        w->entry[w->nentries++] = e;
        w->level = level;
        if ((e & EPT_RWX) == 0)
            return KEV_EUNMAPPED;
        perm &= e;
        paddr_t next = e & EPT_ADDR_MASK;
        if (e & EPT_LARGE) {
            snprintf(w->problem, sizeof(w->problem),
                     "entry %u of the %s at host 0x%lx is 0x%lx: bit 7 is set (%s), but kev takes "
                     "4 KiB EPT pages only", i, level_names[level], t, e,
                     level == 4 ? "reserved in the root" : "a large page");
            return KEV_EEPT;
        }
        if (level > 1 && (e & EPT_TABLE_RESERVED)) {
            snprintf(w->problem, sizeof(w->problem),
                     "entry %u of the %s at host 0x%lx is 0x%lx: bits 6:3 are reserved in an entry "
                     "that names a table, and must be 0 (the CPU calls it an EPT misconfiguration)",
                     i, level_names[level], t, e);
            return KEV_EEPT;
        }
        if (level > 1 && !kev_ept_is_table(sp, next)) {
            snprintf(w->problem, sizeof(w->problem),
                     "entry %u of the %s at host 0x%lx is 0x%lx: it names host 0x%lx, which is not a "
                     "table page of this EPT (one that ept_table_alloc() gave)", i,
                     level_names[level], t, e, next);
            return KEV_EEPT;
        }
        if (level == 1) {
            w->level = 0;
            w->perm = perm & EPT_RWX;
            w->memtype = (e >> EPT_MT_SHIFT) & 7;
            w->hpa = next | (gpa.addr & (PAGE_SIZE - 1));
            return KEV_OK;
        }
        t = next;
    }
    return KEV_EUNMAPPED; /* not reached */
}

enum kev_error kev_ept_map(struct ept_space *sp, gpa_t gpa, paddr_t hpa, uint64_t perm)
{
    if ((gpa.addr | hpa) & (PAGE_SIZE - 1) || gpa.addr >= EPT_GPA_LIMIT || (perm & ~EPT_RWX) ||
        (perm & EPT_RWX) == 0 || (hpa & ~EPT_ADDR_MASK))
        return KEV_EINVAL;
    uint64_t *t = (uint64_t *)(uintptr_t)sp->root;
    for (int level = EPT_LEVELS; level > 1; level--) {
        uint64_t *e = &t[index_at(gpa.addr, level)];
        if ((*e & EPT_RWX) == 0) {
            paddr_t next;
            KEV_TRY(kev_ept_table_alloc(sp, &next));
            *e = next | EPT_RWX; /* tables allow everything: the leaf decides */
        }
        t = (uint64_t *)(uintptr_t)(*e & EPT_ADDR_MASK);
    }
    uint64_t *leaf = &t[index_at(gpa.addr, 1)];
    if (*leaf & EPT_RWX)
        return KEV_EEXIST;
    *leaf = hpa | perm | EPT_MT_WB;
    sp->dirty = true;
    return KEV_OK;
}

/* --- the check before VM entry --------------------------------------------- */

struct check {
    struct ept_space *sp;
    char *msg;
    size_t size;
};

static bool check_table(struct check *c, paddr_t t, int level, uint64_t gpa_base)
{
    const uint64_t *tab = table(t);
    for (unsigned i = 0; i < EPT_ENTRIES; i++) {
        uint64_t e = tab[i];
        if ((e & EPT_RWX) == 0)
            continue; /* not present: the CPU ignores its other bits */
        uint64_t gpa = gpa_base | ((uint64_t)i << (12 + 9 * (level - 1)));
        paddr_t next = e & EPT_ADDR_MASK;
        const char *what = level_names[level];
        if (e & EPT_LARGE) {
            snprintf(c->msg, c->size,
                     "the EPT is not one kev runs a guest on: entry %u of the %s at host 0x%lx "
                     "(guest-physical 0x%lx) is 0x%lx, with bit 7 set: %s", i, what, t, gpa, e,
                     level == 4 ? "reserved in the root" : "a large page, and kev takes 4 KiB EPT pages only");
            return false;
        }
        if (level == 1) {
            if (!kev_ept_is_guest(c->sp, next)) {
                snprintf(c->msg, c->size,
                         "the EPT maps guest-physical 0x%lx to host 0x%lx (entry %u of the page table "
                         "at host 0x%lx, 0x%lx), which is %s", gpa, next, i, t, e,
                         kev_ept_is_table(c->sp, next)
                             ? "one of the EPT's own tables: the guest could rewrite its EPT"
                             : "not memory of this VM");
                return false;
            }
            continue;
        }
        struct page *p = find(c->sp, next);
        if (p == NULL || p->kind != PAGE_TABLE) {
            snprintf(c->msg, c->size,
                     "the EPT is not one kev runs a guest on: entry %u of the %s at host 0x%lx "
                     "(guest-physical 0x%lx) is 0x%lx, and host 0x%lx is not a table page of this "
                     "EPT (one that ept_table_alloc() gave)", i, what, t, gpa, e, next);
            return false;
        }
        uint8_t bit = (uint8_t)(1u << (level - 2));
        if (p->visited & bit)
            continue; /* two entries name one table: walked once per level */
        p->visited |= bit;
        if (!check_table(c, next, level - 1, gpa))
            return false;
    }
    return true;
}

bool kev_ept_check(struct ept_space *sp, char *msg, size_t size)
{
    for (size_t i = 0; i < sp->npages; i++)
        sp->pages[i].visited = 0;
    struct check c = {sp, msg, size};
    return check_table(&c, sp->root, EPT_LEVELS, 0);
}

bool kev_ept_changed(struct ept_space *sp)
{
    bool changed = sp->dirty;
    sp->dirty = false;
    for (size_t i = 0; i < sp->npages; i++)
        if (sp->pages[i].kind == PAGE_TABLE && user_phys_written(sp->pages[i].pa))
            changed = true; /* on: every D bit is cleared */
    return changed;
}

void kev_ept_describe_violation(uint64_t qual, uint64_t gpa, uint64_t gla, char *buf, size_t size)
{
    const char *access = qual & 4 ? "an instruction fetch" : qual & 2 ? "a write" : "a read";
    char allowed[4];
    kev_ept_perm_name((qual >> 3) & 7, allowed);
    size_t n = (size_t)snprintf(buf, size, "%s of guest-physical 0x%lx (the EPT allows %s%s)", access,
                                gpa, allowed, (qual & 0x38) == 0 ? ": not mapped" : "");
    /* Bit 7: the guest-linear address is valid; bit 8: the access was to
     * that address, not to the guest's own page tables while translating it. */
    if (n < size && (qual & (1u << 7)))
        snprintf(buf + n, size - n, ", %s guest-linear 0x%lx",
                 qual & (1u << 8) ? "at" : "walking the guest's page tables for", gla);
}
