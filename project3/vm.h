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
#include "project3/mmio.h"

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
    /* An MMIO VM: kev maps every page (kev_ept_map: the student's EPT is
     * not under test), the guest's table maps P3_MMIO to the printer's page
     * MMIO_PRINTER_BASE, which the EPT leaves out, and the MMIO controller
     * (mmio_ctl.c) serves the accesses there. */
    bool mmio;
};

/* Runs the guest of c in a fresh VM on a fresh EPT with output to `out`;
 * stores how the VM ended in *outcome. */
void p3_vm_run(const struct p3_vm_config *c, struct printer *out, struct vm_outcome *outcome);

/* The MMIO controller's state for one VM: the student's printer state,
 * kept between exits, and where the doorbell prints. */
struct mmio_state {
    struct mmio_printer dev;
    struct printer *out;
    uint64_t accesses; /* served (statistics) */
};
void mmio_controller_init(struct vmexit_controller *c, struct mmio_state *st, struct printer *out);

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

/* The loader's VM (loader_ctl.c): boots the ELF kernel file on demand
 * paging through the student's loader_parse and loader_fault. */
#include "project3/loader.h"
#define LOADER_FILE_PAGES_MAX 48 /* the largest file it lends to ring 3 */
struct p3_loader_config {
    const uint8_t *file;
    size_t size;
    bool refault;       /* every violation served twice (a second violation for a served page) */
    size_t max_tables;  /* the EPT's table pages; 0: 64 */
    /* Called after the VM, before its EPT is freed (the test's checks). */
    void (*after)(struct ept_space *sp, const struct loader_image *img, struct printer *out);
};
struct p3_loader_stats {
    unsigned served; /* EPT violations loader_fault served (KEV_OK) */
};
void p3_loader_run(const struct p3_loader_config *c, struct printer *out, struct vm_outcome *o,
                   struct p3_loader_stats *stats);
/* The student's loader functions through upcalls (the file lent read-only). */
struct loader_call {
    enum kev_error error;
    const char *why; /* KEV_ESTUDENT: what stopped the code; KEV_EELF: the student's img.why */
};
struct loader_call p3_call_parse(const uint8_t *file, size_t size, struct loader_image *img);
struct loader_call p3_call_fault(const struct ept *ept, const struct loader_image *img,
                                 const uint8_t *file, size_t size, gpa_t gpa, enum guest_access access);
/* minos's file and its native transcript (the boot modules "minos" and
 * "minos-native"); false when GRUB loaded them not. */
bool p3_minos(const uint8_t **file, size_t *size, const uint8_t **native, size_t *native_size);

/* How the loader's VM boots minos: EAX the multiboot2 boot magic
 * (Multiboot2 spec, 3.3), EBX the information's guest-physical address, the
 * guest page tables kev enters it on from LOADER_TABLES_GPA up. */
#define MB2_BOOT_MAGIC 0x36d76289
#define LOADER_INFO_GPA 0x8000UL
#define LOADER_TABLES_GPA 0x10000UL

/* For a later project's VM that boots minos (project 4's): the multiboot2
 * information the loader's VM gives it, in a zeroed page, with the boot
 * command line `cmdline` (tag 1; NULL: none; KEV_EINVAL past half a page)
 * before the boot loader name "kev"; and a controller serving minos's
 * HaltCpu and Print hypercalls (Print to out), as the loader's VM does. */
enum kev_error p3_boot_info(uint8_t *page, const char *cmdline);
void p3_minos_hypercalls_init(struct vmexit_controller *c, struct printer *out);

/* The struct ept for a space (its root; execute-only as the CPU has it). */
struct ept p3_ept_of(struct ept_space *sp);

#endif
