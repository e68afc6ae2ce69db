/*
 * Project 3's tests: the one place each is defined (P3_TEST: name, rubric
 * category, weight, cases per run, what it checks, and a function drawing
 * one case). The harness (kev/gtest.h) runs the cases and compares byte
 * for byte.
 *
 * Most EPT tests are a script of calls into the student's functions. Each
 * call's result is printed as one line, followed, for ept_map and
 * ept_unmap, by what the EPT then maps at that address as the CPU would
 * read the student's tables (kev_ept_walk); the model's lines for the same
 * script are what must be printed, so a diff points at the first call
 * that went wrong. ept_translate and ept_gva_to_hpa run on tables kev
 * builds itself, so each function is tested apart from the others.
 *
 * Test data (docs/instructors.md, "Test data"): addresses from the whole
 * 48-bit guest-physical space, with the edges first (0, the top page,
 * addresses that differ from another at exactly one level, every offset
 * bit for alignment), every permission set, every page size, every bit of
 * a guest entry the walk must ignore; expectations come from the model or
 * from kev's own walk, never from the code under test.
 */
#include "kernel/ktest.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/x86.h"
#include "kev/gtest.h"
#include "project3/vm.h"
#include "project3/mmio_insn.h"
#include "guests/guests.h"

/* --- a script of calls ------------------------------------------------------- */

enum op_kind { OP_MAP, OP_UNMAP, OP_TRANSLATE, OP_GVA };

struct op {
    uint8_t kind;
    uint8_t access;  /* OP_GVA */
    uint64_t gpa;    /* OP_GVA: the gva */
    uint64_t hpa;
    uint64_t perm;
    uint64_t cr3;    /* OP_GVA */
};

#define OPS_MAX 700
#define MAPS_MAX 700
#define GVA_TABLES_MAX 96

/* The case being drawn and run. */
static struct {
    struct op ops[OPS_MAX];
    size_t nops;
    size_t max_tables;      /* the EPT's table pages (0: 1024) */
    bool execute_only;      /* struct ept's, for the student */
    struct ept_space *sp;   /* kev built it (translate, gva), or NULL: run makes a fresh one */
    bool vm;                /* a guest on the student's EPT (cs.vmc) */
    /* A loader case: runs itself (loader tests, at the end of this file). */
    void (*run)(struct printer *out, struct vm_outcome *o);
    struct p3_vm_config vmc;
    uint8_t pages[P3_DATA_PAGES][PAGE_SIZE];
} cs;

/* The model of the student's EPT (map and unmap scripts). */
static struct {
    struct {
        uint64_t gpa, hpa, perm;
    } m[MAPS_MAX];
    size_t n;
} model;

static const char *const access_names[] = {"read", "write", "fetch"};

static void perm_text(uint64_t perm, char *buf, size_t size)
{
    if (perm & ~EPT_RWX) {
        snprintf(buf, size, "0x%lx", perm);
        return;
    }
    char p[4];
    kev_ept_perm_name(perm, p);
    strlcpy(buf, p, size);
}

static long model_find(uint64_t gpa)
{
    for (size_t i = 0; i < model.n; i++)
        if (model.m[i].gpa == gpa)
            return (long)i;
    return -1;
}

/* "0x0000000abcd000 rw- WB", "not mapped", or the walk's complaint. */
static void ept_state(struct ept_space *sp, uint64_t gpa, char *buf, size_t size)
{
    if (gpa >= EPT_GPA_LIMIT) {
        strlcpy(buf, "-", size);
        return;
    }
    struct ept_walk w;
    enum kev_error e = kev_ept_walk(sp, GPA(ALIGN_DOWN(gpa, PAGE_SIZE)), &w);
    char p[4];
    kev_ept_perm_name(w.perm, p);
    if (e == KEV_OK && w.memtype == 6)
        snprintf(buf, size, "0x%013lx %s WB", w.hpa, p);
    else if (e == KEV_OK)
        snprintf(buf, size, "0x%013lx %s memory type %lu (not 6, WB)", w.hpa, p, w.memtype);
    else if (e == KEV_EUNMAPPED)
        strlcpy(buf, "not mapped", size);
    else
        strlcpy(buf, w.problem, size);
}

static void model_state(uint64_t gpa, char *buf, size_t size)
{
    if (gpa >= EPT_GPA_LIMIT) {
        strlcpy(buf, "-", size);
        return;
    }
    long i = model_find(ALIGN_DOWN(gpa, PAGE_SIZE));
    if (i < 0) {
        strlcpy(buf, "not mapped", size);
        return;
    }
    char p[4];
    kev_ept_perm_name(model.m[i].perm, p);
    snprintf(buf, size, "0x%013lx %s WB", model.m[i].hpa, p);
}

/* The call's words, before its result. */
static void op_text(const struct op *o, char *buf, size_t size)
{
    char p[24];
    switch (o->kind) {
    case OP_MAP:
        perm_text(o->perm, p, sizeof(p));
        snprintf(buf, size, "ept_map(gpa 0x%012lx, hpa 0x%013lx, %s)", o->gpa, o->hpa, p);
        break;
    case OP_UNMAP:
        snprintf(buf, size, "ept_unmap(gpa 0x%012lx)", o->gpa);
        break;
    case OP_TRANSLATE:
        snprintf(buf, size, "ept_translate(gpa 0x%012lx)", o->gpa);
        break;
    default:
        snprintf(buf, size, "ept_gva_to_hpa(cr3 0x%lx, gva 0x%016lx, %s)", o->cr3, o->gpa,
                 access_names[o->access]);
    }
}

static void expect_line(struct gtest_case *c, const char *fmt, ...) __printf(2, 3);
static void expect_line(struct gtest_case *c, const char *fmt, ...)
{
    char line[320];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    gtest_expect_print(c, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* --- the model: what each call must return ------------------------------------- */

static enum kev_error model_check_gpa(uint64_t gpa)
{
    if (gpa & (PAGE_SIZE - 1))
        return KEV_EALIGN;
    if (gpa >= EPT_GPA_LIMIT)
        return KEV_EINVAL;
    return KEV_OK;
}

static bool perm_ok(uint64_t perm, bool execute_only)
{
    return perm != 0 && !(perm & ~EPT_RWX) && !((perm & EPT_W) && !(perm & EPT_R)) &&
           !(perm == EPT_X && !execute_only);
}

/* The model's tables: which prefixes (levels 3, 2, 1 below the root) exist. */
static struct {
    uint64_t p[3][MAPS_MAX];
    size_t n[3];
} tables;

static bool has_prefix(int l, uint64_t p)
{
    for (size_t i = 0; i < tables.n[l]; i++)
        if (tables.p[l][i] == p)
            return true;
    return false;
}

/* How many tables a map of gpa would allocate. */
static size_t tables_needed(uint64_t gpa)
{
    size_t n = 0;
    for (int l = 0; l < 3; l++)
        n += !has_prefix(l, gpa >> (39 - 9 * l));
    return n;
}

static void add_prefixes(uint64_t gpa)
{
    for (int l = 0; l < 3; l++) {
        uint64_t p = gpa >> (39 - 9 * l);
        if (!has_prefix(l, p) && tables.n[l] < MAPS_MAX)
            tables.p[l][tables.n[l]++] = p;
    }
}

static size_t tables_used(void)
{
    return 1 + tables.n[0] + tables.n[1] + tables.n[2];
}

static enum kev_error model_map(const struct op *o)
{
    if ((o->gpa | o->hpa) & (PAGE_SIZE - 1))
        return KEV_EALIGN;
    if (o->gpa >= EPT_GPA_LIMIT || o->hpa >= (1ULL << 52))
        return KEV_EINVAL;
    if (!perm_ok(o->perm, cs.execute_only))
        return KEV_EPERM;
    if (model_find(o->gpa) >= 0)
        return KEV_EEXIST;
    size_t limit = cs.max_tables ? cs.max_tables : 1024;
    if (tables_used() + tables_needed(o->gpa) > limit)
        return KEV_ENOMEM;
    add_prefixes(o->gpa);
    model.m[model.n].gpa = o->gpa;
    model.m[model.n].hpa = o->hpa;
    model.m[model.n].perm = o->perm;
    model.n++;
    return KEV_OK;
}

static enum kev_error model_unmap(const struct op *o)
{
    enum kev_error e = model_check_gpa(o->gpa);
    if (e != KEV_OK)
        return e;
    long i = model_find(o->gpa);
    if (i < 0)
        return KEV_EUNMAPPED;
    model.m[i] = model.m[--model.n];
    return KEV_OK;
}

/*
 * The reference of ept_gva_to_hpa, on kev's walk of the EPT (ept.h's
 * contract, in its order).
 */
static enum kev_error ref_read(struct ept_space *sp, uint64_t gpa, uint64_t *val)
{
    struct ept_walk w;
    if (kev_ept_walk(sp, GPA(gpa), &w) != KEV_OK || !(w.perm & EPT_R))
        return KEV_ENOTGUESTMEM;
    *val = *(const uint64_t *)(uintptr_t)w.hpa;
    return KEV_OK;
}

static enum kev_error ref_gva(struct ept_space *sp, uint64_t cr3, uint64_t gva, unsigned access,
                              paddr_t *hpa)
{
    if ((uint64_t)((int64_t)(gva << 16) >> 16) != gva)
        return KEV_ENONCANONICAL;
    uint64_t table = cr3 & PTE_ADDR_MASK, w = PTE_W, nx = 0;
    for (int level = 4; level >= 1; level--) {
        uint64_t e = 0;
        KEV_TRY(ref_read(sp, table + ((gva >> (12 + 9 * (level - 1))) & 511) * 8, &e));
        if (!(e & PTE_P))
            return KEV_EUNMAPPED;
        w &= e;
        nx |= e & PTE_NX;
        if (level > 1 && !(level <= 3 && (e & PTE_PS))) {
            table = e & PTE_ADDR_MASK;
            continue;
        }
        if (access == GUEST_WRITE && !w)
            return KEV_EREADONLY;
        if (access == GUEST_FETCH && nx)
            return KEV_ENOEXEC;
        uint64_t off = (1ULL << (12 + 9 * (level - 1))) - 1;
        struct ept_walk ew;
        if (kev_ept_walk(sp, GPA((e & PTE_ADDR_MASK & ~off) | (gva & off)), &ew) != KEV_OK)
            return KEV_ENOTGUESTMEM;
        *hpa = ew.hpa;
        return KEV_OK;
    }
    return KEV_EUNMAPPED;
}

/* The expected line of one call, and the model's step. */
static void expect_op(struct gtest_case *c, const struct op *o)
{
    char call[160], state[200];
    op_text(o, call, sizeof(call));
    enum kev_error e;
    switch (o->kind) {
    case OP_MAP:
        e = model_map(o);
        model_state(o->gpa, state, sizeof(state));
        expect_line(c, "%s = %s; the EPT maps it to %s\n", call, kev_error_name(e), state);
        break;
    case OP_UNMAP:
        e = model_unmap(o);
        model_state(o->gpa, state, sizeof(state));
        expect_line(c, "%s = %s; the EPT maps it to %s\n", call, kev_error_name(e), state);
        break;
    case OP_TRANSLATE: {
        struct ept_walk w;
        e = kev_ept_walk(cs.sp, GPA(o->gpa), &w);
        char p[4];
        kev_ept_perm_name(w.perm, p);
        if (e == KEV_OK)
            expect_line(c, "%s = KEV_OK, hpa 0x%013lx, %s\n", call, w.hpa, p);
        else
            expect_line(c, "%s = %s\n", call, kev_error_name(e));
        break;
    }
    default: {
        paddr_t hpa = 0;
        e = ref_gva(cs.sp, o->cr3, o->gpa, o->access, &hpa);
        if (e == KEV_OK)
            expect_line(c, "%s = KEV_OK, hpa 0x%013lx\n", call, hpa);
        else
            expect_line(c, "%s = %s\n", call, kev_error_name(e));
    }
    }
}

/* --- running a script against the student's code ---------------------------------- */

static void out_line(struct printer *out, const char *fmt, ...) __printf(2, 3);
static void out_line(struct printer *out, const char *fmt, ...)
{
    char line[480];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    printer_write(out, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* One call; false when the student's code stopped (the line says so). */
static bool run_op(const struct ept *ept, struct ept_space *sp, const struct op *o, struct printer *out,
                   struct vm_outcome *oc)
{
    char call[160], state[200];
    op_text(o, call, sizeof(call));
    struct ept_call r;
    switch (o->kind) {
    case OP_MAP:
        r = p3_call_map(ept, GPA(o->gpa), o->hpa, o->perm);
        break;
    case OP_UNMAP:
        r = p3_call_unmap(ept, GPA(o->gpa));
        break;
    case OP_TRANSLATE:
        r = p3_call_translate(ept, GPA(o->gpa));
        break;
    default:
        r = p3_call_gva(ept, o->cr3, GVA(o->gpa), (enum guest_access)o->access);
    }
    if (r.error == KEV_ESTUDENT) {
        out_line(out, "%s: your code stopped: %s\n", call, r.why);
        oc->kind = VM_FAILED;
        oc->error = KEV_ESTUDENT;
        snprintf(oc->message, sizeof(oc->message), "%s: %s", call, r.why);
        return false;
    }
    if (o->kind == OP_MAP || o->kind == OP_UNMAP) {
        ept_state(sp, o->gpa, state, sizeof(state));
        out_line(out, "%s = %s; the EPT maps it to %s\n", call, kev_error_name(r.error), state);
    } else if (r.error == KEV_OK && o->kind == OP_TRANSLATE) {
        char p[24];
        perm_text(r.perm, p, sizeof(p));
        out_line(out, "%s = KEV_OK, hpa 0x%013lx, %s\n", call, r.hpa, p);
    } else if (r.error == KEV_OK) {
        out_line(out, "%s = KEV_OK, hpa 0x%013lx\n", call, r.hpa);
    } else {
        out_line(out, "%s = %s\n", call, kev_error_name(r.error));
    }
    return true;
}

static void run_script(struct printer *out, struct vm_outcome *oc)
{
    memset(oc, 0, sizeof(*oc));
    oc->kind = VM_EXITED;
    struct ept_space *sp = cs.sp ? cs.sp : kev_ept_create(cs.max_tables ? cs.max_tables : 1024);
    if (sp == NULL) {
        oc->kind = VM_FAILED;
        oc->error = KEV_ENOMEM;
        strlcpy(oc->message, "no memory for the case's EPT", sizeof(oc->message));
        return;
    }
    struct ept ept = p3_ept_of(sp);
    ept.execute_only = cs.execute_only;
    for (size_t i = 0; i < cs.nops; i++)
        if (!run_op(&ept, sp, &cs.ops[i], out, oc))
            break;
    kev_ept_destroy(sp);
    cs.sp = NULL;
}

static void p3_run(const struct gtest *t, struct gtest_case *c, struct printer *out, struct vm_outcome *o)
{
    if (cs.run) {
        cs.run(out, o);
        return;
    }
    if (cs.vm) {
        p3_vm_run(&cs.vmc, out, o);
        return;
    }
    run_script(out, o);
}

/* Every case starts from nothing: a space a failed case left is freed. */
static void reset_case(void)
{
    if (cs.sp)
        kev_ept_destroy(cs.sp);
    memset(&cs.ops, 0, sizeof(cs.ops));
    cs.nops = 0;
    cs.max_tables = 0;
    cs.execute_only = false;
    cs.sp = NULL;
    cs.vm = false;
    cs.run = NULL;
    memset(&cs.vmc, 0, sizeof(cs.vmc));
    model.n = 0;
    memset(&tables.n, 0, sizeof(tables.n));
}

typedef enum ktest_result (*p3_prepare_fn)(struct gtest_case *c);

static enum ktest_result p3_prepare(struct gtest_case *c, p3_prepare_fn fn)
{
    reset_case();
    enum ktest_result r = fn(c);
    if (r == KTEST_PASS && !cs.vm && !cs.run) {
        for (size_t i = 0; i < cs.nops; i++)
            expect_op(c, &cs.ops[i]);
        gtest_expect_exit(c, 0);
    }
    return r;
}

#define P3_TEST_AS(graded, id, category, weight, ncases, description)                     \
    static enum ktest_result p3_prep_##id(struct gtest_case *c);                          \
    static enum ktest_result p3_wrap_##id(const struct gtest *t, struct gtest_case *c)    \
    {                                                                                     \
        return p3_prepare(c, p3_prep_##id);                                               \
    }                                                                                     \
    graded(id, 3, category, weight, description)                                         \
    {                                                                                     \
        static const struct gtest t = {#id, ncases, NULL, p3_wrap_##id, p3_run};          \
        return gtest_run(&t);                                                             \
    }                                                                                     \
    static enum ktest_result p3_prep_##id(struct gtest_case *c)
#define P3_TEST(...) P3_TEST_AS(KTEST_GRADED, __VA_ARGS__)
#define P3_TEST_HIDDEN(...) P3_TEST_AS(KTEST_GRADED_HIDDEN, __VA_ARGS__)

/* --- drawing ---------------------------------------------------------------------- */

static void add_op(uint8_t kind, uint64_t gpa, uint64_t hpa, uint64_t perm)
{
    if (cs.nops < OPS_MAX)
        cs.ops[cs.nops++] = (struct op){.kind = kind, .gpa = gpa, .hpa = hpa, .perm = perm};
}

/* Page-aligned addresses that differ from 0xfffffffff000 (the top page)
 * at exactly one level each, the bottom, and pages one table apart. */
static const uint64_t gpa_edges[] = {
    0xfffffffff000ULL, 0x0, 0x7ffffffff000ULL, 0xff7ffffff000ULL, 0xffffbffff000ULL,
    0xffffffdff000ULL, 0xffffffffe000ULL, 0x1000, 0x200000, 0x40000000, 0x8000000000ULL,
    0x1ff000, 0x3ffff000,
};

static uint64_t random_gpa(struct gtest_case *c)
{
    switch (rng_next(&c->rng) % 4) {
    case 0: /* anywhere */
        return rng_next(&c->rng) & (EPT_GPA_LIMIT - PAGE_SIZE);
    case 1: /* low memory, where guests live */
        return rng_range(&c->rng, 0, 0xfffff) << 12;
    case 2: /* near a drawn edge */
        return (gpa_edges[rng_next(&c->rng) % ARRAY_SIZE(gpa_edges)] ^ (rng_range(&c->rng, 0, 511) << 12)) &
               (EPT_GPA_LIMIT - PAGE_SIZE);
    default: /* one table with its neighbours */
        return 0x7f12345000ULL + (rng_range(&c->rng, 0, 1023) << 12);
    }
}

static uint64_t random_hpa(struct gtest_case *c)
{
    return rng_next(&c->rng) & ((1ULL << 52) - PAGE_SIZE) & (rng_next(&c->rng) % 2 ? ~0ULL : 0xffffffffffULL);
}

static const uint64_t valid_perms[] = {EPT_R, EPT_R | EPT_W, EPT_R | EPT_X, EPT_RWX};

static uint64_t random_perm(struct gtest_case *c)
{
    return valid_perms[rng_next(&c->rng) % ARRAY_SIZE(valid_perms)];
}

/* --- EPT: ept_map ------------------------------------------------------------------- */

P3_TEST(p3_ept_map, "EPT", 8, 10,
        "ept_map of pages across the whole 48-bit space (the top page, pages that differ at "
        "exactly one level, neighbours in one table), each checked in your tables as the CPU "
        "reads them")
{
    unsigned n = 12 + (unsigned)rng_range(&c->rng, 0, 40);
    for (unsigned i = 0; i < n; i++) {
        uint64_t gpa = (c->index == 0 && i < ARRAY_SIZE(gpa_edges)) ? gpa_edges[i] : random_gpa(c);
        if (model_find(gpa) >= 0) {
            i--;
            continue;
        }
        add_op(OP_MAP, gpa, random_hpa(c), random_perm(c));
        model.m[model.n++].gpa = gpa; /* drawn: not drawn again (the model restarts below) */
    }
    model.n = 0;
    gtest_input(c, "maps=%u first=0x%lx", n, cs.ops[0].gpa);
    return KTEST_PASS;
}

P3_TEST(p3_ept_map_errors, "EPT", 5, 12,
        "ept_map's errors, one at a time and the first in ept.h's order when several apply: "
        "KEV_EALIGN for every offset bit of gpa and hpa, KEV_EINVAL from 2^48 (gpa) and 2^52 "
        "(hpa) up, KEV_EEXIST for a page mapped already (which stays as it was)")
{
    uint64_t gpa = random_gpa(c), hpa = random_hpa(c);
    add_op(OP_MAP, gpa, hpa, EPT_R | EPT_W);
    unsigned bit = c->index % 12;
    add_op(OP_MAP, gpa | (1ULL << bit), hpa, EPT_R);                 /* gpa unaligned */
    add_op(OP_MAP, random_gpa(c) + PAGE_SIZE, hpa | (1ULL << (11 - bit)), EPT_R); /* hpa unaligned */
    add_op(OP_MAP, gpa + rng_range(&c->rng, 1, 0xfff), hpa + 1, EPT_R); /* both */
    static const uint64_t big_gpa[] = {EPT_GPA_LIMIT, EPT_GPA_LIMIT + PAGE_SIZE, 1ULL << 63,
                                       0xfffffffffffff000ULL, 0x0001000000001000ULL};
    add_op(OP_MAP, big_gpa[c->index % ARRAY_SIZE(big_gpa)], hpa, EPT_R);
    static const uint64_t big_hpa[] = {1ULL << 52, 0xfffffffffffff000ULL, 1ULL << 63, 0x0010000000001000ULL};
    add_op(OP_MAP, random_gpa(c) ^ 0x2000, big_hpa[c->index % ARRAY_SIZE(big_hpa)], EPT_R);
    add_op(OP_MAP, EPT_GPA_LIMIT | 0x10, hpa, EPT_R);          /* unaligned and too big: EALIGN */
    add_op(OP_MAP, gpa, random_hpa(c), EPT_RWX);                /* mapped already */
    add_op(OP_MAP, gpa, hpa, 0);                                 /* mapped already, bad perm: EPERM */
    add_op(OP_MAP, gpa ^ 0x1000, hpa, EPT_R);                   /* its neighbour is free */
    add_op(OP_MAP, gpa ^ 0x1000, hpa ^ 0x1000, EPT_R);          /* and now taken */
    gtest_input(c, "gpa=0x%lx hpa=0x%lx offset_bit=%u", gpa, hpa, bit);
    return KTEST_PASS;
}

P3_TEST(p3_ept_perms, "EPT", 4, 4,
        "ept_map with every permission value 0 to 15 and bits beyond R/W/X, on a CPU with and "
        "without execute-only pages: the supported sets are mapped as asked, the others are "
        "KEV_EPERM")
{
    cs.execute_only = c->index % 2;
    uint64_t base = random_gpa(c) & ~0xfffffULL;
    for (uint64_t p = 0; p < 16; p++)
        add_op(OP_MAP, base + p * PAGE_SIZE, random_hpa(c), p);
    static const uint64_t odd[] = {EPT_R | (1ULL << 3), EPT_R | EPT_MT_WB, EPT_R | EPT_LARGE,
                                   EPT_RWX | (1ULL << 8), EPT_R | (1ULL << 63), EPT_R | (1ULL << 12)};
    for (size_t i = 0; i < ARRAY_SIZE(odd); i++)
        add_op(OP_MAP, base + (16 + i) * PAGE_SIZE, random_hpa(c), odd[i]);
    gtest_input(c, "execute_only=%d base=0x%lx", cs.execute_only, base);
    return KTEST_PASS;
}

/* --- EPT: ept_unmap ----------------------------------------------------------------- */

P3_TEST(p3_ept_unmap, "EPT", 5, 8,
        "ept_unmap of mapped pages, of pages never mapped, twice, of neighbours of mapped "
        "ones, unaligned and past 2^48; a page unmapped can be mapped again")
{
    uint64_t gpas[24];
    unsigned n = 8 + (unsigned)rng_range(&c->rng, 0, 16);
    for (unsigned i = 0; i < n; i++) {
        gpas[i] = (c->index == 0 && i < ARRAY_SIZE(gpa_edges)) ? gpa_edges[i] : random_gpa(c);
        for (unsigned j = 0; j < i; j++)
            if (gpas[j] == gpas[i])
                gpas[i] ^= 0x5000;
        add_op(OP_MAP, gpas[i], random_hpa(c), random_perm(c));
    }
    add_op(OP_UNMAP, gpas[0] ^ 0x200000, 0, 0);     /* another page directory: no table */
    add_op(OP_UNMAP, gpas[0] ^ (1ULL << 39), 0, 0); /* another PML4 entry */
    for (unsigned i = 0; i < n; i++) {
        unsigned k = (unsigned)rng_range(&c->rng, 0, 3);
        if (k == 0)
            continue;
        add_op(OP_UNMAP, gpas[i], 0, 0);
        if (k >= 2)
            add_op(OP_UNMAP, gpas[i], 0, 0);        /* twice */
        if (k == 3)
            add_op(OP_MAP, gpas[i], random_hpa(c), random_perm(c)); /* again */
    }
    add_op(OP_UNMAP, gpas[1] | (1ULL << rng_range(&c->rng, 0, 11)), 0, 0);
    add_op(OP_UNMAP, EPT_GPA_LIMIT + (rng_range(&c->rng, 0, 1000) << 12), 0, 0);
    add_op(OP_UNMAP, gpas[2] ^ 0x1000, 0, 0);       /* the neighbour in the same table */
    gtest_input(c, "maps=%u first=0x%lx", n, gpas[0]);
    return KTEST_PASS;
}

/* --- EPT: ept_translate -------------------------------------------------------------- */

/* kev's EPT of the case: n random maps, then some table entries allowing
 * less than everything (the walk must AND them). */
static enum ktest_result kev_builds(struct gtest_case *c, unsigned n, uint64_t *gpas)
{
    cs.sp = kev_ept_create(1024);
    if (cs.sp == NULL)
        return ktest_fail("no EPT space");
    for (unsigned i = 0; i < n; i++) {
        gpas[i] = (c->index == 0 && i < ARRAY_SIZE(gpa_edges)) ? gpa_edges[i] : random_gpa(c);
        uint64_t perm = rng_next(&c->rng) % 5 == 0 ? EPT_X : random_perm(c);
        enum kev_error e = kev_ept_map(cs.sp, GPA(gpas[i]), random_hpa(c), perm);
        if (e == KEV_EEXIST)
            i--;
        else if (e != KEV_OK)
            return ktest_fail("kev_ept_map: %s", kev_error_name(e));
    }
    static const uint64_t masks[] = {EPT_R, EPT_R | EPT_W, EPT_R | EPT_X, EPT_X};
    for (unsigned k = 0; k < n / 3; k++) {
        uint64_t gpa = gpas[rng_range(&c->rng, 0, n - 1)];
        int level = (int)rng_range(&c->rng, 2, 4);
        uint64_t *t = (uint64_t *)(uintptr_t)kev_ept_root(cs.sp);
        for (int l = 4; l > level; l--)
            t = (uint64_t *)(uintptr_t)(t[(gpa >> (12 + 9 * (l - 1))) & 511] & EPT_ADDR_MASK);
        uint64_t *e = &t[(gpa >> (12 + 9 * (level - 1))) & 511];
        *e = (*e & ~EPT_RWX) | masks[rng_next(&c->rng) % ARRAY_SIZE(masks)];
    }
    return KTEST_PASS;
}

P3_TEST(p3_ept_translate, "EPT", 6, 8,
        "ept_translate of any byte of mapped pages (the offset kept, the permissions of all "
        "four levels ANDed), of addresses that differ from a mapped one at exactly one level, "
        "and from 2^48 up")
{
    uint64_t gpas[40];
    unsigned n = 10 + (unsigned)rng_range(&c->rng, 0, 30);
    enum ktest_result r = kev_builds(c, n, gpas);
    if (r != KTEST_PASS)
        return r;
    for (unsigned i = 0; i < n; i++) {
        add_op(OP_TRANSLATE, gpas[i] | rng_range(&c->rng, 0, 0xfff), 0, 0);
        if (i % 2)
            add_op(OP_TRANSLATE, gpas[i] | 0xfff, 0, 0);
        unsigned level = (unsigned)rng_range(&c->rng, 1, 4);
        add_op(OP_TRANSLATE, gpas[i] ^ (1ULL << (12 + 9 * (level - 1) + rng_range(&c->rng, 0, 8))), 0, 0);
    }
    add_op(OP_TRANSLATE, EPT_GPA_LIMIT + rng_range(&c->rng, 0, 0xffff), 0, 0);
    add_op(OP_TRANSLATE, ~0ULL, 0, 0);
    gtest_input(c, "mapped=%u first=0x%lx", n, gpas[0]);
    return KTEST_PASS;
}

/* --- EPT: ept_gva_to_hpa ------------------------------------------------------------- */

/* The guest's page table of a gva case: table pages (guest pages of the
 * space at guest-physical addresses the case draws). */
static struct {
    unsigned n;
    uint64_t gpa[GVA_TABLES_MAX];
    uint64_t *host[GVA_TABLES_MAX];
} gt;

static uint64_t *gt_table(uint64_t gpa)
{
    for (unsigned i = 0; i < gt.n; i++)
        if (gt.gpa[i] == gpa)
            return gt.host[i];
    return NULL;
}

/* A fresh table at a random guest-physical page; EPT-mapped read/write
 * unless the case spoils it (`how`: 0 fine, 1 not mapped, 2 execute-only). */
static uint64_t gt_new(struct gtest_case *c, unsigned how)
{
    if (gt.n == GVA_TABLES_MAX)
        return 0;
    paddr_t page;
    if (kev_ept_guest_page(cs.sp, false, &page) != KEV_OK)
        return 0;
    uint64_t gpa;
    do
        gpa = random_gpa(c);
    while (gt_table(gpa) || gpa == 0);
    if (how != 1 && kev_ept_map(cs.sp, GPA(gpa), page, how == 2 ? EPT_X : EPT_R | EPT_W) != KEV_OK)
        return 0;
    gt.gpa[gt.n] = gpa;
    gt.host[gt.n] = (uint64_t *)(uintptr_t)page;
    gt.n++;
    return gpa;
}

/* Bits of a guest entry the walk ignores: A, D, U, G, 11:9, 62:52. */
static uint64_t ignored_bits(struct gtest_case *c)
{
    return rng_next(&c->rng) & (0x7ff0000000000000ULL | 0xe00 | (1 << 5) | (1 << 6) | (1 << 2) | (1 << 8));
}

static uint64_t canonical_gva(struct gtest_case *c)
{
    uint64_t v = rng_next(&c->rng) & 0x0000fffffffff000ULL;
    return (v & (1ULL << 47)) ? (v | 0xffff000000000000ULL) : v;
}

/*
 * One gva's path, made or reused: page size (level 1 = 4 KiB, 2 = 2 MiB,
 * 3 = 1 GiB), the flags of each new entry drawn (W, NX, the ignored bits;
 * a spoiled case clears P, or W, or sets NX on the way), and the data
 * page mapped in the EPT to a random host address unless the case leaves
 * it out.
 */
static uint64_t gt_path(struct gtest_case *c, uint64_t root, uint64_t gva, int leaf_level, unsigned spoil)
{
    uint64_t table = root;
    int spoil_level = (int)rng_range(&c->rng, leaf_level, 4);
    for (int level = 4; level >= leaf_level; level--) {
        uint64_t *t = gt_table(table);
        if (t == NULL)
            return 0;
        uint64_t *e = &t[(gva >> (12 + 9 * (level - 1))) & 511];
        bool here = level == spoil_level;
        if (level > leaf_level) {
            if (!(*e & PTE_P)) {
                uint64_t next = gt_new(c, here && spoil == 4 ? 1 : here && spoil == 5 ? 2 : 0);
                if (next == 0)
                    return 0;
                *e = next | PTE_P | (rng_next(&c->rng) % 4 ? PTE_W : 0) |
                     (rng_next(&c->rng) % 5 ? 0 : PTE_NX) | ignored_bits(c);
            }
            if (here && spoil == 1)
                *e &= ~PTE_P;
            if (here && spoil == 2)
                *e &= ~PTE_W;
            if (here && spoil == 3)
                *e |= PTE_NX;
            table = *e & PTE_ADDR_MASK;
            continue;
        }
        uint64_t size = 1ULL << (12 + 9 * (leaf_level - 1));
        uint64_t data = (rng_next(&c->rng) & (EPT_GPA_LIMIT - 1)) & ~(size - 1);
        *e = data | PTE_P | (rng_next(&c->rng) % 3 ? PTE_W : 0) | (rng_next(&c->rng) % 3 ? 0 : PTE_NX) |
             ignored_bits(c) | (leaf_level > 1 ? PTE_PS | (rng_next(&c->rng) % 2 ? (1ULL << 12) : 0) : 0);
        if (here && spoil == 1)
            *e &= ~PTE_P;
        if (here && spoil == 2)
            *e &= ~PTE_W;
        if (here && spoil == 3)
            *e |= PTE_NX;
        return *e & PTE_ADDR_MASK & ~(size - 1); /* the page's guest-physical address */
    }
    return 0;
}

P3_TEST(p3_ept_gva, "EPT", 7, 10,
        "ept_gva_to_hpa through guest page tables in guest memory: 4 KiB, 2 MiB and 1 GiB "
        "pages, both halves of the address space, every error of ept.h (a guest table the EPT "
        "does not map, P = 0, R/W = 0 on a write, XD on a fetch, a page the EPT leaves out), "
        "the bits a walk ignores set at random")
{
    cs.sp = kev_ept_create(1024);
    if (cs.sp == NULL)
        return ktest_fail("no EPT space");
    gt.n = 0;
    uint64_t root = gt_new(c, 0);
    if (root == 0)
        return ktest_fail("no page for the guest's PML4");
    uint64_t cr3 = root | (rng_next(&c->rng) & 0xfff);
    unsigned n = 10 + (unsigned)rng_range(&c->rng, 0, 10);
    for (unsigned i = 0; i < n; i++) {
        uint64_t gva = canonical_gva(c);
        int leaf = (int)rng_range(&c->rng, 1, 3);
        unsigned spoil = c->index == 0 ? 0 : (unsigned)rng_range(&c->rng, 0, 10);
        if (spoil > 6)
            spoil = 0; /* most paths are good */
        uint64_t size = 1ULL << (12 + 9 * (leaf - 1));
        uint64_t data = gt_path(c, root, gva, leaf, spoil);
        for (unsigned a = 0; a < 3; a++) {
            /* Anywhere in the (large) page, and the EPT maps the 4 KiB page
             * of it the query lands on, unless spoil 6 leaves it out: a
             * large page's address bits must be its entry's 51:21 or 51:30
             * exactly, not its PAT bit. */
            uint64_t at = (gva & ~(size - 1)) | (rng_next(&c->rng) & (size - 1));
            if (data && spoil != 6)
                kev_ept_map(cs.sp, GPA(ALIGN_DOWN(data | (at & (size - 1)), PAGE_SIZE)), random_hpa(c),
                            random_perm(c));
            if (cs.nops < OPS_MAX)
                cs.ops[cs.nops++] = (struct op){.kind = OP_GVA, .access = (uint8_t)a, .gpa = at, .cr3 = cr3};
        }
    }
    static const uint64_t noncanonical[] = {0x0000800000000000ULL, 0x7fff000000000000ULL,
                                            0xffff7fffffffffffULL, 0x8000000000000000ULL};
    cs.ops[cs.nops++] = (struct op){.kind = OP_GVA, .gpa = noncanonical[c->index % 4], .cr3 = cr3};
    gtest_input(c, "cr3=0x%lx queries=%u tables=%u", cr3, n, gt.n);
    return KTEST_PASS;
}

/* --- EPT: running out of table pages ------------------------------------------------ */

P3_TEST(p3_ept_enomem, "EPT", 2, 4,
        "ept_map when ept_table_alloc() runs dry: KEV_ENOMEM, the page not mapped, and maps "
        "into tables that exist still work")
{
    cs.max_tables = 4 + (size_t)rng_range(&c->rng, 0, 6);
    uint64_t base = random_gpa(c) & ~0x3fffffffULL; /* a 1 GiB region: one PDPT entry */
    uint64_t first = base;
    /* Fill: a new page directory each until the limit stops one. */
    for (unsigned i = 0; i < 12; i++)
        add_op(OP_MAP, base + ((uint64_t)i << 21) + (rng_range(&c->rng, 0, 511) << 12), random_hpa(c),
               random_perm(c));
    /* Into the first page table: no table needed. */
    for (unsigned i = 0; i < 3; i++)
        add_op(OP_MAP, first + ((i + 1ULL) << 12), random_hpa(c), random_perm(c));
    gtest_input(c, "max_tables=%zu base=0x%lx", cs.max_tables, base);
    /* After the first KEV_ENOMEM only maps into existing tables may follow:
     * what a failed map left allocated is the student's choice. */
    return KTEST_PASS;
}

/* --- EPT: a guest on your EPT --------------------------------------------------------- */

/* Guest-physical addresses a guest can use: below its MAXPHYADDR (bits
 * above it in a guest entry are reserved). */
static uint64_t guest_gpa(struct gtest_case *c, uint64_t *taken, unsigned ntaken)
{
    unsigned maxphy = cpuid(0x80000008, 0).eax & 0xff;
    if (maxphy < 32 || maxphy > 48)
        maxphy = 36;
    for (;;) {
        uint64_t g = (rng_next(&c->rng) & ((1ULL << maxphy) - 1)) & ~(PAGE_SIZE - 1);
        if (rng_next(&c->rng) % 2)
            g &= 0xfffffff000ULL & ((1ULL << maxphy) - 1);
        bool clash = g < 0x10000;
        for (unsigned i = 0; i < ntaken; i++)
            clash |= taken[i] == g || (taken[i] <= g + 64 * PAGE_SIZE && g <= taken[i] + 64 * PAGE_SIZE);
        if (!clash)
            return g;
    }
}

P3_TEST(p3_ept_guest, "EPT", 3, 4,
        "a guest runs on the EPT your ept_map builds (its code, stack, page tables and data "
        "at guest-physical addresses drawn anywhere): it prints its pages' bytes and copies "
        "between them, and every byte must come out as the test put it")
{
    cs.vm = true;
    struct p3_vm_config *v = &cs.vmc;
    v->guest = "ept";
    uint64_t taken[8];
    unsigned nt = 0;
    uint64_t *slots[] = {&v->tables_gpa, &v->code_gpa, &v->params_gpa, &v->stack_gpa};
    for (unsigned i = 0; i < ARRAY_SIZE(slots); i++) {
        *slots[i] = guest_gpa(c, taken, nt);
        taken[nt++] = *slots[i];
    }
    uint64_t data = guest_gpa(c, taken, nt);
    v->ndata = P3_DATA_PAGES;
    /* The data pages: odd ones writable, each at its own random place near data. */
    static uint8_t now[P3_DATA_PAGES][PAGE_SIZE];
    for (unsigned i = 0; i < P3_DATA_PAGES; i++) {
        rng_bytes(&c->rng, cs.pages[i], PAGE_SIZE);
        memcpy(now[i], cs.pages[i], PAGE_SIZE);
        v->data[i].gpa = data + (uint64_t)i * 3 * PAGE_SIZE; /* never neighbours */
        v->data[i].perm = i % 2 ? EPT_R | EPT_W : EPT_R;
        v->data[i].pte_flags = (i % 2 ? PTE_W : 0) | PTE_NX;
        v->data[i].bytes = cs.pages[i];
    }
    /* Operations: prints of reads, copies into the writable pages. */
    struct p3_params *p = &v->params;
    unsigned nops = 6 + (unsigned)rng_range(&c->rng, 0, 20);
    for (unsigned k = 0; k < nops && p->nops < P3_OPS_MAX; k++) {
        unsigned src = (unsigned)rng_range(&c->rng, 0, P3_DATA_PAGES - 1);
        uint64_t off = rng_range(&c->rng, 0, PAGE_SIZE - 1), len = rng_range(&c->rng, 1, PAGE_SIZE - off);
        if (rng_next(&c->rng) % 3 == 0) {
            unsigned dst = (unsigned)rng_range(&c->rng, 0, P3_DATA_PAGES / 2 - 1) * 2 + 1;
            uint64_t doff = rng_range(&c->rng, 0, PAGE_SIZE - len);
            p->ops[p->nops].op = P3_OP_COPY;
            p->ops[p->nops].a = P3_DATA + src * PAGE_SIZE + off;
            p->ops[p->nops].b = P3_DATA + dst * PAGE_SIZE + doff;
            p->ops[p->nops].len = len;
            p->nops++;
            /* rep movsb copies forward a byte at a time: on an overlap
             * it repeats bytes, unlike memmove. */
            for (uint64_t b = 0; b < len; b++)
                now[dst][doff + b] = now[src][off + b];
            /* and print what arrived */
            off = doff;
            src = dst;
        }
        p->ops[p->nops].op = P3_OP_PRINT;
        p->ops[p->nops].a = P3_DATA + src * PAGE_SIZE + off;
        p->ops[p->nops].len = len;
        p->nops++;
        gtest_expect_print(c, now[src] + off, len);
    }
    gtest_input(c, "code_gpa=0x%lx tables_gpa=0x%lx data_gpa=0x%lx ops=%lu", v->code_gpa,
                v->tables_gpa, data, p->nops);
    gtest_expect_exit(c, 0);
    return KTEST_PASS;
}

/* --- hidden ------------------------------------------------------------------------------ */

#ifdef KEVLAB_HIDDEN /* hidden tests: instructors only (docs/instructors.md) */
P3_TEST_HIDDEN(p3_ept_dense, "EPT", 2, 3,
               "a page table's pages mapped densely (its upper half, every one), with both "
               "neighbours of the table, then every other one unmapped and some mapped again")
{
    uint64_t base = random_gpa(c) & ~0x1fffffULL;
    for (unsigned i = 256; i < 512; i++)
        add_op(OP_MAP, base + (uint64_t)i * PAGE_SIZE, random_hpa(c), random_perm(c));
    add_op(OP_MAP, (base - PAGE_SIZE) & (EPT_GPA_LIMIT - PAGE_SIZE), random_hpa(c), EPT_R);
    add_op(OP_MAP, (base + 512 * PAGE_SIZE) & (EPT_GPA_LIMIT - PAGE_SIZE), random_hpa(c), EPT_R);
    for (unsigned i = 256; i < 512; i += 2)
        add_op(OP_UNMAP, base + (uint64_t)i * PAGE_SIZE, 0, 0);
    for (unsigned i = 256; i < 512; i += 16)
        add_op(OP_MAP, base + (uint64_t)i * PAGE_SIZE, random_hpa(c), EPT_RWX);
    gtest_input(c, "base=0x%lx", base);
    return KTEST_PASS;
}
#endif

/* --- MMIO ------------------------------------------------------------------------------- */

/*
 * The MMIO tests run guests/project3/mmio.asm: a chain of steps, each one
 * MOV of a form of MMIO_FORMS (project3/guest.h) to or from the printer's
 * page, with every register set before it and checked after it. The VM's
 * memory is mapped by kev (your EPT is not under test here); the printer
 * page is in the guest's page table only. The model below plays both the
 * printer of mmio.h and the CPU: what each access reads, what the load
 * leaves in its register (an 8- or 16-bit load keeps the rest, a 32-bit
 * one clears bits 63:32), what each doorbell prints, and the one error a
 * bad access stops the VM with.
 *
 * Guest-physical layout of a case (R drawn per case below the guest's
 * MAXPHYADDR, away from the printer's page): the guest's page tables at
 * R, code, parameters and stack at R + 0x10000.., the chain's two pages
 * at R + 0x20000, and the buffers' MMIO_BUF_PAGES pages at R + 0x40000,
 * contiguous guest-physically, apart in host memory, with unmapped pages
 * on either side.
 */
#define MMIO_CHAIN_WORDS (P3_MMIO_CHAIN_PAGES * PAGE_SIZE / 8)
#define MMIO_BUF_PAGES (P3_DATA_PAGES - P3_MMIO_CHAIN_PAGES)
#define MMIO_BUF_OFFSET 0x40000

struct mmio_form {
    int8_t store, size, reg, high8;
    uint64_t imm;
    int8_t base, index, scale;
    int64_t disp;
    int fixed;
};
static const struct mmio_form mmio_forms[] = {
#define MMIO_FORM_ROW(st, sz, r, h, im, b, i, sc, d, f) \
    {st, sz, r, h, (uint64_t)(int64_t)(im), b, i, sc, d, f},
    MMIO_FORMS(MMIO_FORM_ROW)
#undef MMIO_FORM_ROW
};
_Static_assert(ARRAY_SIZE(mmio_forms) == MMIO_NFORMS, "one row a form");

/* The printer's registers, as the model knows them. */
static const struct {
    uint64_t off;
    unsigned size;
} mmio_regs[] = {{0x00, 8}, {0x08, 4}, {0x10, 1}};

static uint64_t mask_of(unsigned size)
{
    return size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

/* The case being drawn: the chain, the registers, the printer model. */
static struct {
    const struct mmio_guest_header *h;
    uint64_t *chain;     /* cs.pages[0..1] as words */
    size_t words;        /* used */
    unsigned steps;
    uint64_t regs[16];   /* the registers after the last step (x86 numbering) */
    uint64_t buffer;     /* the printer */
    uint32_t length;
    bool ended;          /* a step stops the VM: nothing may follow */
    uint64_t r, buf_gpa; /* the layout: R, and the first buffer page's gpa */
} mm;

/* The guest's header, checked against MMIO_FORMS with kev's decoder. */
static enum ktest_result mmio_header(void)
{
    const struct guest_image *img = guest_find("project3/mmio");
    if (img == NULL)
        return ktest_fail("there is no guest project3/mmio (guests/project3/mmio.asm)");
    const struct mmio_guest_header *h = (const void *)(img->start + 8);
    size_t size = (size_t)(img->end - img->start);
    if (h->magic != P3_MMIO_MAGIC || h->nforms != MMIO_NFORMS)
        return ktest_fail("guests/project3/mmio.asm: no header at P3_CODE + 8, or not %u forms",
                          (unsigned)MMIO_NFORMS);
    for (unsigned i = 0; i < MMIO_NFORMS; i++) {
        const struct mmio_form *f = &mmio_forms[i];
        uint64_t at = h->form[i] - P3_CODE;
        struct mmio_insn in;
        const char *why = at < size ? mmio_insn_decode(img->start + at, size - at, &in) : "outside";
        bool fixed_ok = f->fixed < 0 ||
                        (in.base == MMIO_REG_RIP ? h->form[i] + in.len + (uint64_t)in.disp
                                                 : (uint64_t)in.disp) == P3_MMIO + (uint64_t)f->fixed;
        bool operand_ok = f->fixed >= 0 || (in.base == f->base && in.index == f->index &&
                                            (f->index < 0 || in.scale == f->scale) && in.disp == f->disp);
        if (why || in.store != f->store || in.size != f->size || in.high8 != (bool)f->high8 ||
            (f->reg < 0 ? !in.has_imm || (in.imm & mask_of(in.size)) != (f->imm & mask_of(in.size))
                        : in.reg != f->reg) ||
            !fixed_ok || !operand_ok)
            return ktest_fail("guests/project3/mmio.asm's form_%u is not row %u of MMIO_FORMS "
                              "(project3/guest.h)%s%s", i, i, why ? ": " : "", why ? why : "");
    }
    mm.h = h;
    return KTEST_PASS;
}

static void mmio_link_word(uint64_t w)
{
    if (mm.words < MMIO_CHAIN_WORDS)
        mm.chain[mm.words++] = w;
}

/* Whether form f can reach printer offset off (an index-only form needs
 * off - disp to be a multiple of its scale). */
static bool form_reaches(const struct mmio_form *f, uint64_t off)
{
    if (f->fixed >= 0)
        return (uint64_t)f->fixed == off;
    if (f->base < 0)
        return ((P3_MMIO + off - (uint64_t)f->disp) % (uint64_t)f->scale) == 0;
    return true;
}

/* A random form for the access (store, size, off); imm forms only when
 * any value will do (want_any) or the imm is the value. -1: none. */
static int pick_form(struct gtest_case *c, bool store, unsigned size, uint64_t off, bool want_any,
                     uint64_t value)
{
    int ok[MMIO_NFORMS], n = 0;
    for (int i = 0; i < (int)MMIO_NFORMS; i++) {
        const struct mmio_form *f = &mmio_forms[i];
        if (f->store != store || (unsigned)f->size != size || !form_reaches(f, off))
            continue;
        if (f->reg < 0 && !want_any && (f->imm & mask_of(size)) != (value & mask_of(size)))
            continue;
        ok[n++] = i;
    }
    return n ? ok[rng_range(&c->rng, 0, (uint64_t)n - 1)] : -1;
}

/* What the doorbell does now, by the model: prints, or the error. */
static enum kev_error mmio_model_ring(struct gtest_case *c)
{
    if (mm.length > MMIO_PRINTER_MAX)
        return KEV_EINVAL;
    if (mm.length == 0)
        return KEV_OK;
    if (mm.buffer + (mm.length - 1) < mm.buffer)
        return KEV_EOVERFLOW;
    uint64_t end = mm.buf_gpa + MMIO_BUF_PAGES * PAGE_SIZE;
    if (mm.buffer < mm.buf_gpa || mm.buffer + mm.length > end)
        return KEV_ENOTGUESTMEM; /* the tests put error buffers only where nothing is mapped */
    size_t room = c->capture_capacity ? c->capture_capacity : PRINTER_CAPACITY;
    if (room < c->expect_len + mm.length)
        return KEV_ENOMEM;
    uint64_t at = mm.buffer - mm.buf_gpa;
    gtest_expect_print(c, cs.pages[P3_MMIO_CHAIN_PAGES] + at, mm.length); /* pages are one array */
    return KEV_OK;
}

/*
 * One step: form f (-1: pick one) accesses printer offset off with size
 * bytes; a store writes value. Adds the link and the model's outcome;
 * false when the case can take no more steps.
 */
static bool mmio_step(struct gtest_case *c, int f, bool store, unsigned size, uint64_t off,
                      uint64_t value)
{
    if (mm.ended || mm.steps >= P3_MMIO_STEPS_MAX)
        return false;
    if (f < 0)
        f = pick_form(c, store, size, off, false, value);
    if (f < 0)
        return false;
    const struct mmio_form *fm = &mmio_forms[f];
    /* The registers before: random, but for the address and the value. */
    uint64_t *r = mm.regs;
    for (int i = 0; i < 16; i++)
        r[i] = rng_next(&c->rng);
    uint64_t target = P3_MMIO + off;
    if (fm->fixed < 0) {
        uint64_t idx = fm->index >= 0 ? rng_next(&c->rng) : 0;
        if (fm->base < 0) {
            idx = (target - (uint64_t)fm->disp) / (uint64_t)fm->scale;
        } else {
            if (fm->index >= 0 && rng_next(&c->rng) % 2)
                idx &= 0xffff; /* small indexes too */
            r[fm->base] = target - (uint64_t)fm->disp - idx * (uint64_t)fm->scale;
        }
        if (fm->index >= 0)
            r[fm->index] = idx;
    }
    if (store && fm->reg >= 0) {
        if (fm->high8)
            r[fm->reg - 4] = (r[fm->reg - 4] & ~0xff00ULL) | (value & 0xff) << 8;
        else
            r[fm->reg] = (r[fm->reg] & ~mask_of(size)) | (value & mask_of(size));
    } else if (store) {
        value = fm->imm;
    }
    value &= mask_of(size);
    mmio_link_word(mm.h->load);
    for (int i = 0; i < 16; i++)
        if (i != 4)
            mmio_link_word(r[i]);
    mmio_link_word(mm.h->form[f]);
    mmio_link_word(mm.h->verify);

    /* The printer model. */
    size_t reg = 0;
    while (reg < ARRAY_SIZE(mmio_regs) && mmio_regs[reg].off != off)
        reg++;
    enum kev_error e = KEV_OK;
    if (reg == ARRAY_SIZE(mmio_regs) || mmio_regs[reg].size != size) {
        e = KEV_EMMIO;
    } else if (store) {
        if (reg == 0)
            mm.buffer = value;
        else if (reg == 1)
            mm.length = (uint32_t)value;
        else
            e = mmio_model_ring(c);
    } else {
        uint64_t v = reg == 0 ? mm.buffer : reg == 1 ? mm.length : 0;
        if (fm->high8)
            r[fm->reg - 4] = (r[fm->reg - 4] & ~0xff00ULL) | (v & 0xff) << 8;
        else if (size >= 4)
            r[fm->reg] = v & mask_of(size);
        else
            r[fm->reg] = (r[fm->reg] & ~mask_of(size)) | (v & mask_of(size));
    }
    for (int i = 0; i < 16; i++)
        if (i != 4)
            mmio_link_word(r[i]);
    mm.steps++;
    if (e != KEV_OK) {
        gtest_expect_error(c, e);
        mm.ended = true;
    }
    return true;
}

/* A store of value to register reg (0 buffer, 1 length, 2 doorbell) in a random form. */
static bool mmio_store(struct gtest_case *c, unsigned reg, uint64_t value)
{
    return mmio_step(c, -1, true, mmio_regs[reg].size, mmio_regs[reg].off, value);
}

static bool mmio_load(struct gtest_case *c, unsigned reg)
{
    return mmio_step(c, -1, false, mmio_regs[reg].size, mmio_regs[reg].off, 0);
}

/* The case's VM: layout, pages, the chain begun. */
static enum ktest_result mmio_begin(struct gtest_case *c)
{
    if (mm.h == NULL) {
        enum ktest_result r = mmio_header();
        if (r != KTEST_PASS)
            return r;
    }
    const struct mmio_guest_header *h = mm.h;
    memset(&mm, 0, sizeof(mm));
    mm.h = h;
    cs.vm = true;
    struct p3_vm_config *v = &cs.vmc;
    v->guest = "mmio";
    v->mmio = true;
    unsigned maxphy = cpuid(0x80000008, 0).eax & 0xff;
    if (maxphy < 32 || maxphy > 48)
        maxphy = 36;
    do
        mm.r = (rng_next(&c->rng) & ((1ULL << maxphy) - 1)) & ~0xfffffULL;
    while (mm.r < 0x100000 || (mm.r <= MMIO_PRINTER_BASE + 0x100000 && MMIO_PRINTER_BASE <= mm.r + 0x100000));
    v->tables_gpa = mm.r;
    v->code_gpa = mm.r + 0x10000;
    v->params_gpa = mm.r + 0x11000;
    v->stack_gpa = mm.r + 0x12000;
    mm.buf_gpa = mm.r + MMIO_BUF_OFFSET;
    v->ndata = P3_DATA_PAGES;
    for (unsigned i = 0; i < P3_DATA_PAGES; i++) {
        bool chain = i < P3_MMIO_CHAIN_PAGES;
        v->data[i].gpa = chain ? mm.r + 0x20000 + i * PAGE_SIZE
                               : mm.buf_gpa + (i - P3_MMIO_CHAIN_PAGES) * PAGE_SIZE;
        v->data[i].perm = EPT_R;
        v->data[i].pte_flags = PTE_NX;
        v->data[i].bytes = cs.pages[i];
        if (chain)
            memset(cs.pages[i], 0, PAGE_SIZE);
        else
            rng_bytes(&c->rng, cs.pages[i], PAGE_SIZE);
    }
    mm.chain = (uint64_t *)(void *)cs.pages[0];
    return KTEST_PASS;
}

/* The chain's end: done; the exit the model expects unless a step stops. */
static void mmio_end(struct gtest_case *c)
{
    mmio_link_word(mm.h->done);
    if (!mm.ended)
        gtest_expect_exit(c, 0);
}

/* A buffer's gpa in the case's buffer pages: offset at, len bytes fit. */
static uint64_t mmio_buf(uint64_t at)
{
    return mm.buf_gpa + at;
}

static const uint64_t len_edges[] = {0, 1, MMIO_PRINTER_MAX, PAGE_SIZE - 1, 2};

/* One print: buffer, length, doorbell, each in a random form. */
static void mmio_print(struct gtest_case *c, uint64_t at, uint32_t len)
{
    mmio_store(c, 0, mmio_buf(at));
    mmio_store(c, 1, len);
    mmio_store(c, 2, rng_next(&c->rng));
}

#define MMIO_BEGIN(c)                                                                   \
    do {                                                                                \
        enum ktest_result r_ = mmio_begin(c);                                           \
        if (r_ != KTEST_PASS)                                                           \
            return r_;                                                                  \
    } while (0)

P3_TEST(p3_mmio_hello, "MMIO", 3, 1,
        "the guest writes the buffer's guest-physical address and length to the printer's "
        "registers and rings the doorbell: \"Hello mmio!\\n\" is printed")
{
    MMIO_BEGIN(c);
    static const char hello[] = "Hello mmio!\n";
    uint64_t at = 0x100 + rng_range(&c->rng, 0, PAGE_SIZE);
    memcpy(cs.pages[P3_MMIO_CHAIN_PAGES] + at, hello, sizeof(hello) - 1);
    mmio_step(c, 0, true, 8, 0x00, mmio_buf(at));        /* mov [rsi], rax */
    mmio_step(c, 1, true, 4, 0x08, sizeof(hello) - 1);   /* mov [rdi], ecx */
    mmio_step(c, 16, true, 1, 0x10, 1);                  /* mov byte [rdi], 1 */
    mmio_end(c);
    gtest_input(c, "buffer=0x%lx", mmio_buf(at));
    return KTEST_PASS;
}

P3_TEST(p3_mmio_print, "MMIO", 6, 5,
        "doorbells of random buffers (every byte value, lengths 0, 1 and up to 4096, anywhere in "
        "the buffer pages, so that many cross a guest page), the registers written in every "
        "MOV form of their size, a length kept or rewritten between doorbells")
{
    MMIO_BEGIN(c);
    unsigned prints = c->index == 0 ? ARRAY_SIZE(len_edges) : 2 + (unsigned)rng_range(&c->rng, 0, 4);
    uint64_t span = MMIO_BUF_PAGES * PAGE_SIZE;
    for (unsigned k = 0; k < prints; k++) {
        uint32_t len = (uint32_t)(c->index == 0 && k < ARRAY_SIZE(len_edges) ? len_edges[k]
                                  : rng_range(&c->rng, 0, MMIO_PRINTER_MAX));
        uint64_t at = rng_range(&c->rng, 0, span - len);
        if (k == 1 && len > 0) /* one crosses a page for sure */
            at = ALIGN_DOWN(rng_range(&c->rng, PAGE_SIZE, span - PAGE_SIZE), PAGE_SIZE) -
                 rng_range(&c->rng, 1, len < PAGE_SIZE ? len : PAGE_SIZE - 1);
        if (at + len > span)
            at = span - len;
        if (k > 0 && rng_next(&c->rng) % 4 == 0) {
            mmio_store(c, 0, mmio_buf(at)); /* the length kept */
            if (mm.length <= MMIO_PRINTER_MAX && at + mm.length <= span)
                mmio_store(c, 2, rng_next(&c->rng));
            continue;
        }
        mmio_print(c, at, len);
    }
    mmio_end(c);
    gtest_input(c, "prints=%u buffers_gpa=0x%lx", prints, mm.buf_gpa);
    return KTEST_PASS;
}

P3_TEST(p3_mmio_read, "MMIO", 6, 5,
        "reads of each register in every MOV form of its size return what was last written (0 "
        "before any write; the doorbell always 0), into the destination register as the CPU "
        "does: an 8-bit load keeps the rest of the register, a 32-bit one clears bits 63:32; "
        "every other register unchanged")
{
    MMIO_BEGIN(c);
    /* Before any write: all read 0. */
    for (unsigned reg = 0; reg < 3; reg++)
        mmio_load(c, reg);
    while (mm.steps + 3 <= P3_MMIO_STEPS_MAX) {
        unsigned reg = (unsigned)rng_range(&c->rng, 0, 2);
        if (rng_next(&c->rng) % 2) {
            /* A store in any form, its value random (imm forms: their own). */
            uint64_t v = rng_next(&c->rng);
            if (reg == 2)
                v = 0; /* the doorbell prints: length 0 */
            if (reg == 1 && c->index == 0)
                v = 0xffffffff; /* every bit of the length */
            int f = pick_form(c, true, mmio_regs[reg].size, mmio_regs[reg].off, true, v);
            if (reg == 2 && mm.length != 0)
                mmio_store(c, 1, 0);
            mmio_step(c, f, true, mmio_regs[reg].size, mmio_regs[reg].off, v);
        }
        mmio_load(c, reg);
    }
    mmio_end(c);
    gtest_input(c, "steps=%u", mm.steps);
    return KTEST_PASS;
}

/* Sizes that are not the register's, each register in turn. */
P3_TEST(p3_mmio_bad_size, "MMIO", 4, 8,
        "a load or store of a size other than the register's (1, 2, 4 or 8 bytes at each of "
        "the three) stops the VM with KEV_EMMIO, after the good accesses before it")
{
    MMIO_BEGIN(c);
    static const unsigned sizes[] = {1, 2, 4, 8};
    unsigned reg = c->index % 3;
    unsigned size;
    do
        size = sizes[rng_range(&c->rng, 0, 3)];
    while (size == mmio_regs[reg].size);
    if (c->index < 3) /* the edges: a size just beside the register's */
        size = mmio_regs[reg].size == 8 ? 4 : mmio_regs[reg].size * 2;
    bool store = (c->index / 3) % 2;
    mmio_store(c, 0, rng_next(&c->rng));
    mmio_load(c, 0);
    mmio_step(c, -1, store, size, mmio_regs[reg].off, rng_next(&c->rng));
    mmio_end(c);
    gtest_input(c, "access=%u-byte_%s offset=0x%lx", size, store ? "store" : "load",
                mmio_regs[reg].off);
    return KTEST_PASS;
}

/* Offsets in the page where no register starts. */
static const uint64_t bad_offsets[] = {0x0c, 0x01, 0x04, 0x09, 0x11, 0x18, 0xff8, 0xfff, 0x14, 0x07};

P3_TEST(p3_mmio_bad_address, "MMIO", 4, 8,
        "accesses where no register starts (inside the buffer or length register, the gap at "
        "0x0c, past the doorbell, the page's last bytes, anywhere else in the page) stop the VM "
        "with KEV_EMMIO, whatever their size")
{
    MMIO_BEGIN(c);
    uint64_t off = c->index < ARRAY_SIZE(bad_offsets) ? bad_offsets[c->index]
                                                     : rng_range(&c->rng, 0x11, PAGE_SIZE - 1);
    static const unsigned sizes[] = {1, 2, 4, 8};
    unsigned size;
    do
        size = sizes[rng_range(&c->rng, 0, 3)];
    while (off + size > PAGE_SIZE);
    if (off == 0x0c || off == 0x09)
        size = 4; /* the size of the register beside it */
    bool store = rng_next(&c->rng) % 2;
    mmio_store(c, 1, rng_next(&c->rng));
    mmio_step(c, -1, store, size, off, rng_next(&c->rng));
    mmio_end(c);
    gtest_input(c, "access=%u-byte_%s offset=0x%lx", size, store ? "store" : "load", off);
    return KTEST_PASS;
}

P3_TEST(p3_mmio_doorbell_errors, "MMIO", 2, 6,
        "a doorbell that cannot print stops the VM with its error and prints nothing: a length "
        "above 4096 (KEV_EINVAL), a buffer on a page the EPT leaves out (the printer's own page, "
        "the page after the buffers, from 2^48 up: KEV_ENOTGUESTMEM) or wrapping past 2^64 "
        "(KEV_EOVERFLOW), a capture with no room (KEV_ENOMEM)")
{
    MMIO_BEGIN(c);
    uint64_t span = MMIO_BUF_PAGES * PAGE_SIZE;
    uint32_t len = (uint32_t)rng_range(&c->rng, 1, MMIO_PRINTER_MAX);
    uint64_t buf;
    switch (c->index % 6) {
    case 0:
        len = MMIO_PRINTER_MAX + (uint32_t)(c->index ? rng_range(&c->rng, 1, 0xfffff000) : 1);
        buf = mmio_buf(0);
        break;
    case 1:
        buf = MMIO_PRINTER_BASE + rng_range(&c->rng, 0, PAGE_SIZE - 1);
        break;
    case 2: /* from the last buffer page into the unmapped one after it */
        len = (uint32_t)rng_range(&c->rng, 2, MMIO_PRINTER_MAX);
        buf = mmio_buf(span - rng_range(&c->rng, 1, len - 1));
        break;
    case 3:
        buf = EPT_GPA_LIMIT + (rng_next(&c->rng) & 0x0000fffffffff000ULL) + rng_range(&c->rng, 0, 0xfff);
        break;
    case 4: /* the last bytes of the address space, and on past 2^64 */
        len = (uint32_t)rng_range(&c->rng, 2, MMIO_PRINTER_MAX);
        buf = 0 - rng_range(&c->rng, 1, len - 1);
        break;
    default:
        c->capture_capacity = (size_t)rng_range(&c->rng, 1, 200);
        len = (uint32_t)rng_range(&c->rng, 201, MMIO_PRINTER_MAX);
        buf = mmio_buf(0);
    }
    /* A good print first: what it printed stays. */
    mmio_print(c, rng_range(&c->rng, 0, 64), c->capture_capacity ? 1 : (uint32_t)rng_range(&c->rng, 1, 64));
    mmio_print(c, 0, 0);
    mmio_store(c, 0, buf);
    mmio_store(c, 1, len);
    mmio_store(c, 2, 0);
    mmio_end(c);
    gtest_input(c, "buffer=0x%lx length=%u capture_capacity=%zu", buf, len, c->capture_capacity);
    return KTEST_PASS;
}

#ifdef KEVLAB_HIDDEN
P3_TEST_HIDDEN(p3_mmio_mixed, "MMIO", 2, 2,
               "a long run of everything: stores and loads of random registers in random forms, "
               "doorbells of random buffers, ending in one bad access")
{
    MMIO_BEGIN(c);
    uint64_t span = MMIO_BUF_PAGES * PAGE_SIZE;
    while (mm.steps + 4 <= P3_MMIO_STEPS_MAX) {
        unsigned k = (unsigned)rng_range(&c->rng, 0, 3);
        if (k == 0) {
            uint32_t len = (uint32_t)rng_range(&c->rng, 0, 300);
            mmio_print(c, rng_range(&c->rng, 0, span - len), len);
        } else {
            mmio_load(c, (unsigned)rng_range(&c->rng, 0, 2));
        }
    }
    mmio_step(c, -1, rng_next(&c->rng) % 2, 2, rng_range(&c->rng, 0, 0x12), 0);
    mmio_end(c);
    gtest_input(c, "steps=%u", mm.steps);
    return KTEST_PASS;
}
#endif

/* --- benchmarks (make bench-p3): figures, never asserted ------------------------------ */

#define BENCH_MMIO_WRITES 2000

/* An MMIO write served by the reference mmio_handle() (the buffer
 * register): the EPT violation, the fetch and decode of `mov [rsi], rax`,
 * the upcall, RIP moved, the entry; the guest's loop included. */
KTEST(p3_bench_mmio, KTEST_BENCH)
{
    reset_case();
    struct p3_vm_config *v = &cs.vmc;
    v->guest = "mmio_bench";
    v->mmio = true;
    v->tables_gpa = 0x100000;
    v->code_gpa = 0x110000;
    v->params_gpa = 0x111000;
    v->stack_gpa = 0x112000;
    v->params.nops = BENCH_MMIO_WRITES;
    struct printer out;
    if (printer_start(&out, 0) != KEV_OK)
        return ktest_fail("no memory for the PrinterProxy");
    struct vm_outcome o;
    p3_vm_run(v, &out, &o);
    printer_free(&out);
    if (o.kind != VM_EXITED) {
        char how[KEV_MESSAGE_MAX + 64];
        vm_outcome_describe(&o, how, sizeof(how));
        return ktest_fail("the benchmark's VM %s", how);
    }
    int64_t per100 = (o.exit_code * 100 + BENCH_MMIO_WRITES / 2) / BENCH_MMIO_WRITES;
    char buf[200];
    int n = snprintf(buf, sizeof(buf), "an MMIO write served by mmio_handle() (the buffer register, "
                     "`mov [rsi], rax`) costs %ld.%02ld emulated instructions, the EPT violation, "
                     "the decode, the upcall and the guest's loop included", per100 / 100, per100 % 100);
    printk("p3_bench_mmio: %d MMIO writes in %ld ticks (RDTSC in the guest)\n", BENCH_MMIO_WRITES,
           o.exit_code);
    ktest_data("figure", buf, (size_t)n);
    return KTEST_PASS;
}

/* --- the loader (part 3) -------------------------------------------------------------
 *
 * p3_loader_boot boots minos (guests/project3/os/) from its file through
 * the student's loader and compares what it prints with its native boot's
 * transcript; the others test loader_parse and loader_fault apart, on ELF
 * files the test writes (valid ones drawn at random: segments anywhere in
 * the image's window, any size, any permissions, pages shared between
 * segments, program headers of other types between them; malformed ones
 * each with one fault of loader.h's list). Expectations come from the
 * test's own reading of the file it made.
 */

#define ELF_BUF_SIZE (LOADER_FILE_PAGES_MAX * PAGE_SIZE)
#define LD_OPS_MAX 28
#define PT_NOTE 4
#define PT_GNU_STACK 0x6474e551u

static uint8_t elf_buf[ELF_BUF_SIZE] __attribute__((aligned(PAGE_SIZE)));

static struct {
    const uint8_t *file;
    size_t size;
    struct loader_image img; /* the model's */
    const uint8_t *native;
    size_t native_size;
    bool refault;
    struct {
        uint64_t gpa;
        uint8_t access;
    } ops[LD_OPS_MAX];
    unsigned nops;
} ld;

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get64le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* A page's bytes in one number (FNV-1a over 8-byte words: cheap under Bochs). */
static uint64_t fnv64(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i + 8 <= n; i += 8)
        h = (h ^ *(const uint64_t *)(p + i)) * 0x100000001b3ULL; /* pages: aligned */
    return h;
}

/* The model's reading of a file known to be valid (minos, or one the test made). */
static void model_parse(const uint8_t *f, struct loader_image *img)
{
    memset(img, 0, sizeof(*img));
    img->entry = get64le(f + 24);
    uint64_t phoff = get64le(f + 32);
    unsigned phnum = (unsigned)(f[56] | f[57] << 8);
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = f + phoff + (uint64_t)i * ELF_PHDR_SIZE;
        uint32_t type = (uint32_t)get64le(ph), flags = (uint32_t)(get64le(ph) >> 32);
        uint64_t memsz = get64le(ph + 40);
        if (type != PT_LOAD || memsz == 0 || img->nsegments == LOADER_SEGMENTS_MAX)
            continue;
        img->segment[img->nsegments++] = (struct loader_segment){
            .gpa = get64le(ph + 24), .offset = get64le(ph + 8), .filesz = get64le(ph + 32),
            .memsz = memsz,
            .perm = (flags & PF_R ? EPT_R : 0) | (flags & PF_W ? EPT_W : 0) | (flags & PF_X ? EPT_X : 0),
        };
    }
}

/* What the page at `page` must allow (0: no segment) and hold. */
static uint64_t model_page(const struct loader_image *img, const uint8_t *file, uint64_t page,
                           uint8_t *bytes)
{
    uint64_t perm = 0;
    if (bytes)
        memset(bytes, 0, PAGE_SIZE);
    for (unsigned k = 0; k < img->nsegments; k++) {
        const struct loader_segment *s = &img->segment[k];
        if (!(page < s->gpa + s->memsz && s->gpa < page + PAGE_SIZE))
            continue;
        perm |= s->perm;
        uint64_t from = s->gpa > page ? s->gpa : page, end = s->gpa + s->filesz;
        uint64_t to = end < page + PAGE_SIZE ? end : page + PAGE_SIZE;
        if (bytes && from < to)
            memcpy(bytes + (from - page), file + s->offset + (from - s->gpa), to - from);
    }
    return perm;
}

static unsigned model_image_pages(const struct loader_image *img)
{
    unsigned n = 0;
    for (uint64_t p = LOADER_IMAGE_START; p < LOADER_IMAGE_END; p += PAGE_SIZE)
        n += model_page(img, NULL, p, NULL) != 0;
    return n;
}

/* "page 0x101000: r-x WB, bytes 0x..." or "not mapped", as the CPU reads the EPT. */
static void loader_page_state(struct ept_space *sp, uint64_t page, char *buf, size_t size)
{
    struct ept_walk w;
    enum kev_error e = kev_ept_walk(sp, GPA(page), &w);
    char p[4];
    kev_ept_perm_name(w.perm, p);
    if (e == KEV_OK && kev_ept_is_guest(sp, ALIGN_DOWN(w.hpa, PAGE_SIZE)))
        snprintf(buf, size, "%s %s, bytes 0x%016lx", p, w.memtype == 6 ? "WB" : "not WB",
                 fnv64((const uint8_t *)(uintptr_t)ALIGN_DOWN(w.hpa, PAGE_SIZE), PAGE_SIZE));
    else if (e == KEV_OK)
        strlcpy(buf, "mapped to a page that is not the VM's", size);
    else if (e == KEV_EUNMAPPED)
        strlcpy(buf, "not mapped", size);
    else
        strlcpy(buf, w.problem, size);
}

static void model_page_state(uint64_t page, bool mapped, char *buf, size_t size)
{
    static uint8_t bytes[PAGE_SIZE];
    if (!mapped) {
        strlcpy(buf, "not mapped", size);
        return;
    }
    char p[4];
    kev_ept_perm_name(model_page(&ld.img, ld.file, page, bytes), p);
    snprintf(buf, size, "%s WB, bytes 0x%016lx", p, fnv64(bytes, PAGE_SIZE));
}

/* --- files the test writes ----------------------------------------------------------- */

/* A valid ELF file in elf_buf with nload PT_LOAD segments (the model's
 * image in ld.img); returns its size. With at_end, the last segment ends
 * at LOADER_IMAGE_END exactly (the window's edge). */
static size_t gen_elf_at(struct gtest_case *c, unsigned nload, bool at_end)
{
    memset(elf_buf, 0, sizeof(elf_buf));
    /* Other headers: the first an empty PT_LOAD (a loader keeps none), then any type. */
    unsigned nother = (unsigned)rng_range(&c->rng, 1, 3), phnum = nload + nother, skipped = 0;
    uint64_t phoff = ELF_EHDR_SIZE + 8 * rng_range(&c->rng, 0, 4);
    uint64_t off = phoff + (uint64_t)phnum * ELF_PHDR_SIZE + rng_range(&c->rng, 0, 64);
    uint64_t gpa = LOADER_IMAGE_START + rng_range(&c->rng, 0, 15) * PAGE_SIZE;
    if (rng_range(&c->rng, 0, 1))
        gpa += rng_range(&c->rng, 0, PAGE_SIZE - 1);
    memcpy(elf_buf, "\x7f" "ELF", 4);
    elf_buf[4] = ELFCLASS64;
    elf_buf[5] = ELFDATA2LSB;
    elf_buf[6] = 1; /* EV_CURRENT */
    put16(elf_buf + 16, ET_EXEC);
    put16(elf_buf + 18, EM_X86_64);
    put32(elf_buf + 20, 1);
    put64(elf_buf + 32, phoff);
    put16(elf_buf + 52, ELF_EHDR_SIZE);
    put16(elf_buf + 54, ELF_PHDR_SIZE);
    put16(elf_buf + 56, (uint16_t)phnum);
    unsigned exec = (unsigned)rng_range(&c->rng, 0, nload - 1), l = 0;
    for (unsigned i = 0; i < phnum; i++) {
        uint8_t *ph = elf_buf + phoff + (uint64_t)i * ELF_PHDR_SIZE;
        bool load = l < nload && (nload - l == phnum - i || rng_range(&c->rng, 0, 2) != 0);
        if (!load) { /* a header to skip: another type, or a PT_LOAD of no memory */
            static const uint32_t other[] = {PT_NOTE, 0, PT_GNU_STACK, PT_LOAD};
            put32(ph, skipped++ == 0 ? PT_LOAD : other[rng_range(&c->rng, 0, 3)]);
            put32(ph + 4, PF_R);
            put64(ph + 8, rng_u64(&c->rng));
            put64(ph + 24, rng_u64(&c->rng));
            continue;
        }
        uint64_t memsz = rng_range(&c->rng, 1, 3 * PAGE_SIZE);
        if (at_end && l == nload - 1)
            gpa = LOADER_IMAGE_END - memsz;
        uint64_t filesz = rng_range(&c->rng, 0, 3) == 0 ? 0 : rng_range(&c->rng, 0, memsz);
        uint32_t flags = PF_R | (rng_range(&c->rng, 0, 1) ? PF_W : 0) |
                         (l == exec || rng_range(&c->rng, 0, 2) == 0 ? PF_X : 0);
        put32(ph, PT_LOAD);
        put32(ph + 4, flags);
        put64(ph + 8, off);
        put64(ph + 16, gpa + 0xffff800000000000ULL); /* p_vaddr: not the loader's concern */
        put64(ph + 24, gpa);
        put64(ph + 32, filesz);
        put64(ph + 40, memsz);
        put64(ph + 48, PAGE_SIZE);
        rng_bytes(&c->rng, elf_buf + off, filesz);
        if (l == exec)
            put64(elf_buf + 24, gpa + rng_range(&c->rng, 0, memsz - 1));
        off += filesz + rng_range(&c->rng, 0, 32);
        /* The next one right after (sharing a page: always after the first), or past a gap. */
        gpa += memsz + (l == 0 || rng_range(&c->rng, 0, 2) == 0 ? 0 : rng_range(&c->rng, 0, 2 * PAGE_SIZE));
        l++;
    }
    model_parse(elf_buf, &ld.img);
    return off;
}

static size_t gen_elf(struct gtest_case *c, unsigned nload)
{
    return gen_elf_at(c, nload, false);
}

static void loader_file_input(struct gtest_case *c, const char *what)
{
    gtest_input(c, "file=%s size=%lu segments=%u entry=0x%lx", what, ld.size, ld.img.nsegments,
                ld.img.entry);
    for (unsigned k = 0; k < ld.img.nsegments; k++) {
        const struct loader_segment *s = &ld.img.segment[k];
        char p[4];
        kev_ept_perm_name(s->perm, p);
        gtest_input(c, "seg%u=0x%lx+0x%lx(file 0x%lx+0x%lx,%s)", k, s->gpa, s->memsz, s->offset,
                    s->filesz, p);
    }
}

/* --- booting minos ------------------------------------------------------------------- */

static void loader_after(struct ept_space *sp, const struct loader_image *img, struct printer *out)
{
    static uint8_t want[PAGE_SIZE];
    (void)img; /* the student's; the checks use the model's */
    unsigned mapped = 0;
    for (uint64_t p = LOADER_IMAGE_START; p < LOADER_IMAGE_END; p += PAGE_SIZE) {
        uint64_t perm = model_page(&ld.img, ld.file, p, want);
        struct ept_walk w;
        if (perm == 0 || kev_ept_walk(sp, GPA(p), &w) != KEV_OK)
            continue;
        mapped++;
        char have[96], should[96];
        loader_page_state(sp, p, have, sizeof(have));
        model_page_state(p, true, should, sizeof(should));
        if (perm & EPT_W) /* the guest wrote it: its permissions only */
            have[6] = should[6] = '\0';
        if (strcmp(have, should) != 0)
            out_line(out, "loader: page 0x%lx is %s, not %s\n", p, have, should);
    }
    out_line(out, "loader: %u pages of the image mapped\n", mapped);
}

static void loader_boot_run(struct printer *out, struct vm_outcome *o)
{
    struct p3_loader_config lc = {
        .file = ld.file, .size = ld.size, .refault = ld.refault, .after = loader_after,
    };
    struct p3_loader_stats st;
    uint64_t t0 = rdtsc();
    p3_loader_run(&lc, out, o, &st);
    /* The figure for the handout and notes (Bochs: a tick is an instruction). */
    printk("p3: minos booted through the loader in %lu ticks (loader_parse, the VM, %u violations)\n",
           rdtsc() - t0, st.served);
    if (o->kind == VM_EXITED)
        out_line(out, "loader: %u EPT violations served\n", st.served);
}

static enum ktest_result loader_boot(struct gtest_case *c, bool refault)
{
    if (!p3_minos(&ld.file, &ld.size, &ld.native, &ld.native_size))
        return ktest_fail("GRUB loaded no module \"minos\" or \"minos-native\" (project3/project.mk's MODULES)");
    model_parse(ld.file, &ld.img);
    ld.refault = refault;
    cs.run = loader_boot_run;
    loader_file_input(c, "minos");
    unsigned pages = model_image_pages(&ld.img);
    gtest_expect_print(c, ld.native, ld.native_size);
    expect_line(c, "loader: %u pages of the image mapped\n", pages);
    expect_line(c, "loader: %u EPT violations served\n", refault ? 2 * pages : pages);
    gtest_expect_exit(c, 0);
    return KTEST_PASS;
}

P3_TEST(p3_loader_boot, "Loader", 12, 1,
        "minos, the course's guest OS, boots from its ELF file on demand paging: it must print "
        "what it prints booted natively (guests/project3/os/native.txt) and end with HaltCpu(0); "
        "each page of its image is then mapped once, with its segments' bytes and permissions, "
        "after one EPT violation")
{
    return loader_boot(c, false);
}

#ifdef KEVLAB_HIDDEN
P3_TEST_HIDDEN(p3_loader_refault, "Loader", 3, 1,
               "minos boots with every EPT violation reported twice (as a second vCPU would): "
               "the second, for a page already served, must succeed and map nothing")
{
    return loader_boot(c, true);
}
#endif

/* --- loader_parse ----------------------------------------------------------------------- */

static void loader_parse_run(struct printer *out, struct vm_outcome *o)
{
    memset(o, 0, sizeof(*o));
    o->kind = VM_EXITED;
    static struct loader_image img;
    struct loader_call r = p3_call_parse(ld.file, ld.size, &img);
    if (r.error == KEV_ESTUDENT) {
        o->kind = VM_FAILED;
        o->error = KEV_ESTUDENT;
        snprintf(o->message, sizeof(o->message), "loader_parse stopped: %s", r.why);
        return;
    }
    out_line(out, "loader_parse = %s\n", kev_error_name(r.error));
    if (r.error == KEV_EELF)
        printk("p3: loader_parse says: %s\n", img.why);
    if (r.error != KEV_OK)
        return;
    out_line(out, "entry 0x%lx, %u segments\n", img.entry, img.nsegments);
    for (unsigned k = 0; k < img.nsegments && k < LOADER_SEGMENTS_MAX; k++) {
        const struct loader_segment *s = &img.segment[k];
        char p[24];
        perm_text(s->perm, p, sizeof(p));
        out_line(out, "segment %u: gpa 0x%lx offset 0x%lx filesz 0x%lx memsz 0x%lx %s\n", k, s->gpa,
                 s->offset, s->filesz, s->memsz, p);
    }
}

static void expect_parse_ok(struct gtest_case *c)
{
    expect_line(c, "loader_parse = KEV_OK\n");
    expect_line(c, "entry 0x%lx, %u segments\n", ld.img.entry, ld.img.nsegments);
    for (unsigned k = 0; k < ld.img.nsegments; k++) {
        const struct loader_segment *s = &ld.img.segment[k];
        char p[4];
        kev_ept_perm_name(s->perm, p);
        expect_line(c, "segment %u: gpa 0x%lx offset 0x%lx filesz 0x%lx memsz 0x%lx %s\n", k, s->gpa,
                    s->offset, s->filesz, s->memsz, p);
    }
    gtest_expect_exit(c, 0);
}

P3_TEST(p3_loader_parse, "Loader", 7, 8,
        "loader_parse reads ELF files: minos's, then files with 1 to 8 PT_LOAD segments anywhere "
        "in the image's window, of any size and permissions (bss, pages shared), between program "
        "headers of other types and empty PT_LOADs; the entry point and every segment must be "
        "the file's")
{
    cs.run = loader_parse_run;
    if (c->index == 0) {
        const uint8_t *native;
        size_t n;
        if (!p3_minos(&ld.file, &ld.size, &native, &n))
            return ktest_fail("GRUB loaded no module \"minos\" (project3/project.mk's MODULES)");
        model_parse(ld.file, &ld.img);
        loader_file_input(c, "minos");
    } else {
        unsigned nload = c->index == 1 ? LOADER_SEGMENTS_MAX : c->index == 2 ? 1
                         : (unsigned)rng_range(&c->rng, 1, LOADER_SEGMENTS_MAX);
        ld.size = gen_elf_at(c, nload, c->index == 2); /* case 2: its one segment at the window's end */
        ld.file = elf_buf;
        loader_file_input(c, "drawn");
    }
    expect_parse_ok(c);
    return KTEST_PASS;
}

/* One fault of loader.h's list, in a file otherwise valid. */
enum bad_elf {
    BAD_SHORT, BAD_MAGIC, BAD_CLASS, BAD_DATA, BAD_TYPE, BAD_MACHINE, BAD_PHENTSIZE, BAD_PHDRS,
    BAD_PHDRS_WRAP, BAD_FILESZ, BAD_FILE_BYTES, BAD_FILE_WRAP, BAD_BELOW, BAD_ABOVE, BAD_GPA_WRAP,
    BAD_OVERLAP, BAD_NOT_READABLE, BAD_TOO_MANY, BAD_NO_LOAD, BAD_ENTRY, BAD_COUNT
};
static const char *const bad_names[BAD_COUNT] = {
    "shorter than the header", "no ELF magic", "not ELFCLASS64", "not little-endian",
    "not ET_EXEC", "not EM_X86_64", "e_phentsize not 56", "program headers past the end",
    "e_phoff + size wraps", "p_filesz > p_memsz", "file bytes past the end",
    "p_offset + p_filesz wraps", "memory below the window", "memory past the window",
    "p_paddr + p_memsz wraps", "overlapping segments", "a segment without PF_R",
    "nine PT_LOAD segments", "no PT_LOAD", "entry outside executable segments",
};

/* Program header of the k-th PT_LOAD with memory (the model's order). */
static uint8_t *load_phdr(unsigned k)
{
    uint64_t phoff = get64le(elf_buf + 32);
    unsigned phnum = (unsigned)(elf_buf[56] | elf_buf[57] << 8);
    for (unsigned i = 0; i < phnum; i++) {
        uint8_t *ph = elf_buf + phoff + (uint64_t)i * ELF_PHDR_SIZE;
        if ((uint32_t)get64le(ph) == PT_LOAD && get64le(ph + 40) != 0 && k-- == 0)
            return ph;
    }
    return NULL;
}

P3_TEST(p3_loader_bad_elf, "Loader", 6, BAD_COUNT + 1,
        "loader_parse refuses, with KEV_EELF, files with one fault each: too short (or empty), "
        "no magic, 32-bit, big-endian, not an x86-64 executable, program headers outside the file or "
        "wrapping, p_filesz > p_memsz, file bytes outside the file or wrapping, memory outside "
        "the window or wrapping, overlapping segments, a segment not readable, more than 8 "
        "segments, none, an entry point outside the executable ones")
{
    cs.run = loader_parse_run;
    enum bad_elf k = (enum bad_elf)(c->index % BAD_COUNT);
    unsigned nload = k == BAD_TOO_MANY ? LOADER_SEGMENTS_MAX + 1
                     : (unsigned)rng_range(&c->rng, k == BAD_OVERLAP ? 2 : 1, LOADER_SEGMENTS_MAX);
    ld.size = gen_elf(c, nload);
    ld.file = elf_buf;
    unsigned victim = (unsigned)rng_range(&c->rng, k == BAD_OVERLAP ? 1 : 0, nload - 1);
    if (k == BAD_TOO_MANY)
        victim = 0;
    uint8_t *ph = load_phdr(victim);
    const struct loader_segment *s = &ld.img.segment[victim < LOADER_SEGMENTS_MAX ? victim : 0];
    uint64_t phnum = elf_buf[56] | elf_buf[57] << 8;
    switch (k) {
    case BAD_SHORT: /* the last case: an empty file */
        ld.size = c->index >= BAD_COUNT ? 0 : rng_range(&c->rng, 1, ELF_EHDR_SIZE - 1);
        break;
    case BAD_MAGIC: elf_buf[rng_range(&c->rng, 0, 3)] ^= (uint8_t)(1u << rng_range(&c->rng, 0, 7)); break;
    case BAD_CLASS: elf_buf[4] = rng_range(&c->rng, 0, 1) ? 1 : 0; break;
    case BAD_DATA: elf_buf[5] = 2; break;
    case BAD_TYPE: put16(elf_buf + 16, rng_range(&c->rng, 0, 1) ? 3 /* ET_DYN */ : 1 /* ET_REL */); break;
    case BAD_MACHINE: put16(elf_buf + 18, rng_range(&c->rng, 0, 1) ? 3 /* EM_386 */ : 183 /* AArch64 */); break;
    case BAD_PHENTSIZE: put16(elf_buf + 54, rng_range(&c->rng, 0, 1) ? 32 : 64); break;
    case BAD_PHDRS: put64(elf_buf + 32, ld.size - phnum * ELF_PHDR_SIZE + rng_range(&c->rng, 1, 55)); break;
    case BAD_PHDRS_WRAP: put64(elf_buf + 32, 0 - 8 * rng_range(&c->rng, 1, 7)); break;
    case BAD_FILESZ: put64(ph + 32, s->memsz + rng_range(&c->rng, 1, PAGE_SIZE)); break;
    case BAD_FILE_BYTES:
        put64(ph + 32, s->memsz);
        put64(ph + 8, ld.size - s->memsz + rng_range(&c->rng, 1, 64));
        break;
    case BAD_FILE_WRAP:
        put64(ph + 32, s->memsz);
        put64(ph + 8, 0 - rng_range(&c->rng, 1, s->memsz));
        break;
    case BAD_BELOW: put64(ph + 24, LOADER_IMAGE_START - rng_range(&c->rng, 1, s->memsz < 0x1000 ? s->memsz : 0x1000) - (rng_range(&c->rng, 0, 1) ? 0 : rng_range(&c->rng, 0, 0x80000))); break;
    case BAD_ABOVE: put64(ph + 24, LOADER_IMAGE_END - s->memsz + rng_range(&c->rng, 1, s->memsz)); break;
    case BAD_GPA_WRAP: put64(ph + 24, 0 - rng_range(&c->rng, 1, s->memsz)); break;
    case BAD_OVERLAP: {
        const struct loader_segment *e = &ld.img.segment[rng_range(&c->rng, 0, victim - 1)];
        put64(ph + 24, e->gpa + rng_range(&c->rng, 0, e->memsz - 1));
        break;
    }
    case BAD_NOT_READABLE: {
        /* PF_X kept: the entry point stays in an executable segment. */
        put32(ph + 4, PF_X | (rng_range(&c->rng, 0, 1) ? PF_W : 0));
        break;
    }
    case BAD_TOO_MANY: break;
    case BAD_NO_LOAD:
        for (unsigned i = 0; i < nload; i++) {
            uint8_t *p = load_phdr(0);
            if (rng_range(&c->rng, 0, 1))
                put32(p, PT_NOTE);
            else
                put64(p + 40, 0);
        }
        break;
    case BAD_ENTRY: /* the victim loses PF_X and gets the entry point: no other holds it */
        put32(ph + 4, PF_R | (rng_range(&c->rng, 0, 1) ? PF_W : 0));
        put64(elf_buf + 24, s->gpa + rng_range(&c->rng, 0, s->memsz - 1));
        break;
    default: break;
    }
    gtest_input(c, "fault=\"%s\"", bad_names[k]);
    loader_file_input(c, "drawn");
    expect_line(c, "loader_parse = KEV_EELF\n");
    gtest_expect_exit(c, 0);
    return KTEST_PASS;
}

/* --- loader_fault ----------------------------------------------------------------------- */

static void loader_fault_run(struct printer *out, struct vm_outcome *o)
{
    memset(o, 0, sizeof(*o));
    o->kind = VM_EXITED;
    struct ept_space *sp = kev_ept_create(64);
    if (sp == NULL) {
        o->kind = VM_FAILED;
        o->error = KEV_ENOMEM;
        strlcpy(o->message, "no memory for the case's EPT", sizeof(o->message));
        return;
    }
    struct ept ept = p3_ept_of(sp);
    for (unsigned i = 0; i < ld.nops; i++) {
        uint64_t gpa = ld.ops[i].gpa, page = ALIGN_DOWN(gpa, PAGE_SIZE);
        struct loader_call r = p3_call_fault(&ept, &ld.img, ld.file, ld.size, GPA(gpa),
                                             (enum guest_access)ld.ops[i].access);
        if (r.error == KEV_ESTUDENT) {
            o->kind = VM_FAILED;
            o->error = KEV_ESTUDENT;
            snprintf(o->message, sizeof(o->message), "loader_fault(gpa 0x%lx, %s) stopped: %s", gpa,
                     access_names[ld.ops[i].access], r.why);
            break;
        }
        char state[96];
        loader_page_state(sp, page, state, sizeof(state));
        out_line(out, "loader_fault(gpa 0x%lx, %s) = %s; page 0x%lx: %s\n", gpa,
                 access_names[ld.ops[i].access], kev_error_name(r.error), page, state);
    }
    /* Pages mapped in all: from below the first segment to past the last. */
    uint64_t lo = LOADER_IMAGE_END, hi = 0;
    for (unsigned k = 0; k < ld.img.nsegments; k++) {
        const struct loader_segment *s = &ld.img.segment[k];
        lo = s->gpa < lo ? s->gpa : lo;
        hi = s->gpa + s->memsz > hi ? s->gpa + s->memsz : hi;
    }
    unsigned mapped = 0;
    for (uint64_t p = ALIGN_DOWN(lo, PAGE_SIZE) - PAGE_SIZE; o->kind == VM_EXITED && p <= hi; p += PAGE_SIZE) {
        struct ept_walk w;
        mapped += kev_ept_walk(sp, GPA(p), &w) == KEV_OK;
    }
    if (o->kind == VM_EXITED)
        out_line(out, "pages mapped: %u\n", mapped);
    kev_ept_destroy(sp);
}

P3_TEST(p3_loader_fault, "Loader", 7, 6,
        "loader_fault serves violations on drawn images: reads, writes and fetches in every "
        "segment, pages two segments share, pages past a segment's file bytes, a page served "
        "again, addresses no segment holds, and writes or fetches its segments do not allow; "
        "each page must hold the file's bytes and zeros, with its segments' permissions")
{
    cs.run = loader_fault_run;
    ld.size = gen_elf(c, (unsigned)rng_range(&c->rng, 1, LOADER_SEGMENTS_MAX));
    ld.file = elf_buf;
    loader_file_input(c, "drawn");
    static uint64_t served[LD_OPS_MAX];
    unsigned nserved = 0;
    ld.nops = LD_OPS_MAX;
    for (unsigned i = 0; i < ld.nops; i++) {
        uint64_t gpa;
        unsigned how = i < 2 ? 10 : (unsigned)rng_range(&c->rng, 0, 9);
        if (how == 10) /* first a write, then a fetch, below the window: no segment's */
            gpa = rng_range(&c->rng, 0, LOADER_IMAGE_START - 1);
        else if (how == 0) /* anywhere in the window, or below it */
            gpa = rng_range(&c->rng, 0, LOADER_IMAGE_END - 1);
        else if (how == 1 && nserved) /* a page served already */
            gpa = served[rng_range(&c->rng, 0, nserved - 1)] + rng_range(&c->rng, 0, PAGE_SIZE - 1);
        else { /* in a segment, often its first or last page */
            const struct loader_segment *s = &ld.img.segment[rng_range(&c->rng, 0, ld.img.nsegments - 1)];
            unsigned where = (unsigned)rng_range(&c->rng, 0, 2);
            gpa = where == 0 ? s->gpa : where == 1 ? s->gpa + s->memsz - 1
                                                   : s->gpa + rng_range(&c->rng, 0, s->memsz - 1);
        }
        uint64_t page = ALIGN_DOWN(gpa, PAGE_SIZE);
        uint64_t perm = model_page(&ld.img, ld.file, page, NULL);
        /* Mostly accesses the segments allow (the guest's own), some not. */
        unsigned access = i < 2 ? (i == 0 ? GUEST_WRITE : GUEST_FETCH) : (unsigned)rng_range(&c->rng, 0, 2);
        if (i >= 2 && perm != 0 && rng_range(&c->rng, 0, 3) != 0) {
            while ((access == GUEST_WRITE && !(perm & EPT_W)) || (access == GUEST_FETCH && !(perm & EPT_X)))
                access = (unsigned)rng_range(&c->rng, 0, 2);
        }
        ld.ops[i].gpa = gpa;
        ld.ops[i].access = (uint8_t)access;
        bool mapped = false;
        for (unsigned k = 0; k < nserved; k++)
            mapped |= served[k] == page;
        enum kev_error e = perm == 0 ? KEV_EUNMAPPED
                           : access == GUEST_WRITE && !(perm & EPT_W) ? KEV_EREADONLY
                           : access == GUEST_FETCH && !(perm & EPT_X) ? KEV_ENOEXEC
                                                                      : KEV_OK;
        if (e == KEV_OK && !mapped) {
            served[nserved++] = page;
            mapped = true;
        }
        char state[96];
        model_page_state(page, mapped, state, sizeof(state));
        expect_line(c, "loader_fault(gpa 0x%lx, %s) = %s; page 0x%lx: %s\n", gpa, access_names[access],
                    kev_error_name(e), page, state);
    }
    expect_line(c, "pages mapped: %u\n", nserved);
    gtest_expect_exit(c, 0);
    return KTEST_PASS;
}
