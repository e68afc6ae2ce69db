/*
 * kev's own tests. Each test is one row: a tiny guest (kev/test_guests.asm),
 * an optional change to the fresh vCPU, and the outcome it must end with --
 * an exit code, or an error with words its message must contain (kvm-unit-
 * tests' vmx tests have the same shape). One controller serves every
 * guest's vmcalls (rax = 0 exit, 1 null, 2 registers, 3 probe checks) and
 * handles HLT. Without VMX (QEMU's TCG, AMD) each test fails with kev's
 * message naming the backends that have VMX.
 */
#include "kernel/ktest.h"
#include "kernel/mm.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/cmdline.h"
#include "kev/internal.h"
#include "kev/printer.h"
#include "kernel/user.h"

#define GUEST_DECL(n) extern const uint8_t kev_tg_##n[], kev_tg_##n##_end[];
GUEST_DECL(hlt)
GUEST_DECL(exit42)
GUEST_DECL(cpuid)
GUEST_DECL(ud2)
GUEST_DECL(unknown_request)
GUEST_DECL(count)
GUEST_DECL(regs)
GUEST_DECL(probe)
GUEST_DECL(bench)
GUEST_DECL(spin)
GUEST_DECL(spin_sti)
GUEST_DECL(vmcall_loop)
GUEST_DECL(cr3_reload)
GUEST_DECL(cr3_attack)
GUEST_DECL(cr0_paging_off)

#define HLT_EXIT_CODE 0x4c7
#define GOOD 0x600d
#define PAT(i) (0x0101010101010101ULL * (i))

/* ---- the tests' controller ---- */

struct test_vm {
    uint64_t nulls;         /* null vmcalls served */
    unsigned probe_failures;
    char probe_report[160];
};

static unsigned run_probe_checks(struct vcpu_state *s, char *report, size_t size);

static struct vmexit_result regs_request(struct vcpu_state *s)
{
    uint64_t *r = &s->regs.rax;
    for (int i = 1; i < 15; i++) /* rax (i = 0) holds the request */
        if (r[i] != PAT(i + 1))
            return vm_stop(s->vm, KEV_EINVAL, "register %d of guest_regs is 0x%lx, expected 0x%llx",
                           i, r[i], PAT(i + 1));
    for (int i = 0; i < 15; i++)
        r[i] = ~PAT(i + 1);
    if (vmcs_forward_rip(&s->vmcs) != KEV_OK)
        return vm_stop(s->vm, KEV_EVMFAIL, "forward_rip failed");
    return vmexit_continue();
}

static __attribute__((noinline)) struct vmexit_result test_handle_rest(struct vcpu_state *s,
                                                                       union exit_reason r)
{
    struct test_vm *t = s->data;
    if (r.basic == EXIT_REASON_HLT)
        return vm_exit(s->vm, HLT_EXIT_CODE);
    if (r.basic != EXIT_REASON_VMCALL)
        return vmexit_pass();
    switch (s->regs.rax) {
    case 0:
        return vm_exit(s->vm, (int64_t)s->regs.rdi);
    case 2:
        return regs_request(s);
    case 3:
        t->probe_failures = run_probe_checks(s, t->probe_report, sizeof(t->probe_report));
        return vm_exit(s->vm, t->probe_failures);
    }
    return vm_stop(s->vm, KEV_EHYPERCALL, "unknown test request %lu at the vmcall", s->regs.rax);
}

/* The null vmcall first: it is the benchmark's whole path. */
static struct vmexit_result test_handle(struct vmexit_controller *self, struct vcpu_state *s,
                                        union exit_reason r)
{
    if (__builtin_expect(r.basic == EXIT_REASON_VMCALL && s->regs.rax == 1, 1)) {
        ((struct test_vm *)s->data)->nulls++;
        enum kev_error e = vmcs_forward_rip(&s->vmcs);
        return e == KEV_OK ? vmexit_continue() : vm_stop(s->vm, e, "moving RIP past vmcall failed");
    }
    return test_handle_rest(s, r);
}

/* A controller that never handles anything: the chain must pass by it. */
static struct vmexit_result pass_handle(struct vmexit_controller *self, struct vcpu_state *s,
                                        union exit_reason r)
{
    return vmexit_pass();
}

static struct vmexit_controller pass_ctl = {.name = "pass", .handle = pass_handle};
static struct vmexit_controller test_ctl = {.name = "test", .handle = test_handle};
static struct vmexit_controller *const chain[] = {&pass_ctl, &test_ctl, NULL};
/* The benchmark's chain: one controller, as project 2's. */
static struct vmexit_controller *const bench_chain[] = {&test_ctl, NULL};

/* ---- the table of tests ---- */

struct kev_case {
    const uint8_t *code, *code_end;
    enum kev_error (*setup)(struct vm *vm, struct vcpu_state *s); /* after the guest is built */
    unsigned vm_flags;
    uint64_t rdi;                 /* the guest's first rdi */
    enum vm_outcome_kind kind;
    int64_t exit_code;            /* VM_EXITED */
    bool any_exit_code;           /* VM_EXITED: the code is a measurement */
    struct vmexit_controller *const *chain; /* NULL: pass, test */
    uint64_t budget, max_exits;   /* the VM's (0: kev's defaults) */
    bool needs_preemption_timer;  /* skipped on a CPU without the VMX-preemption timer */
    enum kev_error error;         /* VM_FAILED */
    const char *says[3];          /* VM_FAILED: words the message must contain */
};

static const struct kev_case *current_case;

static enum kev_error case_setup(struct vm *vm, struct vcpu_state *s)
{
    const struct kev_case *c = current_case;
    struct kev_guest_image img = {.code = c->code, .code_size = (size_t)(c->code_end - c->code)};
    enum kev_error e = kev_guest_build(s, &img);
    s->regs.rdi = c->rdi;
    if (e == KEV_OK && c->setup)
        e = c->setup(vm, s);
    return e;
}

static enum kev_error case_vcpu_create(struct vm *vm, unsigned id, void **data)
{
    *data = vm_data(vm);
    return KEV_OK;
}

static const struct vm_state_ops case_ops = {.vcpu_create = case_vcpu_create, .setup_bsp = case_setup};

static enum ktest_result run_case(const struct kev_case *c, struct test_vm *t, struct vm_outcome *out,
                                  bool quiet)
{
    memset(t, 0, sizeof(*t));
    current_case = c;
    if (c->needs_preemption_timer && kev_vmx_enable() == KEV_OK &&
        (!vmx_control_allowed(VMX_PINBASED, PIN_BASED_VMX_PREEMPTION_TIMER) ||
         cmdline_flag("kev.no_preemption_timer")))
        return ktest_skip("no VMX-preemption timer here: kev's fallback (the LAPIC timer) stops a "
                          "spinning guest only while its RFLAGS.IF is set, under Bochs");
    struct vm_config cfg = {.name = ktest_current(), .ops = &case_ops, .data = t,
                            .controllers = c->chain ? c->chain : chain, .budget_ticks = c->budget,
                            .max_exits = c->max_exits};
    struct vm *vm = vm_create(&cfg);
    if (vm == NULL)
        return ktest_fail("vm_create: out of memory");
    vm->flags |= c->vm_flags;
    vm_run(vm);
    vm_join(vm, out);

    char got[KEV_MESSAGE_MAX + 64];
    vm_outcome_describe(out, got, sizeof(got));
    if (!quiet)
        printk("%s: %lu VM exits; the VM %s\n", ktest_current(), out->exits, got);
    if (out->kind == VM_FAILED && out->error == KEV_ENOVMX)
        return ktest_skip("%s", out->message);
    if (out->kind != c->kind)
        return ktest_fail("the VM %s; expected it to %s", got,
                          c->kind == VM_EXITED ? "exit" : "fail");
    if (c->kind == VM_EXITED && !c->any_exit_code && out->exit_code != c->exit_code)
        return ktest_fail("the VM %s; expected exit code %ld", got, c->exit_code);
    if (c->kind == VM_FAILED) {
        if (out->error != c->error)
            return ktest_fail("the VM %s; expected error %s", got, kev_error_name(c->error));
        for (int i = 0; i < 3 && c->says[i]; i++) {
            size_t n = strlen(c->says[i]);
            bool found = false;
            for (const char *p = out->message; *p && !found; p++)
                found = strncmp(p, c->says[i], n) == 0;
            if (!found)
                return ktest_fail("the message \"%s\" does not say \"%s\"", out->message, c->says[i]);
        }
    }
    return KTEST_PASS;
}

#define GUEST(n) .code = kev_tg_##n, .code_end = kev_tg_##n##_end

/* One row = one KTEST. */
#define KEV_CASE(test, ...)                                                                 \
    static const struct kev_case case_##test = {__VA_ARGS__};                               \
    KTEST(test, 0)                                                                          \
    {                                                                                       \
        struct test_vm t;                                                                   \
        struct vm_outcome out;                                                              \
        return run_case(&case_##test, &t, &out, false);                                            \
    }

static enum kev_error clear_rflags(struct vm *vm, struct vcpu_state *s)
{
    return vmcs_writel(&s->vmcs, GUEST_RFLAGS, 0);
}

static enum kev_error no_exception_exits(struct vm *vm, struct vcpu_state *s)
{
    return vmcs_write32(&s->vmcs, EXCEPTION_BITMAP, 0);
}

static enum kev_error data_cs(struct vm *vm, struct vcpu_state *s)
{
    return vmcs_write32(&s->vmcs, GUEST_CS_AR_BYTES, 0xc093); /* a data segment in CS */
}

/* Invalid guest states kev's own check must name before entry (Bochs 2.7
 * would enter the first one -- a non-canonical 64-bit RIP -- and fault
 * inside the guest; a real CPU refuses the entry). */
static enum kev_error rip_noncanonical(struct vm *vm, struct vcpu_state *s)
{
    return vmcs_writel(&s->vmcs, GUEST_RIP, 0x0000800000000000ULL);
}

static enum kev_error ar_reserved_bit(struct vm *vm, struct vcpu_state *s)
{
    return vmcs_write32(&s->vmcs, GUEST_DS_AR_BYTES, 0xc093 | 0x100);
}

static enum kev_error cs_dpl_not_ss_dpl(struct vm *vm, struct vcpu_state *s)
{
    return vmcs_write32(&s->vmcs, GUEST_CS_AR_BYTES, 0xa09b | (3 << 5)); /* DPL 3, RPL 0 */
}

KEV_CASE(kev_hlt, GUEST(hlt), .kind = VM_EXITED, .exit_code = HLT_EXIT_CODE)
KEV_CASE(kev_vmcall_exit, GUEST(exit42), .kind = VM_EXITED, .exit_code = 42)
KEV_CASE(kev_vmcall_continue, GUEST(count), .kind = VM_EXITED, .exit_code = GOOD)
KEV_CASE(kev_registers, GUEST(regs), .kind = VM_EXITED, .exit_code = GOOD)
KEV_CASE(kev_unhandled_cpuid, GUEST(cpuid), .kind = VM_FAILED, .error = KEV_EUNHANDLED,
         .says = {"CPUID", "guest RIP 0x400002", "pass, test"})
KEV_CASE(kev_vm_stop, GUEST(unknown_request), .kind = VM_FAILED, .error = KEV_EHYPERCALL,
         .says = {"unknown test request 7"})
KEV_CASE(kev_guest_ud2, GUEST(ud2), .kind = VM_FAILED, .error = KEV_EGUEST_FAULT,
         .says = {"#UD", "guest RIP 0x400001"})
KEV_CASE(kev_triple_fault, GUEST(ud2), .setup = no_exception_exits, .kind = VM_FAILED,
         .error = KEV_EGUEST_FAULT, .says = {"triple-faulted", "TRIPLE_FAULT"})
KEV_CASE(kev_precheck_rflags, GUEST(hlt), .setup = clear_rflags, .kind = VM_FAILED,
         .error = KEV_EGUEST_STATE, .says = {"RFLAGS", "bit 1 must be 1", "27.3.1.4"})
KEV_CASE(kev_entry_fail_rflags, GUEST(hlt), .setup = clear_rflags, .vm_flags = VM_SKIP_PRECHECK,
         .kind = VM_FAILED, .error = KEV_EENTRY,
         .says = {"0x80000021", "invalid guest state", "RFLAGS 0x0: bit 1 must be 1"})
KEV_CASE(kev_entry_fail_cs, GUEST(hlt), .setup = data_cs, .vm_flags = VM_SKIP_PRECHECK,
         .kind = VM_FAILED, .error = KEV_EENTRY, .says = {"0x80000021", "guest CS access rights 0xc093"})

KEV_CASE(kev_precheck_ar_reserved, GUEST(hlt), .setup = ar_reserved_bit, .kind = VM_FAILED,
         .error = KEV_EGUEST_STATE, .says = {"guest DS access rights 0xc193", "reserved bits"})
KEV_CASE(kev_precheck_rip_canonical, GUEST(hlt), .setup = rip_noncanonical, .kind = VM_FAILED,
         .error = KEV_EGUEST_STATE, .says = {"guest RIP 0x800000000000 is not canonical"})
KEV_CASE(kev_precheck_cs_dpl, GUEST(hlt), .setup = cs_dpl_not_ss_dpl, .kind = VM_FAILED,
         .error = KEV_EGUEST_STATE, .says = {"DPL must equal SS's"})

/* A guest that never stops costs its VM, not the boot; a guest cannot give
 * itself host memory through CR3 or by turning paging off. */
KEV_CASE(kev_guest_spins, GUEST(spin), .budget = 2000000, .needs_preemption_timer = true,
         .kind = VM_FAILED, .error = KEV_ETIMEOUT,
         .says = {"never stops", "2000000"})
KEV_CASE(kev_guest_spins_sti, GUEST(spin_sti), .budget = 2000000, .kind = VM_FAILED,
         .error = KEV_ETIMEOUT, .says = {"never stops"})
KEV_CASE(kev_guest_exits_forever, GUEST(vmcall_loop), .max_exits = 3000, .kind = VM_FAILED,
         .error = KEV_ETIMEOUT, .says = {"more than 3000 VM exits", "RIP does not move"})
KEV_CASE(kev_cr3_reload, GUEST(cr3_reload), .kind = VM_EXITED, .exit_code = 42)
KEV_CASE(kev_cr3_attack, GUEST(cr3_attack), .kind = VM_FAILED, .error = KEV_EGUEST_PAGING,
         .says = {"loaded CR3 with 0x600000", "not its page table"})
KEV_CASE(kev_cr0_paging_off, GUEST(cr0_paging_off), .kind = VM_FAILED, .error = KEV_EGUEST_PAGING,
         .says = {"CR0", "MOV to CR0"})

/* Many VMs in one boot, and nothing leaks. */
KTEST(kev_many_vms, 0)
{
    static const struct kev_case c = {GUEST(count), .kind = VM_EXITED, .exit_code = GOOD};
    struct test_vm t;
    struct vm_outcome out;
    enum ktest_result r = run_case(&c, &t, &out, false); /* the first may turn VMX on (a page) */
    if (r != KTEST_PASS)
        return r;
    size_t before = pmm_free_pages();
    for (int i = 0; i < 200; i++) {
        if ((r = run_case(&c, &t, &out, true)) != KTEST_PASS)
            return r;
        if (t.nulls != 10)
            return ktest_fail("VM %d served %lu null vmcalls, expected 10", i, t.nulls);
    }
    size_t after = pmm_free_pages();
    if (after != before)
        return ktest_fail("200 VMs leaked %ld pages", (long)(before - after));
    return KTEST_PASS;
}

/* ---- the probe ---- */

/*
 * The layout the probe test builds, guest-virtual:
 *   0x600000  page B, 0x601000  page A  -- A is below B in host memory
 *   0x602000  not mapped
 *   0x603000  page C, read-only
 * and the guest's code at 0x400000 (read-only).
 */
#define PG_B 0x600000UL
#define PG_A 0x601000UL
#define PG_HOLE 0x602000UL
#define PG_RO 0x603000UL

static paddr_t probe_pages[3];

static enum kev_error probe_setup(struct vm *vm, struct vcpu_state *s)
{
    /* kev_guest_build mapped one data page at 0x600000: replace it. */
    enum kev_error e = kev_guest_unmap(vm, GVA(PG_B));
    if (e != KEV_OK)
        return e;
    for (int i = 0; i < 3; i++) {
        probe_pages[i] = page_alloc();
        if (probe_pages[i] == 0)
            return KEV_ENOMEM;
        uint8_t *p = (uint8_t *)(uintptr_t)probe_pages[i];
        for (int j = 0; j < (int)PAGE_SIZE; j++)
            p[j] = (uint8_t)(j + 0x40 * i);
    }
    /* probe_pages[0] < probe_pages[1]: map the higher one first. */
    if ((e = kev_guest_map(vm, GVA(PG_B), probe_pages[1], PTE_W | PTE_NX)) ||
        (e = kev_guest_map(vm, GVA(PG_A), probe_pages[0], PTE_W | PTE_NX)) ||
        (e = kev_guest_map(vm, GVA(PG_RO), probe_pages[2], PTE_NX)))
        return e;
    return KEV_OK;
}

/* The expected byte at guest address a (pages as probe_setup filled them). */
static uint8_t expect_byte(uint64_t a)
{
    int page = a >= PG_RO ? 2 : a >= PG_A ? 0 : 1;
    return (uint8_t)((a & 0xfff) + 0x40 * page);
}

struct probe_case {
    const char *what;
    uint64_t gva;
    size_t n;
    enum kev_error want;
    bool to_guest;
};

static const struct probe_case probe_cases[] = {
    {"inside one page", PG_B + 0x10, 32, KEV_OK, false},
    {"a whole page", PG_A, PAGE_SIZE, KEV_OK, false},
    {"across two pages not contiguous in the host", PG_B + PAGE_SIZE - 5, 10, KEV_OK, false},
    {"nothing (n = 0)", 0xdead000000000000UL, 0, KEV_OK, false},
    {"an unmapped page", PG_HOLE + 8, 8, KEV_EUNMAPPED, false},
    {"into an unmapped page", PG_A + PAGE_SIZE - 4, 8, KEV_EUNMAPPED, false},
    {"an address never mapped", 0x40000000UL, 1, KEV_EUNMAPPED, false},
    {"a non-canonical address", 0x0000800000000000UL, 4, KEV_ENONCANONICAL, false},
    {"into the non-canonical hole", 0x00007ffffffffff0UL, 0x20, KEV_EUNMAPPED, false},
    {"a range that wraps around", 0xfffffffffffffff0UL, 0x20, KEV_EOVERFLOW, false},
    {"a huge size", PG_B, ~0UL, KEV_EOVERFLOW, false},
    {"the read-only page", PG_RO + 100, 16, KEV_OK, false},
    {"writing a writable page", PG_A + 100, 16, KEV_OK, true},
    {"writing the read-only page", PG_RO + 100, 16, KEV_EREADONLY, true},
    {"writing the guest's code", KEV_GUEST_CODE_GVA, 1, KEV_EREADONLY, true},
};

static unsigned run_probe_checks(struct vcpu_state *s, char *report, size_t size)
{
    static uint8_t buf[PAGE_SIZE + 16];
    unsigned failures = 0;
    report[0] = '\0';
#define PROBE_FAIL(...)                                                                     \
    do {                                                                                    \
        if (!failures++)                                                                    \
            snprintf(report, size, __VA_ARGS__);                                            \
        printk(__VA_ARGS__);                                                                \
        printk("\n");                                                                       \
    } while (0)
    for (size_t i = 0; i < ARRAY_SIZE(probe_cases); i++) {
        const struct probe_case *c = &probe_cases[i];
        memset(buf, 0xee, sizeof(buf));
        enum kev_error e = c->to_guest ? probe_copy_to_guest(s, GVA(c->gva), buf, c->n)
                                       : probe_copy_from_guest(s, buf, GVA(c->gva), c->n);
        if (e != c->want) {
            PROBE_FAIL("probe %s (0x%lx, %zu bytes): got %s, expected %s", c->what, c->gva, c->n,
                       kev_error_name(e), kev_error_name(c->want));
            continue;
        }
        if (e != KEV_OK || c->to_guest)
            continue;
        for (size_t j = 0; j < c->n; j++)
            if (buf[j] != expect_byte(c->gva + j)) {
                PROBE_FAIL("probe %s: byte %zu is 0x%x, expected 0x%x", c->what, j, buf[j],
                           expect_byte(c->gva + j));
                break;
            }
    }
    /* What was written must be what is read back. */
    uint8_t back[16];
    if (probe_copy_from_guest(s, back, GVA(PG_A + 100), 16) != KEV_OK || back[0] != 0xee || back[15] != 0xee)
        PROBE_FAIL("probe: reading back what probe_copy_to_guest wrote failed");
    /* Translations, and a guest-physical address that is not the VM's. */
    gpa_t gpa;
    void *host;
    if (probe_gva_to_gpa(s, GVA(PG_B + 0x123), &gpa, NULL) != KEV_OK || gpa.addr != probe_pages[1] + 0x123)
        PROBE_FAIL("probe_gva_to_gpa(0x%lx) is not page B + 0x123", PG_B + 0x123);
    if (probe_gpa_to_host(s->vm, GPA(kernel_pml4()), 8, &host) != KEV_ENOTGUESTMEM)
        PROBE_FAIL("probe_gpa_to_host accepted the kernel's page table");
    /* Guest-physical writes: to the guest's pages, never to its page table
     * (without EPT its entries are host addresses), whose bytes stay. */
    uint64_t pml4 = kev_guest_pml4(s->vm), entry = 0, evil = 0x83; /* P, W, 1 GiB: host page 0 */
    if (probe_copy_to_gpa(s->vm, GPA(probe_pages[0] + 100), buf, 16) != KEV_OK)
        PROBE_FAIL("probe_copy_to_gpa refused page A");
    enum kev_error wrote = probe_copy_to_gpa(s->vm, GPA(pml4 + 8), &evil, 8);
    if (probe_copy_from_gpa(s->vm, &entry, GPA(pml4 + 8), 8) != KEV_OK || wrote != KEV_EREADONLY ||
        entry != 0)
        PROBE_FAIL("probe_copy_to_gpa into the guest's page table: %s, its entry 1 then 0x%lx "
                   "(expected KEV_EREADONLY, 0)", kev_error_name(wrote), entry);
    if (probe_gva_to_host(s, GVA(PG_B + 8), 8, &host) != KEV_OK ||
        host != (void *)(uintptr_t)(probe_pages[1] + 8))
        PROBE_FAIL("probe_gva_to_host(page B + 8) is wrong");
    /* A walk the probe remembers follows the table: page A unmapped, then
     * page C mapped in its place, then A again. */
    static const struct {
        paddr_t *page;
        enum kev_error want;
    } remaps[] = {{NULL, KEV_EUNMAPPED}, {&probe_pages[2], KEV_OK}, {&probe_pages[0], KEV_OK}};
    for (size_t i = 0; i < ARRAY_SIZE(remaps); i++) {
        enum kev_error e = i == 0 || remaps[i - 1].page ? kev_guest_unmap(s->vm, GVA(PG_A)) : KEV_OK;
        if (e == KEV_OK && remaps[i].page)
            e = kev_guest_map(s->vm, GVA(PG_A), *remaps[i].page, PTE_W | PTE_NX);
        if (e == KEV_OK)
            e = probe_gva_to_gpa(s, GVA(PG_A + 8), &gpa, NULL);
        if (e != remaps[i].want || (e == KEV_OK && gpa.addr != *remaps[i].page + 8))
            PROBE_FAIL("probe_gva_to_gpa(page A + 8) after remap %zu: %s, gpa 0x%lx", i,
                       kev_error_name(e), gpa.addr);
    }
    /* A guest that points CR3 at memory that is not its own gets an error,
     * not a host page fault. */
    uint64_t cr3;
    vmcs_readl(&s->vmcs, GUEST_CR3, &cr3);
    static const uint64_t bad_cr3[] = {0x7ffff000UL /* past RAM */, 0 /* page 0 */};
    for (size_t i = 0; i < ARRAY_SIZE(bad_cr3); i++) {
        vmcs_writel(&s->vmcs, GUEST_CR3, bad_cr3[i]);
        enum kev_error e = probe_copy_from_guest(s, buf, GVA(PG_B), 8);
        if (e != KEV_ENOTGUESTMEM)
            PROBE_FAIL("probe with guest CR3 0x%lx: got %s, expected KEV_ENOTGUESTMEM", bad_cr3[i],
                       kev_error_name(e));
    }
    vmcs_writel(&s->vmcs, GUEST_CR3, cr3);
#undef PROBE_FAIL
    return failures;
}

KTEST(kev_probe, 0)
{
    static const struct kev_case c = {GUEST(probe), .setup = probe_setup, .kind = VM_EXITED, .exit_code = 0};
    struct test_vm t;
    struct vm_outcome out;
    memset(probe_pages, 0, sizeof(probe_pages));
    enum ktest_result r = run_case(&c, &t, &out, false);
    for (int i = 0; i < 3; i++)
        if (probe_pages[i])
            page_free(probe_pages[i]); /* borrowed by the VM, ours to free */
    if (r != KTEST_PASS && t.probe_failures)
        return ktest_fail("%u probe checks failed; the first: %s", t.probe_failures, t.probe_report);
    return r;
}

/* ---- kept VMs ---- */

/* kev/upcall.c's functions behind two syscalls, and ring 3's poke (user/bench.c). */
enum kev_error sys_probe_copy_to_gpa(struct vm *vm, gpa_t dst, const void *src, size_t n);
uint64_t ulib_test_poke(uint64_t addr, uint64_t value);
uint64_t ulib_bench_null(uint64_t x);

/* How the keep test's vmcall handler touches the guest's data page
 * (kev_guest_build's, at PG_B) before the VM exits. */
enum keep_touch { KEEP_READ, KEEP_RING3_WRITE, KEEP_GPA_WRITE };
static enum keep_touch keep_touch;

static struct vmexit_result keep_handle(struct vmexit_controller *self, struct vcpu_state *s,
                                        union exit_reason r)
{
    gpa_t gpa;
    void *host;
    uint64_t word = 0x5eed;
    if (r.basic != EXIT_REASON_VMCALL)
        return vmexit_pass();
    if (probe_gva_to_host_gpa(s, GVA(PG_B), 8, &host, &gpa) != KEV_OK)
        return vm_stop(s->vm, KEV_EINVAL, "the data page is not mapped");
    if (keep_touch == KEEP_GPA_WRITE && sys_probe_copy_to_gpa(s->vm, gpa, &word, 8) != KEV_OK)
        return vm_stop(s->vm, KEV_EINVAL, "probe_copy_to_gpa refused the data page");
    /* Lent as the probe's syscalls lend it: writable; ring 3 writes or reads it. */
    uint64_t u = user_window_map(ALIGN_DOWN((uint64_t)(uintptr_t)host, PAGE_SIZE), true);
    if (u == 0)
        return vm_stop(s->vm, KEV_EINVAL, "the window is full");
    uint64_t at = u + ((uint64_t)(uintptr_t)host & (PAGE_SIZE - 1));
    struct user_result res = keep_touch == KEEP_RING3_WRITE
                                 ? user_call(ulib_test_poke, at, word, 0, 0)
                                 : user_call(ulib_bench_null, 0, 0, 0, 0);
    if (res.status != USER_RETURNED)
        return vm_stop(s->vm, KEV_EINVAL, "lending the data page to ring 3 failed");
    return vm_exit(s->vm, 0);
}

static enum kev_error keep_setup(struct vm *vm, struct vcpu_state *s)
{
    struct kev_guest_image img = {.code = kev_tg_exit42, .code_size = (size_t)(kev_tg_exit42_end - kev_tg_exit42)};
    return kev_guest_build(s, &img);
}

static enum kev_error keep_refresh(struct vm *vm, struct vcpu_state *s)
{
    return kev_guest_setup_flat64(s, GVA(KEV_GUEST_CODE_GVA), GVA(KEV_GUEST_STACK_TOP));
}

/* kev_guest_clear_accessed says which pages were written since it last
 * cleared them: a write through the probe counts (as the guest's own store
 * would), a read does not. A kept VM's refresh rewrites only those. */
static struct vmexit_result written_handle(struct vmexit_controller *self, struct vcpu_state *s,
                                           union exit_reason r)
{
    static const struct {
        int op; /* 0: nothing, 1: probe_copy_to_guest, 2: probe_copy_from_guest */
        bool written;
    } steps[] = {{0, false}, {1, true}, {0, false}, {2, false}, {1, true}};
    if (r.basic != EXIT_REASON_VMCALL)
        return vmexit_pass();
    uint64_t word = 0x5eed;
    for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
        enum kev_error e = steps[i].op == 1   ? probe_copy_to_guest(s, GVA(PG_B + 8), &word, 8)
                           : steps[i].op == 2 ? probe_copy_from_guest(s, &word, GVA(PG_B + 8), 8)
                                              : KEV_OK;
        bool written = !steps[i].written;
        if (e == KEV_OK)
            e = kev_guest_clear_accessed(s->vm, GVA(PG_B), &written);
        if (e != KEV_OK || written != steps[i].written)
            return vm_stop(s->vm, KEV_EINVAL, "step %zu: %s, the page %s written, expected %s", i,
                           kev_error_name(e), written ? "was" : "was not",
                           steps[i].written ? "written" : "not");
    }
    return vm_exit(s->vm, 0);
}

KTEST(kev_guest_written_pages, 0)
{
    static struct vmexit_controller ctl = {.name = "written", .handle = written_handle};
    static struct vmexit_controller *const written_chain[] = {&ctl, NULL};
    static const struct vm_state_ops ops = {.setup_bsp = keep_setup};
    struct vm_config cfg = {.name = "written", .ops = &ops, .controllers = written_chain};
    struct vm_outcome o;
    kev_run_vm(&cfg, &o);
    if (o.kind == VM_FAILED && o.error == KEV_ENOVMX)
        return ktest_skip("%s", o.message);
    if (o.kind != VM_EXITED || o.exit_code != 0)
        return ktest_fail("%s", o.message);
    return KTEST_PASS;
}

/* A VM is kept for the next case when its run left every page as the
 * refresh expects; not when student code wrote its memory itself, through
 * a page the probe lent it or with probe_copy_to_gpa. */
KTEST(kev_keep_not_after_writes, 0)
{
    static struct vmexit_controller ctl = {.name = "keep", .handle = keep_handle};
    static struct vmexit_controller *const keep_chain[] = {&ctl, NULL};
    static const struct vm_state_ops ops = {.setup_bsp = keep_setup, .refresh_bsp = keep_refresh};
    static const struct {
        enum keep_touch touch;
        bool kept;
        const char *what;
    } runs[] = {
        {KEEP_READ, true, "a run whose ring 3 only read the lent page"},
        {KEEP_READ, true, "the same again, on the kept VM"},
        {KEEP_RING3_WRITE, false, "a run whose ring 3 wrote the lent page"},
        {KEEP_READ, true, "a run after it (on a new VM)"},
        {KEEP_GPA_WRITE, false, "a run that wrote the page with probe_copy_to_gpa"},
    };
    struct vm_config cfg = {.name = "keep", .ops = &ops, .controllers = keep_chain};
    struct vm_keep keep = {0};
    enum ktest_result r = KTEST_PASS;
    for (size_t i = 0; i < ARRAY_SIZE(runs) && r == KTEST_PASS; i++) {
        struct vm_outcome o;
        keep_touch = runs[i].touch;
        kev_run_vm_kept(&cfg, 1, &keep, &o);
        if (o.kind == VM_FAILED && o.error == KEV_ENOVMX)
            r = ktest_skip("%s", o.message);
        else if (o.kind != VM_EXITED || o.exit_code != 0)
            r = ktest_fail("%s: the VM did not exit with 0 (%s)", runs[i].what, o.message);
        else if ((keep.vm != NULL) != runs[i].kept)
            r = ktest_fail("%s: the VM was %s, expected %s", runs[i].what,
                           keep.vm ? "kept" : "not kept", runs[i].kept ? "kept" : "not kept");
    }
    vm_keep_release(&keep);
    return r;
}

/* The tables' names and widths, without running a guest. */
KTEST(kev_vmcs_fields, 0)
{
    KTEST_CHECK(VMCS_FIELD_WIDTH(GUEST_RIP) == VMCS_WNATURAL);
    KTEST_CHECK(VMCS_FIELD_WIDTH(VMCS_LINK_POINTER) == VMCS_W64);
    KTEST_CHECK(VMCS_FIELD_WIDTH(VM_EXIT_REASON) == VMCS_W32);
    KTEST_CHECK(VMCS_FIELD_WIDTH(GUEST_CS_SELECTOR) == VMCS_W16);
    KTEST_CHECK(strcmp(vmcs_field_name(0x681e), "GUEST_RIP") == 0);
    KTEST_CHECK(vmcs_field_name(0x7777) == NULL);
    KTEST_CHECK(strcmp(exit_reason_name(18), "VMCALL") == 0);
    KTEST_CHECK(strcmp(exit_reason_name(35), "unknown") == 0);
    KTEST_CHECK(strcmp(exit_reason_name(65535), "unknown") == 0);
    KTEST_CHECK(strcmp(vmx_insn_error_name(7), "VM entry with invalid control field(s)") == 0);
    KTEST_CHECK(strcmp(kev_error_name(KEV_ENOVMX), "KEV_ENOVMX") == 0);
    union exit_reason r = {.full = 0x80000021};
    KTEST_CHECK(r.failed_vmentry && r.basic == EXIT_REASON_INVALID_STATE);
    return KTEST_PASS;
}

/* The PrinterProxy without a guest: every byte captured; the echo, when
 * on (kev.echo, kev/printer.h), a console line of its own, escaped, up to
 * PRINTER_ECHO_MAX bytes (tests/e2e/kernel.py reads the console both ways). */
KTEST(kev_printer, 0)
{
    struct printer out;
    KTEST_CHECK(printer_start(&out, 300) == KEV_OK);
    static const char line[] = "printer self-test\n@@ not a frame\x01\n";
    KTEST_CHECK(printer_write(&out, line, sizeof(line) - 1) == KEV_OK);
    uint8_t more[200];
    for (size_t i = 0; i < sizeof(more); i++)
        more[i] = (uint8_t)('a' + i % 26);
    KTEST_CHECK(printer_write(&out, more, sizeof(more)) == KEV_OK);
    KTEST_CHECK(printer_write(&out, more, 100) == KEV_ENOMEM && printer_full(&out));
    size_t n;
    const uint8_t *got = printer_finish(&out, &n);
    bool ok = n == sizeof(line) - 1 + sizeof(more) && memcmp(got, line, sizeof(line) - 1) == 0 &&
              memcmp(got + sizeof(line) - 1, more, sizeof(more)) == 0;
    printer_free(&out);
    KTEST_CHECK(ok);
    return KTEST_PASS;
}

/* ---- the benchmark ---- */

#define BENCH_CALLS 100000

KTEST(kev_bench_vmcall, KTEST_BENCH)
{
    static const struct kev_case c = {GUEST(bench), .rdi = BENCH_CALLS, .max_exits = 2 * BENCH_CALLS, .kind = VM_EXITED,
                                      .any_exit_code = true, .chain = bench_chain};
    struct test_vm t;
    struct vm_outcome out;
    enum ktest_result r = run_case(&c, &t, &out, false);
    if (r != KTEST_PASS)
        return r;
    if (t.nulls != BENCH_CALLS)
        return ktest_fail("%lu null vmcalls served, expected %d", t.nulls, BENCH_CALLS);
    int64_t ticks = out.exit_code;
    printk("kev_bench_vmcall: %d null vmcalls in %ld ticks (RDTSC in the guest)\n", BENCH_CALLS, ticks);
    /* Rounded to 1/100: the loop's own dec/jnz are included. */
    int64_t per100 = (ticks * 100 + BENCH_CALLS / 2) / BENCH_CALLS;
    char buf[32];
    snprintf(buf, sizeof(buf), "%ld.%02ld", per100 / 100, per100 % 100);
    ktest_data("instructions_per_vmcall", buf, strlen(buf));
    return KTEST_PASS;
}

/* The same with an upcall into ring 3 on every vmcall (a function that
 * returns its argument plus one): what running the handler deprivileged
 * adds to a round trip. */
uint64_t ulib_bench_null(uint64_t x);

static struct vmexit_result upcall_handle(struct vmexit_controller *self, struct vcpu_state *s,
                                          union exit_reason r)
{
    if (__builtin_expect(r.basic == EXIT_REASON_VMCALL && s->regs.rax == 1, 1)) {
        /* Nothing pushed: no user_frame_reset (kernel/user.h). */
        struct user_result u = user_call(ulib_bench_null, s->regs.rcx, 0, 0, 0);
        if (u.status != USER_RETURNED || u.ret[0] != s->regs.rcx + 1)
            return vm_stop(s->vm, KEV_EINVAL, "the null upcall returned %lu for %lu: %s", u.ret[0],
                           s->regs.rcx, u.message);
        ((struct test_vm *)s->data)->nulls++;
        enum kev_error e = vmcs_forward_rip(&s->vmcs);
        return e == KEV_OK ? vmexit_continue() : vm_stop(s->vm, e, "moving RIP past vmcall failed");
    }
    return test_handle_rest(s, r);
}
static struct vmexit_controller upcall_ctl = {.name = "upcall", .handle = upcall_handle};
static struct vmexit_controller *const upcall_chain[] = {&upcall_ctl, NULL};

KTEST(kev_bench_upcall, KTEST_BENCH)
{
    static const struct kev_case c = {GUEST(bench), .rdi = BENCH_CALLS, .max_exits = 2 * BENCH_CALLS, .kind = VM_EXITED,
                                      .any_exit_code = true, .chain = upcall_chain};
    struct test_vm t;
    struct vm_outcome out;
    enum ktest_result r = run_case(&c, &t, &out, false);
    if (r != KTEST_PASS)
        return r;
    if (t.nulls != BENCH_CALLS)
        return ktest_fail("%lu null vmcalls served, expected %d", t.nulls, BENCH_CALLS);
    int64_t per100 = (out.exit_code * 100 + BENCH_CALLS / 2) / BENCH_CALLS;
    char buf[32];
    snprintf(buf, sizeof(buf), "%ld.%02ld", per100 / 100, per100 % 100);
    ktest_data("instructions_per_vmcall", buf, strlen(buf));
    return KTEST_PASS;
}
