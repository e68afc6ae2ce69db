/*
 * vCPUs: filling a fresh VMCS (host state from the running kernel,
 * controls adjusted to the CPU), running the vCPU, and dispatching each
 * VM exit through the VM's controller chain. kev/vmenter.asm does the
 * register switch and calls kev_vcpu_exit for every exit.
 *
 * The exit path is the hot path (a hypercall costs one exit): it reads the
 * exit reason once, tests the trace flag and bit 31, and walks the chain.
 * Everything slow -- messages, dumps, checks -- is off that path.
 */
#include "kernel/cmdline.h"
#include "kernel/gdt.h"
#include "kernel/lapic.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/trap.h"
#include "kernel/x86.h"
#include "kev/internal.h"

/* vmenter.asm saves registers at offsets from struct vcpu; the generated
 * offsets follow the struct, and these pin what the assembly assumes. */
_Static_assert(offsetof(struct vcpu, state) == 0, "vmenter.asm: the state starts struct vcpu");
_Static_assert(offsetof(struct vcpu_state, regs) == 0, "vmenter.asm: the registers start the state");
_Static_assert(sizeof(struct guest_regs) == 15 * 8, "vmenter.asm saves 15 registers");
_Static_assert(offsetof(struct guest_regs, rax) == 0 && offsetof(struct guest_regs, r15) == 14 * 8,
               "guest_regs: rax first, r15 last");

/* Host state: what the CPU loads on every VM exit, taken from the running
 * kernel (Vol. 3C, 25.5 "Host-State Area"; checks: 27.2.2, 27.2.3). */
static enum kev_error write_host_state(struct active_vmcs *vmcs, uint32_t exit_ctls)
{
    struct dtr gdtr = sgdt(), idtr = sidt();
    VMCS_SETL(vmcs, HOST_CR0, read_cr0());
    VMCS_SETL(vmcs, HOST_CR3, read_cr3());
    VMCS_SETL(vmcs, HOST_CR4, read_cr4());
    /* Selectors must have RPL = 0 and TI = 0; TR and CS must not be null. */
    VMCS_SET16(vmcs, HOST_CS_SELECTOR, KERNEL_CS);
    VMCS_SET16(vmcs, HOST_SS_SELECTOR, KERNEL_DS);
    VMCS_SET16(vmcs, HOST_DS_SELECTOR, KERNEL_DS);
    VMCS_SET16(vmcs, HOST_ES_SELECTOR, KERNEL_DS);
    VMCS_SET16(vmcs, HOST_FS_SELECTOR, read_fs() & ~7u);
    VMCS_SET16(vmcs, HOST_GS_SELECTOR, read_gs() & ~7u);
    VMCS_SET16(vmcs, HOST_TR_SELECTOR, KERNEL_TSS);
    VMCS_SETL(vmcs, HOST_FS_BASE, rdmsr(MSR_IA32_FS_BASE));
    VMCS_SETL(vmcs, HOST_GS_BASE, rdmsr(MSR_IA32_GS_BASE));
    VMCS_SETL(vmcs, HOST_TR_BASE, tss_base());
    VMCS_SETL(vmcs, HOST_GDTR_BASE, gdtr.base);
    VMCS_SETL(vmcs, HOST_IDTR_BASE, idtr.base);
    VMCS_SET32(vmcs, HOST_IA32_SYSENTER_CS, 0);
    VMCS_SETL(vmcs, HOST_IA32_SYSENTER_ESP, 0);
    VMCS_SETL(vmcs, HOST_IA32_SYSENTER_EIP, 0);
    if (exit_ctls & VM_EXIT_LOAD_IA32_EFER)
        VMCS_SET64(vmcs, HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
    VMCS_SETL(vmcs, HOST_RIP, (uint64_t)(uintptr_t)kev_vmexit_entry);
    /* HOST_RSP: written by vmenter.asm, which knows the stack. */
    return KEV_OK;
}

/*
 * The controls every kev VM starts with, and the VM's own on top
 * (struct vm_controls). HLT and every I/O instruction exit (a guest never
 * touches real ports); no MSR bitmap, so every RDMSR and WRMSR exits; every
 * CR3 load exits (without EPT the guest's page tables decide what host
 * memory it reaches: kev accepts only the table it built); every exception
 * exits (the exception bitmap), so a faulting guest is reported by name
 * instead of triple-faulting. The VMX-preemption timer bounds the time a
 * guest runs (KEV_ETIMEOUT); kev saves its value across exits where the CPU
 * can, so the budget is the guest's whole run.
 */
#define KEV_PROC_DEFAULT (CPU_BASED_HLT_EXITING | CPU_BASED_UNCOND_IO_EXITING | \
                          CPU_BASED_CR3_LOAD_EXITING)

static enum kev_error write_controls(struct vcpu *v, uint32_t *exit_out)
{
    struct active_vmcs *vmcs = &v->state.vmcs;
    const struct vm_controls *c = &v->state.vm->controls;
    const struct vmx_caps *caps = kev_vmx_caps();
    uint32_t pin, proc, proc2 = 0, exit, entry;
    /* On EPT the guest's page tables reach only its own memory: CR3 is its own. */
    struct ept_space *ept = v->state.vm->ept;
    uint32_t want_proc2 = c->proc2 | (ept ? SECONDARY_EXEC_ENABLE_EPT : 0);
    uint32_t want_proc = ((KEV_PROC_DEFAULT & ~c->proc_off & ~(ept ? CPU_BASED_CR3_LOAD_EXITING : 0)) |
                          c->proc) |
                         (want_proc2 ? CPU_BASED_ACTIVATE_SECONDARY_CONTROLS : 0);
    /* The guest's time: the VMX-preemption timer, or, on CPUs without one
     * (Bochs's core2_penryn_t9600 and bx_generic), the host's LAPIC timer
     * with external-interrupt exiting (kev.no_preemption_timer=1 forces it). */
    bool timer = vmx_control_allowed(VMX_PINBASED, PIN_BASED_VMX_PREEMPTION_TIMER) &&
                 !cmdline_flag("kev.no_preemption_timer");
    v->lapic_budget = !timer && lapic_present() &&
                      vmx_control_allowed(VMX_PINBASED, PIN_BASED_EXT_INTR_MASK) &&
                      vmx_control_allowed(VMX_EXIT, VM_EXIT_ACK_INTR_ON_EXIT);
    uint32_t budget_pin = timer ? PIN_BASED_VMX_PREEMPTION_TIMER
                                : v->lapic_budget ? PIN_BASED_EXT_INTR_MASK : 0;
    enum kev_error e;
    if ((e = vmx_adjust_controls(VMX_PINBASED, c->pin | budget_pin, 0, &pin)) ||
        (e = vmx_adjust_controls(VMX_PROCBASED, want_proc, 0, &proc)) ||
        (e = vmx_adjust_controls(VMX_EXIT, VM_EXIT_HOST_ADDR_SPACE_SIZE | c->exit |
                                     (v->lapic_budget ? VM_EXIT_ACK_INTR_ON_EXIT : 0),
                                 VM_EXIT_SAVE_IA32_EFER | VM_EXIT_LOAD_IA32_EFER |
                                     (timer ? VM_EXIT_SAVE_VMX_PREEMPTION_TIMER : 0),
                                 &exit)) ||
        (e = vmx_adjust_controls(VMX_ENTRY, VM_ENTRY_IA32E_MODE | c->entry, VM_ENTRY_LOAD_IA32_EFER,
                                 &entry)))
        return e;
    /* The secondary controls only when the VM asks for some (kev's
     * defaults need none): the CPU may force none of them. */
    if (proc & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) {
        if ((e = vmx_adjust_controls(VMX_PROCBASED2, want_proc2, 0, &proc2)))
            return e;
        VMCS_SET32(vmcs, SECONDARY_VM_EXEC_CONTROL, proc2);
    }
    VMCS_SET32(vmcs, PIN_BASED_VM_EXEC_CONTROL, pin);
    VMCS_SET32(vmcs, CPU_BASED_VM_EXEC_CONTROL, proc);
    VMCS_SET32(vmcs, VM_EXIT_CONTROLS, exit);
    VMCS_SET32(vmcs, VM_ENTRY_CONTROLS, entry);
    VMCS_SET32(vmcs, EXCEPTION_BITMAP, c->exception_bitmap_set ? c->exception_bitmap : 0xffffffffu);
    if (proc & CPU_BASED_USE_IO_BITMAPS) {
        VMCS_SET64(vmcs, IO_BITMAP_A, c->io_bitmap_a);
        VMCS_SET64(vmcs, IO_BITMAP_B, c->io_bitmap_b);
    }
    if (proc & CPU_BASED_USE_MSR_BITMAPS)
        VMCS_SET64(vmcs, MSR_BITMAP, c->msr_bitmap);
    if (proc2 & SECONDARY_EXEC_ENABLE_EPT)
        VMCS_SET64(vmcs, EPT_POINTER, ept ? kev_ept_pointer(ept) : c->eptp);
    if (pin & PIN_BASED_VMX_PREEMPTION_TIMER) {
        /* The timer counts down by one every 2^rate TSC ticks (Vol. 3C,
         * 26.5.1 "VMX-Preemption Timer"; the rate: IA32_VMX_MISC bits 4:0). */
        uint64_t n = v->state.vm->budget_ticks >> (caps->misc & 0x1f);
        v->timer_value = n > 0xffffffffULL ? 0xffffffffu : (uint32_t)n;
        v->budget_left = v->timer_value;
        VMCS_SET32(vmcs, VMX_PREEMPTION_TIMER_VALUE, v->timer_value);
        v->save_timer = exit & VM_EXIT_SAVE_VMX_PREEMPTION_TIMER;
    }
    v->proc = proc;
    v->timer_vm = v->state.vm->timer;
    v->max_exits = v->state.vm->max_exits;
    VMCS_SET32(vmcs, PAGE_FAULT_ERROR_CODE_MASK, 0);
    VMCS_SET32(vmcs, PAGE_FAULT_ERROR_CODE_MATCH, 0);
    VMCS_SET32(vmcs, CR3_TARGET_COUNT, 0);
    VMCS_SET32(vmcs, VM_EXIT_MSR_STORE_COUNT, 0);
    VMCS_SET32(vmcs, VM_EXIT_MSR_LOAD_COUNT, 0);
    VMCS_SET32(vmcs, VM_ENTRY_MSR_LOAD_COUNT, 0);
    VMCS_SET32(vmcs, VM_ENTRY_INTR_INFO_FIELD, 0);
    VMCS_SET64(vmcs, TSC_OFFSET, 0);
    /* Must be all ones without VMCS shadowing (Vol. 3C, 27.3.1.5 "Checks on
     * Guest Non-Register State"). */
    VMCS_SET64(vmcs, VMCS_LINK_POINTER, ~0ULL);
    *exit_out = exit;
    return KEV_OK;
}

enum kev_error vcpu_init_vmcs(struct vcpu *v)
{
    uint32_t exit_ctls;
    enum kev_error e = write_controls(v, &exit_ctls);
    if (e == KEV_OK)
        e = write_host_state(&v->state.vmcs, exit_ctls);
    if (e == KEV_OK)
        e = kev_guest_setup_flat64(&v->state, GVA(0), GVA(0));
    return e;
}

/* ---- the exit path ---- */

static __attribute__((noinline, cold)) void trace_exit(struct vcpu *v, union exit_reason r)
{
    uint64_t rip = 0, qual = 0;
    rip = vmcs_read_diag(GUEST_RIP);
    qual = vmcs_read_diag(EXIT_QUALIFICATION);
    printk("kev.trace: %s #%lu: %s%s (%u) rip=0x%lx qual=0x%lx\n", v->state.vm->name, v->exits,
           r.failed_vmentry ? "failed VM entry: " : "", exit_reason_name(r.basic), r.basic, rip, qual);
}

static void print_regs(const struct vcpu_state *s)
{
    const struct guest_regs *g = &s->regs;
    uint64_t rip = 0, rsp = 0, rflags = 0;
    rip = vmcs_read_diag(GUEST_RIP);
    rsp = vmcs_read_diag(GUEST_RSP);
    rflags = vmcs_read_diag(GUEST_RFLAGS);
    printk("    rip=0x%lx rsp=0x%lx rflags=0x%lx\n", rip, rsp, rflags);
    printk("    rax=0x%lx rbx=0x%lx rcx=0x%lx rdx=0x%lx\n", g->rax, g->rbx, g->rcx, g->rdx);
    printk("    rsi=0x%lx rdi=0x%lx rbp=0x%lx r8=0x%lx\n", g->rsi, g->rdi, g->rbp, g->r8);
    printk("    r9=0x%lx r10=0x%lx r11=0x%lx r12=0x%lx\n", g->r9, g->r10, g->r11, g->r12);
    printk("    r13=0x%lx r14=0x%lx r15=0x%lx\n", g->r13, g->r14, g->r15);
}

/* "hypercall, test" */
static void chain_names(const struct vm *vm, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (struct vmexit_controller *const *c = vm->chain; *c && n < size; c++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", c == vm->chain ? "" : ", ",
                              (*c)->name ? (*c)->name : "?");
    if (vm->chain[0] == NULL)
        strlcpy(buf, "the chain is empty", size);
}

/* Past the end of the chain: stop the VM with what happened and where. */
static void unhandled(struct vcpu *v, union exit_reason r)
{
    struct vm *vm = v->state.vm;
    uint64_t rip = 0, qual = 0;
    rip = vmcs_read_diag(GUEST_RIP);
    qual = vmcs_read_diag(EXIT_QUALIFICATION);
    char chain[96];
    chain_names(vm, chain, sizeof(chain));
    print_regs(&v->state);

    if (r.basic == EXIT_REASON_EXCEPTION_NMI) {
        uint64_t info = 0, code = 0;
        info = vmcs_read_diag(VM_EXIT_INTR_INFO);
        unsigned vector = info & INTR_INFO_VECTOR_MASK;
        unsigned type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
        char detail[64] = "";
        if (info & INTR_INFO_ERROR_CODE_VALID) {
            code = vmcs_read_diag(VM_EXIT_INTR_ERROR_CODE);
            snprintf(detail, sizeof(detail), ", error code 0x%lx", code);
        }
        if (vector == 14) /* the exit qualification holds the faulting address (28.2.1) */
            snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), ", address 0x%lx", qual);
        if (type == INTR_TYPE_NMI)
            vm_fail(vm, KEV_EUNHANDLED, "unhandled NMI exit at guest RIP 0x%lx", rip);
        else
            vm_fail(vm, KEV_EGUEST_FAULT,
                    "the guest raised %s (%s) at guest RIP 0x%lx%s (exit reason 0 EXCEPTION_NMI): "
                    "the guest's own instruction faulted, or it ran where it should not have "
                    "(no controller of the chain (%s) handles guest exceptions)",
                    exception_mnemonic(vector), exception_name(vector), rip, detail, chain);
        return;
    }
    if (r.basic == EXIT_REASON_PREEMPTION_TIMER) {
        vm_fail(vm, KEV_EUNHANDLED,
                "the guest's deadline (vcpu_set_deadline) passed at guest RIP 0x%lx, and no "
                "controller of the chain (%s) handled its exit (reason 52 PREEMPTION_TIMER)",
                rip, chain);
        return;
    }
    if (r.basic == EXIT_REASON_TRIPLE_FAULT) {
        vm_fail(vm, KEV_EGUEST_FAULT,
                "the guest triple-faulted at guest RIP 0x%lx (exit reason 2 TRIPLE_FAULT): an exception "
                "it could not deliver -- without an IDT a guest cannot handle any exception",
                rip);
        return;
    }
    vm_fail(vm, KEV_EUNHANDLED,
            "unhandled VM exit %s (exit reason %u: %s) at guest RIP 0x%lx, exit qualification 0x%lx; "
            "no controller of the chain (%s) handled it",
            exit_reason_name(r.basic), r.basic, exit_reason_sdm_name(r.basic), rip, qual, chain);
}

/* Exit qualification for control-register accesses: Vol. 3C, 28.2.1
 * "Basic VM-Exit Information", table "Exit Qualification for
 * Control-Register Accesses". */
#define CRQ_CR_MASK 0xfULL          /* bits 3:0: the control register */
#define CRQ_TYPE(q) (((q) >> 4) & 3) /* bits 5:4: 0 MOV to CR, 1 MOV from CR, 2 CLTS, 3 LMSW */
#define CRQ_REG(q) (((q) >> 8) & 15) /* bits 11:8: the general register (MOV) */
#define CR3_FLAGS_MASK 0x18ULL       /* PWT, PCD: a guest may set these */

static uint64_t guest_gpr(const struct vcpu_state *s, unsigned reg)
{
    const uint64_t *r = &s->regs.rax;
    static const uint8_t order[16] = {0, 2, 3, 1, 0xff, 6, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14};
    if (reg == 4) /* rsp lives in the VMCS */
        return vmcs_read_diag(GUEST_RSP);
    return r[order[reg]];
}

/*
 * The exits kev answers itself when no controller of the chain did: a CR3
 * load of the VM's own page table (anything else could give the guest host
 * memory: refused), any other control-register change that VMX or kev
 * protects (refused), the VMX-preemption timer (the guest's time is up).
 * Returns false for every other exit.
 */
/* An EPT violation no controller handled, or a misconfiguration (which no
 * controller can fix): the VM stops with what the guest did and which
 * entry said no (Vol. 3C, 29.3.3 "EPT-Induced VM Exits"). */
static void ept_exit(struct vcpu *v, union exit_reason r)
{
    struct vm *vm = v->state.vm;
    uint64_t gpa = vmcs_read_diag(GUEST_PHYSICAL_ADDRESS), rip = vmcs_read_diag(GUEST_RIP);
    if (r.basic == EXIT_REASON_EPT_VIOLATION) {
        char what[200];
        kev_ept_describe_violation(vmcs_read_diag(EXIT_QUALIFICATION), gpa,
                                   vmcs_read_diag(GUEST_LINEAR_ADDRESS), what, sizeof(what));
        vm_fail(vm, KEV_EEPT_VIOLATION, "EPT violation at guest RIP 0x%lx: %s", rip, what);
        return;
    }
    struct ept_walk w;
    enum kev_error e = vm->ept ? kev_ept_walk(vm->ept, GPA(gpa), &w) : KEV_EINVAL;
    char entries[100] = "";
    size_t n = 0;
    for (unsigned i = 0; vm->ept && i < w.nentries && n < sizeof(entries); i++)
        n += (size_t)snprintf(entries + n, sizeof(entries) - n, "%s0x%lx", i ? ", " : "", w.entry[i]);
    vm_fail(vm, KEV_EEPT,
            "EPT misconfiguration at guest RIP 0x%lx, guest-physical 0x%lx: the CPU refuses an "
            "entry on its walk (root first: %s)%s%s -- e.g. write without read, a memory type "
            "other than 0 or 6 (WB), or reserved bits set (Vol. 3C, 29.3.3.1 \"EPT "
            "Misconfigurations\")", rip, gpa, entries, e == KEV_EEPT ? "; " : "",
            e == KEV_EEPT ? w.problem : "");
}

/* The guest's budget is spent: the VM stops. */
static __attribute__((noinline, cold)) struct vmexit_result budget_spent(struct vcpu *v)
{
    struct vm *vm = v->state.vm;
    vm_fail(vm, KEV_ETIMEOUT, "the guest ran for %lu TSC ticks (emulated instructions under "
            "Bochs) without ending, last at guest RIP 0x%lx: it never stops",
            vm->budget_ticks, vmcs_read_diag(GUEST_RIP));
    return (struct vmexit_result){.action = VMEXIT_ERROR, .error = KEV_ETIMEOUT};
}

static bool kev_own_exit(struct vcpu *v, union exit_reason r, struct vmexit_result *res)
{
    struct vcpu_state *s = &v->state;
    struct vm *vm = s->vm;
    if (r.basic == EXIT_REASON_EXTERNAL_INTERRUPT && v->lapic_budget &&
        (vmcs_read_diag(VM_EXIT_INTR_INFO) & INTR_INFO_VECTOR_MASK) == LAPIC_TIMER_VECTOR) {
        lapic_eoi(); /* acknowledged on exit: the LAPIC waits for its EOI */
        *res = budget_spent(v); /* the same news: the guest's time is up */
        return true;
    }
    if (r.basic == EXIT_REASON_PREEMPTION_TIMER && !v->deadline_exit) {
        *res = budget_spent(v);
        return true;
    }
    if (r.basic == EXIT_REASON_EPT_VIOLATION || r.basic == EXIT_REASON_EPT_MISCONFIG) {
        ept_exit(v, r);
        *res = (struct vmexit_result){.action = VMEXIT_ERROR,
                                      .error = vm->outcome.error};
        return true;
    }
    if (r.basic != EXIT_REASON_CR_ACCESS)
        return false;
    uint64_t q = vmcs_read_diag(EXIT_QUALIFICATION), rip = vmcs_read_diag(GUEST_RIP);
    unsigned cr = (unsigned)(q & CRQ_CR_MASK);
    if (CRQ_TYPE(q) == 0 && cr == 3) {
        uint64_t value = guest_gpr(s, CRQ_REG(q));
        if ((value & ~CR3_FLAGS_MASK) == vm->pml4) {
            enum kev_error e = vmcs_writel(&s->vmcs, GUEST_CR3, value);
            if (e == KEV_OK)
                e = vmcs_forward_rip(&s->vmcs);
            *res = e == KEV_OK ? vmexit_continue() : (struct vmexit_result){VMEXIT_ERROR, e, 0};
            return true;
        }
        vm_fail(vm, KEV_EGUEST_PAGING,
                "the guest loaded CR3 with 0x%lx at guest RIP 0x%lx, which is not its page table "
                "(0x%lx): without EPT a guest's page tables would reach any host memory, so kev "
                "refuses every other", value, rip, vm->pml4);
    } else {
        static const char *const how[4] = {"MOV to", "MOV from", "CLTS on", "LMSW on"};
        vm_fail(vm, KEV_EGUEST_PAGING,
                "the guest tried to change CR%u (%s CR%u, exit qualification 0x%lx) at guest RIP "
                "0x%lx: kev keeps the bits of CR0 and CR4 that paging and VMX need", cr,
                how[CRQ_TYPE(q)], cr, q, rip);
    }
    *res = (struct vmexit_result){.action = VMEXIT_ERROR, .error = KEV_EGUEST_PAGING};
    return true;
}

static __attribute__((noinline, cold)) struct vmexit_result exit_reason_unreadable(struct vcpu *v)
{
    vmcs_failed("VMREAD", VM_EXIT_REASON, 0);
    vm_fail(v->state.vm, KEV_EVMFAIL, "VMREAD of the exit reason failed after a VM exit");
    return (struct vmexit_result){.action = VMEXIT_ERROR, .error = KEV_EVMFAIL};
}

/* Vol. 3C, 27.8 "VM-Entry Failures During or After Loading Guest State". */
static const char *entry_qual_name(uint64_t q)
{
    switch (q) {
    case ENTRY_FAIL_DEFAULT:
        return "no further information";
    case ENTRY_FAIL_PDPTE:
        return "a PDPTE failed its checks";
    case ENTRY_FAIL_NMI_INJECT:
        return "NMI injection with blocking by NMI";
    case ENTRY_FAIL_VMCS_LINK:
        return "the VMCS link pointer is invalid";
    }
    return "not defined by the SDM";
}

static __attribute__((noinline, cold)) struct vmexit_result entry_failed(struct vcpu *v, union exit_reason r)
{
    struct vcpu_state *s = &v->state;
    uint64_t qual = 0;
    qual = vmcs_read_diag(EXIT_QUALIFICATION);
    vmcs_dump_guest_state(&s->vmcs);
    if (r.basic == EXIT_REASON_INVALID_STATE) {
        char why[320];
        bool found = !vcpu_check_guest_state(&s->vmcs, why, sizeof(why));
        vm_fail(s->vm, KEV_EENTRY,
                "VM entry failed: exit reason 0x%x = bit 31 (failed VM entry) + %u (%s), exit "
                "qualification %lu (%s); %s%s",
                r.full, r.basic, exit_reason_sdm_name(r.basic), qual, entry_qual_name(qual),
                found ? "the failed check: " : "kev's own checks find nothing: ",
                found ? why
                      : "see Vol. 3C, 27.3.1 \"Checks on the Guest State Area\" (under Bochs, "
                        "bochs.log names the check in a VMENTER FAIL line)");
    } else if (r.basic == EXIT_REASON_MSR_LOAD_FAIL) {
        vm_fail(s->vm, KEV_EENTRY,
                "VM entry failed while loading MSRs: entry %lu of the VM-entry MSR-load area "
                "(Vol. 3C, 27.4 \"Loading MSRs\")", qual);
    } else {
        vm_fail(s->vm, KEV_EENTRY, "VM entry failed: exit reason 0x%x (%s), exit qualification %lu",
                r.full, exit_reason_sdm_name(r.basic), qual);
    }
    return (struct vmexit_result){.action = VMEXIT_ERROR, .error = KEV_EENTRY};
}

static __attribute__((noinline, cold)) struct vmexit_result too_many_exits(struct vcpu *v)
{
    uint64_t rip = vmcs_read_diag(GUEST_RIP);
    vm_fail(v->state.vm, KEV_ETIMEOUT,
            "the guest made more than %lu VM exits (the last one at guest RIP 0x%lx): it loops "
            "on something that exits, e.g. a hypercall that is repeated because RIP does not move",
            v->max_exits, rip);
    return (struct vmexit_result){.action = VMEXIT_ERROR, .error = KEV_ETIMEOUT};
}

/*
 * On EPT, before an entry that follows student code (an upcall may have
 * rewritten the tables): if a table changed, the whole EPT is checked
 * again and the CPU's cached translations are dropped (Vol. 3C, 29.4.3.1
 * "Operations that Invalidate Cached Mappings").
 */
static bool ept_ready(struct vcpu *v, bool first)
{
    struct vm *vm = v->state.vm;
    vm->ept_seen = user_calls;
    if (!kev_ept_changed(vm->ept) && !first)
        return true;
    char why[320];
    if (!kev_ept_check(vm->ept, why, sizeof(why))) {
        vm_fail(vm, KEV_EEPT, "%s", why);
        return false;
    }
    /* The first entry drops every EPTP's: an earlier VM's root may have
     * been at the same host address. */
    bool single = !first && (kev_vmx_caps()->ept_vpid & EPT_CAP_INVEPT_SINGLE);
    enum vmx_status st = vmx_invept(single ? INVEPT_SINGLE : INVEPT_ALL, kev_ept_pointer(vm->ept));
    if (st != VMX_OK) {
        vm_fail(vm, KEV_EVMFAIL, "INVEPT failed: %s", vmx_status_name(st));
        return false;
    }
    return true;
}

/* An exit of a VM on EPT: the controller, then the EPT's check if student
 * code ran. */
static __attribute__((noinline)) struct vmexit_result exit_on_ept(struct vcpu *v,
                                                                  struct vmexit_controller *c,
                                                                  union exit_reason r)
{
    struct vmexit_result res = c->handle(c, &v->state, r);
    if (res.action == VMEXIT_CONTINUE && v->state.vm->ept_seen != user_calls && !ept_ready(v, false))
        return (struct vmexit_result){.action = VMEXIT_ERROR, .error = KEV_EEPT};
    return res;
}

/* The preemption timer for the next entry, when a deadline shares it
 * (kev/timer.c). */
static bool timer_ready(struct vcpu *v)
{
    if (timer_program(v) == KEV_OK)
        return true;
    vm_fail(v->state.vm, KEV_EVMFAIL, "writing the VMX-preemption timer for the guest's deadline failed");
    return false;
}

/* Resuming from the slow half: the same checks. */
static int resume(struct vcpu *v)
{
    struct vm *vm = v->state.vm;
    if (vm->ept && vm->ept_seen != user_calls && !ept_ready(v, false))
        return 1;
    if ((v->timer_split | v->timer_dirty) && !timer_ready(v))
        return 1;
    return 0;
}

/* The first controller's answer, on EPT with the EPT's check. */
static inline struct vmexit_result first_controller(struct vcpu *v, struct vmexit_controller *c,
                                                    union exit_reason r)
{
    if (__builtin_expect(v->state.vm->ept != NULL, 0))
        return exit_on_ept(v, c, r);
    return c->handle(c, &v->state, r);
}

/* After the first controller, when it changed the deadline: the timer is
 * written before the guest resumes. */
static __attribute__((noinline)) struct vmexit_result timer_after(struct vcpu *v,
                                                                  struct vmexit_result res)
{
    if (res.action == VMEXIT_CONTINUE && !timer_ready(v))
        return (struct vmexit_result){.action = VMEXIT_ERROR, .error = KEV_EVMFAIL};
    return res;
}

/*
 * An exit of a VM that keeps a deadline (vm_config's `timer`). Of the
 * preemption timer, it is the budget's (the VM stops), the deadline's (the
 * chain gets it, the deadline disarmed), or one before the deadline
 * (resumed at once: the next entry waits for the rest). Any other exit
 * first takes the guest's time off the budget while a deadline shares the
 * timer; the timer is written again before the guest resumes.
 */
static __attribute__((noinline)) struct vmexit_result exit_timed(struct vcpu *v,
                                                                 struct vmexit_controller *c,
                                                                 union exit_reason r)
{
    v->deadline_exit = false;
    if (r.basic == EXIT_REASON_PREEMPTION_TIMER) {
        switch (timer_exit_kind(v)) {
        case TIMER_EXIT_BUDGET:
            return budget_spent(v);
        case TIMER_EXIT_EARLY:
            return timer_after(v, vmexit_continue());
        case TIMER_EXIT_DEADLINE:
            v->deadline_exit = true;
            break;
        }
    } else if (v->timer_split) {
        timer_sync(v);
    }
    if (c == NULL)
        return vmexit_pass();
    struct vmexit_result res = first_controller(v, c, r);
    return (v->timer_split | v->timer_dirty) ? timer_after(v, res) : res;
}

/* Tracing, and bit 31 first: then the guest never ran and the basic
 * reason is one of the entry-failure reasons (Vol. 3C, 27.8). */
static __attribute__((noinline, cold)) struct vmexit_result exit_unusual(struct vcpu *v,
                                                                        union exit_reason r)
{
    if (kev_trace)
        trace_exit(v, r);
    if (r.failed_vmentry)
        return entry_failed(v, r);
    if (v->exits > v->max_exits)
        return too_many_exits(v);
    struct vmexit_controller *c = v->state.vm->chain[0];
    if (v->timer_vm)
        return exit_timed(v, c, r);
    if (c == NULL)
        return vmexit_pass();
    return first_controller(v, c, r);
}

/*
 * The fast half of the dispatch, called by vmenter.asm on every exit: read
 * the reason once, check the trace flag and bit 31, ask the first
 * controller. It keeps nothing live across that call, so it needs no saved
 * registers. Any answer but VMEXIT_CONTINUE goes to kev_vcpu_exit_slow.
 */
struct vmexit_result kev_vcpu_exit(struct vcpu *v)
{
    uint64_t raw;
    v->exits++;
    if (__builtin_expect(!vmx_vmread_ok(VM_EXIT_REASON, &raw), 0))
        return exit_reason_unreadable(v);
    union exit_reason r = {.full = (uint32_t)raw};
    v->state.vmcs.exit_reason = r;
    /* Bit 31 (failed VM entry), tracing, too many exits, a VM with a
     * deadline to keep (kev/timer.h): off the fast path. */
    if (__builtin_expect(kev_trace | r.failed_vmentry | (v->exits > v->max_exits) | v->timer_vm, 0))
        return exit_unusual(v, r);
    struct vmexit_controller *c = v->state.vm->chain[0];
    if (__builtin_expect(c == NULL, 0))
        return vmexit_pass(); /* an empty chain: the slow half reports it */
    /* A VM that was stopped (vm_stop) never runs on, whatever was returned:
     * vmenter.asm checks v->stopped before every VMRESUME. */
    if (__builtin_expect(v->state.vm->ept != NULL, 0))
        return exit_on_ept(v, c, r);
    return c->handle(c, &v->state, r);
}

/*
 * The slow half: the first controller passed, or the VM ends. Asks the
 * rest of the chain; returns 0 to resume the guest, 1 to stop.
 */
int kev_vcpu_exit_slow(struct vcpu *v, struct vmexit_result res)
{
    struct vcpu_state *s = &v->state;
    struct vmexit_controller *const *c = s->vm->chain;
    union exit_reason r = s->vmcs.exit_reason;
    if (*c)
        c++; /* the first one answered res */
    for (;;) {
        if (s->vm->stopped)
            return 1;
        if (res.action == VMEXIT_CONTINUE)
            return resume(v);
        if (res.action != VMEXIT_PASS) {
            vm_set_outcome(s->vm, res);
            return 1;
        }
        if (*c == NULL)
            break;
        res = (*c)->handle(*c, s, r);
        c++;
    }
    if (kev_own_exit(v, r, &res))
        return res.action == VMEXIT_CONTINUE ? resume(v) : 1;
    unhandled(v, r);
    return 1;
}

/* ---- entering ---- */

/* After VM-instruction error 7: which control does the CPU refuse? */
static void explain_controls(struct active_vmcs *vmcs, char *buf, size_t size)
{
    static const struct {
        uint32_t field;
        enum vmx_controls set;
    } sets[] = {
        {PIN_BASED_VM_EXEC_CONTROL, VMX_PINBASED}, {CPU_BASED_VM_EXEC_CONTROL, VMX_PROCBASED},
        {VM_EXIT_CONTROLS, VMX_EXIT},              {VM_ENTRY_CONTROLS, VMX_ENTRY},
    };
    const struct vmx_caps *caps = kev_vmx_caps();
    buf[0] = '\0';
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
        uint64_t val = 0;
        val = vmcs_read_diag(sets[i].field);
        uint32_t allowed0 = (uint32_t)caps->ctls[sets[i].set];
        uint32_t allowed1 = (uint32_t)(caps->ctls[sets[i].set] >> 32);
        if ((val & allowed0) != allowed0 || (val & ~(uint64_t)allowed1)) {
            snprintf(buf, size, "; the %s 0x%lx do not fit the CPU (must have 0x%x, may have 0x%x)",
                     vmx_controls_name(sets[i].set), val, allowed0, allowed1);
            return;
        }
    }
}

static void explain_vmfail(struct vcpu *v, enum vmenter_result r)
{
    struct vm *vm = v->state.vm;
    const char *insn = v->exits ? "VMRESUME" : "VMLAUNCH";
    if (r == VMENTER_FAIL_INVALID) {
        vm_fail(vm, KEV_EVMFAIL, "%s failed: VMfailInvalid (no current VMCS)", insn);
        return;
    }
    uint64_t err = 0;
    err = vmcs_read_diag(VM_INSTRUCTION_ERROR);
    char hint[360] = "";
    if (err == VMXERR_ENTRY_INVALID_CONTROL_FIELD) {
        explain_controls(&v->state.vmcs, hint, sizeof(hint));
        char why[340];
        if (hint[0] == '\0' && !vcpu_check_controls(&v->state.vmcs, why, sizeof(why)))
            snprintf(hint, sizeof(hint), "; %s", why);
    }
    else if (err == VMXERR_ENTRY_INVALID_HOST_STATE_FIELD)
        strlcpy(hint, "; a host-state field is invalid (Vol. 3C, 27.2.2 and 27.2.3, \"Checks on "
                      "Host ...\"): kev fills them from the running kernel",
                sizeof(hint));
    vm_fail(vm, KEV_EENTRY, "%s failed: VMfailValid, VM-instruction error %lu (%s)%s", insn, err,
            vmx_insn_error_name((uint32_t)err), hint);
}

void vcpu_run(struct vcpu *v)
{
    struct vm *vm = v->state.vm;
    if (vm->stopped)
        return;
    enum kev_error e = vmcs_load(&v->vmcs, &v->state.vmcs);
    if (e != KEV_OK) {
        vm_fail(vm, e, "VMPTRLD of vCPU %u's VMCS failed", v->state.id);
        return;
    }
    if (!v->vmcs.launched && !(vm->flags & VM_SKIP_PRECHECK) && !vm->entry_checked) {
        char why[320];
        if (!vcpu_check_controls(&v->state.vmcs, why, sizeof(why))) {
            vm_fail(vm, KEV_ECONTROL, "kev did not enter the guest: %s", why);
            return;
        }
        if (!vcpu_check_guest_state(&v->state.vmcs, why, sizeof(why))) {
            vmcs_dump_guest_state(&v->state.vmcs);
            vm_fail(vm, KEV_EGUEST_STATE, "kev did not enter the guest: %s", why);
            return;
        }
        vm->entry_checked = true;
        vm->checked_controls = vm->controls;
    }
    if (!v->vmcs.launched && vm->ept && !ept_ready(v, true))
        return;
    if ((v->timer_split | v->timer_dirty) && !timer_ready(v))
        return;
    /* Launched from here on: a failed VMLAUNCH is told by exits == 0. */
    bool launched = v->vmcs.launched;
    v->vmcs.launched = true;
    if (v->lapic_budget)
        lapic_timer_start(lapic_counts_for_ticks(vm->budget_ticks));
    enum vmenter_result r = kev_vmenter(v, launched);
    if (v->lapic_budget) {
        lapic_timer_stop();
        __asm__ volatile("sti; nop; cli"); /* a late tick: ignored in ring 0 */
    }
    if (r != VMENTER_STOPPED)
        explain_vmfail(v, r);
    if (!vm->stopped)
        vm_fail(vm, KEV_EINVAL, "the vCPU stopped without an outcome (a bug in kev)");
}
