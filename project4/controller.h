/*
 * Project 4's controllers: the timer's (timer_ctl.c) and the virtio
 * device's (virtio_ctl.c). The timer's serves the guest's
 * RDMSR and WRMSR of the timer's three MSRs, the deadline's exit and the
 * interrupt window's through the student's functions of timer.c, and
 * passes every other exit on down the chain.
 */
#ifndef PROJECT4_CONTROLLER_H
#define PROJECT4_CONTROLLER_H

#include "kev/kev.h"
#include "project4/timer.h"
#include "project4/virtio_blk.h"

/* One VM's timer: the guest's timer state, and what the exit being
 * handled did. */
struct p4_timer {
    struct vtimer t;
    bool gp;              /* timer_inject_gp() injected #GP(0) for the next entry */
    uint64_t deliveries;  /* timer_deliver() calls (statistics) */
    uint64_t injected;    /* the calls that injected the pending interrupt (statistics) */
};

/* Resets *pt (the timer after reset) and makes c its controller. */
void timer_controller_init(struct vmexit_controller *c, struct p4_timer *pt);

/* A device's interrupt `vector` becomes pending in the APIC of *pt (as
 * the timer's does when it fires), and timer_deliver() gets it to the
 * guest: injected now or through the interrupt window. vmexit_continue(),
 * or the stop of a student function that failed. */
struct vmexit_result timer_raise(struct vcpu_state *s, struct p4_timer *pt, int vector);

/* One VM's virtio block device (virtio_ctl.c): the student's state of it,
 * its disk (the module's image, and a page of this VM's own for every 8
 * sectors it wrote: writes stay in this VM), the APIC its interrupt goes
 * through. */
#define P4_DISK_PAGES_MAX 64
struct p4_virtio {
    struct vblk dev;
    const uint8_t *image;
    uint8_t *written[P4_DISK_PAGES_MAX]; /* NULL: that page of the disk is the image's */
    uint64_t sectors;
    struct p4_timer *apic;
    uint64_t accesses, interrupts; /* statistics */
};

/* The disk image every VM's disk starts as: the boot module P4_DISK_MODULE
 * (project4/project.mk builds it). NULL when GRUB loaded none, or one that
 * is not a whole number of sectors. */
#define P4_DISK_MODULE "p4-disk"
const uint8_t *p4_disk_image(uint64_t *sectors);

/* Resets *v with the disk image as it is (KEV_EINVAL with no image, or one
 * past P4_DISK_PAGES_MAX pages) and makes c its controller: EPT violations
 * on the page VBLK_MMIO_BASE go to vblk_mmio(). p4_virtio_free frees the
 * pages the VM wrote. */
enum kev_error virtio_controller_init(struct vmexit_controller *c, struct p4_virtio *v, struct p4_timer *apic);
void p4_virtio_free(struct p4_virtio *v);

#endif
