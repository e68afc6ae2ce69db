/*
 * Project 2's controllers: the links of its VMs' exit-controller chains.
 * Each serves one kind of exit through the student's functions of one part
 * and passes every other exit on down the chain.
 */
#ifndef PROJECT2_CONTROLLER_H
#define PROJECT2_CONTROLLER_H

#include "kev/kev.h"
#include "kev/printer.h"

/* `vmcall` exits, through hypercall_resolve() and hypercall_handle()
 * (hypercall.c); the guest's output goes to `out`. */
void hypercall_controller_init(struct vmexit_controller *c, struct printer *out);
/* CPUID exits, through cpuid_emulate() (cpuid.c). */
void cpuid_controller_init(struct vmexit_controller *c, struct printer *out);
/* The tests' own hypercalls (project2/guest.h), given code (test_ctl.c). */
void test_controller_init(struct vmexit_controller *c, struct printer *out);

#endif
