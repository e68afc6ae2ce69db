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
    memset(&cs.vmc, 0, sizeof(cs.vmc));
    model.n = 0;
    memset(&tables.n, 0, sizeof(tables.n));
}

typedef enum ktest_result (*p3_prepare_fn)(struct gtest_case *c);

static enum ktest_result p3_prepare(struct gtest_case *c, p3_prepare_fn fn)
{
    reset_case();
    enum ktest_result r = fn(c);
    if (r == KTEST_PASS && !cs.vm) {
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
static void gt_path(struct gtest_case *c, uint64_t root, uint64_t gva, int leaf_level, unsigned spoil)
{
    uint64_t table = root;
    int spoil_level = (int)rng_range(&c->rng, leaf_level, 4);
    for (int level = 4; level >= leaf_level; level--) {
        uint64_t *t = gt_table(table);
        if (t == NULL)
            return;
        uint64_t *e = &t[(gva >> (12 + 9 * (level - 1))) & 511];
        bool here = level == spoil_level;
        if (level > leaf_level) {
            if (!(*e & PTE_P)) {
                uint64_t next = gt_new(c, here && spoil == 4 ? 1 : here && spoil == 5 ? 2 : 0);
                if (next == 0)
                    return;
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
        /* The data page the query lands on, unless spoil 6 leaves it out. */
        uint64_t page = ALIGN_DOWN((*e & PTE_ADDR_MASK & ~(size - 1)) | (gva & (size - 1)), PAGE_SIZE);
        if (spoil != 6)
            kev_ept_map(cs.sp, GPA(page), random_hpa(c), random_perm(c));
    }
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
        gt_path(c, root, gva, leaf, spoil);
        for (unsigned a = 0; a < 3; a++) {
            uint64_t at = gva | (rng_next(&c->rng) & ((1ULL << (12 + 9 * (leaf - 1))) - 1));
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
