/*
 * Project 4's tests: the one place each is defined (P4_TEST: name, rubric
 * category, weight, cases per run, what it checks, and a function drawing
 * one case). The harness (kev/gtest.h) runs the cases, each in a fresh VM,
 * and compares byte for byte.
 *
 * Every timer test is a script for guests/project4/timer.asm: operations
 * on the guest's timer (project4/guest.h, enum p4_op), and the guest's log
 * of what came of them: one line per interrupt that arrived (its number,
 * its vector, where it came), per #GP, per RDMSR. A case is drawn one
 * operation at a time, and a model of kevlab's timer (below: the rules of
 * docs/project4.md, written a second time) says at each what the guest must
 * log; the expected capture is the model's, never the code under test's.
 *
 * Time: a deadline ahead is 50,000 to 150,000 TSC ticks ahead (under Bochs
 * a tick is an instruction), far more than arming it takes, so it passes
 * in the wait or the idle loop that follows it; a deadline passed is at
 * most 2^24 ticks old (the TSC is past 2^25 once the kernel has booted),
 * or one of 1 and 2. No case lets a second interrupt fire while one is
 * pending. Every value's domain is drawn whole, edges first: the vectors
 * 16, 31, 32 and 255 (and the illegal 0 to 15), every reserved bit of the
 * LVT, the deadlines 1, 2, TSC, TSC - 1 and 2^64 - 1, EOI values 1 and
 * 2^63.
 */
#include "kernel/ktest.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/x86.h"
#include "kev/gtest.h"
#include "project4/vm.h"

/* The case being drawn. */
static struct p4_vm_config config;

/* --- the model of kevlab's timer ---------------------------------------------------------- */

static const char *const spot_words[P4_SPOT_COUNT] = {
#define P4_SPOT_WORDS(name, words) [name] = words,
    P4_SPOTS(P4_SPOT_WORDS)
#undef P4_SPOT_WORDS
};

static struct {
    uint64_t lvt;       /* the LVT timer register */
    uint64_t deadline;  /* IA32_TSC_DEADLINE (0: disarmed) */
    bool ahead;         /* the deadline is ahead: it passes in the next wait or idle */
    int pending, in_service;
    bool if_on;         /* the guest's RFLAGS.IF */
    unsigned count;     /* interrupts so far */
    bool stopped;       /* the VM stops at the last operation (KEV_ENOTSUP) */
} m;

static struct gtest_case *cur;

static void expect_line(const char *fmt, ...) __printf(1, 2);
static void expect_line(const char *fmt, ...)
{
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    gtest_expect_print(cur, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static bool tsc_mode(void)
{
    return (m.lvt & LVT_TIMER_MODE) == LVT_TIMER_TSC_DEADLINE;
}

static unsigned lvt_vector(void)
{
    return (unsigned)(m.lvt & LVT_VECTOR);
}

/* Whether the timer firing now would make an interrupt pending. */
static bool would_raise(void)
{
    return !(m.lvt & LVT_MASKED) && lvt_vector() >= APIC_VECTOR_MIN;
}

/* The pending interrupt reaches the guest, if it can, at `spot`. */
static void deliver(enum p4_spot spot)
{
    if (m.pending == TIMER_NONE || m.in_service != TIMER_NONE || !m.if_on)
        return;
    m.count++;
    expect_line("interrupt %u: vector 0x%02x, %s\n", m.count, m.pending, spot_words[spot]);
    m.in_service = m.pending;
    m.pending = TIMER_NONE;
    bool eoi = m.count > 64 || !((config.params.no_eoi >> (m.count - 1)) & 1);
    if (eoi)
        m.in_service = TIMER_NONE; /* the handler's EOI */
}

static void fire(void)
{
    m.deadline = 0;
    m.ahead = false;
    if (would_raise())
        m.pending = (int)lvt_vector();
}

static struct p4_params *P(void)
{
    return &config.params;
}

static void add(enum p4_op op, uint64_t a)
{
    if (m.stopped)
        return;
    struct p4_params *p = P();
    if (p->nops == P4_OPS_MAX)
        panic("p4 tests: a case of more than %d operations", P4_OPS_MAX);
    p->ops[p->nops].op = op;
    p->ops[p->nops].a = a;
    p->nops++;
}

/* --- the operations, each with the model's step ---------------------------------------- */

static void op_lvt(uint64_t value)
{
    add(P4_OP_LVT, value);
    uint64_t mode = value & LVT_TIMER_MODE;
    if ((value & ~(uint64_t)(LVT_TIMER_WRITABLE | LVT_DELIVERY_STATUS)) || mode == LVT_TIMER_MODE_RESERVED) {
        expect_line("wrmsr(LVT timer, 0x%016lx): #GP\n", value);
        return;
    }
    if (mode != LVT_TIMER_TSC_DEADLINE && !(value & LVT_MASKED)) {
        m.stopped = true;
        gtest_expect_error(cur, KEV_ENOTSUP);
        return;
    }
    m.lvt = value & LVT_TIMER_WRITABLE;
    if (mode != LVT_TIMER_TSC_DEADLINE) {
        m.deadline = 0;
        m.ahead = false;
    }
    deliver(P4_AT_LVT);
}

/* When a deadline passes: it has (at once), in the next wait or idle, never. */
enum when { PASSED, AHEAD, NEVER };

/* A deadline the guest writes: `value` (0 disarms), passing `when`. */
static void arm(enum p4_op op, uint64_t a, uint64_t value, enum when when)
{
    add(op, a);
    if (tsc_mode()) { /* else ignored */
        m.deadline = value;
        m.ahead = value != 0 && when == AHEAD;
        if (value != 0 && when == PASSED)
            fire();
    }
    deliver(P4_AT_ARM);
}

static void op_arm_in(uint64_t ticks)
{
    arm(P4_OP_ARM_IN, ticks, 1, AHEAD);
}

static void op_arm_ago(uint64_t ticks)
{
    arm(P4_OP_ARM_AGO, ticks, 1, PASSED);
}

static void op_arm_at(uint64_t value, enum when when)
{
    arm(P4_OP_ARM_AT, value, value, when);
}

/* Waits for the deadline ahead: its interrupt comes in the wait loop. */
static void op_wait(uint64_t limit)
{
    add(P4_OP_WAIT, limit);
    if (m.ahead)
        fire();
    deliver(P4_AT_WAIT);
}

static void op_idle(uint64_t ticks)
{
    add(P4_OP_IDLE, ticks);
    if (m.ahead)
        fire();
    deliver(P4_AT_IDLE);
}

static void op_cli(void)
{
    add(P4_OP_CLI, 0);
    m.if_on = false;
}

static void op_sti(void)
{
    add(P4_OP_STI, 0);
    m.if_on = true;
    deliver(P4_AT_STI);
}

static void op_eoi(uint64_t value)
{
    add(P4_OP_EOI, value);
    if (value != 0) {
        expect_line("wrmsr(EOI, 0x%016lx): #GP\n", value);
        return;
    }
    m.in_service = TIMER_NONE;
    deliver(P4_AT_EOI);
}

/* sti; wrmsr(EOI); nop, with interrupts off before. */
static void op_sti_eoi(void)
{
    add(P4_OP_STI_EOI, 0);
    m.if_on = true;
    m.in_service = TIMER_NONE;
    deliver(P4_AT_STI_EOI);
}

/* mov ss; wrmsr(EOI); nop, with interrupts on. */
static void op_movss_eoi(void)
{
    add(P4_OP_MOVSS_EOI, 0);
    m.in_service = TIMER_NONE;
    deliver(P4_AT_MOVSS_EOI);
}

static void op_read(uint32_t msr)
{
    add(P4_OP_READ, msr);
    if (m.stopped)
        return;
    if (msr == MSR_X2APIC_LVT_TIMER)
        expect_line("rdmsr(LVT timer) = 0x%016lx\n", m.lvt);
    else if (msr == MSR_X2APIC_EOI)
        expect_line("rdmsr(EOI): #GP\n");
    else if (!tsc_mode() || m.deadline == 0)
        expect_line("rdmsr(IA32_TSC_DEADLINE) = 0\n");
    else
        expect_line("rdmsr(IA32_TSC_DEADLINE) = the deadline\n");
    deliver(P4_AT_READ);
}

/* --- drawing ---------------------------------------------------------------------------- */

static uint64_t ahead_ticks(void)
{
    static const uint64_t edges[] = {50000, 150000};
    return cur->index < ARRAY_SIZE(edges) && rng_next(&cur->rng) % 2 ? edges[cur->index]
                                                                      : rng_range(&cur->rng, 50000, 150000);
}

/* How long a wait may take: the deadline, and room for any implementation. */
#define WAIT_LIMIT 1000000

/* A legal vector: 16, 31, 32, 255 in the first cases, else any of 16-255. */
static unsigned legal_vector(unsigned k)
{
    static const unsigned edges[] = {16, 31, 32, 255};
    unsigned i = cur->index * 3 + k;
    return k < 3 && i < ARRAY_SIZE(edges) ? edges[i] : (unsigned)rng_range(&cur->rng, 16, 255);
}

/* The LVT in TSC-deadline mode with vector v, sometimes with the
 * read-only delivery-status bit written (ignored). */
static uint64_t lvt_tsc(unsigned v)
{
    return LVT_TIMER_TSC_DEADLINE | v | (rng_next(&cur->rng) % 4 == 0 ? LVT_DELIVERY_STATUS : 0);
}

/* A deadline already passed, by one of the ways the guest can write one. */
static void arm_passed(void)
{
    switch (rng_next(&cur->rng) % 6) {
    case 0:
        op_arm_at(1, PASSED);
        break;
    case 1:
        op_arm_at(2, PASSED);
        break;
    case 2:
        op_arm_at(rng_range(&cur->rng, 1, 1ULL << 24), PASSED);
        break;
    case 3:
        op_arm_ago(0); /* the TSC the guest just read */
        break;
    case 4:
        op_arm_ago(1);
        break;
    default:
        op_arm_ago(rng_range(&cur->rng, 2, (1ULL << 24) - 1));
    }
}

/* An interrupt ahead the guest waits for (interrupts on, none in service). */
static void interrupt_ahead(unsigned vector)
{
    op_lvt(lvt_tsc(vector));
    uint64_t t = ahead_ticks();
    op_arm_in(t);
    if (rng_next(&cur->rng) % 3 == 0)
        op_read(MSR_IA32_TSC_DEADLINE);
    op_wait(t + WAIT_LIMIT);
}

/* A deadline ahead the guest idles past (the idle then ends with it), or
 * one passed and a short idle. */
static void arm_and_idle(bool ahead)
{
    if (ahead) {
        uint64_t t = ahead_ticks();
        op_arm_in(t);
        op_idle(t + 100000);
    } else {
        arm_passed();
        op_idle(rng_range(&cur->rng, 1000, 20000));
    }
}

/* The timer fires, at random at once or ahead: the guest waits for that
 * interrupt (wait), or idles past it. */
static void fire_passed_or_ahead(bool wait)
{
    if (rng_next(&cur->rng) % 2) {
        arm_passed();
    } else if (wait) {
        uint64_t t = ahead_ticks();
        op_arm_in(t);
        op_wait(t + WAIT_LIMIT);
    } else {
        arm_and_idle(true);
    }
}

typedef enum ktest_result (*p4_prepare_fn)(struct gtest_case *c);

static enum ktest_result p4_prepare(struct gtest_case *c, p4_prepare_fn fn)
{
    if (rdtsc() < (1ULL << 25))
        return ktest_fail("the TSC is below 2^25: the passed deadlines the tests draw might not be");
    memset(&config, 0, sizeof(config));
    config.guest = "timer";
    memset(&m, 0, sizeof(m));
    m.lvt = LVT_TIMER_RESET;
    m.pending = m.in_service = TIMER_NONE;
    m.if_on = true;
    cur = c;
    gtest_expect_exit(c, 0);
    enum ktest_result r = fn(c);
    gtest_input(c, "ops=%lu", config.params.nops);
    if (config.params.no_eoi)
        gtest_input(c, "no_eoi=0x%lx", config.params.no_eoi);
    return r;
}

static void p4_run(const struct gtest *t, struct gtest_case *c, struct printer *out, struct vm_outcome *o)
{
    p4_vm_run(&config, out, o);
}

#define P4_TEST_AS(graded, id, category, weight, ncases, description)                     \
    static enum ktest_result p4_prep_##id(struct gtest_case *c);                          \
    static enum ktest_result p4_wrap_##id(const struct gtest *t, struct gtest_case *c)    \
    {                                                                                     \
        return p4_prepare(c, p4_prep_##id);                                               \
    }                                                                                     \
    graded(id, 4, category, weight, description)                                         \
    {                                                                                     \
        static const struct gtest t = {#id, ncases, NULL, p4_wrap_##id, p4_run};          \
        return gtest_run(&t);                                                             \
    }                                                                                     \
    static enum ktest_result p4_prep_##id(struct gtest_case *c)
#define P4_TEST(...) P4_TEST_AS(KTEST_GRADED, __VA_ARGS__)
#define P4_TEST_HIDDEN(...) P4_TEST_AS(KTEST_GRADED_HIDDEN, __VA_ARGS__)

/* --- Timer --------------------------------------------------------------------------------- */

P4_TEST(p4_timer_deadlines, "Timer", 5, 5,
        "N deadlines (1 to 8) armed one after another, each 50,000 to 150,000 TSC ticks ahead "
        "with a vector of its own (16 to 255): N interrupts arrive while the guest waits, in "
        "order, each with its vector and none before its deadline; IA32_TSC_DEADLINE reads the "
        "deadline while armed, 0 once it fired")
{
    unsigned n = c->index == 0 ? 1 : c->index == 1 ? 8 : (unsigned)rng_range(&c->rng, 2, 8);
    for (unsigned i = 0; i < n; i++) {
        interrupt_ahead(legal_vector(i));
        if (rng_next(&c->rng) % 2)
            op_read(MSR_IA32_TSC_DEADLINE);
    }
    gtest_input(c, "deadlines=%u", n);
    return KTEST_PASS;
}

P4_TEST(p4_timer_past, "Timer", 4, 5,
        "a deadline already passed (1, 2, up to 2^24 ticks ago, the TSC the guest just read) "
        "fires at once: its interrupt arrives right after the WRMSR that armed it, and "
        "IA32_TSC_DEADLINE reads 0")
{
    unsigned n = (unsigned)rng_range(&c->rng, 3, 6);
    for (unsigned i = 0; i < n; i++) {
        op_lvt(lvt_tsc(legal_vector(i)));
        arm_passed();
        if (i % 2)
            op_read(MSR_IA32_TSC_DEADLINE);
    }
    return KTEST_PASS;
}

P4_TEST(p4_timer_cli, "Timer", 5, 4,
        "with interrupts off (cli) a deadline passes, ahead or at once: no interrupt until the "
        "guest turns them on, then it arrives through the interrupt window right after "
        "sti; nop (or sti; wrmsr(EOI); nop: the instruction after STI runs first)")
{
    unsigned rounds = (unsigned)rng_range(&c->rng, 2, 3);
    for (unsigned i = 0; i < rounds; i++) {
        op_cli();
        op_lvt(lvt_tsc(legal_vector(i)));
        arm_and_idle((c->index + i) % 2);
        op_read(MSR_IA32_TSC_DEADLINE);
        if ((c->index + i / 2) % 2)
            op_sti();
        else
            op_sti_eoi();
    }
    return KTEST_PASS;
}

P4_TEST(p4_timer_eoi, "Timer", 5, 4,
        "an interrupt that fires while another is in service (its handler has not written "
        "EOI) waits, interrupts on: it arrives right after the EOI (after mov ss; wrmsr(EOI); "
        "nop, once the instruction after MOV SS ran); a non-zero EOI is #GP and ends nothing")
{
    unsigned rounds = (unsigned)rng_range(&c->rng, 1, 3);
    for (unsigned i = 0; i < rounds; i++) {
        P()->no_eoi |= 1ULL << m.count; /* the next interrupt stays in service */
        op_lvt(lvt_tsc(legal_vector(i)));
        fire_passed_or_ahead(true);
        op_lvt(lvt_tsc(legal_vector(i + 1)));
        fire_passed_or_ahead(false);
        op_read(MSR_IA32_TSC_DEADLINE);
        static const uint64_t bad[] = {1, 1ULL << 63};
        op_eoi(i < ARRAY_SIZE(bad) ? bad[i] : rng_u64(&c->rng) | 1);
        if ((c->index + i) % 2)
            op_eoi(0);
        else
            op_movss_eoi();
    }
    return KTEST_PASS;
}

P4_TEST(p4_timer_disarm, "Timer", 3, 4,
        "a deadline disarmed (0 written) before it passes never fires; one armed again is "
        "replaced (one interrupt, at the later deadline); 2^64 - 1 never comes; "
        "IA32_TSC_DEADLINE reads 0 after a disarm")
{
    op_lvt(lvt_tsc(legal_vector(0)));
    uint64_t t = ahead_ticks();
    op_arm_in(t);
    op_arm_at(0, PASSED);
    op_idle(t + 100000);
    op_read(MSR_IA32_TSC_DEADLINE);
    op_arm_at(~0ULL, NEVER);
    op_read(MSR_IA32_TSC_DEADLINE);
    if (c->index % 2) {
        t = ahead_ticks();
        op_arm_in(t); /* replaces 2^64 - 1 */
        op_wait(t + WAIT_LIMIT);
        op_read(MSR_IA32_TSC_DEADLINE);
    } else {
        op_idle(rng_range(&c->rng, 50000, 100000));
        op_arm_at(0, PASSED);
        op_read(MSR_IA32_TSC_DEADLINE);
        arm_passed(); /* and armed again after a disarm, at once */
    }
    return KTEST_PASS;
}

P4_TEST(p4_timer_mask, "Timer", 3, 4,
        "a masked LVT, or a vector below 16: the deadline passes (IA32_TSC_DEADLINE reads 0) "
        "and no interrupt comes, not even once unmasked; the LVT reads back as written, "
        "bit 12 (read-only) left out; then the timer works again")
{
    static const unsigned illegal[] = {0, 15, 1, 14};
    unsigned v = legal_vector(0);
    op_lvt(lvt_tsc(v) | LVT_MASKED);
    op_read(MSR_X2APIC_LVT_TIMER);
    arm_and_idle(c->index % 2);
    op_read(MSR_IA32_TSC_DEADLINE);
    op_lvt(lvt_tsc(v)); /* unmasked: the interrupt was lost */
    op_idle(rng_range(&c->rng, 1000, 10000));
    op_lvt(lvt_tsc(illegal[c->index % ARRAY_SIZE(illegal)]));
    op_read(MSR_X2APIC_LVT_TIMER);
    arm_passed();
    op_read(MSR_IA32_TSC_DEADLINE);
    interrupt_ahead(legal_vector(1));
    return KTEST_PASS;
}

/* The LVT's reserved bits: 63:19, 15:13 and 11:8. */
static uint64_t reserved_bit(unsigned k)
{
    static const uint8_t bits[] = {8, 9, 10, 11, 13, 14, 15, 19, 20, 24, 31, 32, 40, 63};
    unsigned i = cur->index * 4 + k;
    if (i < ARRAY_SIZE(bits))
        return 1ULL << bits[i];
    unsigned b = (unsigned)rng_range(&cur->rng, 8, 63);
    return (b == 12 || b == 16 || b == 17 || b == 18) ? 1ULL << 19 : 1ULL << b;
}

P4_TEST(p4_timer_msr_errors, "Timer", 3, 5,
        "#GP for what an x2APIC refuses, the register left as it was: a reserved LVT bit (each "
        "of 11:8, 15:13, 63:19), the reserved mode 11b, a RDMSR of EOI; a masked one-shot or "
        "periodic LVT is fine and disarms the timer; IA32_TSC_DEADLINE is ignored and reads 0 "
        "outside TSC-deadline mode")
{
    unsigned v = legal_vector(0);
    op_lvt(lvt_tsc(v));
    for (unsigned k = 0; k < 4; k++)
        op_lvt(lvt_tsc(legal_vector(k + 1)) | reserved_bit(k));
    op_lvt(LVT_TIMER_MODE_RESERVED | v | (c->index % 2 ? LVT_MASKED : 0));
    op_read(MSR_X2APIC_LVT_TIMER);
    op_read(MSR_X2APIC_EOI);
    op_arm_at(~0ULL, NEVER);
    op_read(MSR_IA32_TSC_DEADLINE);
    /* Out of TSC-deadline mode: disarmed, writes ignored. */
    op_lvt(LVT_MASKED | (c->index % 2 ? LVT_TIMER_PERIODIC : LVT_TIMER_ONE_SHOT) | legal_vector(2));
    op_read(MSR_X2APIC_LVT_TIMER);
    op_read(MSR_IA32_TSC_DEADLINE);
    arm_passed();
    op_read(MSR_IA32_TSC_DEADLINE);
    op_arm_at(~0ULL, NEVER); /* ignored: it must not count once back in TSC-deadline mode */
    op_read(MSR_IA32_TSC_DEADLINE);
    op_lvt(lvt_tsc(v));
    op_read(MSR_IA32_TSC_DEADLINE);
    arm_passed();
    return KTEST_PASS;
}

P4_TEST(p4_timer_unsupported, "Timer", 1, 4,
        "an unmasked one-shot or periodic LVT (modes kevlab's timer does not emulate) stops "
        "the VM with KEV_ENOTSUP")
{
    interrupt_ahead(legal_vector(0));
    uint64_t mode = c->index % 2 ? LVT_TIMER_PERIODIC : LVT_TIMER_ONE_SHOT;
    op_lvt(mode | legal_vector(1));
    op_read(MSR_X2APIC_LVT_TIMER); /* never runs */
    return KTEST_PASS;
}

/*
 * A random script: at each step one of the operations the model's state
 * allows (a wait only for an interrupt that will come, an EOI only with
 * one in service, sti after cli, ...), with random vectors (now and then a
 * masked LVT or an illegal vector) and deadlines ahead and passed; the
 * handlers of random interrupts leave them in service.
 */
static void random_script(unsigned steps)
{
    P()->no_eoi = rng_next(&cur->rng) & rng_next(&cur->rng) & rng_next(&cur->rng);
    op_lvt(lvt_tsc(legal_vector(0)));
    for (unsigned i = 0; i < steps && !m.stopped; i++) {
        unsigned r = (unsigned)rng_range(&cur->rng, 0, 9);
        bool free = m.pending == TIMER_NONE; /* no second firing while one is pending */
        switch (r) {
        case 0:
        case 1: {
            unsigned v = legal_vector(i + 1);
            unsigned how = (unsigned)rng_range(&cur->rng, 0, 9);
            op_lvt(lvt_tsc(how == 0 ? (unsigned)rng_range(&cur->rng, 0, 15) : v) |
                   (how == 1 ? LVT_MASKED : 0));
            break;
        }
        case 2:
            if (free)
                arm_passed();
            break;
        case 3:
            if (free && m.if_on && m.in_service == TIMER_NONE && tsc_mode() && would_raise()) {
                uint64_t t = ahead_ticks();
                op_arm_in(t);
                op_wait(t + WAIT_LIMIT);
            } else if (free && tsc_mode()) {
                uint64_t t = ahead_ticks();
                op_arm_in(t);
                if (rng_next(&cur->rng) % 3 == 0)
                    op_arm_at(0, PASSED);
                op_idle(t + 100000);
            }
            break;
        case 4:
            if (m.if_on)
                op_cli();
            else if (rng_next(&cur->rng) % 2)
                op_sti();
            else
                op_sti_eoi();
            break;
        case 5:
        case 6:
            if (m.in_service != TIMER_NONE && m.if_on && rng_next(&cur->rng) % 2)
                op_movss_eoi();
            else if (m.in_service != TIMER_NONE)
                op_eoi(0);
            else
                op_eoi(rng_next(&cur->rng) % 4 ? 0 : rng_u64(&cur->rng) | 1);
            break;
        case 7:
            op_read(rng_next(&cur->rng) % 2 ? MSR_IA32_TSC_DEADLINE : MSR_X2APIC_LVT_TIMER);
            break;
        case 8:
            op_idle(rng_range(&cur->rng, 100, 5000));
            break;
        default:
            if (rng_next(&cur->rng) % 4 == 0)
                op_read(MSR_X2APIC_EOI);
            else
                op_lvt(lvt_tsc(legal_vector(i)) | reserved_bit(4 + i % 4));
        }
    }
    /* Whatever is left in service or pending, then: interrupts on, EOI. */
    if (!m.if_on)
        op_sti();
    op_eoi(0);
}

P4_TEST(p4_timer_random, "Timer", 5, 6,
        "random scripts of everything above: LVT writes (random vectors, masked, illegal, "
        "reserved bits), deadlines ahead and passed, cli and sti, EOIs, reads, handlers that "
        "leave their interrupt in service; every interrupt in order, where and when it must "
        "come")
{
    random_script((unsigned)rng_range(&c->rng, 10, 24));
    return KTEST_PASS;
}

#ifdef KEVLAB_HIDDEN /* a hidden test: instructors only (docs/instructors.md) */
P4_TEST_HIDDEN(p4_timer_long, "Timer", 2, 2,
               "longer random scripts (60 to 90 steps), every interrupt's handler leaving it in "
               "service now and then")
{
    random_script((unsigned)rng_range(&c->rng, 60, 90));
    return KTEST_PASS;
}
#endif

/* --- benchmarks (make bench-p4): figures, never asserted ------------------------------------- */

#define BENCH_INTERRUPTS 100

/* The TSC's ticks per second of emulated time, against the PIT's channel 2
 * (1,193,182 Hz: Vol. 3A has no word on it; the 8254's datasheet). Under
 * Bochs both run on emulated time, so this is the configured ips. */
static uint64_t tsc_per_second(void)
{
    enum { PIT_CH2 = 0x42, PIT_CMD = 0x43, PORT_B = 0x61, COUNT = 0xffff };
    uint8_t b = inb(PORT_B);
    outb(PORT_B, (uint8_t)((b & ~0x02) | 0x01)); /* gate on, speaker off */
    outb(PIT_CMD, 0xb0);                         /* channel 2, lobyte/hibyte, mode 0 */
    outb(PIT_CH2, COUNT & 0xff);
    outb(PIT_CH2, COUNT >> 8);
    uint64_t t0 = rdtsc();
    while (!(inb(PORT_B) & 0x20) && rdtsc() - t0 < 100000000ULL)
        __asm__ volatile("pause");
    uint64_t t = rdtsc() - t0;
    outb(PORT_B, b);
    return t * 1193182ULL / COUNT;
}

static enum ktest_result bench_run(struct vm_outcome *o)
{
    struct printer out;
    if (printer_start(&out, 0) != KEV_OK)
        return ktest_fail("no memory for the PrinterProxy");
    p4_vm_run(&config, &out, o);
    printer_free(&out);
    if (o->kind != VM_EXITED) {
        char how[KEV_MESSAGE_MAX + 64];
        vm_outcome_describe(o, how, sizeof(how));
        return ktest_fail("the benchmark's VM %s", how);
    }
    return KTEST_PASS;
}

static void bench_begin(void)
{
    memset(&config, 0, sizeof(config));
    config.guest = "timer";
    config.params.quiet = 1;
    add(P4_OP_LVT, LVT_TIMER_TSC_DEADLINE | 0x40);
}

/* Interrupts one after another, each armed at once by the guest (a
 * deadline passed) and taken by its handler: how many an emulated second
 * holds, the guest's own loop included. */
KTEST(p4_bench_rate, KTEST_BENCH)
{
    memset(&m, 0, sizeof(m));
    bench_begin();
    add(P4_OP_MARK, 0);
    for (unsigned i = 0; i < BENCH_INTERRUPTS; i++)
        add(P4_OP_ARM_AGO, 0);
    add(P4_OP_EXIT_TICKS, 0);
    struct vm_outcome o;
    enum ktest_result r = bench_run(&o);
    if (r != KTEST_PASS)
        return r;
    uint64_t hz = tsc_per_second(), per = (uint64_t)o.exit_code / BENCH_INTERRUPTS;
    char buf[320];
    int n = snprintf(buf, sizeof(buf), "an interrupt armed and taken costs %lu emulated instructions "
                     "(3 VM exits: the arming WRMSR, the deadline's, the handler's EOI; 6 upcalls): "
                     "%lu interrupts per second of emulated time (the TSC counts %lu a second)",
                     per, per ? hz / per : 0, hz);
    ktest_data("figure", buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
    return KTEST_PASS;
}

/* Deadlines ahead, each waited for: from the deadline to the guest's
 * handler, in TSC ticks (emulated instructions). */
KTEST(p4_bench_latency, KTEST_BENCH)
{
    memset(&m, 0, sizeof(m));
    bench_begin();
    for (unsigned i = 0; i < BENCH_INTERRUPTS / 4; i++) {
        add(P4_OP_ARM_IN, 20000);
        add(P4_OP_WAIT, WAIT_LIMIT);
    }
    add(P4_OP_EXIT_LATE, 0);
    struct vm_outcome o;
    enum ktest_result r = bench_run(&o);
    if (r != KTEST_PASS)
        return r;
    uint64_t per100 = ((uint64_t)o.exit_code * 100 + BENCH_INTERRUPTS / 8) / (BENCH_INTERRUPTS / 4);
    char buf[320];
    int n = snprintf(buf, sizeof(buf), "injection latency: the guest's handler runs %lu.%02lu emulated "
                     "instructions after its deadline (the deadline's exit, timer_expired and "
                     "timer_deliver, the entry, the delivery through the IDT)",
                     per100 / 100, per100 % 100);
    ktest_data("figure", buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
    return KTEST_PASS;
}
