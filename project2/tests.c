/*
 * Project 2's tests: the one place each is defined. A test is one P2_TEST
 * entry: its name, its rubric category and weight, how many cases a run
 * makes, what it checks (for the grader and the handout), and a function
 * that draws one case: the guest to run and its parameters, and exactly
 * how the VM must end and what it must print. The harness (kev/gtest.h)
 * runs the cases, each in a fresh VM, compares byte for byte and reports to
 * the grader.
 *
 * How test data is drawn (docs/instructors.md, "Test data"): the first
 * cases of every run take the domain's edges (the 64-bit values 0, 1, 2^31,
 * 2^32, 2^63, 2^64-1; buffer lengths around a 256-byte chunk and a page;
 * buffers ending on the last mapped byte), the rest are random from the
 * whole domain, and buffers hold every byte value. Print's errors are the
 * handout's, one per kind of bad buffer.
 */
#include "kernel/ktest.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kev/gtest.h"
#include "project2/msr.h"
#include "project2/msr_dev.h"
#include "project2/vm.h"

/* The case being drawn: its VM, and the bytes its buffer starts with. */
static struct p2_vm_config config;
static uint8_t buffer[GUEST_BUF_SIZE];

typedef enum ktest_result (*p2_prepare_fn)(struct gtest_case *c, struct p2_vm_config *v);

static enum ktest_result p2_prepare(struct gtest_case *c, p2_prepare_fn fn)
{
    memset(&config, 0, sizeof(config));
    config.hole = -1;
    config.buf = buffer;
    return fn(c, &config);
}

static void p2_run(const struct gtest *t, struct gtest_case *c, struct printer *out,
                   struct vm_outcome *o)
{
    p2_vm_run(&config, out, o);
}

#define P2_TEST_AS(graded, id, category, weight, ncases, description)                     \
    static enum ktest_result p2_prep_##id(struct gtest_case *c, struct p2_vm_config *v);  \
    static enum ktest_result p2_wrap_##id(const struct gtest *t, struct gtest_case *c)    \
    {                                                                                     \
        return p2_prepare(c, p2_prep_##id);                                               \
    }                                                                                     \
    graded(id, 2, category, weight, description)                                         \
    {                                                                                     \
        static const struct gtest t = {#id, ncases, NULL, p2_wrap_##id, p2_run};          \
        return gtest_run(&t);                                                             \
    }                                                                                     \
    static enum ktest_result p2_prep_##id(struct gtest_case *c, struct p2_vm_config *v)
#define P2_TEST(...) P2_TEST_AS(KTEST_GRADED, __VA_ARGS__)
#define P2_TEST_HIDDEN(...) P2_TEST_AS(KTEST_GRADED_HIDDEN, __VA_ARGS__)

/* --- helpers for drawing cases -------------------------------------------- */

static const uint64_t u64_edges[] = {
    0, 1, 0x7fffffffULL, 0x80000000ULL, 0xffffffffULL, 0x100000000ULL, 0x100000001ULL,
    0x8000000000000000ULL, 0x7fffffffffffffffULL, 0xffffffffffffffffULL,
};

/* n random bytes at GUEST_BUF + off, which the guest then prints once. */
static void fill_buffer(struct gtest_case *c, struct p2_vm_config *v, size_t off, size_t n)
{
    rng_bytes(&c->rng, buffer + off, n);
    v->buf_off = off;
    v->buf_len = n;
}

/* One Print of [GUEST_BUF + off, + len) by print.asm. */
static void print_one(struct p2_vm_config *v, uint64_t addr, uint64_t len)
{
    v->guest = "print";
    v->params.nprints = 1;
    v->params.prints[0].addr = addr;
    v->params.prints[0].len = len;
}

/* A Print of random bytes from the buffer that must come out unchanged. */
static void print_ok(struct gtest_case *c, struct p2_vm_config *v, size_t off, size_t len)
{
    fill_buffer(c, v, off, len);
    print_one(v, GUEST_BUF + off, len);
    gtest_input(c, "buf=GUEST_BUF+%zu size=%zu", off, len);
    gtest_expect_print(c, buffer + off, len);
    gtest_expect_exit(c, 0);
}

/* A Print that must fail with e and print nothing (the buffer holds data). */
static void print_fails(struct gtest_case *c, struct p2_vm_config *v, uint64_t addr, uint64_t len,
                        enum kev_error e)
{
    fill_buffer(c, v, 0, GUEST_BUF_SIZE);
    print_one(v, addr, len);
    gtest_input(c, "buf=0x%lx size=0x%lx", addr, len);
    gtest_expect_error(c, e);
}

/* --- Hypercalls: HaltCpu -------------------------------------------------------- */

P2_TEST(p2_halt_code, "Hypercalls", 2, 14,
        "HaltCpu(code) ends the VM with the guest's exit code, all 64 bits of it")
{
    uint64_t code = gtest_u64(c, u64_edges, ARRAY_SIZE(u64_edges));
    v->guest = "halt";
    v->params.code = code;
    gtest_input(c, "code=0x%lx", code);
    gtest_expect_exit(c, (int64_t)code);
    return KTEST_PASS;
}

P2_TEST(p2_print_exit_code, "Hypercalls", 1, 6, "Print(msg) then HaltCpu(code): both arrive")
{
    uint64_t code = gtest_u64(c, u64_edges + 4, 4);
    print_ok(c, v, rng_range(&c->rng, 0, 200), rng_range(&c->rng, 1, 80));
    v->params.code = code;
    gtest_input(c, "code=0x%lx", code);
    gtest_expect_exit(c, (int64_t)code);
    return KTEST_PASS;
}

/* --- Hypercalls: Print --------------------------------------------------------- */

P2_TEST(p2_print_hello, "Hypercalls", 1, 3, "Print of a short text, then HaltCpu(0)")
{
    static const char hello[] = "Hello, hypervisor!\n";
    size_t n = c->index == 0 ? sizeof(hello) - 1 : rng_range(&c->rng, 8, 60);
    for (size_t i = 0; i < n; i++)
        buffer[i] = c->index == 0 ? (uint8_t)hello[i] : (uint8_t)rng_range(&c->rng, 0x20, 0x7e);
    v->buf_len = n;
    print_one(v, GUEST_BUF, n);
    gtest_input(c, "buf=GUEST_BUF size=%zu", n);
    gtest_expect_print(c, buffer, n);
    gtest_expect_exit(c, 0);
    return KTEST_PASS;
}

P2_TEST(p2_print_empty, "Hypercalls", 1, 5,
        "Print of 0 bytes prints nothing and succeeds, wherever its buffer points")
{
    static const uint64_t addrs[] = {GUEST_BUF, GUEST_UNMAPPED, 0, 0xffffffffffffffffULL,
                                     0x0000800000000000ULL};
    print_one(v, addrs[c->index % ARRAY_SIZE(addrs)], 0);
    gtest_input(c, "buf=0x%lx size=0", v->params.prints[0].addr);
    gtest_expect_exit(c, 0);
    return KTEST_PASS;
}

P2_TEST(p2_print_lengths, "Hypercalls", 3, 20,
        "Print of every length a chunked or page-wise copy can get wrong: 1, 255-257, "
        "511-513, 4095-4097, 8192, the whole buffer, one ending on its last byte")
{
    static const struct {
        size_t off, len;
    } edges[] = {
        {0, 1}, {0, 2}, {0, 255}, {0, 256}, {0, 257}, {1, 511}, {0, 512}, {3, 513},
        {0, 4095}, {0, 4096}, {0, 4097}, {4095, 2}, {100, 8192}, {0, 8193},
        {0, GUEST_BUF_SIZE}, {GUEST_BUF_SIZE - 1, 1}, {7, GUEST_BUF_SIZE - 7},
    };
    size_t off, len;
    if (c->index < ARRAY_SIZE(edges)) {
        off = edges[c->index].off, len = edges[c->index].len;
    } else {
        off = rng_range(&c->rng, 0, GUEST_BUF_SIZE - 1);
        len = rng_range(&c->rng, 1, GUEST_BUF_SIZE - off);
    }
    print_ok(c, v, off, len);
    return KTEST_PASS;
}

P2_TEST(p2_print_bytes, "Hypercalls", 1, 2,
        "Print passes every byte value through unchanged (NUL, control bytes, 0x7f-0xff)")
{
    for (size_t i = 0; i < 512; i++)
        buffer[i] = (uint8_t)i;
    for (size_t i = 511; i > 0; i--) { /* Fisher-Yates */
        size_t j = rng_range(&c->rng, 0, i);
        uint8_t t = buffer[i];
        buffer[i] = buffer[j], buffer[j] = t;
    }
    v->buf_len = 512;
    print_one(v, GUEST_BUF, 512);
    gtest_input(c, "buf=GUEST_BUF size=512 (each byte value twice, shuffled)");
    gtest_expect_print(c, buffer, 512);
    gtest_expect_exit(c, 0);
    return KTEST_PASS;
}

P2_TEST(p2_print_cross_page, "Hypercalls", 2, 10,
        "a buffer that crosses a page boundary at many offsets: the two guest pages are "
        "not neighbours in host memory")
{
    static const size_t before[] = {1, 2, 3, 8, 64, 255, 256, 257, 2048, 4095};
    size_t k = c->index < ARRAY_SIZE(before) ? before[c->index] : rng_range(&c->rng, 1, 4095);
    size_t page = 1 + rng_range(&c->rng, 0, GUEST_BUF_PAGES - 2);
    print_ok(c, v, page * PAGE_SIZE - k, k + rng_range(&c->rng, 1, 600));
    return KTEST_PASS;
}

P2_TEST(p2_print_many, "Hypercalls", 1, 4, "many Prints in a row arrive whole and in order")
{
    static const size_t counts[] = {1, 2, GUEST_PRINTS_MAX};
    size_t count = c->index < ARRAY_SIZE(counts) ? counts[c->index]
                                                 : rng_range(&c->rng, 3, GUEST_PRINTS_MAX);
    v->guest = "print";
    v->params.nprints = count;
    fill_buffer(c, v, 0, GUEST_BUF_SIZE);
    for (size_t i = 0; i < count; i++) {
        uint64_t off = rng_range(&c->rng, 0, GUEST_BUF_SIZE - 1);
        uint64_t len = rng_range(&c->rng, 1, 40) % (GUEST_BUF_SIZE - off) + 1;
        v->params.prints[i].addr = GUEST_BUF + off;
        v->params.prints[i].len = len;
        gtest_expect_print(c, buffer + off, len);
    }
    gtest_input(c, "prints=%zu (random pieces of the buffer)", count);
    gtest_expect_exit(c, 0);
    return KTEST_PASS;
}

P2_TEST(p2_regs_preserved, "Hypercalls", 1, 4,
        "after a Print the guest goes on right after vmcall with every register but rax as it was")
{
    static const size_t lens[] = {0, 1, 300, 5000};
    size_t len = lens[c->index % ARRAY_SIZE(lens)];
    fill_buffer(c, v, 0, len);
    v->guest = "regs";
    v->params.prints[0].addr = GUEST_BUF;
    v->params.prints[0].len = len;
    for (int i = 0; i < 16; i++)
        v->params.regs[i] = rng_next(&c->rng);
    v->params.code = rng_range(&c->rng, 1, 0xffff);
    gtest_input(c, "buf=GUEST_BUF size=%zu code=%lu (random values in every register)", len,
                v->params.code);
    gtest_expect_print(c, buffer, len);
    gtest_expect_exit(c, (int64_t)v->params.code);
    return KTEST_PASS;
}

#ifdef KEVLAB_HIDDEN /* a hidden test: instructors only (docs/instructors.md) */
P2_TEST_HIDDEN(p2_print_utf8, "Hypercalls", 1, 2, "Print passes UTF-8 text through unchanged")
{
    static const char *const words[] = {"h\xc3\xa9llo", "w\xc3\xb6rld", "\xe2\x82\xac",
                                        "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80", " ", "\n"};
    size_t n = 0;
    while (n < 200) {
        const char *w = words[rng_range(&c->rng, 0, ARRAY_SIZE(words) - 1)];
        memcpy(buffer + n, w, strlen(w));
        n += strlen(w);
    }
    v->buf_len = n;
    print_one(v, GUEST_BUF, n);
    gtest_input(c, "buf=GUEST_BUF size=%zu (UTF-8 text)", n);
    gtest_expect_print(c, buffer, n);
    gtest_expect_exit(c, 0);
    return KTEST_PASS;
}
#endif

/* --- Hypercalls: bad input ----------------------------------------------------- */

P2_TEST(p2_unknown_hypercall, "Hypercalls", 2, 10,
        "an unknown hypercall number stops the VM with KEV_EHYPERCALL, also one whose low "
        "32 bits are a real hypercall's")
{
    static const uint64_t edges[] = {2, 3, 0x100000000ULL, 0x100000001ULL, 0xffffffff00000001ULL,
                                     0x8000000000000000ULL, 0xffffffffffffffffULL, 0x7fffffff};
    uint64_t nr = c->index < ARRAY_SIZE(edges) ? edges[c->index] : rng_range(&c->rng, 2, ~0ULL);
    fill_buffer(c, v, 0, 64); /* rdi and rsi hold a good Print: only rax is wrong */
    v->guest = "unknown";
    v->params.nr = nr;
    v->params.prints[0].addr = GUEST_BUF;
    v->params.prints[0].len = 64;
    gtest_input(c, "rax=0x%lx", nr);
    gtest_expect_error(c, KEV_EHYPERCALL);
    return KTEST_PASS;
}

P2_TEST(p2_print_unmapped, "Hypercalls", 1, 6,
        "Print of a buffer that starts on an unmapped page stops the VM with KEV_EUNMAPPED")
{
    static const uint64_t addrs[] = {GUEST_UNMAPPED, GUEST_UNMAPPED + 123, GUEST_BUF + GUEST_BUF_SIZE,
                                     0x1000, 0x00007ffffffff000ULL, 0xfffffffffffff000ULL};
    uint64_t addr = addrs[c->index % ARRAY_SIZE(addrs)];
    /* The last one ends exactly at 2^64: no wrap, its page is unmapped. */
    uint64_t len = c->index == 5 ? 0x1000 : rng_range(&c->rng, 1, 4096);
    print_fails(c, v, addr, len, KEV_EUNMAPPED);
    return KTEST_PASS;
}

P2_TEST(p2_print_past_end, "Hypercalls", 1, 7,
        "Print of a buffer running one byte past the mapped memory stops the VM with "
        "KEV_EUNMAPPED and prints none of it")
{
    static const size_t from_end[] = {1, 255, 256, 300, 4096, 5000, GUEST_BUF_SIZE};
    size_t k = from_end[c->index % ARRAY_SIZE(from_end)];
    print_fails(c, v, GUEST_BUF + GUEST_BUF_SIZE - k, k + 1, KEV_EUNMAPPED);
    return KTEST_PASS;
}

P2_TEST(p2_print_hole, "Hypercalls", 2, 4,
        "Print over several pages with an unmapped one in the middle stops the VM with "
        "KEV_EUNMAPPED and prints none of it (all or nothing)")
{
    int hole = 1 + (int)(c->index % 2);
    size_t off = rng_range(&c->rng, 0, 100);
    print_fails(c, v, GUEST_BUF + off, GUEST_BUF_SIZE - off, KEV_EUNMAPPED);
    v->hole = hole;
    gtest_input(c, "hole=page %d of %d", hole, GUEST_BUF_PAGES);
    return KTEST_PASS;
}

P2_TEST(p2_print_wrap, "Hypercalls", 1, 4,
        "Print of a buffer whose last byte would lie past 2^64 - 1 stops the VM with KEV_EOVERFLOW")
{
    static const struct {
        uint64_t addr, len;
    } cases[] = {
        {0xfffffffffffff000ULL, 0x2000},
        {0xffffffffffffffffULL, 2},
        {GUEST_BUF, 0 - GUEST_BUF + 1},
        {GUEST_BUF + 10, 0xffffffffffffffffULL},
    };
    print_fails(c, v, cases[c->index % 4].addr, cases[c->index % 4].len, KEV_EOVERFLOW);
    return KTEST_PASS;
}

P2_TEST(p2_print_huge_size, "Hypercalls", 1, 5,
        "Print of a size of 2^32 or more (from a good address) stops the VM with KEV_EUNMAPPED "
        "and prints nothing: sizes are 64-bit")
{
    static const uint64_t sizes[] = {0x100000000ULL, 0x100000001ULL, 0x100000040ULL,
                                     0x10000000000ULL, 0x8000000000000000ULL};
    print_fails(c, v, GUEST_BUF + 16, sizes[c->index % 5], KEV_EUNMAPPED);
    return KTEST_PASS;
}

P2_TEST(p2_print_capture_limit, "Hypercalls", 1, 3,
        "a Print that does not fit what the capture has left prints nothing and stops the VM "
        "with KEV_ENOMEM")
{
    static const size_t over[] = {0, 1, 10};
    size_t cap = rng_range(&c->rng, 300, 900), k = over[c->index % 3];
    fill_buffer(c, v, 0, GUEST_BUF_SIZE);
    v->guest = "print";
    v->params.nprints = 2;
    v->params.prints[0].addr = GUEST_BUF;
    v->params.prints[0].len = cap - k;
    v->params.prints[1].addr = GUEST_BUF + PAGE_SIZE;
    v->params.prints[1].len = k + 1;
    c->capture_capacity = cap;
    gtest_input(c, "capture=%zu bytes; Print(%zu bytes) then Print(%zu bytes)", cap, cap - k, k + 1);
    gtest_expect_print(c, buffer, cap - k);
    gtest_expect_error(c, KEV_ENOMEM);
    return KTEST_PASS;
}

#ifdef KEVLAB_HIDDEN /* a hidden test: instructors only (docs/instructors.md) */
P2_TEST_HIDDEN(p2_print_noncanonical, "Hypercalls", 1, 3,
               "Print of a non-canonical address stops the VM with KEV_ENONCANONICAL")
{
    static const uint64_t addrs[] = {0x0000800000000000ULL, 0xffff7ffffffff000ULL,
                                     0x8000000000000000ULL};
    print_fails(c, v, addrs[c->index % 3], rng_range(&c->rng, 1, 100), KEV_ENONCANONICAL);
    return KTEST_PASS;
}
#endif

/* --- The entry state ------------------------------------------------------------- */

P2_TEST(p2_entry_state, "Entry", 1, 10,
        "entry_setup() writes GUEST_CR3 and GUEST_RIP from the VM's description: the code, its "
        "entry point and the page table are somewhere new in every case")
{
    v->guest = "entry";
    v->parts = P2_ENTRY;
    /* A page of its own in [256 MiB, 512 GiB), far from the parameter page,
     * the buffer and the stack. */
    v->code_gva = rng_range(&c->rng, 0x10000, 0x7fffffe) * PAGE_SIZE;
    v->entry_offset = c->index == 0 ? 0 : 2 * rng_range(&c->rng, 1, 1500);
    v->pml4_skip = (unsigned)rng_range(&c->rng, 0, 40);
    v->params.code = rng_u64(&c->rng);
    gtest_input(c, "code at 0x%lx, entry at +0x%zx, page table past %u pages, exit code 0x%lx",
                v->code_gva, v->entry_offset, v->pml4_skip, v->params.code);
    gtest_expect_exit(c, (int64_t)v->params.code);
    return KTEST_PASS;
}

/* --- MSRs ------------------------------------------------------------------------ */

/*
 * An MSR test's case is a list of steps for guests/project2/msr.asm (an
 * RDMSR or a WRMSR, with rcx, rax and rdx), the devices the VM registers
 * (the stack at MSR_STACK, scratch registers) and the MSRs it lets
 * through. msr_step() adds a step and, from a model of the devices and of
 * the CPU, the line the guest must print for it; a step that must stop the
 * VM (a device's error) ends what it prints. Every step on an MSR that is
 * not let through must make one VM exit, and the controller counts them.
 *
 * The MSRs a step writes are never ones a CPU has (a wrong bitmap would let
 * the write reach it): the emulated ones are vacant indices, in each of the
 * bitmap's two ranges (0xa00-0xaff, 0xc0000a00-0xc0000aff) and outside
 * them; only RDMSR touches real MSRs (which a read cannot harm).
 */
static struct msr_config msr_config;
static struct {
    uint64_t stack[MSR_STACK_DEPTH];
    size_t depth;
    uint64_t scratch[MSR_SETUP_MAX];           /* by registration */
    uint64_t passthrough[MSR_PASSTHROUGH_COUNT]; /* by msr_passthrough_all[] */
    bool stopped;                              /* a step stopped the VM */
} msr_model;

static const uint32_t msr_passthrough_all[] = {
#define MSR_PT_INDEX(index, name) index,
    MSR_PASSTHROUGH(MSR_PT_INDEX)
#undef MSR_PT_INDEX
};

static void msr_add_device(uint32_t index, enum msr_device_kind kind, uint64_t value)
{
    struct msr_setup *st = &msr_config.setup;
    if (st->ndevices < MSR_SETUP_MAX) {
        msr_model.scratch[st->ndevices] = value;
        st->devices[st->ndevices++] = (struct msr_device_setup){index, kind, value};
    }
}

/* A VM of the MSR tests: the stack at MSR_STACK, every passthrough MSR let
 * through, a random exit code, no steps yet. */
static void msr_begin(struct gtest_case *c, struct p2_vm_config *v)
{
    memset(&msr_config, 0, sizeof(msr_config));
    memset(&msr_model, 0, sizeof(msr_model));
    v->guest = "msr";
    v->parts = P2_MSR;
    v->msr = &msr_config;
    v->params.code = rng_u64(&c->rng);
    msr_add_device(MSR_STACK, MSR_DEV_STACK, 0);
    msr_config.setup.npassthrough = MSR_PASSTHROUGH_COUNT;
    memcpy(msr_config.setup.passthrough, msr_passthrough_all, sizeof(msr_passthrough_all));
    gtest_expect_exit(c, (int64_t)v->params.code);
}

/* The registration that emulates `index` (the first), or -1. */
static int msr_device_of(uint32_t index)
{
    const struct msr_setup *st = &msr_config.setup;
    for (uint64_t i = 0; i < st->ndevices; i++)
        if (st->devices[i].index == index)
            return (int)i;
    return -1;
}

/* The position of a passthrough MSR the VM lets through in
 * msr_passthrough_all[], or -1. */
static int msr_passed(uint32_t index)
{
    const struct msr_setup *st = &msr_config.setup;
    for (uint64_t i = 0; i < st->npassthrough; i++)
        if (st->passthrough[i] == index)
            for (size_t j = 0; j < ARRAY_SIZE(msr_passthrough_all); j++)
                if (msr_passthrough_all[j] == index)
                    return (int)j;
    return -1;
}

/* What a device or the CPU does with one access: KEV_OK and *value (read),
 * or the device's error. */
static enum kev_error msr_access(uint32_t index, bool write, uint64_t *value)
{
    int pt = msr_passed(index);
    if (pt >= 0) { /* the CPU's own: IA32_SYSENTER_CS keeps 32 bits */
        if (write)
            msr_model.passthrough[pt] = index == 0x174 ? *value & 0xffffffffULL : *value;
        else
            *value = msr_model.passthrough[pt];
        return KEV_OK;
    }
    int d = msr_device_of(index);
    if (msr_config.setup.devices[d].kind == MSR_DEV_SCRATCH) {
        if (write)
            msr_model.scratch[d] = *value;
        else
            *value = msr_model.scratch[d];
        return KEV_OK;
    }
    if (write) {
        if (msr_model.depth == MSR_STACK_DEPTH)
            return KEV_ENOMEM;
        msr_model.stack[msr_model.depth++] = *value;
    } else {
        if (msr_model.depth == 0)
            return KEV_EEMPTY;
        *value = msr_model.stack[--msr_model.depth];
    }
    return KEV_OK;
}

/* The guest's line format, written without snprintf (a case has dozens). */
static char *msr_put(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

static char *msr_hex(char *p, const char *before, uint64_t x, int digits)
{
    p = msr_put(p, before);
    for (int i = digits - 1; i >= 0; i--, x >>= 4)
        p[i] = "0123456789abcdef"[x & 15];
    return p + digits;
}

/* One step: `op` (enum msr_op) with these registers. */
static void msr_step(struct gtest_case *c, struct p2_vm_config *v, unsigned op, uint64_t rcx,
                     uint64_t rax, uint64_t rdx)
{
    if (v->params.msr_nsteps == MSR_STEPS_MAX)
        panic("p2: an MSR case with more than %d steps", MSR_STEPS_MAX);
    v->params.msr_steps[v->params.msr_nsteps++] = (struct msr_step){op, rcx, rax, rdx};
    if (msr_model.stopped)
        return;
    bool write = op == MSR_OP_WRMSR || op == MSR_OP_WRMSR_REX;
    const char *name = write ? "wrmsr" : "rdmsr";
    uint32_t index = (uint32_t)rcx;
    char line[128], *p = msr_hex(line, name, 0, 0);
    p = msr_hex(p, " rcx=0x", rcx, 16);
    if (msr_passed(index) < 0)
        msr_config.expect_exits++;
    if (msr_passed(index) < 0 && msr_device_of(index) < 0) {
        p = msr_hex(p, " #0x", EXC_GP, 2);
        p = msr_hex(p, " error=0x", 0, 16);
        p = msr_hex(p, " rip+0x", 0, 16);
    } else {
        uint64_t value = (rdx & 0xffffffffULL) << 32 | (rax & 0xffffffffULL);
        enum kev_error e = msr_access(index, write, &value);
        if (e != KEV_OK) { /* the VM stops: the guest prints none of its lines */
            msr_model.stopped = true;
            c->expect_len = 0;
            gtest_expect_error(c, e);
            return;
        }
        if (!write)
            rdx = value >> 32, rax = value & 0xffffffffULL;
        p = msr_hex(p, " rdx=0x", rdx, 16);
        p = msr_hex(p, " rax=0x", rax, 16);
    }
    *p++ = '\n';
    gtest_expect_print(c, line, (size_t)(p - line));
}

/* What rax or rdx holds before an RDMSR (which must overwrite all of it),
 * or in its upper half before a WRMSR (which must ignore it): all ones in
 * most cases, the original's vector. */
static uint64_t msr_junk(struct gtest_case *c)
{
    return rng_range(&c->rng, 0, 3) ? 0xffffffff00000000ULL | rng_next(&c->rng)
                                    : rng_next(&c->rng);
}

/* rcx for an MSR: ECX is the index, its upper half must not count. */
static uint64_t msr_rcx(struct gtest_case *c, uint32_t index)
{
    static const uint64_t upper[] = {0, 0xffffffff00000000ULL, 0x8000000000000000ULL,
                                     0x0000000100000000ULL};
    uint64_t u = rng_range(&c->rng, 0, 4);
    return index | (u < ARRAY_SIZE(upper) ? upper[u] : rng_next(&c->rng) << 32);
}

static unsigned msr_op(struct gtest_case *c, bool write)
{
    bool rex = rng_range(&c->rng, 0, 3) == 0;
    return write ? (rex ? MSR_OP_WRMSR_REX : MSR_OP_WRMSR) : (rex ? MSR_OP_RDMSR_REX : MSR_OP_RDMSR);
}

/* A WRMSR of `value` to MSR index, with junk in the upper halves. */
static void msr_write(struct gtest_case *c, struct p2_vm_config *v, uint32_t index, uint64_t value)
{
    uint64_t junk = msr_junk(c), junk2 = msr_junk(c);
    msr_step(c, v, msr_op(c, true), msr_rcx(c, index),
             (junk & 0xffffffff00000000ULL) | (value & 0xffffffffULL),
             (junk2 & 0xffffffff00000000ULL) | (value >> 32));
}

static void msr_read(struct gtest_case *c, struct p2_vm_config *v, uint32_t index)
{
    msr_step(c, v, msr_op(c, false), msr_rcx(c, index), msr_junk(c), msr_junk(c));
}

/* A vacant MSR (no CPU has it: a WRMSR the bitmap let through by mistake
 * takes #GP and harms nothing): in the low range, the high range, or
 * outside both. */
static uint32_t msr_vacant(struct gtest_case *c, unsigned where)
{
    switch (where % 3) {
    case 0:
        return (uint32_t)rng_range(&c->rng, 0xa00, 0xaff);
    case 1:
        return (uint32_t)rng_range(&c->rng, 0xc0000a00u, 0xc0000affu);
    }
    return rng_range(&c->rng, 0, 1) ? (uint32_t)rng_range(&c->rng, 0x2000, 0xbfffffffu)
                                    : (uint32_t)rng_range(&c->rng, 0xc0002000u, 0xffffffffu);
}

/* A vacant MSR no device of this case has yet, and no passthrough one. */
static uint32_t msr_fresh(struct gtest_case *c, unsigned where)
{
    for (;;) {
        uint32_t m = msr_vacant(c, where);
        if (msr_device_of(m) < 0 && msr_passthrough_name(m) == NULL)
            return m;
    }
}

static void msr_inputs_devices(struct gtest_case *c)
{
    const struct msr_setup *st = &msr_config.setup;
    gtest_input(c, "devices:");
    for (uint64_t i = 0; i < st->ndevices; i++)
        gtest_input(c, "0x%x%s", st->devices[i].index,
                    st->devices[i].kind == MSR_DEV_STACK ? "(stack)" : "");
}

P2_TEST(p2_msr_upper_halves, "MSR", 2, 5,
        "RDMSR of the stack returns the value in EDX:EAX with the upper halves of RAX and RDX "
        "cleared; WRMSR takes EDX[31:0]:EAX[31:0] and ignores the upper halves (all ones on input)")
{
    msr_begin(c, v);
    if (c->index == 0) { /* the original's vector */
        msr_step(c, v, MSR_OP_WRMSR, MSR_STACK, 0xffffffff89abcdefULL, 0xffffffff01234567ULL);
        msr_step(c, v, MSR_OP_RDMSR, MSR_STACK, ~0ULL, ~0ULL);
        gtest_input(c, "wrmsr 0xabc rax=0xffffffff89abcdef rdx=0xffffffff01234567, then rdmsr "
                       "0xabc with rax = rdx = all ones");
        return KTEST_PASS;
    }
    static const uint32_t halves[] = {0, 0xffffffffu, 0x80000000u, 1, 0x7fffffffu};
    size_t n = rng_range(&c->rng, 1, 3);
    for (size_t i = 0; i < n; i++) {
        uint32_t hi = c->index == 1 ? halves[i % 5] : (uint32_t)rng_next(&c->rng);
        uint32_t lo = c->index == 1 ? halves[(i + 1) % 5] : (uint32_t)rng_next(&c->rng);
        msr_step(c, v, msr_op(c, true), msr_rcx(c, MSR_STACK), 0xffffffff00000000ULL | lo,
                 0xffffffff00000000ULL | hi);
    }
    for (size_t i = 0; i < n; i++)
        msr_step(c, v, msr_op(c, false), msr_rcx(c, MSR_STACK), ~0ULL, ~0ULL);
    gtest_input(c, "%zu wrmsr of the stack, then %zu rdmsr; rax, rdx with all-ones upper halves; "
                "rcx with junk in its upper half", n, n);
    return KTEST_PASS;
}

P2_TEST(p2_msr_random_values, "MSR", 2, 6,
        "values drawn from the whole 64-bit domain (0, 2^31, 2^32, 2^63, 2^64-1, ...) pushed "
        "with WRMSR come back whole from RDMSR, whatever junk the registers held")
{
    msr_begin(c, v);
    size_t n = c->index < 3 ? 6 : rng_range(&c->rng, 2, 6);
    for (size_t i = 0; i < n; i++) {
        size_t k = c->index * 6 + i; /* the first three cases: the edges, then their complements */
        uint64_t x = k < 2 * RNG_U64_EDGES ? rng_u64_edge((unsigned)k) : rng_u64(&c->rng);
        if (k >= RNG_U64_EDGES && k < 2 * RNG_U64_EDGES)
            x = ~x; /* 0xfffffffffffffffe, 0xffffffff7fffffff, 0xfffffffeffffffff, ... */
        msr_write(c, v, MSR_STACK, x);
    }
    for (size_t i = 0; i < n; i++)
        msr_read(c, v, MSR_STACK);
    gtest_input(c, "%zu values pushed, then popped (random junk in the registers' upper halves)", n);
    return KTEST_PASS;
}

P2_TEST(p2_msr_stack_order, "MSR", 2, 5,
        "the stack at MSR 0xabc is last in, first out: pushes and pops interleaved, and the "
        "stack filled to its depth (16) and emptied")
{
    msr_begin(c, v);
    if (c->index == 0) {
        for (int i = 0; i < MSR_STACK_DEPTH; i++)
            msr_write(c, v, MSR_STACK, rng_u64(&c->rng));
        for (int i = 0; i < MSR_STACK_DEPTH; i++)
            msr_read(c, v, MSR_STACK);
        gtest_input(c, "16 pushes, then 16 pops");
        return KTEST_PASS;
    }
    size_t steps = rng_range(&c->rng, 8, 14), depth = 0;
    for (size_t i = 0; i < steps; i++) {
        bool push = depth == 0 || (depth < MSR_STACK_DEPTH && rng_range(&c->rng, 0, 2) != 0);
        if (push)
            msr_write(c, v, MSR_STACK, rng_next(&c->rng));
        else
            msr_read(c, v, MSR_STACK);
        depth += push ? 1 : -1;
    }
    while (depth-- > 0)
        msr_read(c, v, MSR_STACK);
    gtest_input(c, "random pushes and pops, the stack emptied at the end");
    return KTEST_PASS;
}

P2_TEST(p2_msr_registry, "MSR", 2, 5,
        "the stack and scratch registers registered at once, at MSRs of both bitmap ranges and "
        "outside them, some differing from 0xabc only in their upper bits: each access reaches "
        "its own device")
{
    static const uint32_t near[] = {0x80000abcu, 0xc0000abcu, 0x40000abcu, 0x00010abcu,
                                    0xabc00000u, 0x00000abdu, 0x00000abbu, 0xc0000abdu};
    msr_begin(c, v);
    size_t n = rng_range(&c->rng, 3, 7);
    for (size_t i = 0; i < n; i++) {
        uint32_t m = i < 2 ? near[(c->index * 2 + i) % ARRAY_SIZE(near)] : msr_fresh(c, (unsigned)i);
        msr_add_device(m, MSR_DEV_SCRATCH, rng_u64(&c->rng));
    }
    const struct msr_setup *st = &msr_config.setup;
    for (size_t k = 0; k < 10; k++) {
        const struct msr_device_setup *d = &st->devices[rng_range(&c->rng, 0, st->ndevices - 1)];
        if (d->kind == MSR_DEV_STACK && msr_model.depth == 0)
            msr_write(c, v, d->index, rng_next(&c->rng));
        else if (rng_range(&c->rng, 0, 1))
            msr_write(c, v, d->index, rng_u64(&c->rng));
        else
            msr_read(c, v, d->index);
    }
    for (uint64_t i = 1; i < st->ndevices; i++) /* every register's last value */
        msr_read(c, v, st->devices[i].index);
    msr_inputs_devices(c);
    return KTEST_PASS;
}

P2_TEST(p2_msr_register_twice, "MSR", 1, 5,
        "registering an MSR that is registered already fails with KEV_EEXIST (the VM does not "
        "start); MSRs that differ only in their upper bits are different MSRs")
{
    msr_begin(c, v);
    size_t before = rng_range(&c->rng, 0, 4), after = rng_range(&c->rng, 0, 2);
    if (c->index < 2)
        msr_add_device(0x80000abcu, MSR_DEV_SCRATCH, 1);
    for (size_t i = 0; i < before; i++)
        msr_add_device(msr_fresh(c, (unsigned)rng_range(&c->rng, 0, 2)), MSR_DEV_SCRATCH, 0);
    const struct msr_setup *st = &msr_config.setup;
    uint32_t again = c->index == 0 ? MSR_STACK : st->devices[rng_range(&c->rng, 0, st->ndevices - 1)].index;
    bool stack = c->index == 1 && again == MSR_STACK;
    msr_add_device(again, stack ? MSR_DEV_STACK : MSR_DEV_SCRATCH, 7);
    for (size_t i = 0; i < after; i++)
        msr_add_device(msr_fresh(c, (unsigned)i), MSR_DEV_SCRATCH, 0);
    msr_inputs_devices(c);
    gtest_input(c, "(0x%x twice)", again);
    gtest_expect_error(c, KEV_EEXIST);
    return KTEST_PASS;
}

/* MSRs nobody emulates in these tests: near 0xabc, at the bitmap ranges'
 * edges and outside them, then real ones (read only). */
static const uint32_t msr_unknown[] = {
    0x00000abdu, 0x80000abcu, 0xc0000abcu, 0x00010abcu, 0x00000abbu, 0x40000abcu,
    0x00001fffu, 0x00002000u, 0xbfffffffu, 0xc0000000u, 0xc0001fffu, 0xc0002000u,
    0xffffffffu, 0x00000000u, 0x00000010u, 0x0000001bu, 0xc0000080u, 0xc0000102u, 0x00000277u,
    0xc0000082u,
};
/* From this one on, they exist on a CPU: never written. */
#define MSR_UNKNOWN_READ_ONLY 13

static uint32_t msr_unknown_at(struct gtest_case *c, size_t k, bool *writable)
{
    size_t i = k < ARRAY_SIZE(msr_unknown) ? k : rng_range(&c->rng, 0, ARRAY_SIZE(msr_unknown) - 1);
    *writable = i < MSR_UNKNOWN_READ_ONLY;
    return msr_unknown[i];
}

P2_TEST(p2_msr_unknown_gp, "MSR", 2, 5,
        "RDMSR and WRMSR of an MSR nobody emulates give the guest #GP(0), injected: its "
        "handler sees vector 13 and error code 0, and the guest goes on")
{
    msr_begin(c, v);
    for (size_t i = 0; i < 4; i++) {
        bool writable;
        uint32_t m = msr_unknown_at(c, c->index * 4 + i, &writable);
        if (writable && rng_range(&c->rng, 0, 1))
            msr_write(c, v, m, rng_u64(&c->rng));
        else
            msr_read(c, v, m);
    }
    msr_write(c, v, MSR_STACK, rng_u64(&c->rng)); /* an emulated one after the #GPs */
    msr_read(c, v, MSR_STACK);
    gtest_input(c, "four RDMSR or WRMSR of MSRs nobody emulates, then a push and a pop");
    return KTEST_PASS;
}

P2_TEST(p2_msr_rip_after_gp, "MSR", 2, 4,
        "after a #GP the guest's handler finds RIP at the RDMSR or WRMSR that faulted (2 "
        "bytes, or 3 with a REX.W prefix); after an emulated one the guest goes on right after it")
{
    static const unsigned ops[] = {MSR_OP_RDMSR, MSR_OP_WRMSR, MSR_OP_RDMSR_REX, MSR_OP_WRMSR_REX};
    msr_begin(c, v);
    for (size_t i = 0; i < 4; i++) {
        unsigned fault = ops[(c->index + i) % 4], ok = ops[(c->index + i + 1) % 4];
        uint32_t m = msr_unknown[rng_range(&c->rng, 0, MSR_UNKNOWN_READ_ONLY - 1)];
        msr_step(c, v, fault, msr_rcx(c, m), msr_junk(c), msr_junk(c));
        if (msr_model.depth == 0 && (ok == MSR_OP_RDMSR || ok == MSR_OP_RDMSR_REX))
            ok = ok == MSR_OP_RDMSR ? MSR_OP_WRMSR : MSR_OP_WRMSR_REX;
        msr_step(c, v, ok, msr_rcx(c, MSR_STACK), msr_junk(c), msr_junk(c));
    }
    while (msr_model.depth > 0)
        msr_read(c, v, MSR_STACK);
    gtest_input(c, "#GP and emulated instructions in turn, with and without a REX.W prefix");
    return KTEST_PASS;
}

P2_TEST(p2_msr_empty_stack, "MSR", 1, 4,
        "RDMSR of the empty stack stops the VM with KEV_EEMPTY")
{
    static const size_t pushes[] = {0, 1, 3, MSR_STACK_DEPTH};
    size_t k = c->index < ARRAY_SIZE(pushes) ? pushes[c->index] : rng_range(&c->rng, 0, 16);
    msr_begin(c, v);
    for (size_t i = 0; i < k; i++)
        msr_write(c, v, MSR_STACK, rng_u64(&c->rng));
    for (size_t i = 0; i <= k; i++)
        msr_read(c, v, MSR_STACK);
    gtest_input(c, "%zu pushes, then %zu pops", k, k + 1);
    return KTEST_PASS;
}

/* A canonical address for the passthrough MSRs (the CPU refuses others). */
static uint64_t msr_canonical(struct gtest_case *c)
{
    uint64_t x = rng_u64(&c->rng) & 0x0000ffffffffffffULL;
    return x & (1ULL << 47) ? x | 0xffff000000000000ULL : x;
}

P2_TEST(p2_msr_passthrough, "MSR", 2, 4,
        "RDMSR and WRMSR of the passthrough MSRs (IA32_SYSENTER_CS/ESP/EIP, IA32_FS_BASE, "
        "IA32_GS_BASE) make no VM exit and reach the CPU; the MSRs beside them still exit (#GP)")
{
    static const uint32_t beside[] = {0x173, 0x177, 0xc00000ff, 0xc0000102, 0x100, 0x101,
                                      0xc0000174, 0xc0000176};
    msr_begin(c, v);
    struct msr_setup *st = &msr_config.setup;
    if (c->index >= 2) { /* some of them only: the others must exit */
        st->npassthrough = 0;
        for (size_t i = 0; i < MSR_PASSTHROUGH_COUNT; i++)
            if (rng_range(&c->rng, 0, 1) || i == c->index)
                st->passthrough[st->npassthrough++] = msr_passthrough_all[i];
    }
    for (size_t i = 0; i < MSR_PASSTHROUGH_COUNT; i++) {
        uint32_t m = msr_passthrough_all[(i + c->index) % MSR_PASSTHROUGH_COUNT];
        if (msr_passed(m) < 0) {
            msr_read(c, v, m); /* nobody emulates it here: #GP */
            continue;
        }
        uint64_t x = m == 0x174 ? rng_range(&c->rng, 0, 0xffff) : msr_canonical(c);
        msr_read(c, v, m);
        msr_write(c, v, m, x);
        msr_read(c, v, m);
    }
    for (size_t i = 0; i < 3; i++)
        msr_read(c, v, beside[(c->index * 3 + i) % ARRAY_SIZE(beside)]);
    gtest_input(c, "%lu passthrough MSRs, each read, written and read again; then MSRs beside "
                "them read", st->npassthrough);
    return KTEST_PASS;
}

#ifdef KEVLAB_HIDDEN /* hidden tests: instructors only (docs/instructors.md) */
P2_TEST_HIDDEN(p2_msr_stack_full, "MSR", 1, 2,
               "WRMSR onto the full stack (16 values) stops the VM with KEV_ENOMEM")
{
    msr_begin(c, v);
    for (int i = 0; i <= MSR_STACK_DEPTH; i++)
        msr_write(c, v, MSR_STACK, rng_u64(&c->rng));
    gtest_input(c, "17 pushes");
    return KTEST_PASS;
}

P2_TEST_HIDDEN(p2_msr_registry_full, "MSR", 1, 3,
               "a registry takes 16 MSRs; registering a 17th fails with KEV_ENOMEM")
{
    msr_begin(c, v);
    size_t n = c->index == 0 ? MSR_REGISTRY_MAX - 1 : MSR_REGISTRY_MAX;
    for (size_t i = 0; i < n; i++)
        msr_add_device(msr_fresh(c, (unsigned)i), MSR_DEV_SCRATCH, rng_u64(&c->rng));
    gtest_input(c, "%zu MSRs registered", n + 1);
    if (n == MSR_REGISTRY_MAX)
        gtest_expect_error(c, KEV_ENOMEM);
    else /* the 16th works */
        msr_read(c, v, msr_config.setup.devices[n].index);
    return KTEST_PASS;
}
#endif

/* --- benchmarks (run only when named: make run TEST=p2_bench_msr) --------------- */

#define BENCH_RDMSRS 1000

/* What an RDMSR exit costs, emulated through msr_handle() and a scratch
 * register (build with the solution: SOLUTION=2). */
KTEST(p2_bench_msr, KTEST_BENCH)
{
    struct gtest_case c = {.rng = rng_seed(1, "p2_bench_msr", 0)};
    memset(&config, 0, sizeof(config));
    config.hole = -1;
    msr_begin(&c, &config);
    config.guest = "msr_bench";
    config.params.code = BENCH_RDMSRS;
    config.params.msr_steps[0].rcx = 0xa00;
    msr_add_device(0xa00, MSR_DEV_SCRATCH, 0);
    msr_config.expect_exits = BENCH_RDMSRS;
    struct printer out;
    if (printer_start(&out, 0) != KEV_OK)
        return ktest_fail("no memory for the PrinterProxy");
    struct vm_outcome o;
    p2_vm_run(&config, &out, &o);
    printer_free(&out);
    if (o.kind != VM_EXITED)
        return ktest_fail("the benchmark's VM stopped with %s: %s", kev_error_name(o.error),
                          o.message);
    int64_t per100 = (o.exit_code * 100 + BENCH_RDMSRS / 2) / BENCH_RDMSRS;
    printk("p2_bench_msr: %d RDMSR exits in %ld ticks (RDTSC in the guest)\n", BENCH_RDMSRS,
           o.exit_code);
    char buf[32];
    snprintf(buf, sizeof(buf), "%ld.%02ld", per100 / 100, per100 % 100);
    ktest_data("instructions_per_rdmsr", buf, strlen(buf));
    return KTEST_PASS;
}
