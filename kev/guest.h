/*
 * The guest builder: a flat 64-bit guest without EPT. With no EPT the
 * guest's physical addresses are host-physical addresses, so "guest
 * memory" is host pages the VM owns; the guest's virtual addresses come
 * from a guest page table kev builds with kernel/paging.h. Each mapped page
 * is recorded in the VM's memory map, which is what the probe trusts.
 *
 * In setup_bsp, either the whole layout at once:
 *
 *   struct kev_guest_image img = {.code = blob, .code_size = blob_size};
 *   return kev_guest_build(s, &img);   code at 0x400000, data, stack, RIP, RSP
 *
 * or piece by piece, e.g. two guest pages that are not contiguous in host
 * memory and a hole left unmapped:
 *
 *   kev_guest_load(vm, GVA(0x400000), code, n, 0);
 *   kev_guest_alloc(vm, GVA(0x600000), 1, PTE_W | PTE_NX, NULL);
 *   kev_guest_alloc(vm, GVA(0x602000), 1, PTE_W | PTE_NX, NULL);   (0x601000 stays unmapped)
 *   kev_guest_setup_flat64(s, GVA(0x400000), GVA(0x800000));
 *
 * Flags are kernel/paging.h's PTE_W and PTE_NX (P is added; the guest runs
 * in ring 0, so U does not matter). Pages are mapped read-only and
 * executable unless told otherwise.
 */
#ifndef KEV_GUEST_H
#define KEV_GUEST_H

#include "kernel/paging.h"
#include "kernel/types.h"
#include "kev/addr.h"
#include "kev/error.h"

struct vcpu_state;
struct vm;

/* The default layout of kev_guest_build (guest-virtual addresses). */
#define KEV_GUEST_CODE_GVA 0x400000UL
#define KEV_GUEST_DATA_GVA 0x600000UL
#define KEV_GUEST_STACK_TOP 0x800000UL

struct kev_guest_image {
    const void *code;     /* copied to code_gva, mapped read-only + executable */
    size_t code_size;
    uint64_t code_gva;    /* 0: KEV_GUEST_CODE_GVA */
    uint64_t entry;       /* first RIP; 0: code_gva */
    size_t data_pages;    /* writable, zeroed, at data_gva (0: one page) */
    uint64_t data_gva;    /* 0: KEV_GUEST_DATA_GVA */
    size_t stack_pages;   /* writable, below stack_top (0: one page) */
    uint64_t stack_top;   /* 0: KEV_GUEST_STACK_TOP; the first RSP */
};

/* Maps the whole image and sets the vCPU up to run it (setup_flat64). */
enum kev_error kev_guest_build(struct vcpu_state *s, const struct kev_guest_image *img);

/*
 * Allocates npages zeroed host pages, one at a time, and maps them at gva,
 * gva + 4 KiB, ... The VM owns them (they are freed with it). If host is not
 * NULL, *host is the first page's host address.
 */
enum kev_error kev_guest_alloc(struct vm *vm, gva_t gva, size_t npages, uint64_t flags, void **host);
/* kev_guest_alloc enough pages for n bytes at gva (page-aligned) and copies bytes there. */
enum kev_error kev_guest_load(struct vm *vm, gva_t gva, const void *bytes, size_t n, uint64_t flags);
/*
 * Maps the caller's host page at gva (both page-aligned). The VM does not
 * own it: free it yourself after vm_join.
 */
enum kev_error kev_guest_map(struct vm *vm, gva_t gva, paddr_t page, uint64_t flags);
/* Removes the mapping at gva (the page stays in the VM's memory map). */
enum kev_error kev_guest_unmap(struct vm *vm, gva_t gva);
/* Clears the accessed and dirty flags the guest's walks set on the way to
 * gva's page (a kept VM starts as a new one would: kev_run_vm_kept);
 * *dirty (when not NULL): whether the page was written since, by the guest
 * or through the probe's copies. */
enum kev_error kev_guest_clear_accessed(struct vm *vm, gva_t gva, bool *dirty);
/* The guest page table's PML4 (0 before the first mapping): GUEST_CR3. */
paddr_t kev_guest_pml4(struct vm *vm);
/*
 * Moves the guest page table's PML4 to a fresh page, which lies past
 * `skip` other fresh pages (so tests can put it somewhere unpredictable);
 * kev_guest_pml4 names the new one. GUEST_CR3 is not changed: the caller
 * (or the student) writes it.
 */
enum kev_error kev_guest_move_pml4(struct vm *vm, unsigned skip);

/*
 * Sets the vCPU's guest state for flat 64-bit code: CR0 (PE, PG, NE, WP)
 * and CR4 (PAE) adjusted to the fixed-bit MSRs, CR3 = the guest page table,
 * EFER = LME | LMA | NXE, a 64-bit code segment (L = 1), flat data
 * segments, a busy TSS, an unusable LDTR, empty GDTR/IDTR, RFLAGS = 0x2
 * (interrupts off), and the given RIP and RSP.
 */
enum kev_error kev_guest_setup_flat64(struct vcpu_state *s, gva_t rip, gva_t rsp);

#endif
