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
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/x86.h"
#include "kev/gtest.h"
#include "project2/cpuid.h"
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

/* --- CPUID ----------------------------------------------------------------------- */

/* The guest's leftovers in the upper halves of rax..rdx: CPUID must clear them. */
#define UPPER_ONES 0xffffffff00000000ULL

struct cpuid_ask {
    uint32_t leaf, subleaf;
};

/*
 * What the guest must see for CPUID(leaf, subleaf) on vCPU `id`: the host's
 * own answer, which the kernel asks its CPU for here, with the rules of
 * project2/cpuid.h applied. (On the host, leaf 1's EBX[31:24] is the host
 * CPU's APIC ID; the guest's is its vCPU's id.)
 */
static struct cpuid_regs cpuid_expect(unsigned id, uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r = {0};
    if (leaf == CPUID_HYPERVISOR_FIRST) {
        r.eax = KEVLAB_CPUID_MAX_LEAF;
        memcpy(&r.ebx, KEVLAB_CPUID_SIGNATURE, 4);
        memcpy(&r.ecx, KEVLAB_CPUID_SIGNATURE + 4, 4);
        memcpy(&r.edx, KEVLAB_CPUID_SIGNATURE + 8, 4);
    } else if (leaf < CPUID_HYPERVISOR_FIRST || leaf > CPUID_HYPERVISOR_LAST) {
        r = cpuid(leaf, subleaf);
        if (leaf == 1) {
            r.ebx = (r.ebx & ~CPUID_1_EBX_APIC_ID) | (id & 0xffu) << CPUID_1_EBX_APIC_ID_SHIFT;
            r.ecx = (r.ecx & ~CPUID_1_ECX_VMX) | CPUID_1_ECX_HYPERVISOR;
        }
    }
    return r;
}

/* Appends `sep` and the low `digits` hex digits of v at *p. */
static void put_hex(char **p, char sep, uint64_t v, int digits)
{
    if (sep)
        *(*p)++ = sep;
    for (int i = digits - 1; i >= 0; i--, v >>= 4)
        (*p)[i] = "0123456789abcdef"[v & 15];
    *p += digits;
}

/* The line cpuid.asm prints for one CPUID: the leaf and subleaf it asked,
 * and rax..rdx after it in 8 hex digits each (their upper halves are zero;
 * the guest prints 16 digits for one that is not):
 * "00000001.00000000: 000506e3 00010800 fffa3203 0fabfbff\n". */
static void cpuid_expect_line(struct gtest_case *c, struct cpuid_ask a, struct cpuid_regs r)
{
    char line[80], *p = line;
    put_hex(&p, 0, a.leaf, 8);
    put_hex(&p, '.', a.subleaf, 8);
    *p++ = ':';
    put_hex(&p, ' ', r.eax, 8);
    put_hex(&p, ' ', r.ebx, 8);
    put_hex(&p, ' ', r.ecx, 8);
    put_hex(&p, ' ', r.edx, 8);
    *p++ = '\n';
    gtest_expect_print(c, line, (size_t)(p - line));
}

/*
 * A case of cpuid.asm: vCPU `id` asks asks[0..n) in turn, count CPUIDs in
 * all. The upper halves of rax and rcx hold all ones, or random bits when
 * random_upper; rbx and rdx hold all ones over random bits, every other
 * register a random value. The guest must print the first round's answers,
 * one line each, and end with the case's code.
 */
static void cpuid_case(struct gtest_case *c, struct p2_vm_config *v, unsigned id,
                       const struct cpuid_ask *asks, size_t n, size_t count, bool random_upper)
{
    v->guest = "cpuid";
    v->parts = P2_CPUID;
    v->vcpu_id = id;
    v->params.cpuid_nsteps = n;
    v->params.cpuid_count = count;
    for (int i = 0; i < 16; i++)
        v->params.regs[i] = rng_next(&c->rng);
    v->params.regs[2] |= UPPER_ONES; /* rdx */
    v->params.regs[3] |= UPPER_ONES; /* rbx */
    char list[CPUID_STEPS_MAX * 18 + 1];
    size_t at = 0;
    for (size_t i = 0; i < n && at < sizeof(list); i++)
        at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%x.%x", i ? "," : "", asks[i].leaf,
                               asks[i].subleaf);
    gtest_input(c, "vcpu_id=%u cpuids=%zu asks=%s", id, count, list);
    for (size_t i = 0; i < n; i++) {
        uint64_t ha = random_upper ? rng_next(&c->rng) & UPPER_ONES : UPPER_ONES;
        uint64_t hc = random_upper ? rng_next(&c->rng) & UPPER_ONES : UPPER_ONES;
        v->params.cpuid_steps[i].rax = ha | asks[i].leaf;
        v->params.cpuid_steps[i].rcx = hc | asks[i].subleaf;
        if (i >= count)
            continue;
        cpuid_expect_line(c, asks[i], cpuid_expect(id, asks[i].leaf, asks[i].subleaf));
    }
    v->params.code = rng_range(&c->rng, 1, 0xffff);
    gtest_expect_exit(c, (int64_t)v->params.code);
}

static uint32_t random_vcpu_id(struct gtest_case *c)
{
    return (uint32_t)rng_range(&c->rng, 0, 255);
}

P2_TEST(p2_cpuid_vendor, "CPUID", 1, 2,
        "leaf 0 answers as the host: the highest basic leaf in EAX, the vendor string in EBX, "
        "EDX, ECX; the upper halves of rax..rdx zero")
{
    struct cpuid_ask ask = {0, c->index == 0 ? 0 : (uint32_t)rng_next(&c->rng)};
    cpuid_case(c, v, random_vcpu_id(c), &ask, 1, 1, false);
    return KTEST_PASS;
}

P2_TEST(p2_cpuid_leaf1, "CPUID", 3, 6,
        "leaf 1 for vCPU ids 0 to 255: EBX[31:24] is the vCPU's id, VMX (ECX bit 5) clear, the "
        "hypervisor bit (ECX bit 31) set, every other bit the host's")
{
    static const uint64_t ids[] = {0, 255, 1, 0x80, 0x7f};
    unsigned id = (unsigned)(c->index < ARRAY_SIZE(ids) ? ids[c->index] : random_vcpu_id(c));
    struct cpuid_ask ask = {1, c->index == 0 ? 0 : (uint32_t)rng_next(&c->rng)};
    cpuid_case(c, v, id, &ask, 1, 1, false);
    return KTEST_PASS;
}

P2_TEST(p2_cpuid_subleaf, "CPUID", 2, 4,
        "leaves with subleaves (4: the caches, 7: more features, 0xb, 0xd) answered for the ECX "
        "the guest gave, several subleaves of one leaf in a row")
{
    static const uint32_t leaves[] = {4, 7, 0xb, 0xd};
    uint32_t max = cpuid(0, 0).eax, leaf = 4; /* leaf 4 exists on every CPU kev runs on */
    if (c->index < ARRAY_SIZE(leaves) && leaves[c->index] <= max)
        leaf = leaves[c->index];
    else if (c->index >= ARRAY_SIZE(leaves))
        leaf = leaves[rng_range(&c->rng, 0, ARRAY_SIZE(leaves) - 1)];
    if (leaf > max)
        leaf = 4;
    struct cpuid_ask asks[6];
    for (size_t i = 0; i < ARRAY_SIZE(asks); i++) /* 0, 1, 2, 3, then two anywhere */
        asks[i] = (struct cpuid_ask){leaf, i < 4 ? (uint32_t)i : (uint32_t)rng_u64(&c->rng)};
    if (c->index > 0) /* the same subleaves, in another order */
        for (size_t i = ARRAY_SIZE(asks) - 1; i > 0; i--) {
            size_t j = rng_range(&c->rng, 0, i);
            struct cpuid_ask t = asks[i];
            asks[i] = asks[j], asks[j] = t;
        }
    cpuid_case(c, v, random_vcpu_id(c), asks, ARRAY_SIZE(asks), ARRAY_SIZE(asks), false);
    return KTEST_PASS;
}

P2_TEST(p2_cpuid_hypervisor, "CPUID", 2, 2,
        "leaf 0x40000000 answers the highest hypervisor leaf (0x40000000) in EAX and kevlab's "
        "signature \"kevlabkevlab\" in EBX, ECX, EDX; 0x40000001 to 0x4fffffff answer zeros, "
        "their neighbours the host's answer")
{
    struct cpuid_ask asks[] = {
        {0x40000000, 0},          {0x40000001, 0},
        {0x4fffffff, 0},          {0x3fffffff, 0},
        {0x50000000, 0},          {(uint32_t)rng_range(&c->rng, 0x40000002, 0x4ffffffe), 0},
        {0x40000000, 0},
    };
    if (c->index > 0)
        for (size_t i = 0; i < ARRAY_SIZE(asks); i++)
            asks[i].subleaf = (uint32_t)rng_u64(&c->rng);
    cpuid_case(c, v, random_vcpu_id(c), asks, ARRAY_SIZE(asks), ARRAY_SIZE(asks), false);
    return KTEST_PASS;
}

P2_TEST(p2_cpuid_any_leaf, "CPUID", 2, 4,
        "any leaf from 0 to 2^32 - 1 (basic, extended, past the highest) with any upper halves in "
        "rax and rcx: the host's answer, but for the adjusted leaves; after every CPUID the upper "
        "halves of rax..rdx are zero and every other register is as it was")
{
    uint32_t max = cpuid(0, 0).eax, max_ext = cpuid(0x80000000, 0).eax;
    const uint32_t edges[] = {
        0, 1, 2, max, max + 1, 0x7fffffff, 0x80000000, 0x80000001,
        0x80000008, max_ext, max_ext + 1, 0xffffffff, 0x3fffffff, 0x40000000, 0x4fffffff,
        0x50000000, 0x80000002, 0xc0000000, 0xfffffffe, 0x40000001,
    };
    struct cpuid_ask asks[8];
    for (size_t i = 0; i < ARRAY_SIZE(asks); i++) {
        size_t k = c->index * ARRAY_SIZE(asks) + i;
        asks[i].leaf = k < ARRAY_SIZE(edges) ? edges[k] : (uint32_t)rng_u64(&c->rng);
        asks[i].subleaf = (uint32_t)rng_u64(&c->rng);
    }
    cpuid_case(c, v, random_vcpu_id(c), asks, ARRAY_SIZE(asks), ARRAY_SIZE(asks), true);
    return KTEST_PASS;
}

P2_TEST(p2_cpuid_many, "CPUID", 1, 1,
        "256 CPUIDs in a row, 8 leaves asked 32 times each: every one answered as the first "
        "time (nothing kept or used up from one exit to the next)")
{
    struct cpuid_ask asks[8] = {{1, 0}, {0x40000000, 0}, {4, 1}, {0, 0}}; /* and four anywhere */
    for (size_t i = 4; i < ARRAY_SIZE(asks); i++)
        asks[i] = (struct cpuid_ask){(uint32_t)rng_u64(&c->rng), (uint32_t)rng_u64(&c->rng)};
    cpuid_case(c, v, random_vcpu_id(c), asks, ARRAY_SIZE(asks), 256, false);
    return KTEST_PASS;
}

#ifdef KEVLAB_HIDDEN /* a hidden test: instructors only (docs/instructors.md) */
P2_TEST_HIDDEN(p2_cpuid_extended, "CPUID", 1, 1,
               "the extended leaves 0x80000000 to 0x80000008 (the brand string among them) "
               "answer as the host")
{
    struct cpuid_ask asks[9];
    for (size_t i = 0; i < ARRAY_SIZE(asks); i++)
        asks[i] = (struct cpuid_ask){0x80000000 + (uint32_t)i, (uint32_t)rng_u64(&c->rng)};
    cpuid_case(c, v, random_vcpu_id(c), asks, ARRAY_SIZE(asks), ARRAY_SIZE(asks), true);
    return KTEST_PASS;
}
#endif

/* --- benchmarks (make bench-p2): figures, never asserted --------------------------- */

#define BENCH_CPUIDS 10000

/* A CPUID exit served by the reference cpuid_emulate() (leaf 1: the adjusted
 * path), from the guest's cpuid to its next instruction. */
KTEST(p2_bench_cpuid, KTEST_BENCH)
{
    memset(&config, 0, sizeof(config));
    config.hole = -1;
    config.guest = "cpuid_bench";
    config.parts = P2_CPUID;
    config.params.cpuid_count = BENCH_CPUIDS;
    config.params.cpuid_steps[0].rax = 1;
    struct printer out;
    if (printer_start(&out, 0) != KEV_OK)
        return ktest_fail("no memory for the PrinterProxy");
    struct vm_outcome o;
    p2_vm_run(&config, &out, &o);
    printer_free(&out);
    if (o.kind != VM_EXITED) {
        char how[KEV_MESSAGE_MAX + 64];
        vm_outcome_describe(&o, how, sizeof(how));
        return ktest_fail("the benchmark's VM %s", how);
    }
    int64_t per100 = (o.exit_code * 100 + BENCH_CPUIDS / 2) / BENCH_CPUIDS;
    char buf[160];
    int n = snprintf(buf, sizeof(buf), "a CPUID exit served by cpuid_emulate() (leaf 1) costs "
                     "%ld.%02ld emulated instructions, the round trip and the guest's loop included",
                     per100 / 100, per100 % 100);
    printk("p2_bench_cpuid: %d CPUIDs in %ld ticks (RDTSC in the guest)\n", BENCH_CPUIDS,
           o.exit_code);
    ktest_data("figure", buf, (size_t)n);
    return KTEST_PASS;
}
