/*
 * Project 2's VM: one vCPU, no EPT, running one test guest
 * (guests/project2/) with the memory layout of project2/guest.h, project 2's
 * controllers in its exit chain and a PrinterProxy for its output.
 */
#ifndef PROJECT2_VM_H
#define PROJECT2_VM_H

#include "kev/kev.h"
#include "project2/guest.h"

/* What one case's VM looks like before its guest runs. */
struct p2_vm_config {
    const char *guest;            /* "print": guests/project2/print.asm */
    struct guest_params params;   /* copied to GUEST_PARAMS */
    int hole;                     /* a GUEST_BUF page left unmapped; -1: none */
    /* The buffer's image: its bytes [buf_off, buf_off + buf_len) are written to
     * GUEST_BUF + buf_off before the guest runs. */
    const uint8_t *buf;
    size_t buf_off, buf_len;
};

/* Runs the guest of c in a fresh VM with output to `out` (started by the
 * caller); stores how the VM ended in *outcome. */
void p2_vm_run(const struct p2_vm_config *c, struct printer *out, struct vm_outcome *outcome);

#endif
