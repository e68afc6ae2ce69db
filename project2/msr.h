/*
 * Project 2's MSRs: the registry of emulated MSRs, and the four functions
 * you write in msr.c.
 *
 * Model-specific registers are the CPU's registers beyond the general and
 * the control ones, each named by a 32-bit index (Intel SDM Vol. 4, "Model-
 * Specific Registers (MSRs)"). RDMSR reads MSR[ECX] into EDX:EAX, WRMSR
 * writes EDX:EAX into MSR[ECX] (Vol. 2B, "RDMSR" and "WRMSR"): the high 32
 * bits of the value in EDX, the low 32 in EAX. An index the CPU does not
 * have raises #GP(0).
 *
 * A VM's MSR bitmap (Vol. 3C, 25.6.9 "MSR-Bitmap Address") says which
 * RDMSR and WRMSR make a VM exit (reasons MSR_READ and MSR_WRITE); the
 * others run on the CPU. Project 2 intercepts every MSR but a few that the
 * CPU switches itself on every VM entry and exit (the passthrough MSRs of
 * project2/msr_dev.h) and emulates the intercepted ones with devices found
 * in a registry: an MSR nobody emulates gets the guest a #GP(0), as a CPU
 * without it would.
 */
#ifndef PROJECT2_MSR_H
#define PROJECT2_MSR_H

#include "kernel/types.h"
#include "kev/kev.h"

/* The MSR bitmap: one 4 KiB page, four 1 KiB bitmaps (msr.c says which). */
#define MSR_BITMAP_SIZE 4096
/* The most MSRs one registry holds. */
#define MSR_REGISTRY_MAX 16

/*
 * What a device does on an access. read stores the MSR's value in *value;
 * write takes the 64-bit value written. Both return KEV_OK or the device's
 * error (the stack's: KEV_EEMPTY for a read of an empty stack, KEV_ENOMEM
 * for a write to a full one). `dev` is the device's own state, as it was
 * registered; `index` the MSR accessed. The given devices (msr_dev.c) have
 * both functions.
 */
struct msr_ops {
    const char *name; /* for messages: "stack" */
    enum kev_error (*read)(void *dev, uint32_t index, uint64_t *value);
    enum kev_error (*write)(void *dev, uint32_t index, uint64_t value);
};

/* One emulated MSR: its index, and the device (ops and state) behind it. */
struct msr_entry {
    uint32_t index;
    const struct msr_ops *ops;
    void *dev;
};

/*
 * The MSRs a VM emulates: entries[0] to entries[count - 1], in the order
 * they were registered. An empty registry is all zeros; the framework
 * empties it before each VM and registers that VM's devices with
 * msr_register().
 */
struct msr_registry {
    size_t count;
    struct msr_entry entries[MSR_REGISTRY_MAX];
};

/*
 * msr_register: adds MSR `index`, emulated by `ops` on the state `dev`, to
 * r. Returns KEV_OK; KEV_EEXIST, leaving r as it was, when r has `index`
 * already (all 32 bits compared); KEV_ENOMEM when r is full.
 */
enum kev_error msr_register(struct msr_registry *r, uint32_t index, const struct msr_ops *ops,
                            void *dev);

/* msr_find: r's entry for MSR `index`, or NULL when nobody emulates it. */
const struct msr_entry *msr_find(const struct msr_registry *r, uint32_t index);

/*
 * msr_bitmap_setup: fills the VM's MSR bitmap (MSR_BITMAP_SIZE bytes, all
 * zeros when you get it) so that every RDMSR and WRMSR makes a VM exit but
 * those of the n MSRs in passthrough[], which must not (neither RDMSR nor
 * WRMSR). Called once per VM, before it runs.
 */
void msr_bitmap_setup(uint8_t *bitmap, const uint32_t *passthrough, size_t n);

/*
 * msr_handle: emulates the RDMSR (write false) or WRMSR (write true) that
 * made this VM exit, for the vCPU s, with r's devices. Returns:
 *
 *   vmexit_continue()               the guest goes on: after the
 *                                   instruction if it was emulated (you
 *                                   moved RIP), at it with a #GP(0) to take
 *                                   if nobody emulates the MSR (you
 *                                   injected it, RIP unmoved)
 *   vm_stop(s->vm, e, "fmt", ...)   the device failed with error e, or a
 *                                   kev call did; the message names the MSR
 */
struct vmexit_result msr_handle(struct vcpu_state *s, const struct msr_registry *r, bool write);

#endif
