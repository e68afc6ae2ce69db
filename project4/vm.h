/*
 * Project 4's VM: one vCPU without EPT (kev's guest builder, kev/guest.h),
 * or on EPT for the virtio tests (kev/ept.h, with the device's page left
 * out), running one test guest (guests/project4/) with the layout of
 * project4/guest.h, the tests' own hypercalls (project 2's test
 * controller) and the timer's controller (timer_ctl.c) in its chain. The
 * VM keeps a deadline for its guest (kev/timer.h): on a CPU without a
 * VMX-preemption timer it stops with KEV_ECONTROL, saying so.
 */
#ifndef PROJECT4_VM_H
#define PROJECT4_VM_H

#include "kev/kev.h"
#include "project4/guest.h"
#include "project4/timer.h"

struct p4_vm_config {
    const char *guest;        /* "timer": guests/project4/timer.asm */
    struct p4_params params;  /* copied to P4_PARAMS (the spots' words filled in) */
    /* A virtio VM (guests/project4/virtio.asm): on EPT, with the device's
     * page and the guest memory P4_RAM (project4/guest.h); vparams is its
     * parameter page, ram the first bytes of P4_RAM (P4_RAM_PAGES pages). */
    bool virtio;
    struct p4v_params vparams;
    const uint8_t *ram;
    /* A minos VM (with virtio): the guest is minos (project 3's guest OS,
     * the boot module "minos"), its segments mapped up front with kev's own
     * map, booted as project 3's loader boots it (EAX the multiboot2 magic,
     * EBX its information, with `cmdline` as the boot command line) and its
     * hypercalls served by project 3's given controller. */
    bool minos;
    const char *cmdline;
    struct p4_vm_stats *stats; /* NULL, or filled after the run (the benchmarks) */
};

struct p4_vm_stats {
    uint64_t exits;             /* VM exits handled */
    uint64_t deliveries;        /* timer_deliver() calls */
    uint64_t injected;          /* interrupts injected (the timer's and the device's) */
    uint64_t device_interrupts; /* the virtio device's raised */
    uint64_t device_accesses;   /* its register accesses served */
};

/* Runs the guest of c in a fresh VM with output to `out` (started by the
 * caller); stores how the VM ended in *outcome. */
void p4_vm_run(const struct p4_vm_config *c, struct printer *out, struct vm_outcome *outcome);

/* The timer's state of a project-4 VM (timer_ctl.c), NULL for any other VM. */
struct p4_timer;
struct p4_timer *p4_timer_of(struct vm *vm);
/* The virtio device of a project-4 virtio VM (virtio_ctl.c), NULL for any other. */
struct p4_virtio;
struct p4_virtio *p4_virtio_of(struct vm *vm);

#endif
