/*
 * Project 2, the VM's entry state: what you write in entry.c.
 *
 * Before a VM's first entry, the VMCS must hold the guest's whole state
 * (Intel SDM Vol. 3C, 25.4 "Guest-State Area"). kev fills most of it for a
 * flat 64-bit guest; two fields depend on where this VM's builder put
 * things, and are yours: GUEST_CR3, the guest-physical address of the
 * guest's top page table (its PML4), and GUEST_RIP, the guest-virtual
 * address of its first instruction. The builder describes both.
 */
#ifndef PROJECT2_ENTRY_H
#define PROJECT2_ENTRY_H

#include "kev/kev.h"

/* Where the VM's builder put the guest. */
struct entry_desc {
    gpa_t page_table; /* the guest's PML4, a guest-physical address: GUEST_CR3 */
    gva_t entry;      /* the guest's first instruction, a guest-virtual address: GUEST_RIP */
};

/*
 * entry_setup: writes GUEST_CR3 and GUEST_RIP of vCPU s from *d through
 * kev's VMCS API (kev/vmcs.h). Returns KEV_OK, or the error of the VMCS
 * write that failed. Called once, before the VM's first entry.
 */
enum kev_error entry_setup(struct vcpu_state *s, const struct entry_desc *d);

#endif
