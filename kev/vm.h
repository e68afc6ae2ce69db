/*
 * VMs: a VM is its vCPUs (one for now; the design leaves room for more), a
 * per-VM state that the VM's own code defines through callbacks, and a
 * chain of vmexit controllers. Its life:
 *
 *   struct vm *vm = vm_create(&config);   make the vCPUs, call the callbacks
 *   vm_run(vm);                           run until the VM exits or stops
 *   struct vm_outcome out;
 *   vm_join(vm, &out);                    the outcome; frees everything
 *
 * (kev_run_vm(&config, &out) does all three.) Every failure on the way --
 * no VMX, a VMX instruction failing, a callback failing, an entry failure,
 * an unhandled exit -- is kept as the VM's outcome, so every path ends in
 * vm_join with a message that says what happened.
 *
 * A handler ends its VM through the VmOps below: vm_exit(vm, code) for a
 * normal end with an exit code, vm_stop(vm, error, fmt, ...) for an error
 * with a message naming the cause.
 */
#ifndef KEV_VM_H
#define KEV_VM_H

#include "kernel/types.h"
#include "kev/error.h"
#include "kev/exit.h"
#include "kev/vcpu.h"

#define KEV_MAX_VCPUS 1       /* one vCPU now */
#define KEV_MAX_CONTROLLERS 8 /* links in a VM's chain */
#define KEV_MESSAGE_MAX 512

/*
 * The per-VM state callbacks (the course's VM state): how this kind of VM
 * makes its vCPUs' state and sets up the bootstrap vCPU. Any may be NULL.
 * kev has already filled the VMCS with its defaults (host state, controls,
 * a flat 64-bit guest with nothing mapped) when setup_bsp runs.
 */
struct vm_state_ops {
    /* Makes vCPU `id`'s own state (becomes s->data). */
    enum kev_error (*vcpu_create)(struct vm *vm, unsigned id, void **data);
    void (*vcpu_destroy)(struct vm *vm, unsigned id, void *data);
    /* Sets up the bootstrap vCPU: guest memory, RIP, RSP (see kev/guest.h). */
    enum kev_error (*setup_bsp)(struct vm *vm, struct vcpu_state *s);
    /* On a VM kept from an earlier run (kev_run_vm_kept): sets the bootstrap
     * vCPU up again on the memory setup_bsp made, undoing all the guest and
     * its handlers may have changed there since. NULL: the VM is never kept. */
    enum kev_error (*refresh_bsp)(struct vm *vm, struct vcpu_state *s);
    /* Frees the per-VM state (vm_data) when the VM is freed. */
    void (*destroy)(struct vm *vm);
};

/*
 * What a VM needs of VMX beyond kev's defaults (kev/vcpu.c: HLT, every I/O
 * instruction, every MSR access, every CR3 load and every exception exit;
 * IA-32e mode). Every control goes through vmx_adjust_controls: a bit this
 * CPU cannot give stops the VM with KEV_ECONTROL, and the message names it.
 * kev checks the addresses and the EPT pointer before the first entry
 * (kev/check.c).
 */
struct vm_controls {
    uint32_t pin, proc, proc2, exit, entry; /* bits required on top of kev's */
    uint32_t proc_off;                      /* kev's default primary bits to leave off */
    bool exception_bitmap_set;              /* else every exception exits */
    uint32_t exception_bitmap;
    paddr_t io_bitmap_a, io_bitmap_b;       /* with CPU_BASED_USE_IO_BITMAPS */
    paddr_t msr_bitmap;                     /* with CPU_BASED_USE_MSR_BITMAPS */
    uint64_t eptp;                          /* with SECONDARY_EXEC_ENABLE_EPT */
};

/* The TSC ticks a guest may run (under Bochs, emulated instructions) and
 * the VM exits it may make before kev stops it with KEV_ETIMEOUT: a guest
 * that never stops costs its test, not the boot. An exit served by student
 * code costs a few thousand instructions under Bochs, so 20,000 of them
 * take seconds; a VM that needs more (a guest kernel printing through port
 * I/O) sets vm_config.max_exits. */
#define KEV_GUEST_BUDGET_TICKS 20000000ULL
#define KEV_GUEST_MAX_EXITS 20000ULL

struct vm_config {
    const char *name;                 /* for messages ("hello-guest") */
    const struct vm_state_ops *ops;
    void *data;                       /* the per-VM state: vm_data(vm) */
    /* The chain, asked in this order; a NULL-terminated array. */
    struct vmexit_controller *const *controllers;
    unsigned nvcpus;                  /* 0 means 1 */
    /* The VMCS fields student code may write (vmcs_write in ring 3), ended
     * by VMCS_FIELD_END; NULL: none. Student code may read every field but
     * the host state. */
    const uint32_t *user_writable;
    const struct vm_controls *controls; /* NULL: kev's defaults */
    uint64_t budget_ticks;              /* 0: KEV_GUEST_BUDGET_TICKS */
    uint64_t max_exits;                 /* 0: KEV_GUEST_MAX_EXITS */
    unsigned first_vcpu_id;             /* the bootstrap vCPU's id (s->id); the others follow */
    /* The VM runs on this EPT (kev/ept.h: guest-physical addresses are
     * translated by its tables, checked before every entry that follows
     * student code); NULL: no EPT. The caller frees it after vm_join. */
    struct ept_space *ept;
    /* The controllers use kev/timer.h (a deadline, the interrupt window):
     * kev refuses the VM, KEV_ECONTROL, on a CPU without what they need. */
    bool timer;
};

enum vm_outcome_kind {
    VM_EXITED, /* a handler ended the VM with an exit code */
    VM_FAILED, /* the VM stopped with an error */
};

struct vm_outcome {
    enum vm_outcome_kind kind;
    int64_t exit_code;              /* VM_EXITED */
    enum kev_error error;           /* VM_FAILED */
    char message[KEV_MESSAGE_MAX];  /* VM_FAILED: what happened, where */
    uint64_t exits;                 /* VM exits handled (statistics) */
};

/* NULL only when there is no memory for the VM itself. */
struct vm *vm_create(const struct vm_config *config);
/* Runs the VM's vCPU until the VM exits or stops. */
void vm_run(struct vm *vm);
/* Stores the outcome in *out and frees the VM and everything it owns. */
void vm_join(struct vm *vm, struct vm_outcome *out);
/* vm_create + vm_run + vm_join. */
void kev_run_vm(const struct vm_config *config, struct vm_outcome *out);

/*
 * A VM kept from one run for the next, for cases (of one test, or of one
 * test and the next) that share one layout: building a VM's memory and
 * page table is most of what a short case costs (under Bochs some 9,000 of
 * its 24,000 emulated instructions).
 * kev_run_vm_kept runs `config` on keep's VM when `layout` names the layout
 * it was built for and it ran whole; otherwise on a new VM, as kev_run_vm.
 * A kept VM keeps its memory map and guest page table (the accessed and
 * dirty flags are the refresh's to clear); everything else starts over:
 * new vCPUs with new VMCSs, the outcome, the chain, the config's fields,
 * and ops->refresh_bsp instead of setup_bsp. The layout is the caller's
 * exact name for what setup_bsp would build (same guest, same addresses);
 * VMs with vCPU state of their own, a destroy callback, EPT or a timer are
 * never kept, nor one whose memory student code wrote directly (a writable
 * page the probe lent it, probe_copy_to_gpa: what the refresh does not
 * rewrite may have changed), and none with kev.keep=0 on the command line
 * (which must change no verdict: tests/e2e/projects.py compares).
 *
 *   static struct vm_keep keep;
 *   kev_run_vm_kept(&config, layout, &keep, &out);   each case
 *   vm_keep_release(&keep);                          when no case follows
 */
struct vm_keep {
    struct vm *vm;
    uint64_t layout;
};
void kev_run_vm_kept(const struct vm_config *config, uint64_t layout, struct vm_keep *keep,
                     struct vm_outcome *out);
/* Frees the kept VM, if there is one. */
void vm_keep_release(struct vm_keep *keep);

/* Whether the VM has stopped (its outcome is final). */
bool vm_stopped(const struct vm *vm);

/* The per-VM state given in the config, and the VM's name. */
void *vm_data(struct vm *vm);
const char *vm_name(struct vm *vm);

/*
 * VmOps: how a handler ends its VM; return what they return.
 *
 *   return vm_exit(s->vm, code);                     the VM ends with an exit code
 *   return vm_stop(s->vm, KEV_EUNMAPPED, "Print: buffer at 0x%lx", addr);
 *                                                    it stops with an error
 *
 * vm_stop is the one way to stop a VM with an error: the error is what the
 * tests check, the message (what went wrong, where) is for the person
 * reading it. Once stopped, a VM never runs on, whatever the handler
 * returns afterwards.
 */
static inline struct vmexit_result vm_exit(struct vm *vm, int64_t code)
{
    (void)vm;
    return (struct vmexit_result){.action = VMEXIT_EXIT, .code = code};
}
struct vmexit_result vm_stop(struct vm *vm, enum kev_error error, const char *fmt, ...)
    __printf(3, 4);

/* "exited with code 7" / "failed: KEV_EHYPERCALL: unknown hypercall number 7". */
void vm_outcome_describe(const struct vm_outcome *o, char *buf, size_t size);

#endif
