/*
 * VMs: creating one from its config (VMX on, the guest page table, the
 * vCPUs and their VMCSs, the VM's own callbacks), running it, and joining
 * it: the outcome, then everything freed so the next VM starts clean.
 * The VmOps (vm_exit, vm_stop) and the outcome bookkeeping live here too.
 * The first word about a VM's end wins: once the outcome is set it stays.
 */
#include "kernel/cmdline.h"
#include "kernel/mm.h"
#include "kernel/paging.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kev/internal.h"

bool kev_trace;

/* The outcome is final; vmenter.asm reads each vCPU's copy of the flag. */
static void mark_stopped(struct vm *vm)
{
    vm->stopped = true;
    for (unsigned i = 0; i < KEV_MAX_VCPUS; i++)
        if (vm->vcpus[i])
            vm->vcpus[i]->stopped = true;
}

static void set_failed(struct vm *vm, enum kev_error e, const char *fmt, va_list ap)
{
    if (vm->stopped)
        return;
    mark_stopped(vm);
    vm->outcome.kind = VM_FAILED;
    vm->outcome.error = e;
    vsnprintf(vm->outcome.message, sizeof(vm->outcome.message), fmt, ap);
    /* The outcome holds the message (a failing test reports it); the console
     * shows it with kev.trace=1, or when it is kev's own failure. */
    if (kev_trace || e == KEV_EVMFAIL || e == KEV_EENTRY || e == KEV_EGUEST_STATE)
        printk("kev: VM %s stopped: %s: %s\n", vm->name, kev_error_name(e), vm->outcome.message);
}

void vm_fail(struct vm *vm, enum kev_error e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_failed(vm, e, fmt, ap);
    va_end(ap);
}

struct vmexit_result vm_stop(struct vm *vm, enum kev_error error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_failed(vm, error, fmt, ap);
    va_end(ap);
    return (struct vmexit_result){.action = VMEXIT_ERROR, .error = error};
}

/* A controller's EXIT or ERROR result (vm_stop has recorded its message). */
void vm_set_outcome(struct vm *vm, struct vmexit_result r)
{
    if (r.action == VMEXIT_EXIT && !vm->stopped) {
        mark_stopped(vm);
        vm->outcome.kind = VM_EXITED;
        vm->outcome.exit_code = r.code;
    } else if (r.action == VMEXIT_ERROR) {
        vm_fail(vm, r.error, "a controller stopped the VM: %s", kev_strerror(r.error));
    } else if (r.action != VMEXIT_EXIT) {
        vm_fail(vm, KEV_EINVAL, "a controller returned an unknown action %d", (int)r.action);
    }
}

bool vm_stopped(const struct vm *vm)
{
    return vm->stopped;
}

void *vm_data(struct vm *vm)
{
    return vm->data;
}

const char *vm_name(struct vm *vm)
{
    return vm->name;
}

static enum kev_error create_vcpu(struct vm *vm, unsigned id)
{
    struct vcpu *v = kzalloc(sizeof(*v));
    if (v == NULL)
        return KEV_ENOMEM;
    vm->vcpus[id] = v;
    v->state.vm = vm;
    v->state.id = vm->first_vcpu_id + id;
    enum kev_error e = vmcs_alloc(&v->vmcs);
    if (e == KEV_OK)
        e = vmcs_load(&v->vmcs, &v->state.vmcs);
    if (e == KEV_OK)
        e = vcpu_init_vmcs(v);
    if (e != KEV_OK) {
        vm_fail(vm, e, "setting up vCPU %u's VMCS failed (%s)", id, kev_strerror(e));
        return e;
    }
    if (vm->ops && vm->ops->vcpu_create) {
        e = vm->ops->vcpu_create(vm, id, &v->state.data);
        if (e != KEV_OK) {
            vm_fail(vm, e, "the VM's vcpu_create callback failed for vCPU %u: %s", id, kev_strerror(e));
            return e;
        }
    }
    return KEV_OK;
}

static bool setup_memory(struct vm *vm, const struct vm_config *c)
{
    if (c->ept) {
        const char *why = vmx_ept_missing();
        if (why) {
            vm_fail(vm, KEV_ECONTROL, "VM %s runs on EPT, but %s", vm->name, why);
            return false;
        }
        vm->ept = c->ept;
    }
    if (c->timer) {
        const char *why = vmx_timer_missing();
        if (why) {
            vm_fail(vm, KEV_ECONTROL, "VM %s needs a timer for its guest, but %s", vm->name, why);
            return false;
        }
        vm->timer = true;
    }
    vm->pml4 = pt_create();
    if (vm->pml4 == 0 || mem_add(vm, vm->pml4, PAGE_SIZE, vm->pml4, MEM_TABLE) != KEV_OK) {
        vm->tables_lost = vm->pml4 != 0;
        vm_fail(vm, KEV_ENOMEM, "no memory for the guest page table");
        return false;
    }
    return true;
}

static void setup_vcpus(struct vm *vm, const struct vm_config *c, bool kept)
{
    enum kev_error e;
    size_t n = 0;
    for (struct vmexit_controller *const *p = c->controllers; p && *p; p++) {
        if (n == KEV_MAX_CONTROLLERS) {
            vm_fail(vm, KEV_EINVAL, "more than %d controllers in the chain", KEV_MAX_CONTROLLERS);
            return;
        }
        if ((*p)->handle == NULL) {
            vm_fail(vm, KEV_EINVAL, "controller %s has no handle function", (*p)->name);
            return;
        }
        vm->chain[n++] = *p;
    }
    vm->nvcpus = c->nvcpus ? c->nvcpus : 1;
    if (vm->nvcpus > KEV_MAX_VCPUS) {
        vm_fail(vm, KEV_EINVAL, "%u vCPUs asked, kev runs at most %d", vm->nvcpus, KEV_MAX_VCPUS);
        return;
    }
    for (unsigned id = 0; id < vm->nvcpus; id++)
        if (create_vcpu(vm, id) != KEV_OK)
            return;
    /* The bootstrap vCPU's VMCS is current again for setup_bsp. */
    struct vcpu *bsp = vm->vcpus[0];
    if (vmcs_load(&bsp->vmcs, &bsp->state.vmcs) != KEV_OK) {
        vm_fail(vm, KEV_EVMFAIL, "VMPTRLD of the bootstrap vCPU's VMCS failed");
        return;
    }
    enum kev_error (*bsp_fn)(struct vm *, struct vcpu_state *) =
        vm->ops ? (kept ? vm->ops->refresh_bsp : vm->ops->setup_bsp) : NULL;
    if (bsp_fn) {
        e = bsp_fn(vm, &bsp->state);
        if (e != KEV_OK)
            vm_fail(vm, e, "the VM's %s callback failed: %s", kept ? "refresh_bsp" : "setup_bsp",
                    kev_strerror(e));
    }
}

/* Makes the VM's vCPUs and its bootstrap vCPU's state: on a new VM (kept
 * false) with its page table, on a kept one with what it has. */
static void setup(struct vm *vm, const struct vm_config *c, bool kept)
{
    enum kev_error e = kev_vmx_enable();
    if (e != KEV_OK) {
        vm_fail(vm, e, "%s", kev_strerror(e));
        return;
    }
    if (!kept && !setup_memory(vm, c))
        return;
    setup_vcpus(vm, c, kept);
}

/* What a VM takes from its config (a kept VM takes it again). */
static void configure(struct vm *vm, const struct vm_config *config)
{
    kev_trace = cmdline_flag("kev.trace");
    vm->name = config->name ? config->name : "vm";
    vm->ops = config->ops;
    vm->data = config->data;
    vm->user_writable = config->user_writable;
    vm->controls = config->controls ? *config->controls : (struct vm_controls){0};
    vm->budget_ticks = config->budget_ticks ? config->budget_ticks : KEV_GUEST_BUDGET_TICKS;
    vm->max_exits = config->max_exits ? config->max_exits : KEV_GUEST_MAX_EXITS;
    vm->first_vcpu_id = config->first_vcpu_id;
}

struct vm *vm_create(const struct vm_config *config)
{
    struct vm *vm = kzalloc(sizeof(*vm));
    if (vm == NULL)
        return NULL;
    configure(vm, config);
    setup(vm, config, false);
    return vm;
}

void vm_run(struct vm *vm)
{
    if (!vm->stopped)
        vcpu_run(vm->vcpus[0]);
}

static void collect(struct vm *vm, struct vm_outcome *out)
{
    *out = vm->outcome;
    out->exits = 0;
    for (unsigned id = 0; id < KEV_MAX_VCPUS; id++)
        if (vm->vcpus[id])
            out->exits += vm->vcpus[id]->exits;
}

static void free_vcpus(struct vm *vm)
{
    for (unsigned id = 0; id < KEV_MAX_VCPUS; id++) {
        struct vcpu *v = vm->vcpus[id];
        if (v == NULL)
            continue;
        if (vm->ops && vm->ops->vcpu_destroy && v->state.data)
            vm->ops->vcpu_destroy(vm, id, v->state.data);
        vmcs_free(&v->vmcs);
        kfree(v);
        vm->vcpus[id] = NULL;
    }
}

static void vm_free(struct vm *vm)
{
    user_forget(vm); /* a handle student code kept names no freed VM */
    free_vcpus(vm);
    if (vm->ops && vm->ops->destroy)
        vm->ops->destroy(vm);
    /* Every table page is in the memory map (MEM_TABLE): freeing them from
     * there costs far less than walking the tables. */
    mem_free_all(vm, !vm->tables_lost);
    if (vm->pml4 && vm->tables_lost)
        pt_destroy(vm->pml4);
    kfree(vm);
}

void vm_join(struct vm *vm, struct vm_outcome *out)
{
    collect(vm, out);
    vm_free(vm);
}

static void no_memory(struct vm_outcome *out)
{
    memset(out, 0, sizeof(*out));
    out->kind = VM_FAILED;
    out->error = KEV_ENOMEM;
    strlcpy(out->message, "no memory for the VM", sizeof(out->message));
}

void kev_run_vm(const struct vm_config *config, struct vm_outcome *out)
{
    struct vm *vm = vm_create(config);
    if (vm == NULL) {
        no_memory(out);
        return;
    }
    vm_run(vm);
    vm_join(vm, out);
}

static bool keepable(const struct vm_config *c)
{
    const struct vm_state_ops *ops = c->ops;
    return ops && ops->refresh_bsp && !ops->vcpu_create && !ops->vcpu_destroy && !ops->destroy &&
           !c->ept && !c->timer && c->nvcpus <= 1;
}

static bool same_controls(const struct vm_controls *a, const struct vm_controls *b)
{
    return a->pin == b->pin && a->proc == b->proc && a->proc2 == b->proc2 && a->exit == b->exit &&
           a->entry == b->entry && a->proc_off == b->proc_off &&
           a->exception_bitmap_set == b->exception_bitmap_set &&
           a->exception_bitmap == b->exception_bitmap && a->io_bitmap_a == b->io_bitmap_a &&
           a->io_bitmap_b == b->io_bitmap_b && a->msr_bitmap == b->msr_bitmap && a->eptp == b->eptp;
}

/* A kept VM starts over but for its memory: what vm_create's kzalloc and
 * configure give a new one (and whether its entry was checked already). */
static void restart(struct vm *vm, const struct vm_config *config)
{
    free_vcpus(vm);
    memset(vm->chain, 0, sizeof(vm->chain));
    vm->nvcpus = 0;
    vm->flags = 0;
    vm->timer = false;
    vm->stopped = false;
    vm->outcome = (struct vm_outcome){0};
    vm->ept_seen = 0;
    unsigned id = vm->first_vcpu_id;
    configure(vm, config);
    vm->entry_checked = vm->entry_checked && id == vm->first_vcpu_id &&
                        same_controls(&vm->checked_controls, &vm->controls);
    setup(vm, config, true);
}

void kev_run_vm_kept(const struct vm_config *config, uint64_t layout, struct vm_keep *keep,
                     struct vm_outcome *out)
{
    static int keeping = -1; /* kev.keep=0 on the command line: every VM new */
    if (keeping < 0)
        keeping = cmdline_get_int("kev.keep", 1) != 0;
    struct vm *vm = keep->vm;
    keep->vm = NULL;
    if (vm && (keep->layout != layout || !keepable(config) || !keeping)) {
        vm_free(vm);
        vm = NULL;
    }
    if (vm) {
        restart(vm, config);
    } else if ((vm = vm_create(config)) == NULL) {
        no_memory(out);
        return;
    }
    uint64_t writes = user_window_writes();
    vm_run(vm);
    collect(vm, out);
    /* Kept only if it ran (its memory was all set up), no table page went
     * unrecorded, and student code wrote none of its memory directly (a
     * lent page, or guest-physical memory: code or parameters the refresh
     * leaves alone may have changed). */
    if (keeping && out->exits > 0 && !vm->tables_lost && keepable(config) &&
        user_window_writes() == writes && !vm->student_wrote) {
        free_vcpus(vm);
        keep->vm = vm;
        keep->layout = layout;
    } else {
        vm_free(vm);
    }
}

void vm_keep_release(struct vm_keep *keep)
{
    if (keep->vm)
        vm_free(keep->vm);
    keep->vm = NULL;
}

void vm_outcome_describe(const struct vm_outcome *o, char *buf, size_t size)
{
    if (o->kind == VM_EXITED)
        snprintf(buf, size, "exited with code %ld", o->exit_code);
    else
        snprintf(buf, size, "failed: %s: %s", kev_error_name(o->error), o->message);
}
