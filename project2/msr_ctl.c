/*
 * The MSR controller (given code: students write msr.c, which runs at CPL 3
 * beside the given devices of msr_dev.c, through upcalls, kev/upcall.h).
 *
 * Before an MSR test's VM runs, msr_vm_begin() gives it an MSR bitmap and
 * has the user side register the case's devices (the student's
 * msr_register()) and fill the bitmap (the student's msr_bitmap_setup());
 * a registration that went wrong stops the VM before it starts, with a
 * message that says what a right registry would have answered. The VM
 * intercepts no #GP (its exception bitmap), so that a #GP the student
 * injects reaches the guest's own handler.
 *
 * On an RDMSR or WRMSR exit the controller has the student's msr_handle()
 * emulate it; msr_handle() moves RIP itself (on success only). An exit of a
 * passthrough MSR stops the VM: the bitmap should have let it through. The
 * controller counts the exits, and msr_vm_end() checks the count against
 * the case's: an MSR the bitmap let through by mistake ran on the CPU
 * without one, which the guest alone could not tell.
 */
#include "project2/controller.h"
#include "project2/msr.h"
#include "project2/msr_dev.h"
#include "project2/vm.h"
#include "kernel/mm.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kev/upcall.h"

/* A guest of the MSR tests makes a few dozen exits; one that repeats an
 * instruction (RIP not moved) is stopped after this many. */
#define MSR_VM_MAX_EXITS 2000

/* The VM being run: one at a time. */
static struct {
    const struct msr_config *config;
    paddr_t bitmap;
    struct vm_controls controls;
    uint64_t exits; /* RDMSR and WRMSR exits */
} cur;

/* What msr_handle() may write: RIP (past the instruction) and the event
 * injection fields (the #GP). */
static const uint32_t msr_writable[] = {GUEST_RIP, VM_ENTRY_INTR_INFO_FIELD,
                                        VM_ENTRY_EXCEPTION_ERROR_CODE, VMCS_FIELD_END};

static bool passed_through(uint32_t index)
{
    const struct msr_setup *st = &cur.config->setup;
    for (uint64_t i = 0; i < st->npassthrough && i < MSR_PASSTHROUGH_COUNT; i++)
        if (st->passthrough[i] == index)
            return true;
    return false;
}

/* Where MSR m's bit is in the bitmap (msr.c's table); false outside it. */
static bool bitmap_place(uint32_t m, bool write, size_t *byte, unsigned *bit)
{
    uint32_t k;
    if (m <= 0x1fff)
        k = m, *byte = 0;
    else if (m >= 0xc0000000u && m <= 0xc0001fffu)
        k = m - 0xc0000000u, *byte = 1024;
    else
        return false;
    *byte += k / 8 + (write ? 2048 : 0);
    *bit = k % 8;
    return true;
}

static struct vmexit_result passthrough_exited(struct vcpu_state *s, uint32_t index, bool write)
{
    size_t byte = 0;
    unsigned bit = 0;
    bitmap_place(index, write, &byte, &bit);
    return vm_stop(s->vm, KEV_EUNHANDLED,
                   "%s of MSR 0x%x (%s) made a VM exit, but it is a passthrough MSR: the MSR "
                   "bitmap must let it run on the CPU (msr_bitmap_setup() left its bit set: bit %u "
                   "of byte %zu)", write ? "WRMSR" : "RDMSR", index, msr_passthrough_name(index),
                   bit, byte);
}

static struct vmexit_result msr_controller_handle(struct vmexit_controller *self,
                                                  struct vcpu_state *s, union exit_reason reason)
{
    (void)self;
    if (reason.basic != EXIT_REASON_MSR_READ && reason.basic != EXIT_REASON_MSR_WRITE)
        return vmexit_pass();
    bool write = reason.basic == EXIT_REASON_MSR_WRITE;
    uint32_t index = (uint32_t)s->regs.rcx;
    cur.exits++;
    if (passed_through(index))
        return passthrough_exited(s, index, write);

    user_frame_reset();
    uint64_t us = upcall_push_vcpu(s);
    struct user_result u = user_call(msr_user_exit, us, write, 0, 0);
    if (u.status != USER_RETURNED)
        return upcall_stopped(s, &u);
    upcall_pull_regs(s, us);
    struct vmexit_result r = vmexit_result_from(u.ret[0], u.ret[1]);
    if (vm_stopped(s->vm) || r.action == VMEXIT_CONTINUE)
        return r; /* stopped (vm_stop): it stays stopped, whatever was returned */
    return vm_stop(s->vm, KEV_EINVAL, "msr_handle() returned neither vmexit_continue() nor "
                   "vm_stop() for %s of MSR 0x%x (action %d)", write ? "WRMSR" : "RDMSR", index,
                   (int)r.action);
}

void msr_controller_init(struct vmexit_controller *c, struct printer *out)
{
    (void)out;
    *c = (struct vmexit_controller){.name = "msr", .handle = msr_controller_handle};
}

/* --- before and after the VM ---------------------------------------------------- */

static bool fail(struct vm_outcome *o, enum kev_error e, const char *fmt, ...) __printf(3, 4);
static bool fail(struct vm_outcome *o, enum kev_error e, const char *fmt, ...)
{
    *o = (struct vm_outcome){.kind = VM_FAILED, .error = e};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->message, sizeof(o->message), fmt, ap);
    va_end(ap);
    return false;
}

static const char *device_name(const struct msr_device_setup *d)
{
    return d->kind == MSR_DEV_STACK ? "the stack" : "a scratch register";
}

/* What a right registry answers to the case's registrations: KEV_OK, or
 * the error of the first one that must fail (*at: which). */
static enum kev_error expected_setup(const struct msr_setup *st, uint64_t *at, uint64_t *first)
{
    for (uint64_t i = 0; i < st->ndevices && i < MSR_SETUP_MAX; i++) {
        for (uint64_t j = 0; j < i; j++) {
            if (st->devices[j].index == st->devices[i].index) {
                *at = i, *first = j;
                return KEV_EEXIST;
            }
        }
        if (i == MSR_REGISTRY_MAX) {
            *at = i;
            return KEV_ENOMEM;
        }
    }
    *at = st->ndevices;
    return KEV_OK;
}

/* Stops the VM-to-be with the student's registration result when it is
 * not KEV_OK, saying whether it was the right one. */
static bool check_setup(const struct msr_setup *st, struct msr_setup_result res,
                        struct vm_outcome *o)
{
    uint64_t want_at = 0, first = 0;
    enum kev_error want = expected_setup(st, &want_at, &first);
    if (res.error >= KEV_ERROR_COUNT)
        return fail(o, KEV_EINVAL, "msr_register() returned %lu, which is no kev error (kev/error.h)",
                    res.error);
    enum kev_error got = (enum kev_error)res.error;
    if (got == KEV_OK && want == KEV_OK)
        return true;
    if (got == KEV_OK) {
        const struct msr_device_setup *d = &st->devices[want_at];
        if (want == KEV_EEXIST)
            return fail(o, KEV_EINVAL, "msr_register() returned KEV_OK for MSR 0x%x (%s), which "
                        "registration %lu had registered already (for %s): an index is registered "
                        "once, a second registration must fail with KEV_EEXIST", d->index,
                        device_name(d), first + 1, device_name(&st->devices[first]));
        return fail(o, KEV_EINVAL, "msr_register() returned KEV_OK for MSR 0x%x (%s), registration "
                    "%lu, though the registry was full (MSR_REGISTRY_MAX = %d): KEV_ENOMEM",
                    d->index, device_name(d), want_at + 1, MSR_REGISTRY_MAX);
    }
    uint64_t at = res.at < st->ndevices ? res.at : 0;
    const struct msr_device_setup *d = &st->devices[at];
    if (got == want && at == want_at)
        return fail(o, got, "msr_register() of MSR 0x%x (%s), registration %lu, returned %s: %s",
                    d->index, device_name(d), at + 1, kev_error_name(got),
                    got == KEV_EEXIST ? "the index was registered already" : "the registry is full");
    return fail(o, got, "msr_register() returned %s for MSR 0x%x (%s), registration %lu of %lu, "
                "but a right registry takes it: %s", kev_error_name(got), d->index, device_name(d),
                at + 1, st->ndevices,
                at < want_at ? "no registration before it had that index (all 32 bits count), and "
                               "the registry had room"
                             : "the registrations before it should have failed first");
}

bool msr_vm_begin(const struct p2_vm_config *c, struct vm_config *config, struct vm_outcome *o)
{
    static const struct msr_config none = {.expect_exits = -1};
    memset(&cur, 0, sizeof(cur));
    cur.config = c->msr ? c->msr : &none;
    cur.bitmap = page_alloc();
    if (cur.bitmap == 0)
        return fail(o, KEV_ENOMEM, "no memory for the MSR bitmap");
    if (c->controls)
        cur.controls = *c->controls;
    cur.controls.proc |= CPU_BASED_USE_MSR_BITMAPS;
    cur.controls.msr_bitmap = cur.bitmap;
    cur.controls.exception_bitmap_set = true;
    cur.controls.exception_bitmap = ~(1u << EXC_GP); /* the guest takes its own #GP */

    user_frame_reset();
    uint64_t usetup = user_push(&cur.config->setup, sizeof(cur.config->setup));
    uint64_t ubitmap = user_window_map(cur.bitmap, true);
    struct user_result u = user_call(msr_user_setup, usetup, ubitmap, 0, 0);
    if (u.status != USER_RETURNED) {
        fail(o, KEV_ESTUDENT, "%s", u.message);
        msr_vm_end(o);
        return false;
    }
    if (!check_setup(&cur.config->setup, (struct msr_setup_result){u.ret[0], u.ret[1]}, o)) {
        msr_vm_end(o);
        return false;
    }
    config->controls = &cur.controls;
    config->user_writable = msr_writable;
    config->max_exits = MSR_VM_MAX_EXITS;
    return true;
}

void msr_vm_end(struct vm_outcome *o)
{
    if (cur.bitmap)
        page_free(cur.bitmap);
    cur.bitmap = 0;
    int64_t want = cur.config ? cur.config->expect_exits : -1;
    if (want < 0 || o->kind != VM_EXITED || cur.exits == (uint64_t)want)
        return;
    uint64_t exits = o->exits;
    *o = (struct vm_outcome){.kind = VM_FAILED, .error = KEV_EUNHANDLED, .exits = exits};
    snprintf(o->message, sizeof(o->message),
             "the guest's RDMSR and WRMSR made %lu VM exits, %ld expected: %s", cur.exits, want,
             cur.exits < (uint64_t)want
                 ? "an MSR that must exit ran on the CPU without one (msr_bitmap_setup() must "
                   "leave every MSR's bits set but the passthrough MSRs', in all four bitmaps)"
                 : "was one instruction repeated (RIP not moved past it)?");
}
