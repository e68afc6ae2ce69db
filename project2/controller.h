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
/* I/O instruction exits, through pio_decode() and pio_handle() (pio.c),
 * against the devices of pio_dev.c. */
void pio_controller_init(struct vmexit_controller *c, struct printer *out);
/* The tests' own hypercalls (project2/guest.h), given code (test_ctl.c). */
void test_controller_init(struct vmexit_controller *c, struct printer *out);

/*
 * A port-I/O VM's setup (pio_ctl.c), around its run in p2_vm_run():
 * pio_vm_begin() resets the devices (output to `out`, the queue filled
 * from c->pio) and, when c->pio asks for I/O bitmaps, makes them: then
 * v->bitmaps is set and v->controls are the VM's controls. pio_vm_end()
 * frees them.
 */
struct p2_vm_config;
struct pio_vm {
    bool bitmaps;
    struct vm_controls controls;
};
enum kev_error pio_vm_begin(struct pio_vm *v, const struct p2_vm_config *c, struct printer *out);
void pio_vm_end(struct pio_vm *v);

/* RDMSR and WRMSR exits, through msr_handle() (msr.c) and the devices of
 * msr_dev.c (msr_ctl.c). */
void msr_controller_init(struct vmexit_controller *c, struct printer *out);
struct vm_config;
struct vm_outcome;
/* Before an MSR test's VM: its MSR bitmap and controls in *config, its
 * devices registered. false, with *o the outcome, when the VM cannot run
 * (a registration went wrong). */
bool msr_vm_begin(const struct p2_vm_config *c, struct vm_config *config, struct vm_outcome *o);
/* After it: frees the bitmap and checks the RDMSR/WRMSR exits' count. */
void msr_vm_end(struct vm_outcome *o);

#endif
