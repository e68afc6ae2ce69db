/*
 * Project 2's VM: one vCPU, no EPT, running one test guest (guests/) with
 * the memory layout of guests/guests.h, the hypercall controller in its
 * exit chain and a PrinterProxy for its output.
 */
#ifndef PROJECT2_VM_H
#define PROJECT2_VM_H

#include "guests/guests.h"
#include "project2/guest.h"
#include "kev/kev.h"
#include "kev/printer.h"

/*
 * Runs `guest` in a fresh VM whose parameter page holds *params, with its
 * output going to `out` (started by the caller), and stores how the VM
 * ended in *outcome.
 */
void p2_vm_run(const struct guest_image *guest, const struct guest_params *params,
               struct printer *out, struct vm_outcome *outcome);

#endif
