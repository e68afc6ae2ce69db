/*
 * Project 2's MSR devices (given code that runs in ring 3, in the user
 * image beside the student's msr.c; project2/msr_dev.h describes them):
 * the stack at MSR_STACK and the scratch registers, the VM's registry, and
 * the two entries the MSR controller (msr_ctl.c) calls. Everything here is
 * the running VM's: msr_user_setup() makes it anew before each VM.
 */
#include "project2/msr_dev.h"
#include "project2/msr.h"
#include "kernel/string.h"

static struct msr_registry registry;

/* --- the stack ---------------------------------------------------------------- */

static struct {
    uint64_t values[MSR_STACK_DEPTH];
    size_t depth;
} stack;

static enum kev_error stack_read(void *dev, uint32_t index, uint64_t *value)
{
    (void)index;
    if (dev != &stack)
        return KEV_EINVAL; /* msr_handle passed another device's state */
    if (stack.depth == 0)
        return KEV_EEMPTY;
    *value = stack.values[--stack.depth];
    return KEV_OK;
}

static enum kev_error stack_write(void *dev, uint32_t index, uint64_t value)
{
    (void)index;
    if (dev != &stack)
        return KEV_EINVAL;
    if (stack.depth == MSR_STACK_DEPTH)
        return KEV_ENOMEM;
    stack.values[stack.depth++] = value;
    return KEV_OK;
}

static const struct msr_ops stack_ops = {"stack", stack_read, stack_write};

/* --- the scratch registers ---------------------------------------------------- */

static uint64_t scratch[MSR_SETUP_MAX];

static bool is_scratch(void *dev)
{
    uint64_t *p = dev;
    return p >= scratch && p < scratch + MSR_SETUP_MAX;
}

static enum kev_error scratch_read(void *dev, uint32_t index, uint64_t *value)
{
    (void)index;
    if (!is_scratch(dev))
        return KEV_EINVAL;
    *value = *(uint64_t *)dev;
    return KEV_OK;
}

static enum kev_error scratch_write(void *dev, uint32_t index, uint64_t value)
{
    (void)index;
    if (!is_scratch(dev))
        return KEV_EINVAL;
    *(uint64_t *)dev = value;
    return KEV_OK;
}

static const struct msr_ops scratch_ops = {"scratch", scratch_read, scratch_write};

/* --- the entries ------------------------------------------------------------------ */

struct msr_setup_result msr_user_setup(const struct msr_setup *setup, uint8_t *bitmap)
{
    memset(&registry, 0, sizeof(registry));
    memset(&stack, 0, sizeof(stack));
    memset(scratch, 0, sizeof(scratch));
    uint64_t n = setup->ndevices < MSR_SETUP_MAX ? setup->ndevices : MSR_SETUP_MAX;
    for (uint64_t i = 0; i < n; i++) {
        const struct msr_device_setup *d = &setup->devices[i];
        enum kev_error e;
        if (d->kind == MSR_DEV_STACK) {
            e = msr_register(&registry, d->index, &stack_ops, &stack);
        } else {
            scratch[i] = d->value;
            e = msr_register(&registry, d->index, &scratch_ops, &scratch[i]);
        }
        if (e != KEV_OK)
            return (struct msr_setup_result){e, i};
    }
    uint64_t np = setup->npassthrough < MSR_PASSTHROUGH_COUNT ? setup->npassthrough
                                                                : MSR_PASSTHROUGH_COUNT;
    msr_bitmap_setup(bitmap, setup->passthrough, np);
    return (struct msr_setup_result){KEV_OK, n};
}

struct vmexit_result msr_user_exit(struct vcpu_state *s, bool write)
{
    return msr_handle(s, &registry, write);
}
