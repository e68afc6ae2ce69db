/*
 * Project 3's VM: one vCPU on an EPT the student's ept_map builds,
 * running one test guest (guests/project3/) with the layout of
 * project3/guest.h. The guest's own page table is in guest memory too
 * (kev/ept.h: struct gpt), mapped through the same ept_map.
 */
#ifndef PROJECT3_VM_H
#define PROJECT3_VM_H

#include "kev/kev.h"
#include "project3/ept.h"
#include "project3/guest.h"

/* One guest page: where it is guest-physically, what the EPT allows, what
 * the guest's own page table allows (PTE_W, PTE_NX), what it holds first. */
struct p3_page {
    uint64_t gpa;
    uint64_t perm;
    uint64_t pte_flags;
    const uint8_t *bytes; /* PAGE_SIZE bytes, or NULL: zeros */
};

struct p3_vm_config {
    const char *guest;            /* "ept": guests/project3/ept.asm */
    uint64_t tables_gpa;          /* the guest's page-table pages, from here up */
    uint64_t code_gpa, params_gpa, stack_gpa;
    struct p3_page data[P3_DATA_PAGES]; /* at P3_DATA + i * PAGE_SIZE */
    unsigned ndata;
    struct p3_params params;
    size_t max_tables;            /* the EPT's table pages; 0: 512 */
};

/* Runs the guest of c in a fresh VM on a fresh EPT with output to `out`;
 * stores how the VM ended in *outcome. */
void p3_vm_run(const struct p3_vm_config *c, struct printer *out, struct vm_outcome *outcome);

/* The student's EPT functions through upcalls, for tests and given code.
 * A call that stopped (a fault, TODO()) returns KEV_ESTUDENT, and *why
 * (if not NULL) is the report's words. */
struct ept_call {
    enum kev_error error;
    const char *why;   /* KEV_ESTUDENT: what stopped the student's code */
    paddr_t hpa;       /* ept_translate, ept_gva_to_hpa */
    uint64_t perm;     /* ept_translate */
};
struct ept_call p3_call_map(const struct ept *e, gpa_t gpa, paddr_t hpa, uint64_t perm);
struct ept_call p3_call_unmap(const struct ept *e, gpa_t gpa);
struct ept_call p3_call_translate(const struct ept *e, gpa_t gpa);
struct ept_call p3_call_gva(const struct ept *e, uint64_t cr3, gva_t gva, enum guest_access access);

/* The struct ept for a space (its root; execute-only as the CPU has it). */
struct ept p3_ept_of(struct ept_space *sp);

#endif
