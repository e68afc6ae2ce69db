/*
 * Project 3, part 1: the EPT, and the four functions you write in ept.c.
 *
 * With EPT the CPU translates every guest-physical address (gpa) to a
 * host-physical address (hpa) by walking tables the hypervisor builds: the
 * guest has its own page tables (guest-virtual -> guest-physical), and the
 * EPT is the hypervisor's (guest-physical -> host-physical). Intel SDM Vol.
 * 3C, 29.3 "The Extended Page Table Mechanism (EPT)".
 *
 * A 4-level EPT looks like the page tables you know: four levels of 4 KiB
 * tables of 512 8-byte entries. A gpa below 2^48 picks one entry per level:
 *
 *   bits 47:39  index in the root (the PML4)
 *   bits 38:30  index in a page-directory-pointer table
 *   bits 29:21  index in a page directory
 *   bits 20:12  index in a page table, whose entry maps the 4 KiB page
 *   bits 11:0   the offset in that page
 *
 * An EPT entry (kev/ept.h names its bits):
 *
 *   bits 2:0    R (read), W (write), X (execute): what it allows; an entry
 *               allowing nothing (all three 0) is not present
 *   bits 5:3    in a page-table entry (a leaf): the page's memory type;
 *               write back the value EPT_MT_WB (6 << 3). In the other
 *               levels, bits 7:3 are reserved: keep them 0
 *   bits 51:12  the host-physical address of the next table, or of the page
 *
 * What a page allows is what every entry on its walk allows (an AND), so
 * give the entries above a leaf all of EPT_RWX and let the leaf decide.
 * Tables come from ept_table_alloc(): a zeroed 4 KiB page, named by its
 * host-physical address. Read and write it at phys_to_virt(address).
 */
#ifndef PROJECT3_EPT_H
#define PROJECT3_EPT_H

#include "kernel/types.h"
#include "kev/kev.h"

/* One EPT. Given: the tests and the VM make it and hand it to you. */
struct ept {
    paddr_t root;        /* the root table's host-physical address (the PML4) */
    bool execute_only;   /* whether this CPU allows EPT_X without EPT_R */
};

/*
 * ept_map: maps the 4 KiB guest-physical page at gpa to the host page at
 * hpa, allowing perm (EPT_R, EPT_W, EPT_X, or'ed), allocating the tables
 * on the way that do not exist yet. The first error of this list that
 * applies is returned, and then the EPT maps nothing new:
 *
 *   KEV_EALIGN   gpa or hpa is not a multiple of 4 KiB
 *   KEV_EINVAL   gpa is 2^48 or more, or hpa 2^52 or more (it would not fit bits 51:12)
 *   KEV_EPERM    perm is a set the CPU refuses: 0, a bit other than R/W/X,
 *                W without R, or X alone when !ept->execute_only
 *   KEV_EEXIST   gpa is mapped already
 *   KEV_ENOMEM   ept_table_alloc() failed (tables allocated until then may stay)
 */
enum kev_error ept_map(const struct ept *ept, gpa_t gpa, paddr_t hpa, uint64_t perm);

/*
 * ept_unmap: removes the mapping of the 4 KiB page at gpa (its leaf entry
 * becomes 0; the tables stay). KEV_EALIGN, KEV_EINVAL as for ept_map;
 * KEV_EUNMAPPED when gpa is not mapped.
 */
enum kev_error ept_unmap(const struct ept *ept, gpa_t gpa);

/*
 * ept_translate: what the CPU does with any guest-physical address: the
 * host-physical address (the page's address plus gpa's offset) in *hpa, and
 * what the walk allows (the AND of R/W/X over the four entries) in *perm.
 * KEV_EINVAL for gpa >= 2^48; KEV_EUNMAPPED when an entry on the way is
 * not present.
 */
enum kev_error ept_translate(const struct ept *ept, gpa_t gpa, paddr_t *hpa, uint64_t *perm);

/* What a guest does at an address (ept_gva_to_hpa). */
enum guest_access {
    GUEST_READ,
    GUEST_WRITE,
    GUEST_FETCH, /* an instruction fetch */
};

/*
 * ept_gva_to_hpa: the whole translation of a guest-virtual address, as the
 * CPU does it for a 64-bit guest (4-level paging, CR0.WP = 1, EFER.NXE = 1):
 * walk the guest's page tables from cr3 (the guest's CR3: bits 51:12 are
 * its PML4's guest-physical address), reading each entry through the EPT,
 * since the guest's tables are in guest memory and hold guest-physical
 * addresses. Guest entries (Vol. 3A, 4.5 "4-Level Paging and 5-Level
 * Paging"): bit 0 P (present), bit 1 R/W (writes allowed), bit 7 PS in a
 * PDPT entry (a 1 GiB page) or a page-directory entry (a 2 MiB page), bit
 * 63 XD (no instruction fetch); the address is bits 51:12 of a table entry
 * or a 4 KiB page's, bits 51:30 of a 1 GiB page's, bits 51:21 of a 2 MiB
 * page's (bit 12 of a large page is PAT, not address). Bits 62:52 and
 * the others not named here do not matter.
 *
 * KEV_OK with *hpa, or the first of these errors on the way:
 *
 *   KEV_ENONCANONICAL  gva's bits 63:47 are not all equal
 *   KEV_ENOTGUESTMEM   a guest table's entry is at a guest-physical address
 *                      the EPT does not map readable (ept_translate fails,
 *                      or its perm lacks EPT_R)
 *   KEV_EUNMAPPED      an entry of the guest's walk is not present (P = 0)
 *   KEV_EREADONLY      a GUEST_WRITE, and an entry on the walk has R/W = 0
 *   KEV_ENOEXEC        a GUEST_FETCH, and an entry on the walk has XD = 1
 *   KEV_ENOTGUESTMEM   the page's guest-physical address is not mapped by the EPT
 *
 * (Which of R/W/X the EPT allows for the page itself is ept_translate's
 * *perm, not this function's concern.)
 */
enum kev_error ept_gva_to_hpa(const struct ept *ept, uint64_t cr3, gva_t gva,
                              enum guest_access access, paddr_t *hpa);

#endif
