/*
 * kev's own tests of EPT (kev/ept.h): the walk and kev's map against
 * addresses at every level's edges, the check before entry against each
 * kind of bad entry, and guests on EPT: one that reads what the test put
 * in its page (the CPU walked the same tables), one that touches a page
 * the EPT leaves out, one whose read-only page it writes, and one whose
 * EPT ring 3 rewrites between two exits (kev must notice before resuming).
 * On a CPU model without EPT each test is skipped with the reason.
 */
#include "kernel/ktest.h"
#include "kernel/mm.h"
#include "kernel/string.h"
#include "kev/internal.h"

#define GUEST_DECL(n) extern const uint8_t kev_tg_##n[], kev_tg_##n##_end[];
GUEST_DECL(ept_read)
GUEST_DECL(ept_unmapped)
GUEST_DECL(ept_poke)
GUEST_DECL(ept_write)

uint64_t ulib_test_poke(uint64_t addr, uint64_t value);

static enum ktest_result need_ept(void)
{
    enum kev_error e = kev_vmx_enable();
    if (e != KEV_OK)
        return ktest_skip("%s", kev_strerror(e));
    const char *why = vmx_ept_missing();
    if (why)
        return ktest_skip("%s", why);
    return KTEST_PASS;
}

#define NEED_EPT()                                                                          \
    do {                                                                                    \
        enum ktest_result r_ = need_ept();                                                  \
        if (r_ != KTEST_PASS)                                                               \
            return r_;                                                                      \
    } while (0)

/* Addresses that differ at exactly one level each, near the top of the
 * 48-bit space, and the bottom. */
static const uint64_t edge_gpas[] = {
    0x0, 0x1000, 0x200000, 0x40000000, 0x8000000000ULL,
    0xfffffffff000ULL, 0xffffffffe000ULL, 0xffffffc00000ULL + 0x1ff000ULL,
    0xffffbffff000ULL, 0xff7ffffff000ULL, 0x7ffffffff000ULL,
};

KTEST(kev_ept_walk, 0)
{
    NEED_EPT();
    struct ept_space *sp = kev_ept_create(64);
    KTEST_CHECK(sp != NULL);
    KTEST_CHECK(kev_ept_create(64) == NULL); /* one at a time */
    KTEST_CHECK(kev_ept_current() == sp);
    paddr_t pages[ARRAY_SIZE(edge_gpas)];
    enum ktest_result r = KTEST_PASS;
    for (size_t i = 0; i < ARRAY_SIZE(edge_gpas) && r == KTEST_PASS; i++) {
        uint64_t perm = (i % 3 == 0) ? EPT_R : (i % 3 == 1) ? (EPT_R | EPT_W) : EPT_RWX;
        if (kev_ept_guest_page(sp, false, &pages[i]) != KEV_OK ||
            kev_ept_map(sp, GPA(edge_gpas[i]), pages[i], perm) != KEV_OK)
            r = ktest_fail("mapping guest-physical 0x%lx failed", edge_gpas[i]);
    }
    for (size_t i = 0; i < ARRAY_SIZE(edge_gpas) && r == KTEST_PASS; i++) {
        uint64_t perm = (i % 3 == 0) ? EPT_R : (i % 3 == 1) ? (EPT_R | EPT_W) : EPT_RWX;
        struct ept_walk w;
        uint64_t off = (i * 0x123) & 0xfff;
        enum kev_error e = kev_ept_walk(sp, GPA(edge_gpas[i] + off), &w);
        if (e != KEV_OK || w.hpa != pages[i] + off || w.perm != perm || w.memtype != 6 || w.nentries != 4)
            r = ktest_fail("walk of 0x%lx: %s, hpa 0x%lx (expected 0x%lx), perm %lu (expected %lu)",
                           edge_gpas[i] + off, kev_error_name(e), w.hpa, pages[i] + off, w.perm, perm);
        /* Its neighbour at every level is not mapped (none of the edges is
         * another's neighbour at the last level). */
        e = kev_ept_walk(sp, GPA(edge_gpas[i] ^ 0x3000), &w);
        if (r == KTEST_PASS && e != KEV_EUNMAPPED)
            r = ktest_fail("walk of 0x%lx (not mapped): %s", edge_gpas[i] ^ 0x3000, kev_error_name(e));
    }
    struct ept_walk w;
    if (r == KTEST_PASS && kev_ept_walk(sp, GPA(EPT_GPA_LIMIT), &w) != KEV_EINVAL)
        r = ktest_fail("walk of 2^48 is not KEV_EINVAL");
    if (r == KTEST_PASS && kev_ept_map(sp, GPA(edge_gpas[1]), pages[0], EPT_R) != KEV_EEXIST)
        r = ktest_fail("mapping a mapped page again is not KEV_EEXIST");
    if (r == KTEST_PASS && kev_ept_map(sp, GPA(0x5000 + 8), pages[0], EPT_R) != KEV_EINVAL)
        r = ktest_fail("an unaligned map is not KEV_EINVAL");
    char why[320];
    if (r == KTEST_PASS && !kev_ept_check(sp, why, sizeof(why)))
        r = ktest_fail("kev's own EPT fails the check: %s", why);
    if (r == KTEST_PASS && (!kev_ept_changed(sp) || kev_ept_changed(sp)))
        r = ktest_fail("kev_ept_changed: not true once, then false, after kev's maps");
    kev_ept_destroy(sp);
    if (r == KTEST_PASS && kev_ept_current() != NULL)
        r = ktest_fail("the destroyed space is still the current one");
    return r;
}

/* Each kind of entry the check refuses, written by hand into a good EPT. */
KTEST(kev_ept_check_refuses, 0)
{
    NEED_EPT();
    static const struct {
        const char *what;
        int level;      /* the entry to spoil: 1 = the leaf */
        int target;     /* 0: a kernel page; 1: a table page; 2: a guest page; 3: large */
        const char *says;
    } cases[] = {
        /* The walk does not look at the page a leaf names: the check does. */
        {"a leaf naming kernel memory", 1, 0, "not memory of this VM"},
        {"a leaf naming a table of the EPT", 1, 1, "own tables"},
        {"a page-directory entry naming a guest page", 2, 2, "not a table page"},
        {"a page-directory entry naming kernel memory", 2, 0, "not a table page"},
        {"a large page in the page directory", 2, 3, "large page"},
        {"bit 7 in the root", 4, 3, "reserved in the root"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ept_space *sp = kev_ept_create(16);
        KTEST_CHECK(sp != NULL);
        paddr_t page;
        enum ktest_result r = KTEST_PASS;
        if (kev_ept_guest_page(sp, false, &page) != KEV_OK ||
            kev_ept_map(sp, GPA(0x200000), page, EPT_RWX) != KEV_OK)
            r = ktest_fail("setting up the EPT failed");
        /* The entry at cases[i].level on 0x200000's path. */
        uint64_t *t = (uint64_t *)(uintptr_t)kev_ept_root(sp), *e = NULL;
        for (int level = 4; r == KTEST_PASS && level >= 1; level--) {
            e = &t[(0x200000 >> (12 + 9 * (level - 1))) & 511];
            if (level == cases[i].level)
                break;
            t = (uint64_t *)(uintptr_t)(*e & EPT_ADDR_MASK);
        }
        if (r == KTEST_PASS) {
            uint64_t keep = *e & 0xfff;
            if (cases[i].target == 0)
                *e = ALIGN_DOWN((uint64_t)(uintptr_t)&cases, PAGE_SIZE) | keep;
            else if (cases[i].target == 1)
                *e = kev_ept_root(sp) | keep;
            else if (cases[i].target == 2)
                *e = page | keep;
            else
                *e |= EPT_LARGE;
            char why[320];
            if (kev_ept_check(sp, why, sizeof(why)))
                r = ktest_fail("%s: the check lets it through", cases[i].what);
            else if (!strstr(why, cases[i].says))
                r = ktest_fail("%s: the check says \"%s\", not \"%s\"", cases[i].what, why, cases[i].says);
            struct ept_walk w;
            if (r == KTEST_PASS && cases[i].level > 1 && kev_ept_walk(sp, GPA(0x200000), &w) != KEV_EEPT)
                r = ktest_fail("%s: the walk does not refuse it", cases[i].what);
        }
        kev_ept_destroy(sp);
        if (r != KTEST_PASS)
            return r;
    }
    return KTEST_PASS;
}

/* --- guests on EPT ----------------------------------------------------------- */

struct ept_case {
    const uint8_t *code, *code_end;
    uint64_t data_perm;        /* the EPT's permissions of the data page */
    uint64_t value;            /* the data page's first word */
    enum vm_outcome_kind kind;
    int64_t exit_code;
    enum kev_error error;
    const char *says[2];
};

static struct {
    const struct ept_case *c;
    struct ept_space *sp;
    uint64_t poke_at, poke_value; /* request 5's rewrite (a user address) */
} cur;

/* Guest-physical layout: the guest's tables from 0x1000, code at 0x200000,
 * data at 0x201000, stack at 0x202000; 0x700000 is mapped by the guest's
 * table to guest-physical 0x300000, which the EPT leaves out. The host
 * pages are wherever page_alloc put them: never at their guest address. */
static enum kev_error ept_setup(struct vm *vm, struct vcpu_state *s)
{
    const struct ept_case *c = cur.c;
    struct ept_space *sp = cur.sp;
    struct gpt g;
    paddr_t code, data, stack;
    KEV_TRY(gpt_init(&g, sp, GPA(0x1000), gpt_kev_map, sp));
    KEV_TRY(kev_ept_guest_page(sp, false, &code));
    KEV_TRY(kev_ept_guest_page(sp, false, &data));
    KEV_TRY(kev_ept_guest_page(sp, false, &stack));
    memcpy((void *)(uintptr_t)code, c->code, (size_t)(c->code_end - c->code));
    *(uint64_t *)(uintptr_t)data = c->value;
    KEV_TRY(kev_ept_map(sp, GPA(0x200000), code, EPT_R | EPT_X));
    KEV_TRY(kev_ept_map(sp, GPA(0x201000), data, c->data_perm));
    KEV_TRY(kev_ept_map(sp, GPA(0x202000), stack, EPT_R | EPT_W));
    KEV_TRY(gpt_map(&g, GVA(0x400000), GPA(0x200000), 0));
    KEV_TRY(gpt_map(&g, GVA(0x600000), GPA(0x201000), PTE_W | PTE_NX));
    KEV_TRY(gpt_map(&g, GVA(0x7ff000), GPA(0x202000), PTE_W | PTE_NX));
    KEV_TRY(gpt_map(&g, GVA(0x700000), GPA(0x300000), PTE_W | PTE_NX));
    /* Request 5 rewrites the data page's leaf to name a kernel page. */
    uint64_t *t = (uint64_t *)(uintptr_t)kev_ept_root(sp);
    for (int level = 4; level > 1; level--)
        t = (uint64_t *)(uintptr_t)(t[(0x201000 >> (12 + 9 * (level - 1))) & 511] & EPT_ADDR_MASK);
    cur.poke_at = (uint64_t)(uintptr_t)phys_to_virt((paddr_t)(uintptr_t)t) + ((0x201000 >> 12) & 511) * 8;
    cur.poke_value = ALIGN_DOWN((uint64_t)(uintptr_t)&cur, PAGE_SIZE) | EPT_RWX | EPT_MT_WB;
    KEV_TRY(kev_guest_setup_flat64(s, GVA(0x400000), GVA(0x800000)));
    return vmcs_writel(&s->vmcs, GUEST_CR3, gpt_root(&g).addr);
}

static struct vmexit_result ept_handle(struct vmexit_controller *self, struct vcpu_state *s,
                                       union exit_reason r)
{
    if (r.basic != EXIT_REASON_VMCALL)
        return vmexit_pass();
    if (s->regs.rax == 0)
        return vm_exit(s->vm, (int64_t)s->regs.rdi);
    if (s->regs.rax == 5) {
        struct user_result u = user_call(ulib_test_poke, cur.poke_at, cur.poke_value, 0, 0);
        if (u.status != USER_RETURNED)
            return vm_stop(s->vm, KEV_ESTUDENT, "the poke stopped: %s", u.message);
        enum kev_error e = vmcs_forward_rip(&s->vmcs);
        return e == KEV_OK ? vmexit_continue() : vm_stop(s->vm, e, "forward_rip failed");
    }
    return vm_stop(s->vm, KEV_EHYPERCALL, "unknown request %lu", s->regs.rax);
}

static struct vmexit_controller ept_ctl = {.name = "ept-test", .handle = ept_handle};
static struct vmexit_controller *const ept_chain[] = {&ept_ctl, NULL};
static const struct vm_state_ops ept_ops = {.setup_bsp = ept_setup};

static enum ktest_result run_ept_case(const char *name, const struct ept_case *c)
{
    cur.c = c;
    cur.sp = kev_ept_create(64);
    if (cur.sp == NULL)
        return ktest_fail("no EPT space");
    struct vm_config config = {.name = name, .ops = &ept_ops, .controllers = ept_chain, .ept = cur.sp};
    struct vm_outcome o;
    kev_run_vm(&config, &o);
    kev_ept_destroy(cur.sp);
    char got[KEV_MESSAGE_MAX + 64];
    vm_outcome_describe(&o, got, sizeof(got));
    if (o.kind != c->kind)
        return ktest_fail("%s: the VM %s", name, got);
    if (o.kind == VM_EXITED && o.exit_code != c->exit_code)
        return ktest_fail("%s: the VM %s, expected code %ld", name, got, c->exit_code);
    if (o.kind == VM_FAILED) {
        if (o.error != c->error)
            return ktest_fail("%s: the VM %s, expected %s", name, got, kev_error_name(c->error));
        for (int i = 0; i < 2; i++)
            if (c->says[i] && !strstr(o.message, c->says[i]))
                return ktest_fail("%s: the message lacks \"%s\": %s", name, c->says[i], got);
    }
    return KTEST_PASS;
}

#define EPT_CASE(test, ...)                                                                 \
    KTEST(test, 0)                                                                          \
    {                                                                                       \
        NEED_EPT();                                                                         \
        static const struct ept_case c = __VA_ARGS__;                                       \
        return run_ept_case(#test, &c);                                                     \
    }

EPT_CASE(kev_ept_guest_reads, {kev_tg_ept_read, kev_tg_ept_read_end, EPT_R | EPT_W, 0x5eed1234abcdULL,
                               VM_EXITED, 0x5eed1234abcdLL, KEV_OK, {NULL, NULL}})
EPT_CASE(kev_ept_guest_unmapped, {kev_tg_ept_unmapped, kev_tg_ept_unmapped_end, EPT_R | EPT_W, 0,
                                  VM_FAILED, 0, KEV_EEPT_VIOLATION,
                                  {"a read of guest-physical 0x300000", "not mapped"}})
EPT_CASE(kev_ept_guest_writes_readonly, {kev_tg_ept_write, kev_tg_ept_write_end, EPT_R, 0, VM_FAILED, 0,
                                         KEV_EEPT_VIOLATION,
                                         {"a write of guest-physical 0x201000", "allows r--"}})
EPT_CASE(kev_ept_rewritten_by_ring3, {kev_tg_ept_poke, kev_tg_ept_poke_end, EPT_R | EPT_W, 7, VM_FAILED, 0,
                                      KEV_EEPT, {"guest-physical 0x201000", "not memory of this VM"}})
