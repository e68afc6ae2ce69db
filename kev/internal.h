/*
 * kev's private structures, shared by its own .c files only (projects use
 * kev/kev.h). struct vcpu's layout is also kev/vmenter.asm's: its offsets
 * come from kev/asm_offsets.c.
 */
#ifndef KEV_INTERNAL_H
#define KEV_INTERNAL_H

#include "kernel/user.h"
#include "kev/ept.h"
#include "kev/kev.h"

/* VMWRITE for the runs of VMCS setup (vcpu.c, guest.c), width-checked at
 * compile time like the accessors (VMCS_SET32 of a 16-bit field does not
 * compile): a failure, already reported by vmcs_failed with the field's
 * name, returns from the caller. */
#define VMCS_SET16(vmcs, field, value) KEV_TRY(vmcs_write16(vmcs, field, (value)))
#define VMCS_SET32(vmcs, field, value) KEV_TRY(vmcs_write32(vmcs, field, (value)))
#define VMCS_SET64(vmcs, field, value) KEV_TRY(vmcs_write64(vmcs, field, (value)))
#define VMCS_SETL(vmcs, field, value) KEV_TRY(vmcs_writel(vmcs, field, (value)))

struct vcpu {
    struct vcpu_state state; /* first: the registers vmenter.asm saves */
    struct vmcs vmcs;
    uint64_t host_rsp;       /* the HOST_RSP last written (vmenter.asm skips equal writes) */
    uint64_t exits;
    uint64_t max_exits;      /* the VM stops past this many (KEV_ETIMEOUT) */
    bool stopped;            /* its VM stopped: vmenter.asm never resumes it */
    bool save_timer;         /* the VMX-preemption timer counts down across exits */
    bool lapic_budget;       /* no such timer: the LAPIC's, with external-interrupt exiting */
    uint32_t proc;           /* CPU_BASED_VM_EXEC_CONTROL as written */
    bool timer_vm;           /* its VM keeps a deadline: every exit takes kev/timer.c's path */
    /* The VMX-preemption timer shared by the budget and a deadline (kev/timer.c). */
    uint64_t deadline;       /* vcpu_set_deadline's TSC value, 0: none */
    uint64_t budget_left;    /* the budget's timer counts not yet run (while timer_split) */
    uint32_t timer_value;    /* what kev last wrote to VMX_PREEMPTION_TIMER_VALUE */
    bool timer_split;        /* that value was not the budget's alone: count at every exit */
    bool timer_dirty;        /* the deadline changed: write the timer before the next entry */
    bool deadline_exit;      /* the exit being handled is the deadline's */
};

/* What a range of guest-physical memory is, for freeing it. */
enum mem_kind {
    MEM_OWNED,    /* pages kev allocated for the guest: freed with the VM */
    MEM_BORROWED, /* the caller's pages (kev_guest_map) */
    MEM_TABLE,    /* guest page-table pages: freed by pt_destroy */
};

/* [gpa, gpa + size) of guest-physical memory is host memory at `host`. */
struct mem_region {
    uint64_t gpa, size;
    paddr_t host;
    enum mem_kind kind;
};

/* How many of a VM's pages mem_find remembers: a probe's walk asks for
 * four table pages and the page it ends at, over and over. */
#define KEV_MEM_HINTS 8
/* How many walks through a VM's own page table (no EPT) the probe
 * remembers (probe.c). */
#define KEV_WALK_HINTS 8

/* A walk of the guest's page table to a 4 KiB page: where its leaf entry is
 * (a host pointer into a table page of the VM) and what the levels above
 * it allow. */
struct walk_hint {
    uint64_t cr3, page; /* the table (CR3's address bits) and gva / 4096 */
    uint64_t *leaf;
    uint64_t w, u, nx;  /* PTE_W, PTE_U, PTE_NX as the upper levels leave them */
    int level;          /* the leaf's: 1, or 2 and 3 for large pages */
};

struct vm {
    const char *name;
    const struct vm_state_ops *ops;
    void *data;
    struct vmexit_controller *chain[KEV_MAX_CONTROLLERS + 1]; /* NULL-terminated */
    unsigned nvcpus;
    struct vcpu *vcpus[KEV_MAX_VCPUS];
    unsigned flags;
    const uint32_t *user_writable; /* vm_config's */
    struct vm_controls controls;   /* vm_config's, or all zero */
    uint64_t budget_ticks, max_exits;
    unsigned first_vcpu_id;
    bool timer;               /* vm_config's: the controllers use kev/timer.h */
    bool stopped;             /* the outcome is final */
    struct vm_outcome outcome;
    paddr_t pml4;             /* the guest page table (no EPT: guest-virtual -> host) */
    struct ept_space *ept;    /* vm_config's: guest-physical -> host, or NULL */
    uint64_t ept_seen;        /* user_calls when the EPT was last checked */
    bool tables_lost;         /* a table page could not be recorded: walk the tables to free them */
    paddr_t tables_recorded[3]; /* the last path's PDPT, PD, PT, in the memory map already */
    /* kev's checks before the first entry passed with these controls: a
     * kept VM (kev_run_vm_kept) whose new run has the same enters without
     * them, its VMCS being the same (refresh_bsp rebuilds what setup_bsp
     * built). */
    bool entry_checked;
    /* Student code wrote guest-physical memory (probe_copy_to_gpa): pages
     * a kept VM's refresh would not rewrite may have changed. */
    bool student_wrote;
    struct vm_controls checked_controls;
    struct mem_region *mem;   /* sorted by gpa, not overlapping */
    size_t nmem, capmem;
    /* mem_find's last answers, one per guest page slot (page + 1: 0 is
     * none); emptied whenever the map changes (memmap.c). */
    struct {
        uint64_t page;
        size_t index;
    } mem_hints[KEV_MEM_HINTS];
    struct walk_hint walk_hints[KEV_WALK_HINTS]; /* probe.c; emptied with mem_hints */
};

/* Flags of struct vm (kev's own tests only). */
#define VM_SKIP_PRECHECK (1u << 0) /* let the CPU find invalid guest state */

/* vmenter.asm: enters the guest (VMLAUNCH unless launched), handles exits
 * through kev_vcpu_exit (and kev_vcpu_exit_slow) until they say stop. */
enum vmenter_result {
    VMENTER_STOPPED = 0,      /* kev_vcpu_exit said stop */
    VMENTER_FAIL_INVALID = 1, /* VMLAUNCH/VMRESUME: VMfailInvalid */
    VMENTER_FAIL_VALID = 2,   /* VMLAUNCH/VMRESUME: VMfailValid */
};
enum vmenter_result kev_vmenter(struct vcpu *v, bool launched);
void kev_vmexit_entry(void);
/* Called by vmenter.asm on every exit: VMEXIT_CONTINUE resumes the guest;
 * anything else goes to kev_vcpu_exit_slow, whose 0 resumes it. */
struct vmexit_result kev_vcpu_exit(struct vcpu *v);
int kev_vcpu_exit_slow(struct vcpu *v, struct vmexit_result first);

/* vcpu.c */
enum kev_error vcpu_init_vmcs(struct vcpu *v);
void vcpu_run(struct vcpu *v);
/* timer.c: the preemption timer between the budget and the deadline. */
enum timer_exit {
    TIMER_EXIT_BUDGET,   /* the guest's budget is spent */
    TIMER_EXIT_DEADLINE, /* the deadline passed (now disarmed) */
    TIMER_EXIT_EARLY,    /* neither: the timer fired before the deadline */
};
void timer_sync(struct vcpu *v);
enum kev_error timer_program(struct vcpu *v);
/* On an exit of the preemption timer: whose it was. */
enum timer_exit timer_exit_kind(struct vcpu *v);
/* check.c: kev's own checks of the guest state before VM entry. Returns
 * false and a sentence naming the failed check in msg. */
bool vcpu_check_guest_state(struct active_vmcs *vmcs, char *msg, size_t size);
/* The same for the controls that name memory (bitmaps, the EPT pointer). */
bool vcpu_check_controls(struct active_vmcs *vmcs, char *msg, size_t size);
/* guest.c: whether guest entries may have NX (the guest gets EFER.NXE). */
bool kev_guest_nx(void);
/* vm.c */
void vm_fail(struct vm *vm, enum kev_error e, const char *fmt, ...) __printf(3, 4);
void vm_set_outcome(struct vm *vm, struct vmexit_result r);
/* memmap.c */
enum kev_error mem_add(struct vm *vm, uint64_t gpa, uint64_t size, paddr_t host, enum mem_kind kind);
const struct mem_region *mem_find(struct vm *vm, uint64_t gpa);
/* Forgets what mem_find and the probe remember of the VM's memory and page
 * table: every change to either calls it (memmap.c, guest.c). */
void mem_forget_hints(struct vm *vm);
/* Frees the VM's pages; with tables, its page-table pages too (kev records
 * every one it makes, unless tables_lost says a record failed). */
void mem_free_all(struct vm *vm, bool tables);
/* probe.c: probe_gva_to_host that also gives the guest-physical address it
 * walked to (the probe's syscall maps the page for student code by it). */
enum kev_error probe_gva_to_host_gpa(struct vcpu_state *s, gva_t gva, size_t len, void **host,
                                     gpa_t *gpa);

#endif
