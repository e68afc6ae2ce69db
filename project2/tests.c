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
#include "kernel/x86.h"
#include "kev/gtest.h"
#include "project2/cpuid.h"
#include "project2/msr.h"
#include "project2/msr_dev.h"
#include "project2/pio_dev.h"
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
        return gtest_run(&t); /* its last VM may serve the next test (project2/vm.c) */   \
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

/*
 * A Print that must fail with e and print nothing. The buffer holds data,
 * so a wrong success prints some; any byte printed fails the case, so the
 * data need not be fresh everywhere: 512 random bytes fill it over and over
 * (drawing all 16 KiB costs some 30,000 emulated instructions a case).
 */
static void print_fails(struct gtest_case *c, struct p2_vm_config *v, uint64_t addr, uint64_t len,
                        enum kev_error e)
{
    _Static_assert(GUEST_BUF_SIZE >= 512 && (GUEST_BUF_SIZE & (GUEST_BUF_SIZE - 1)) == 0,
                   "the doubling copies fill GUEST_BUF exactly");
    fill_buffer(c, v, 0, 512);
    for (size_t n = 512; n < GUEST_BUF_SIZE; n *= 2)
        memcpy(buffer + n, buffer, n);
    v->buf_len = GUEST_BUF_SIZE;
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

P2_TEST(p2_print_capture_limit, "Hypercalls", 1, 6,
        "a Print that does not fit what the capture has left prints nothing and stops the VM "
        "with KEV_ENOMEM, also one whose first chunks would still fit")
{
    /* k bytes are left when the second Print, one byte too long, comes:
     * from 256 on, a copy that does not check the room first prints the
     * chunks that fit before printer_write() refuses one. */
    static const size_t left[] = {0, 1, 10, 256, 300, 4095};
    size_t k = left[c->index % ARRAY_SIZE(left)], cap = rng_range(&c->rng, 300, 900) + k;
    fill_buffer(c, v, 0, PAGE_SIZE + k + 1); /* what the two Prints cover */
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

/* Runs the benchmark's VM (config); it must exit (its code: the ticks). */
static enum ktest_result bench_run(struct vm_outcome *o)
{
    struct printer out;
    if (printer_start(&out, 0) != KEV_OK)
        return ktest_fail("no memory for the PrinterProxy");
    p2_vm_run(&config, &out, o);
    p2_vm_release();
    printer_free(&out);
    if (o->kind != VM_EXITED) {
        char how[KEV_MESSAGE_MAX + 64];
        vm_outcome_describe(o, how, sizeof(how));
        return ktest_fail("the benchmark's VM %s", how);
    }
    return KTEST_PASS;
}

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
    struct vm_outcome o;
    if (bench_run(&o) != KTEST_PASS)
        return KTEST_FAIL;
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
/* --- Port I/O ---------------------------------------------------------------------- */

/*
 * The port-I/O tests run guests/project2/pio.asm: a few steps, each one
 * I/O instruction (a form of PIO_FORMS, project2/guest.h) with the values
 * of rax, rcx, rdx, rsi and rdi it runs with, every other register random.
 * What must happen is computed by the model below, a second, plain
 * implementation of the instructions and the devices of pio_dev.c: the
 * bytes the printer and the tracer print, what INS leaves in the buffer
 * (the guest prints it back), every register after the last step (the
 * guest checks them all), or the one error the VM must stop with.
 */
struct pio_form {
    uint8_t size;
    bool in, string, rep, imm;
    uint16_t port; /* imm */
};

static const struct pio_form pio_forms[] = {
#define PIO_FORM_ROW(size, in, string, rep, imm, port) {size, in, string, rep, imm, port},
    PIO_FORMS(PIO_FORM_ROW)
#undef PIO_FORM_ROW
};

/* The form with these properties (port: the immediate, for imm only). */
static uint64_t pio_form(unsigned size, bool in, bool string, bool rep, bool imm, uint16_t port)
{
    for (uint64_t i = 0; i < ARRAY_SIZE(pio_forms); i++) {
        const struct pio_form *f = &pio_forms[i];
        if (f->size == size && f->in == in && f->string == string && f->rep == rep &&
            f->imm == imm && (!imm || f->port == port))
            return i;
    }
    panic("tests: pio.asm has no %u-byte form in=%d string=%d rep=%d imm=%d port 0x%x", size, in,
          string, rep, imm, port);
}

static struct pio_config pio_config;

/* The model's machine: the registers, the buffer, the devices. */
static struct {
    struct gtest_case *c;
    uint64_t r[16];          /* x86 numbering: 0 rax, 1 rcx, 2 rdx, 6 rsi, 7 rdi */
    uint32_t traced;
    int hole;
    bool df;
    enum kev_error error;    /* the step stopped the VM with it; KEV_OK: not */
} pm;
/* The buffer as the model sees it: zeros but the case's region (and
 * what INS wrote); [pio_dirty_lo, pio_dirty_hi) is all that is not zero. */
static uint8_t pio_mem[GUEST_BUF_SIZE];
static size_t pio_dirty_lo, pio_dirty_hi;
static struct {
    uint32_t v[PIO_QUEUE_MAX];
    size_t head, len;
} pio_fifo[3];

enum { R_AX = 0, R_CX = 1, R_DX = 2, R_SP = 4, R_SI = 6, R_DI = 7 };

static unsigned pio_fifo_of(unsigned size)
{
    return size == 1 ? 0 : size == 2 ? 1 : 2;
}

static uint32_t pio_low(uint64_t v, unsigned size)
{
    return (uint32_t)(size == 4 ? v & 0xffffffffu : v & ((1u << (8 * size)) - 1));
}

/* The probe's answer for one page of an element, as kev/probe.c gives it. */
static enum kev_error pio_model_page(uint64_t addr, bool write)
{
    if ((uint64_t)((int64_t)(addr << 16) >> 16) != addr)
        return KEV_ENONCANONICAL;
    if (addr >= GUEST_BUF && addr < GUEST_BUF + GUEST_BUF_SIZE)
        return (int)((addr - GUEST_BUF) / PAGE_SIZE) == pm.hole ? KEV_EUNMAPPED : KEV_OK;
    if (addr >= GUEST_PARAMS && addr < GUEST_PARAMS + PAGE_SIZE)
        return write ? KEV_EREADONLY : KEV_OK;
    return KEV_EUNMAPPED;
}

/* Checks the element [addr, addr + size) page by page, in address order. */
static enum kev_error pio_model_element(uint64_t addr, unsigned size, bool write)
{
    if (addr + (size - 1) < addr)
        return KEV_EOVERFLOW;
    enum kev_error e = pio_model_page(addr, write);
    uint64_t last = addr + size - 1;
    if (e == KEV_OK && last / PAGE_SIZE != addr / PAGE_SIZE)
        e = pio_model_page(last & ~(uint64_t)(PAGE_SIZE - 1), write);
    if (e == KEV_OK && !(addr >= GUEST_BUF && last < GUEST_BUF + GUEST_BUF_SIZE))
        panic("tests: the port-I/O model reads and writes GUEST_BUF only (0x%lx)", addr);
    return e;
}

static bool pio_model_fail(enum kev_error e)
{
    pm.error = e;
    return false;
}

static bool pio_model_in(const struct pio_request *req, uint32_t *v)
{
    switch (req->port) {
    case PIO_PORT_PRINTER:
        *v = 0;
        return true;
    case PIO_PORT_QUEUE: {
        unsigned k = pio_fifo_of(req->size);
        if (pio_fifo[k].len == 0)
            return pio_model_fail(KEV_EEMPTY);
        *v = pio_fifo[k].v[pio_fifo[k].head];
        pio_fifo[k].head = (pio_fifo[k].head + 1) % PIO_QUEUE_MAX;
        pio_fifo[k].len--;
        return true;
    }
    default: { /* the tracer */
        char line[PIO_TRACE_LINE_MAX];
        *v = pio_low(++pm.traced, req->size);
        gtest_expect_print(pm.c, line, pio_trace_line(req, *v, line));
        return true;
    }
    }
}

static bool pio_model_out(const struct pio_request *req, uint32_t v)
{
    switch (req->port) {
    case PIO_PORT_PRINTER: {
        uint8_t bytes[4] = {v, v >> 8, v >> 16, v >> 24};
        gtest_expect_print(pm.c, bytes, req->size);
        return true;
    }
    case PIO_PORT_QUEUE: {
        unsigned k = pio_fifo_of(req->size);
        if (pio_fifo[k].len == PIO_QUEUE_MAX)
            return pio_model_fail(KEV_ENOMEM);
        size_t at = (pio_fifo[k].head + pio_fifo[k].len++) % PIO_QUEUE_MAX;
        pio_fifo[k].v[at] = pio_low(v, req->size);
        return true;
    }
    default: {
        char line[PIO_TRACE_LINE_MAX];
        pm.traced++;
        gtest_expect_print(pm.c, line, pio_trace_line(req, v, line));
        return true;
    }
    }
}

/* Whether an I/O instruction on port exits (with the case's bitmap). */
static bool pio_model_exits(uint16_t port)
{
    if (!pio_config.bitmap)
        return true;
    for (size_t i = 0; i < pio_config.nexit_ports; i++)
        if (pio_config.exit_ports[i] == port)
            return true;
    return false;
}

/* One step, as the hardware and the devices do it; false when it stopped the VM. */
static bool pio_model_step(const struct pio_step *st)
{
    const struct pio_form *f = &pio_forms[st->form];
    uint64_t *r = pm.r;
    r[R_AX] = st->rax, r[R_CX] = st->rcx, r[R_DX] = st->rdx, r[R_SI] = st->rsi, r[R_DI] = st->rdi;
    struct pio_request req = {.port = f->imm ? f->port : (uint16_t)r[R_DX], .size = f->size,
                              .in = f->in, .string = f->string, .rep = f->rep, .imm = f->imm};
    if (!pio_model_exits(req.port))
        return true; /* the real port: nothing the tests look at (never the last step) */
    if (pio_device_find(req.port) == NULL)
        return pio_model_fail(KEV_EIOPORT);
    uint32_t v = 0;
    if (!req.string) {
        if (!req.in)
            return pio_model_out(&req, pio_low(r[R_AX], req.size));
        if (!pio_model_in(&req, &v))
            return false;
        r[R_AX] = req.size == 4 ? v : (r[R_AX] & ~(uint64_t)pio_low(~0ULL, req.size)) | v;
        return true;
    }
    uint64_t *addr = &r[req.in ? R_DI : R_SI];
    uint64_t step = pm.df ? -(uint64_t)req.size : req.size;
    for (uint64_t n = req.rep ? r[R_CX] : 1; n > 0; n--) {
        enum kev_error e = pio_model_element(*addr, req.size, req.in);
        if (req.in) {
            if (!pio_model_in(&req, &v))
                return false;
            if (e != KEV_OK)
                return pio_model_fail(e);
            size_t off = *addr - GUEST_BUF;
            memcpy(pio_mem + off, &v, req.size);
            pio_dirty_lo = off < pio_dirty_lo ? off : pio_dirty_lo;
            pio_dirty_hi = off + req.size > pio_dirty_hi ? off + req.size : pio_dirty_hi;
        } else {
            if (e != KEV_OK)
                return pio_model_fail(e);
            memcpy(&v, pio_mem + (*addr - GUEST_BUF), req.size);
            if (!pio_model_out(&req, v))
                return false;
        }
        *addr += step;
        if (req.rep)
            r[R_CX]--;
    }
    return true;
}

/* A port-I/O case: pio.asm, random registers, nothing in the buffer yet. */
static void pio_case(struct gtest_case *c, struct p2_vm_config *v)
{
    v->guest = "pio";
    v->parts = P2_PIO;
    memset(&pio_config, 0, sizeof(pio_config));
    v->pio = &pio_config;
    for (int i = 0; i < 16; i++)
        v->params.regs[i] = rng_next(&c->rng);
    v->params.code = rng_range(&c->rng, 1, 0xffff);
}

/* Random bytes for the buffer's [addr, addr + n), the case's one region
 * (the rest of the buffer is zeros); printable ones when `text`, which
 * the console echoes cheaper. */
static void pio_region(struct gtest_case *c, struct p2_vm_config *v, uint64_t addr, uint64_t n,
                       bool text)
{
    if (addr < GUEST_BUF || addr > GUEST_BUF + GUEST_BUF_SIZE)
        panic("tests: a port-I/O region at 0x%lx, outside the buffer", addr);
    if (n > GUEST_BUF + GUEST_BUF_SIZE - addr) /* up to the buffer's end */
        n = GUEST_BUF + GUEST_BUF_SIZE - addr;
    fill_buffer(c, v, addr - GUEST_BUF, n);
    for (size_t i = 0; text && i < n; i++)
        buffer[addr - GUEST_BUF + i] = (uint8_t)(0x20 + buffer[addr - GUEST_BUF + i] % 95);
}

/* A random address in GUEST_BUF with room for n bytes from it. */
static uint64_t pio_buf_addr(struct gtest_case *c, uint64_t n)
{
    return GUEST_BUF + rng_range(&c->rng, 0, GUEST_BUF_SIZE - n);
}

/* Adds a step: form with those registers; describes it in the inputs. */
static void pio_step(struct gtest_case *c, struct p2_vm_config *v, uint64_t form, uint64_t rax,
                     uint64_t rcx, uint64_t rdx, uint64_t rsi, uint64_t rdi)
{
    const struct pio_form *f = &pio_forms[form];
    struct pio_request req = {.port = f->imm ? f->port : (uint16_t)rdx, .size = f->size,
                              .in = f->in, .string = f->string, .rep = f->rep, .imm = f->imm};
    char insn[48];
    pio_request_describe(&req, insn, sizeof(insn));
    if (v->params.nsteps == PIO_STEPS_MAX)
        panic("tests: more than %d port-I/O steps", PIO_STEPS_MAX);
    gtest_input(c, "#%lu `%s`", v->params.nsteps, insn);
    v->params.steps[v->params.nsteps++] = (struct pio_step){rax, rcx, rdx, rsi, rdi, form, {0}};
    if (!f->imm)
        gtest_input(c, f->string ? "(0x%x)" : "dx=0x%x", req.port);
    if (!f->string)
        gtest_input(c, "rax=0x%lx", rax);
    else
        gtest_input(c, "%s=0x%lx", f->in ? "rdi" : "rsi", f->in ? rdi : rsi);
    if (f->rep)
        gtest_input(c, "rcx=%lu", rcx);
}

/* A step of the form with the case's random registers, but these. */
static void pio_step_at(struct gtest_case *c, struct p2_vm_config *v, uint64_t form, uint16_t port,
                        uint64_t rax, uint64_t rcx, uint64_t addr)
{
    const struct pio_form *f = &pio_forms[form];
    uint64_t *r = v->params.regs;
    pio_step(c, v, form, rax, rcx, (rng_next(&c->rng) & ~0xffffULL) | port,
             f->string && !f->in ? addr : r[6], f->string && f->in ? addr : r[7]);
}

/* n random values in the queue's FIFO of that size (printable bytes when text). */
static void pio_fill_queue(struct gtest_case *c, unsigned size, size_t n, bool text)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t x = pio_low(rng_next(&c->rng), size);
        if (text)
            for (unsigned b = 0; b < size; b++)
                x = (x & ~(0xffu << 8 * b)) | (0x20 + ((x >> 8 * b) & 0xff) % 95) << 8 * b;
        if (size == 1)
            pio_config.bytes[pio_config.nbytes++] = (uint8_t)x;
        else if (size == 2)
            pio_config.words[pio_config.nwords++] = (uint16_t)x;
        else
            pio_config.dwords[pio_config.ndwords++] = x;
    }
}

/* The guest prints [addr, addr + len) of the buffer back once its steps are done. */
static void pio_report(struct p2_vm_config *v, uint64_t addr, uint64_t len)
{
    v->params.prints[v->params.nprints].addr = addr;
    v->params.prints[v->params.nprints].len = len;
    v->params.nprints++;
}

/* Runs the model over the case's steps and states what must happen. */
static enum ktest_result pio_expect(struct gtest_case *c, struct p2_vm_config *v)
{
    memset(&pm, 0, sizeof(pm));
    pm.c = c;
    pm.hole = v->hole;
    pm.df = v->params.df != 0;
    memcpy(pm.r, v->params.regs, sizeof(pm.r));
    if (pio_dirty_lo < pio_dirty_hi)
        memset(pio_mem + pio_dirty_lo, 0, pio_dirty_hi - pio_dirty_lo);
    memcpy(pio_mem + v->buf_off, buffer + v->buf_off, v->buf_len);
    pio_dirty_lo = v->buf_off, pio_dirty_hi = v->buf_off + v->buf_len;
    const size_t held[3] = {pio_config.nbytes, pio_config.nwords, pio_config.ndwords};
    for (unsigned k = 0; k < 3; k++) {
        pio_fifo[k].head = 0, pio_fifo[k].len = held[k];
        for (size_t i = 0; i < held[k]; i++)
            pio_fifo[k].v[i] = k == 0 ? pio_config.bytes[i] : k == 1 ? pio_config.words[i]
                                                                      : pio_config.dwords[i];
    }
    if (pm.df)
        gtest_input(c, "df=1");
    for (uint64_t i = 0; i < v->params.nsteps; i++) {
        struct pio_step *st = &v->params.steps[i];
        if (!pio_model_step(st)) {
            gtest_expect_error(c, pm.error);
            return KTEST_PASS;
        }
        const uint64_t after[5] = {pm.r[R_AX], pm.r[R_CX], pm.r[R_DX], pm.r[R_SI], pm.r[R_DI]};
        memcpy(st->after, after, sizeof(after));
    }
    pm.r[R_SP] = GUEST_STACK_TOP;
    memcpy(v->params.expect, pm.r, sizeof(pm.r));
    for (uint64_t i = 0; i < v->params.nprints; i++)
        gtest_expect_print(c, pio_mem + (v->params.prints[i].addr - GUEST_BUF),
                           v->params.prints[i].len);
    gtest_expect_exit(c, (int64_t)v->params.code);
    return KTEST_PASS;
}

static const unsigned pio_sizes[] = {1, 2, 4};
static const uint16_t pio_ports[] = {PIO_PORT_PRINTER, PIO_PORT_QUEUE, PIO_PORT_TRACER};

/*
 * The 18 forms: k = 0..5 IN and OUT with DX, 6..11 INS and OUTS, 12..17 IN
 * and OUT with an immediate port (3 or 0xbb); sizes 1, 2, 4 in turn.
 */
static uint64_t pio_form_k(unsigned k, uint16_t *port)
{
    unsigned size = pio_sizes[k % 3];
    bool in = (k / 3) % 2 == 0;
    if (k < 6)
        return pio_form(size, in, false, false, false, 0);
    if (k < 12)
        return pio_form(size, in, true, false, false, 0);
    if (*port == PIO_PORT_PRINTER)
        *port = k % 2 ? PIO_PORT_QUEUE : PIO_PORT_TRACER;
    return pio_form(size, in, false, false, true, *port);
}

P2_TEST(p2_pio_forms, "PortIO", 5, 4,
        "each of the 18 forms (IN and OUT of 8, 16 and 32 bits, the port in DX or an immediate; "
        "INS and OUTS of bytes, words and dwords) on each device: the device sees the access, "
        "and no register changes but the ones the instruction defines")
{
    pio_case(c, v);
    for (unsigned k = 0; k < 3; k++)
        pio_fill_queue(c, pio_sizes[k], 6, false);
    v->params.df = c->index < 3 ? c->index % 2 : rng_range(&c->rng, 0, 1);
    uint64_t base = pio_buf_addr(c, 64);
    pio_region(c, v, base, 64, false);
    for (unsigned i = 0; i < 6; i++) {
        /* Case j < 3: forms 6j..6j+5, each on its device in turn; then random ones. */
        unsigned k = c->index < 3 ? 6 * c->index + i : (unsigned)rng_range(&c->rng, 0, 17);
        uint16_t port = pio_ports[c->index < 3 ? (k + c->index) % 3 : rng_range(&c->rng, 0, 2)];
        uint64_t form = pio_form_k(k, &port), addr = base + 4 + 9 * i;
        pio_step_at(c, v, form, port, rng_next(&c->rng), rng_next(&c->rng), addr);
        if (pio_forms[form].string && pio_forms[form].in)
            pio_report(v, addr, pio_forms[form].size);
    }
    return pio_expect(c, v);
}

P2_TEST(p2_pio_in_rax, "PortIO", 2, 2,
        "IN writes AL, AX or EAX: an 8- or 16-bit IN leaves the rest of RAX as it was, a 32-bit "
        "IN zero-extends into RAX (RAX and the value at their edges: 0 and all ones)")
{
    /* Step i of case j: combination 6j + i of RAX before and the value. */
    static const uint64_t old_rax[] = {~0ULL, 0, 0x8000000000000001ULL};
    pio_case(c, v);
    for (unsigned i = 0; i < 6; i++) {
        unsigned n = 6 * (c->index % 2) + i, size = pio_sizes[n % 3];
        uint64_t rax = n < 9 ? old_rax[n / 3] : rng_next(&c->rng);
        uint32_t x = n < 3 ? 0 : n < 6 ? pio_low(~0ULL, size) : pio_low(rng_next(&c->rng), size);
        if (size == 1)
            pio_config.bytes[pio_config.nbytes++] = (uint8_t)x;
        else if (size == 2)
            pio_config.words[pio_config.nwords++] = (uint16_t)x;
        else
            pio_config.dwords[pio_config.ndwords++] = x;
        pio_step_at(c, v, pio_form(size, true, false, false, i % 2, PIO_PORT_QUEUE),
                    PIO_PORT_QUEUE, rax, rng_next(&c->rng), 0);
    }
    return pio_expect(c, v);
}

P2_TEST(p2_pio_out_bytes, "PortIO", 1, 1,
        "OUT sends the low 1, 2 or 4 bytes of RAX, low byte first: a row of OUTs of every size to "
        "the printer arrives whole and in order")
{
    pio_case(c, v);
    for (unsigned i = 0; i < PIO_STEPS_MAX; i++) {
        unsigned size = pio_sizes[i % 3];
        uint64_t rax = i % 2 ? rng_u64_edge(i) : rng_next(&c->rng);
        pio_step_at(c, v, pio_form(size, false, false, false, false, 0), PIO_PORT_PRINTER, rax,
                    rng_next(&c->rng), 0);
    }
    return pio_expect(c, v);
}

/*
 * A string step of count elements (one without rep) of size bytes, in or
 * out, from (DF clear) or down from (DF set) the element at addr: OUTS to
 * the printer or the tracer, INS from the queue (filled for it) or the
 * tracer, with a report of what INS wrote. The buffer region is the case's.
 */
static void pio_string_step(struct gtest_case *c, struct p2_vm_config *v, unsigned size, bool in,
                            bool rep, uint64_t count, uint64_t addr, bool tracer)
{
    uint64_t n = rep ? count : 1;
    uint64_t lo = v->params.df ? addr - (n ? n - 1 : 0) * size : addr;
    uint16_t port = tracer ? PIO_PORT_TRACER : in ? PIO_PORT_QUEUE : PIO_PORT_PRINTER;
    if (in && !tracer)
        pio_fill_queue(c, size, n, true);
    pio_step_at(c, v, pio_form(size, in, true, rep, false, 0), port, rng_next(&c->rng),
                rep ? count : rng_next(&c->rng), addr);
    if (in && n > 0)
        pio_report(v, lo, n * size);
}

P2_TEST(p2_pio_rep, "PortIO", 3, 3,
        "REP INS and REP OUTS of bytes, words and dwords with RCX = 0 (nothing happens), 1 and "
        "many: RCX counts down to 0 and RSI or RDI ends past the last element")
{
    static const uint64_t counts[] = {0, 1, 2, 17, 0, 1, 3, 64};
    pio_case(c, v);
    uint64_t at = pio_buf_addr(c, 4 * (64 * 4 + 8));
    pio_region(c, v, at, 4 * (64 * 4 + 8), true);
    for (unsigned i = 0; i < 4; i++) {
        unsigned n = 4 * c->index + i;
        uint64_t count = n < ARRAY_SIZE(counts) ? counts[n] : rng_range(&c->rng, 2, 12);
        unsigned size = pio_sizes[n % 3];
        bool in = (n / 2) % 2, tracer = count > 0 && count <= 3 && n % 2;
        pio_string_step(c, v, size, in, true, count, at + 4, tracer);
        at += count * size + 8;
    }
    return pio_expect(c, v);
}

P2_TEST(p2_pio_df, "PortIO", 2, 1,
        "with RFLAGS.DF set, INS and OUTS step RDI and RSI down by the size: a REP OUTS prints its "
        "buffer from the end back, a REP INS fills it from the end")
{
    pio_case(c, v);
    v->params.df = 1;
    uint64_t at = pio_buf_addr(c, 6 * (12 * 4 + 8));
    pio_region(c, v, at, 6 * (12 * 4 + 8), true);
    for (unsigned i = 0; i < 6; i++) {
        unsigned size = pio_sizes[i % 3];
        bool rep = i % 2 == 0;
        uint64_t count = i == 0 ? 1 : rng_range(&c->rng, 2, 12), n = rep ? count : 1;
        pio_string_step(c, v, size, i >= 3, rep, count, at + 4 + (n - 1) * size, false);
        at += n * size + 8;
    }
    return pio_expect(c, v);
}

P2_TEST(p2_pio_cross_page, "PortIO", 2, 2,
        "REP INS and REP OUTS over a buffer that crosses a page boundary, with word and dword "
        "elements split by it: the two guest pages are not neighbours in host memory")
{
    /* Where an element starts before the boundary, its size and direction
     * (DF clear in case 0, set in case 1). */
    static const struct {
        unsigned before, size;
        bool in;
    } up[] = {{1, 1, false}, {3, 1, true}, {1, 2, false}, {1, 2, true}, {3, 4, false},
              {2, 4, true}},
      down[] = {{1, 4, false}, {3, 2, true}, {2, 1, false}, {1, 4, true}, {1, 2, false},
                {3, 4, true}};
    pio_case(c, v);
    v->params.df = c->index % 2;
    uint64_t page = GUEST_BUF + rng_range(&c->rng, 1, GUEST_BUF_PAGES - 1) * PAGE_SIZE;
    pio_region(c, v, page - 256, 512, true);
    for (unsigned i = 0; i < 6; i++) {
        const unsigned size = v->params.df ? down[i].size : up[i].size;
        const unsigned before = v->params.df ? down[i].before : up[i].before;
        uint64_t count = rng_range(&c->rng, 2, 12);
        /* That element, and others on either side of it. */
        uint64_t k = rng_range(&c->rng, 0, count - 1);
        uint64_t addr = page - before + (v->params.df ? k : -k) * size;
        pio_string_step(c, v, size, v->params.df ? down[i].in : up[i].in, true, count, addr,
                        false);
    }
    return pio_expect(c, v);
}

P2_TEST(p2_pio_queue, "PortIO", 2, 1,
        "the queue device gives back what OUT and OUTS put in, in order, in a FIFO of each size: "
        "bytes, words and dwords never mix")
{
    pio_case(c, v);
    size_t held[3], put[3];
    for (unsigned k = 0; k < 3; k++) {
        held[k] = rng_range(&c->rng, 0, 5);
        put[k] = rng_range(&c->rng, 1, 8);
        pio_fill_queue(c, pio_sizes[k], held[k], true);
    }
    /* One OUT, OUTS of three buffers, then INS into three others, sizes in another order. */
    uint64_t at = GUEST_BUF + 16, src[3];
    for (unsigned k = 0; k < 3; k++)
        src[k] = at, at += put[k] * pio_sizes[k] + 8;
    pio_region(c, v, GUEST_BUF, at - GUEST_BUF, true);
    pio_step_at(c, v, pio_form(2, false, false, false, true, PIO_PORT_QUEUE), PIO_PORT_QUEUE,
                rng_next(&c->rng), rng_next(&c->rng), 0);
    held[1]++;
    for (unsigned k = 0; k < 3; k++)
        pio_step_at(c, v, pio_form(pio_sizes[k], false, true, true, false, 0), PIO_PORT_QUEUE,
                    rng_next(&c->rng), put[k], src[k]);
    static const unsigned back[] = {2, 0, 1};
    for (unsigned j = 0; j < 3; j++) {
        unsigned k = back[j];
        pio_step_at(c, v, pio_form(pio_sizes[k], true, true, true, false, 0), PIO_PORT_QUEUE,
                    rng_next(&c->rng), held[k] + put[k], at);
        pio_report(v, at, (held[k] + put[k]) * pio_sizes[k]);
        at += (held[k] + put[k]) * pio_sizes[k] + 8;
    }
    return pio_expect(c, v);
}

P2_TEST(p2_pio_bad_buffer, "PortIO", 3, 6,
        "INS and OUTS with a bad buffer stop the VM with the probe's error (KEV_EUNMAPPED, "
        "KEV_EREADONLY for INS into a read-only page, KEV_ENONCANONICAL); a REP OUTS running into "
        "an unmapped page prints every element before it and no byte of the one it splits")
{
    static const struct {
        uint64_t addr; /* the first element; 0: k elements before the end (of the buffer, or
                        * of page 0 when page 1 is the hole) */
        unsigned size;
        bool in, rep, df, hole;
        enum kev_error e;
    } cases[] = {
        {GUEST_UNMAPPED + 0x10, 1, false, false, false, false, KEV_EUNMAPPED},
        {GUEST_PARAMS + 0x100, 2, true, false, false, false, KEV_EREADONLY},
        {0xffff7ffffffff000ULL, 4, true, true, false, false, KEV_ENONCANONICAL},
        {0, 2, false, true, false, false, KEV_EUNMAPPED},
        {0, 4, false, true, false, true, KEV_EUNMAPPED},
        {GUEST_BUF + 12, 1, false, true, true, false, KEV_EUNMAPPED},
    };
    unsigned i = c->index % ARRAY_SIZE(cases);
    unsigned size = cases[i].size;
    uint64_t k = rng_range(&c->rng, 1, 8); /* the good elements before the bad one */
    uint64_t count = k + rng_range(&c->rng, 1, 4);
    pio_case(c, v);
    v->params.df = cases[i].df;
    uint64_t addr = cases[i].addr;
    if (addr == 0) { /* k whole elements, then one split by the end (an odd start) */
        uint64_t end = GUEST_BUF + (cases[i].hole ? PAGE_SIZE : GUEST_BUF_SIZE);
        addr = end - k * size - (size > 1 ? rng_range(&c->rng, 1, size - 1) : 0);
        if (cases[i].hole)
            v->hole = 1;
    } else if (cases[i].df) {
        count = (addr - GUEST_BUF) / size + 1 + rng_range(&c->rng, 1, 4);
    }
    uint64_t n = cases[i].rep ? count : 1;
    if (addr >= GUEST_BUF && addr < GUEST_BUF + GUEST_BUF_SIZE)
        pio_region(c, v, cases[i].df ? GUEST_BUF : addr,
                   cases[i].df ? addr - GUEST_BUF + size : n * size, true);
    if (cases[i].in)
        pio_fill_queue(c, size, n + 1, true);
    pio_step_at(c, v, pio_form(size, cases[i].in, true, cases[i].rep, false, 0),
                cases[i].in ? PIO_PORT_QUEUE : PIO_PORT_PRINTER, rng_next(&c->rng),
                cases[i].rep ? count : rng_next(&c->rng), addr);
    if (cases[i].hole)
        gtest_input(c, "hole=page 1");
    enum ktest_result res = pio_expect(c, v);
    if (!c->expect_error || c->expect_err != cases[i].e)
        return ktest_fail("p2_pio_bad_buffer: case %u is not the error it is meant to be",
                          c->index);
    return res;
}

P2_TEST(p2_pio_unknown_port, "PortIO", 2, 4,
        "IN, OUT, INS and OUTS on a port no device owns stop the VM with KEV_EIOPORT: ports beside "
        "the devices' (0x3f9, 0xba), 0xf8 (0x3f8 cut to 8 bits), random ones")
{
    static const struct {
        uint16_t port;
        unsigned size;
        bool in, string, imm;
    } cases[] = {
        {0x3f9, 1, false, false, false},
        {0xba, 2, true, false, true},
        {0xf8, 1, false, false, true},
    };
    pio_case(c, v);
    unsigned size, i = c->index;
    bool in, string, imm;
    uint16_t port;
    if (i < ARRAY_SIZE(cases)) {
        port = cases[i].port, size = cases[i].size;
        in = cases[i].in, string = cases[i].string, imm = cases[i].imm;
    } else {
        do
            port = (uint16_t)rng_next(&c->rng);
        while (pio_device_find(port));
        size = pio_sizes[rng_range(&c->rng, 0, 2)];
        in = rng_range(&c->rng, 0, 1), string = rng_range(&c->rng, 0, 1), imm = false;
    }
    uint64_t addr = pio_buf_addr(c, 8);
    pio_region(c, v, addr, 8, true);
    pio_step_at(c, v, pio_form(size, in, string, false, imm, port), port, rng_next(&c->rng),
                rng_next(&c->rng), addr);
    return pio_expect(c, v);
}

P2_TEST(p2_pio_queue_empty, "PortIO", 1, 2,
        "an IN or INS from the queue when its FIFO of that size is empty stops the VM with "
        "KEV_EEMPTY, though the other sizes' FIFOs hold values")
{
    unsigned size = pio_sizes[rng_range(&c->rng, 0, 2)];
    pio_case(c, v);
    for (unsigned k = 0; k < 3; k++)
        if (pio_sizes[k] != size)
            pio_fill_queue(c, pio_sizes[k], rng_range(&c->rng, 1, 8), false);
    size_t held = c->index < 1 ? 0 : rng_range(&c->rng, 1, 10);
    pio_fill_queue(c, size, held, true);
    if (c->index < 1) {
        bool imm = rng_range(&c->rng, 0, 1);
        pio_step_at(c, v, pio_form(size, true, false, false, imm, PIO_PORT_QUEUE), PIO_PORT_QUEUE,
                    rng_next(&c->rng), rng_next(&c->rng), 0);
    } else {
        uint64_t count = held + rng_range(&c->rng, 1, 5), addr = pio_buf_addr(c, count * size);
        pio_step_at(c, v, pio_form(size, true, true, true, false, 0), PIO_PORT_QUEUE,
                    rng_next(&c->rng), count, addr);
    }
    return pio_expect(c, v);
}

P2_TEST(p2_pio_rep_count64, "PortIO", 1, 1,
        "REP's count is all 64 bits of RCX: a REP INSB with RCX = 2^32 + 3 reads on past 3 bytes, "
        "until the queue is empty (KEV_EEMPTY)")
{
    static const uint64_t counts[] = {0x100000003ULL, 0xffffffff00000001ULL};
    pio_case(c, v);
    size_t held = rng_range(&c->rng, 4, 12);
    pio_fill_queue(c, 1, held, true);
    pio_step_at(c, v, pio_form(1, true, true, true, false, 0), PIO_PORT_QUEUE, rng_next(&c->rng),
                counts[rng_range(&c->rng, 0, 1)], pio_buf_addr(c, 64));
    return pio_expect(c, v);
}

P2_TEST(p2_pio_bitmap, "PortIO", 1, 2,
        "with I/O bitmaps instead of unconditional I/O exiting, only the bitmap's ports exit: the "
        "printer and the queue still work, an OUT to port 0x80 (not in the bitmap) goes by "
        "without an exit, a port of bitmap B exits")
{
    pio_case(c, v);
    pio_config.bitmap = true;
    uint16_t b = 0x8000 + (uint16_t)rng_range(&c->rng, 0, 0x7fff);
    const uint16_t ports[] = {PIO_PORT_PRINTER, PIO_PORT_QUEUE, b};
    memcpy(pio_config.exit_ports, ports, sizeof(ports));
    pio_config.nexit_ports = ARRAY_SIZE(ports);
    gtest_input(c, "bitmap: 0x%x 0x%x 0x%x;", ports[0], ports[1], ports[2]);
    pio_fill_queue(c, 2, 1, false);
    uint64_t count = rng_range(&c->rng, 1, 8), addr = pio_buf_addr(c, count);
    pio_region(c, v, addr, count, true);
    pio_step_at(c, v, pio_form(1, false, false, false, true, 0x80), 0x80, rng_next(&c->rng),
                rng_next(&c->rng), 0);
    pio_step_at(c, v, pio_form(2, false, false, false, false, 0), PIO_PORT_PRINTER,
                rng_next(&c->rng), rng_next(&c->rng), 0);
    pio_step_at(c, v, pio_form(4, false, false, false, false, 0), 0x80, rng_next(&c->rng),
                rng_next(&c->rng), 0);
    pio_step_at(c, v, pio_form(1, false, true, true, false, 0), PIO_PORT_PRINTER,
                rng_next(&c->rng), count, addr);
    pio_step_at(c, v, pio_form(2, true, false, false, true, PIO_PORT_QUEUE), PIO_PORT_QUEUE,
                rng_next(&c->rng), rng_next(&c->rng), 0);
    if (c->index == 1) /* the port of bitmap B: it exits, and no device owns it */
        pio_step_at(c, v, pio_form(4, false, false, false, false, 0), b, rng_next(&c->rng),
                    rng_next(&c->rng), 0);
    return pio_expect(c, v);
}

#ifdef KEVLAB_HIDDEN /* hidden tests: instructors only (docs/instructors.md) */
P2_TEST_HIDDEN(p2_pio_queue_full, "PortIO", 1, 1,
               "an OUTS to the queue when its FIFO of that size is full stops the VM with "
               "KEV_ENOMEM (the device's error, passed on)")
{
    pio_case(c, v);
    size_t k = rng_range(&c->rng, 1, 10);
    pio_fill_queue(c, 2, PIO_QUEUE_MAX - k, false);
    uint64_t addr = pio_buf_addr(c, 2 * (k + 2));
    pio_region(c, v, addr, 2 * (k + 2), true);
    pio_step_at(c, v, pio_form(2, false, true, true, false, 0), PIO_PORT_QUEUE, rng_next(&c->rng),
                k + 1, addr);
    return pio_expect(c, v);
}

P2_TEST_HIDDEN(p2_pio_wrap, "PortIO", 1, 1,
               "an INS or OUTS element whose last byte would lie past 2^64 - 1 stops the VM with "
               "KEV_EOVERFLOW")
{
    static const struct {
        uint64_t addr;
        unsigned size;
        bool in;
    } cases[] = {{~0ULL, 2, false}, {~0ULL - 2, 4, true}};
    unsigned i = (unsigned)rng_range(&c->rng, 0, ARRAY_SIZE(cases) - 1);
    pio_case(c, v);
    pio_fill_queue(c, cases[i].size, 1, false);
    pio_step_at(c, v, pio_form(cases[i].size, cases[i].in, true, false, false, 0),
                cases[i].in ? PIO_PORT_QUEUE : PIO_PORT_PRINTER, rng_next(&c->rng),
                rng_next(&c->rng), cases[i].addr);
    return pio_expect(c, v);
}
#endif

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

P2_TEST(p2_msr_upper_halves, "MSR", 2, 4,
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

P2_TEST(p2_msr_random_values, "MSR", 2, 4,
        "values drawn from the whole 64-bit domain (0, 2^31, 2^32, 2^63, 2^64-1, ...) pushed "
        "with WRMSR come back whole from RDMSR, whatever junk the registers held")
{
    msr_begin(c, v);
    size_t n = c->index < 2 ? RNG_U64_EDGES : rng_range(&c->rng, 2, 6);
    for (size_t i = 0; i < n; i++) {
        size_t k = c->index * RNG_U64_EDGES + i; /* case 0: the edges, case 1: their complements */
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

P2_TEST(p2_msr_stack_order, "MSR", 2, 4,
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

P2_TEST(p2_msr_registry, "MSR", 2, 4,
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

P2_TEST(p2_msr_rip_after_gp, "MSR", 2, 3,
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

/* --- MSRs: the benchmark (make bench-p2) ---------------------------------------- */

#define BENCH_RDMSRS 1000

/* What an RDMSR exit costs, emulated through msr_handle() and a scratch
 * register (with the reference solution). */
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
    struct vm_outcome o;
    if (bench_run(&o) != KTEST_PASS)
        return KTEST_FAIL;
    int64_t per100 = (o.exit_code * 100 + BENCH_RDMSRS / 2) / BENCH_RDMSRS;
    char buf[160];
    int n = snprintf(buf, sizeof(buf), "an RDMSR exit served by msr_handle() (a scratch register) "
                     "costs %ld.%02ld emulated instructions, the round trip and the guest's loop "
                     "included", per100 / 100, per100 % 100);
    printk("p2_bench_msr: %d RDMSR exits in %ld ticks (RDTSC in the guest)\n", BENCH_RDMSRS,
           o.exit_code);
    ktest_data("figure", buf, (size_t)n);
    return KTEST_PASS;
}
