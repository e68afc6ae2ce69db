/*
 * The hypercall controller: the link of a VM's exit-controller chain that
 * serves `vmcall` exits with resolve() and handle() (hypercall.c). Every
 * other exit is passed on down the chain.
 */
#ifndef PROJECT2_CONTROLLER_H
#define PROJECT2_CONTROLLER_H

#include "kev/kev.h"
#include "kev/printer.h"

/* Makes *c the hypercall controller of a VM whose output goes to `out`. */
void hypercall_controller_init(struct vmexit_controller *c, struct printer *out);

#endif
