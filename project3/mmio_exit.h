/*
 * An MMIO access, from its EPT violation to the finished instruction: the
 * given steps around a device's mmio handler (project3/mmio_ctl.c). A
 * controller of a device whose registers sit in the guest-physical page at
 * `base`, which the VM's EPT leaves out, does
 *
 *   struct mmio_exit x;
 *   struct vmexit_result r = mmio_exit_decode(s, reason, base, &x);
 *   if (r.action != VMEXIT_CONTINUE || vm_stopped(s->vm))
 *       return r;                      not this page (pass), or stopped
 *   ... serve x.req (a load sets x.req.value) ...
 *   return mmio_exit_finish(s, &x);    the load's register, RIP moved
 *
 * Project 3's printer uses it, and project 4's virtio device.
 */
#ifndef PROJECT3_MMIO_EXIT_H
#define PROJECT3_MMIO_EXIT_H

#include "kev/kev.h"
#include "project3/mmio.h"
#include "project3/mmio_insn.h"

struct mmio_exit {
    struct mmio_request req; /* the access, as a device sees it */
    struct mmio_insn in;     /* the MOV that made it */
    uint64_t rip;            /* its guest RIP */
};

/*
 * For an EPT violation that is a data access to the page at base: reads
 * and decodes the instruction at guest RIP (mmio_insn_decode), checks it
 * against what the CPU reported, fills *x and returns vmexit_continue().
 * Any other exit, or a violation elsewhere or by an instruction fetch:
 * vmexit_pass(). A guest instruction kev cannot decode, or one that is not
 * the access the CPU reported: the VM stops with KEV_EUNHANDLED (and the
 * result is that stop).
 */
struct vmexit_result mmio_exit_decode(struct vcpu_state *s, union exit_reason reason, uint64_t base,
                                      struct mmio_exit *x);

/* Finishes the instruction of x: a load's x->req.value into its
 * destination register (the CPU's rules for 8-, 16-, 32- and 64-bit
 * destinations), RIP past it. vmexit_continue(), or a stop naming what
 * failed. */
struct vmexit_result mmio_exit_finish(struct vcpu_state *s, const struct mmio_exit *x);

#endif
