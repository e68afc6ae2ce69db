/*
 * Project 4's controller: the timer's (timer_ctl.c). It serves the guest's
 * RDMSR and WRMSR of the timer's three MSRs, the deadline's exit and the
 * interrupt window's through the student's functions of timer.c, and
 * passes every other exit on down the chain.
 */
#ifndef PROJECT4_CONTROLLER_H
#define PROJECT4_CONTROLLER_H

#include "kev/kev.h"
#include "project4/timer.h"

/* One VM's timer: the guest's timer state, and what the exit being
 * handled did. */
struct p4_timer {
    struct vtimer t;
    bool gp;              /* timer_inject_gp() injected #GP(0) for the next entry */
    uint64_t deliveries;  /* timer_deliver() calls (statistics) */
};

/* Resets *pt (the timer after reset) and makes c its controller. */
void timer_controller_init(struct vmexit_controller *c, struct p4_timer *pt);

#endif
