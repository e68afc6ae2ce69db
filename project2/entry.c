/*
 * Project 2, part 1: the VM's entry state. This is a file you edit.
 *
 * Before a VM runs for the first time, its VMCS must describe the whole
 * state of the guest's CPU: control registers, segments, RIP, RSP, RFLAGS
 * (Intel SDM Vol. 3C, 25.4 "Guest-State Area"). kev has filled in a flat
 * 64-bit state already; two fields are left to you, because only the VM's
 * builder knows them and tells you in a struct entry_desc:
 *
 *   GUEST_CR3   the guest-physical address of the guest's PML4 (its top
 *               page table): the CPU translates every guest address with it
 *   GUEST_RIP   the guest-virtual address of the guest's first instruction
 *
 * A wrong CR3 makes the guest's very first fetch fault; a wrong RIP runs
 * whatever lies there. The tests put both somewhere new in every case, and
 * the framework checks the two fields before the first entry, naming the
 * one that is wrong.
 *
 * Run one test: make run TEST=p2_entry_state. The handout is docs/project2.md.
 */
#include "project2/entry.h"
#include "kernel/panic.h"

enum kev_error entry_setup(struct vcpu_state *s, const struct entry_desc *d)
{
#ifdef SOLUTION
    enum kev_error e = vmcs_writel(&s->vmcs, GUEST_CR3, d->page_table.addr);
    if (e == KEV_OK)
        e = vmcs_writel(&s->vmcs, GUEST_RIP, d->entry.addr);
    return e;
#else
    /*
     * Hints:
     *   - kev's VMCS accessors are width-checked: GUEST_CR3 and GUEST_RIP
     *     are natural-width fields, so vmcs_writel(&s->vmcs, FIELD, value)
     *     (kev/vmcs.h, docs/kev.md).
     *   - gpa_t and gva_t wrap a number: d->page_table.addr, d->entry.addr.
     *   - Return the first error a write gives (anything but KEV_OK).
     */
    (void)s;
    (void)d;
    TODO();
#endif
}
