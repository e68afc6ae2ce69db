/*
 * Project 2's MSR devices and how a VM's MSRs are set up (given code).
 *
 * project2/msr_dev.c runs in ring 3 beside your msr.c (it is compiled into
 * the user image, not the kernel): it holds each VM's registry and its
 * devices. Before a VM of the MSR tests runs, the MSR controller
 * (msr_ctl.c, kernel code) calls msr_user_setup(), which empties the
 * registry and the devices, registers the case's devices with your
 * msr_register() and has your msr_bitmap_setup() fill the VM's MSR bitmap;
 * on every RDMSR or WRMSR exit it calls msr_user_exit(), which hands the
 * exit to your msr_handle() with that registry.
 *
 *   device    its MSR              what it does
 *   stack     MSR_STACK (0xabc)    WRMSR pushes the value written; RDMSR pops
 *                                  the value pushed last (KEV_EEMPTY when the
 *                                  stack is empty); MSR_STACK_DEPTH values at
 *                                  most (KEV_ENOMEM for one more)
 *   scratch   any the case picks   one 64-bit value: RDMSR reads it, WRMSR
 *                                  replaces it; it starts with the case's value
 *
 * The passthrough MSRs are those the CPU itself switches on every VM exit
 * and entry: it saves the guest's value in the VMCS and loads the host's
 * (Vol. 3C, 28.3 "Saving Guest State" and 28.5 "Loading Host State"), so a
 * guest may read and write them on the CPU, without a VM exit, and change
 * nothing of the host's.
 */
#ifndef PROJECT2_MSR_DEV_H
#define PROJECT2_MSR_DEV_H

#include "kernel/types.h"
#include "kev/kev.h"

#define MSR_STACK 0xabcu
#define MSR_STACK_DEPTH 16
/* The most devices one VM registers (more than a registry holds: the
 * tests register one too many on purpose). */
#define MSR_SETUP_MAX 20

/*     index        name */
#define MSR_PASSTHROUGH(X)                 \
    X(0x00000174u, "IA32_SYSENTER_CS")     \
    X(0x00000175u, "IA32_SYSENTER_ESP")    \
    X(0x00000176u, "IA32_SYSENTER_EIP")    \
    X(0xc0000100u, "IA32_FS_BASE")         \
    X(0xc0000101u, "IA32_GS_BASE")
#define MSR_PASSTHROUGH_COUNT 5

enum msr_device_kind { MSR_DEV_STACK, MSR_DEV_SCRATCH };

/* What a VM's MSRs are before its guest runs (the test case's). */
struct msr_setup {
    uint64_t ndevices;
    struct msr_device_setup {
        uint32_t index;       /* the MSR */
        uint32_t kind;        /* enum msr_device_kind */
        uint64_t value;       /* MSR_DEV_SCRATCH: its value at the start */
    } devices[MSR_SETUP_MAX]; /* registered in this order */
    uint64_t npassthrough;    /* the MSRs msr_bitmap_setup() lets through */
    uint32_t passthrough[MSR_PASSTHROUGH_COUNT];
};

/* How msr_user_setup went: KEV_OK, or the error of msr_register() for
 * devices[at] (the registrations before it succeeded). */
struct msr_setup_result {
    uint64_t error; /* enum kev_error */
    uint64_t at;
};

/* The user side's entries (msr_dev.c), which the MSR controller calls. */
struct msr_setup_result msr_user_setup(const struct msr_setup *setup, uint8_t *bitmap);
struct vmexit_result msr_user_exit(struct vcpu_state *s, bool write);

/* "IA32_FS_BASE" for a passthrough MSR, else NULL. */
static inline const char *msr_passthrough_name(uint32_t index)
{
#define MSR_PT_NAME(i, name) if (index == (i)) return name;
    MSR_PASSTHROUGH(MSR_PT_NAME)
#undef MSR_PT_NAME
    return NULL;
}

/* A VM of the MSR tests, as its case describes it (project2/vm.h). */
struct msr_config {
    struct msr_setup setup;
    /* The RDMSR and WRMSR exits its guest must make: every access to an
     * MSR that is not let through; -1: not counted. */
    int64_t expect_exits;
};

#endif
