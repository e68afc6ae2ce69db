/*
 * Project 3, part 1: the EPT. This is a file you edit.
 *
 * Without EPT (project 2) a guest's physical addresses were host addresses,
 * and kev had to refuse any page table it had not built itself. With EPT
 * the CPU translates a second time: guest-physical to host-physical,
 * through tables you build here. Whatever the guest puts in its own page
 * tables, it reaches only the host pages your EPT maps.
 *
 * You write four functions (their contracts are in ept.h):
 *
 *   ept_map        map one 4 KiB guest-physical page to a host page
 *   ept_unmap      remove that mapping
 *   ept_translate  walk the EPT as the CPU does: gpa -> hpa and permissions
 *   ept_gva_to_hpa walk the guest's own page tables, through the EPT
 *
 * Your tables are checked as the CPU would read them: the tests walk them
 * themselves after every ept_map and ept_unmap, and kev checks them before
 * every VM entry (an entry naming memory that is not the VM's stops the
 * VM with KEV_EEPT). Your code runs in ring 3: table pages are yours to
 * read and write at phys_to_virt(address), guest pages to read.
 *
 * Run one test: make run PROJECT=3 TEST=p3_ept_map. The handout is docs/project3.md.
 */
#include "project3/ept.h"
#include "kernel/panic.h"
#ifdef SOLUTION

#define ADDR_MASK EPT_ADDR_MASK
#define PT_P (1ULL << 0)
#define PT_RW (1ULL << 1)
#define PT_PS (1ULL << 7)
#define PT_XD (1ULL << 63)

static unsigned ept_index(uint64_t gpa, int level)
{
    return (gpa >> (12 + 9 * (level - 1))) & (EPT_ENTRIES - 1);
}

static uint64_t *table_of(paddr_t pa)
{
    return phys_to_virt(pa);
}

/* The alignment and range checks ept_map and ept_unmap share. */
static enum kev_error check_gpa(gpa_t gpa)
{
    if (gpa.addr & (PAGE_SIZE - 1))
        return KEV_EALIGN;
    if (gpa.addr >= EPT_GPA_LIMIT)
        return KEV_EINVAL;
    return KEV_OK;
}

/*
 * The leaf entry for gpa: with create, missing tables are allocated on the
 * way (*err is KEV_ENOMEM when one cannot be); without, NULL when a table
 * on the way is missing.
 */
static uint64_t *leaf_entry(const struct ept *ept, uint64_t gpa, bool create, enum kev_error *err)
{
    uint64_t *t = table_of(ept->root);
    for (int level = EPT_LEVELS; level > 1; level--) {
        uint64_t *e = &t[ept_index(gpa, level)];
        if ((*e & EPT_RWX) == 0) {
            if (!create)
                return NULL;
            paddr_t next;
            enum kev_error r = ept_table_alloc(&next);
            if (r != KEV_OK) {
                *err = r;
                return NULL;
            }
            *e = next | EPT_RWX;
        }
        t = table_of(*e & ADDR_MASK);
    }
    return &t[ept_index(gpa, 1)];
}

enum kev_error ept_map(const struct ept *ept, gpa_t gpa, paddr_t hpa, uint64_t perm)
{
    if ((gpa.addr | hpa) & (PAGE_SIZE - 1))
        return KEV_EALIGN;
    if (gpa.addr >= EPT_GPA_LIMIT || hpa >= (1ULL << 52))
        return KEV_EINVAL;
    /* Vol. 3C, 29.3.3.1 "EPT Misconfigurations": write without read is one,
     * and so is execute alone unless the CPU has execute-only pages. */
    if (perm == 0 || (perm & ~EPT_RWX) || ((perm & EPT_W) && !(perm & EPT_R)) ||
        (perm == EPT_X && !ept->execute_only))
        return KEV_EPERM;
    /* Refuse a mapped page before allocating any table for it. */
    enum kev_error err = KEV_OK;
    uint64_t *leaf = leaf_entry(ept, gpa.addr, false, &err);
    if (leaf && (*leaf & EPT_RWX))
        return KEV_EEXIST;
    leaf = leaf_entry(ept, gpa.addr, true, &err);
    if (leaf == NULL)
        return err;
    *leaf = hpa | perm | EPT_MT_WB;
    return KEV_OK;
}

enum kev_error ept_unmap(const struct ept *ept, gpa_t gpa)
{
    enum kev_error e = check_gpa(gpa);
    if (e != KEV_OK)
        return e;
    uint64_t *leaf = leaf_entry(ept, gpa.addr, false, &e);
    if (leaf == NULL || (*leaf & EPT_RWX) == 0)
        return KEV_EUNMAPPED;
    *leaf = 0;
    return KEV_OK;
}

enum kev_error ept_translate(const struct ept *ept, gpa_t gpa, paddr_t *hpa, uint64_t *perm)
{
    if (gpa.addr >= EPT_GPA_LIMIT)
        return KEV_EINVAL;
    uint64_t *t = table_of(ept->root);
    uint64_t allowed = EPT_RWX;
    for (int level = EPT_LEVELS; level >= 1; level--) {
        uint64_t e = t[ept_index(gpa.addr, level)];
        if ((e & EPT_RWX) == 0)
            return KEV_EUNMAPPED;
        allowed &= e;
        if (level == 1) {
            *hpa = (e & ADDR_MASK) | (gpa.addr & (PAGE_SIZE - 1));
            *perm = allowed & EPT_RWX;
            return KEV_OK;
        }
        t = table_of(e & ADDR_MASK);
    }
    return KEV_EUNMAPPED; /* not reached */
}

/* The 8-byte guest entry at guest-physical `at`, read through the EPT. */
static enum kev_error read_guest_entry(const struct ept *ept, uint64_t at, uint64_t *entry)
{
    paddr_t hpa;
    uint64_t perm;
    if (ept_translate(ept, GPA(at), &hpa, &perm) != KEV_OK || !(perm & EPT_R))
        return KEV_ENOTGUESTMEM;
    *entry = *(const uint64_t *)phys_to_virt(hpa);
    return KEV_OK;
}

enum kev_error ept_gva_to_hpa(const struct ept *ept, uint64_t cr3, gva_t gva,
                              enum guest_access access, paddr_t *hpa)
{
    if ((uint64_t)((int64_t)(gva.addr << 16) >> 16) != gva.addr)
        return KEV_ENONCANONICAL;
    uint64_t table = cr3 & ADDR_MASK, writable = PT_RW, xd = 0;
    for (int level = 4; level >= 1; level--) {
        uint64_t e;
        enum kev_error r = read_guest_entry(ept, table + ept_index(gva.addr, level) * 8, &e);
        if (r != KEV_OK)
            return r;
        if (!(e & PT_P))
            return KEV_EUNMAPPED;
        writable &= e;
        xd |= e & PT_XD;
        bool leaf = level == 1 || ((level == 2 || level == 3) && (e & PT_PS));
        if (!leaf) {
            table = e & ADDR_MASK;
            continue;
        }
        if (access == GUEST_WRITE && !writable)
            return KEV_EREADONLY;
        if (access == GUEST_FETCH && xd)
            return KEV_ENOEXEC;
        uint64_t offset_mask = (1ULL << (12 + 9 * (level - 1))) - 1;
        uint64_t gpa = (e & ADDR_MASK & ~offset_mask) | (gva.addr & offset_mask);
        uint64_t perm;
        if (ept_translate(ept, GPA(gpa), hpa, &perm) != KEV_OK)
            return KEV_ENOTGUESTMEM;
        return KEV_OK;
    }
    return KEV_EUNMAPPED; /* not reached */
}

#else

enum kev_error ept_map(const struct ept *ept, gpa_t gpa, paddr_t hpa, uint64_t perm)
{
    /*
     * Hints:
     *   - Check the arguments first, in ept.h's order: each error is the
     *     first that applies, so a test with two mistakes expects the first.
     *   - Walk from ept->root: at each of levels 4, 3, 2 the entry's index
     *     is 9 bits of gpa (47:39, 38:30, 29:21). An entry whose bits 2:0
     *     are 0 has no table below it yet: allocate one with
     *     ept_table_alloc() and point the entry at it, allowing EPT_RWX.
     *   - A table's entries are at phys_to_virt(its address): 512 uint64_t.
     *   - The leaf (level 1, index gpa bits 20:12) gets hpa | perm | EPT_MT_WB.
     *   - KEV_EEXIST must leave the EPT as it was: look before you allocate.
     */
    (void)ept;
    (void)gpa;
    (void)hpa;
    (void)perm;
    TODO();
}

enum kev_error ept_unmap(const struct ept *ept, gpa_t gpa)
{
    /*
     * Hints:
     *   - The same walk as ept_map, never allocating: a missing table means
     *     the page is not mapped.
     *   - Only the leaf changes: write 0 to it. (The CPU may have cached the
     *     old translation; kev invalidates it with INVEPT before the guest
     *     runs again.)
     */
    (void)ept;
    (void)gpa;
    TODO();
}

enum kev_error ept_translate(const struct ept *ept, gpa_t gpa, paddr_t *hpa, uint64_t *perm)
{
    /*
     * Hints:
     *   - Any byte address, not only page-aligned ones: the offset (bits
     *     11:0) is added to the page's address.
     *   - AND the R/W/X bits of the four entries: a table entry can take a
     *     permission away from every page below it.
     *   - Mask an entry's address with EPT_ADDR_MASK: bits 63:52 and 11:0
     *     are not address (the CPU may set bits 8 and 9, accessed and dirty).
     */
    (void)ept;
    (void)gpa;
    (void)hpa;
    (void)perm;
    TODO();
}

enum kev_error ept_gva_to_hpa(const struct ept *ept, uint64_t cr3, gva_t gva,
                              enum guest_access access, paddr_t *hpa)
{
    /*
     * Hints:
     *   - The guest's walk is the one the probe of project 2 did, but each
     *     table is in guest memory: the entry for level L is at the
     *     guest-physical address table + index * 8, which your
     *     ept_translate turns into a host address you can read through
     *     phys_to_virt().
     *   - Permissions add up along the walk: a write needs R/W = 1 in all
     *     four (or three, or two) entries; a fetch needs XD = 0 in all.
     *   - A large page ends the walk early: a 2 MiB page keeps 21 bits of
     *     gva as its offset, a 1 GiB page 30.
     */
    (void)ept;
    (void)cr3;
    (void)gva;
    (void)access;
    (void)hpa;
    TODO();
}

#endif
