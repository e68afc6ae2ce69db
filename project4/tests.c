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
#include "project3/vm.h"
#include "project4/controller.h"
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

/* --- Virtio ------------------------------------------------------------------------------- */

/*
 * Every virtio test is a script for guests/project4/virtio.asm, the
 * driver's side: the test builds the virtqueue's parts and the requests in
 * the guest's memory (P4_RAM), the guest writes the registers, stages each
 * round of requests into the rings (P4V_OP_COPY), bumps the avail ring's
 * idx and notifies, and takes the interrupt; at the end it prints the used
 * ring, every status byte and the data of every read. The expectation is a
 * model's (below: the rules of docs/project4.md written a second time, and
 * a copy of the disk image of its own), never the code under test's.
 */

/* Where the test puts things in P4_RAM (offsets). */
#define VR_DESC 0x0000     /* the descriptor table (16 entries at most) */
#define VR_AVAIL 0x0400
#define VR_USED 0x0800
#define VR_HDR 0x1000      /* request k's header at VR_HDR + 16 k */
#define VR_STATUS 0x1800   /* request k's status byte */
#define VR_DATA 0x2000     /* data buffers, allocated upwards */
#define VR_DATA_END 0xa000
#define VR_STAGE 0xa000    /* round r's table and ring entries at VR_STAGE + 512 r */
#define VR_LABELS 0xb000   /* the dumps' labels */
#define VR_REQS 64
#define VR_ROUNDS 8

/* What a request breaks (one thing at most). */
enum vbad {
    VB_NONE,
    VB_ADDR,      /* a data buffer outside the memory the device may use */
    VB_SECTOR,    /* past the disk's end */
    VB_TYPE,      /* a type the device does not know */
    VB_DIR,       /* a data buffer in the wrong direction */
    VB_LEN,       /* a data buffer that is not a whole number of sectors */
    VB_HEADER,    /* a header the device may not read, or one too short */
};

struct vreq {
    uint32_t type;
    uint64_t sector;
    unsigned nsectors, ndata;  /* data sectors, the descriptors they are split into */
    enum vbad bad;
    uint8_t status;            /* the model's */
    uint32_t len;              /* the used entry's */
    uint64_t data;             /* P4_RAM offset of the first data buffer */
    uint16_t head;
};

static struct vmodel {
    uint8_t ram[P4_RAM_PAGES * PAGE_SIZE];   /* the guest's memory as it starts */
    uint8_t want[P4_RAM_PAGES * PAGE_SIZE];  /* what the device must have written there (the model's) */
    const uint8_t *image;       /* the disk image */
    bool copied;                /* disk holds the model's disk (after its first write) */
    uint64_t sectors;
    unsigned num;               /* the queue's size */
    uint64_t desc, avail, used; /* P4_RAM offsets */
    uint16_t avail_idx, used_idx;
    uint64_t features;          /* what the driver negotiated */
    struct vreq req[VR_REQS];
    unsigned nreq, rounds, data_at, label_at;
    int header_writable;        /* a VB_HEADER's fault: 1 device-writable, 0 too short */
    bool stopped;
    uint8_t disk[256 * VIRTIO_BLK_SECTOR_SIZE]; /* last: v_begin clears what is before it */
} vm_;

/* The model's disk, from sector s; `write`: the model's own copy. */
static uint8_t *model_disk(uint64_t s, bool write)
{
    if (write && !vm_.copied) {
        memcpy(vm_.disk, vm_.image, vm_.sectors * VIRTIO_BLK_SECTOR_SIZE);
        vm_.copied = true;
    }
    return (vm_.copied ? vm_.disk : (uint8_t *)(uintptr_t)vm_.image) + s * VIRTIO_BLK_SECTOR_SIZE;
}

static struct p4v_params *V(void)
{
    return &config.vparams;
}

static void vop(enum p4v_op op, uint64_t a, uint64_t b, uint64_t c)
{
    if (vm_.stopped)
        return;
    struct p4v_params *p = V();
    if (p->nops == P4V_OPS_MAX)
        panic("p4 tests: a virtio case of more than %d operations", P4V_OPS_MAX);
    p->ops[p->nops].op = op;
    p->ops[p->nops].a = a;
    p->ops[p->nops].b = b;
    p->ops[p->nops].c = c;
    p->nops++;
}

static void vwrite(uint32_t reg, uint32_t value)
{
    vop(P4V_OP_WRITE, reg, value, 0);
}

static void vread(uint32_t reg, uint32_t value)
{
    vop(P4V_OP_READ, reg, 0, 0);
    if (!vm_.stopped)
        expect_line("read 0x%03x: 0x%08x\n", reg, value);
}

static void vstop(enum kev_error e)
{
    gtest_expect_error(cur, e);
    vm_.stopped = true;
}

static void put(uint64_t off, const void *bytes, size_t n)
{
    memcpy(vm_.ram + off, bytes, n);
}

/* A dump of guest memory at P4_RAM + off, after a label line. */
static void dump(uint64_t off, size_t n, const char *fmt, ...) __printf(3, 4);
static void dump(uint64_t off, size_t n, const char *fmt, ...)
{
    char line[120];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    size_t len = (size_t)k < sizeof(line) ? (size_t)k : sizeof(line) - 1;
    if (vm_.label_at + len > PAGE_SIZE)
        panic("p4 tests: the dumps' labels fill their page");
    put(VR_LABELS + vm_.label_at, line, len);
    vop(P4V_OP_DUMP, P4_RAM + VR_LABELS + vm_.label_at, len, 0);
    vop(P4V_OP_DUMP, P4_RAM + off, n, 0);
    vm_.label_at += (unsigned)len;
    if (!vm_.stopped) {
        gtest_expect_print(cur, line, len);
        gtest_expect_print(cur, vm_.want + off, n);
    }
}

/* Starts a virtio case: the model's disk a fresh copy of the image. */
static enum ktest_result v_begin(struct gtest_case *c)
{
    memset(&config, 0, sizeof(config));
    config.guest = "virtio";
    config.virtio = true;
    config.ram = vm_.ram;
    memset(&vm_, 0, offsetof(struct vmodel, disk));
    vm_.image = p4_disk_image(&vm_.sectors);
    if (vm_.image == NULL || vm_.sectors * VIRTIO_BLK_SECTOR_SIZE > sizeof(vm_.disk))
        return ktest_fail("no disk image of at most 256 sectors (the boot module \"%s\")", P4_DISK_MODULE);
    memset(vm_.ram + VR_STATUS, 0xff, VR_REQS); /* what the device has not written */
    memset(vm_.want + VR_STATUS, 0xff, VR_REQS);
    vm_.data_at = VR_DATA;
    cur = c;
    gtest_expect_exit(c, 0);
    return KTEST_PASS;
}

/* The status handshake and queue 0's setup (3.1.1), with `features`
 * offered back; the rings at the model's offsets. false: FEATURES_OK was
 * refused (the guest stops its setup there, as a driver does). */
static bool handshake(unsigned num, uint64_t features, bool reads)
{
    uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
    vwrite(VIRTIO_MMIO_STATUS, 0);
    vwrite(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    vwrite(VIRTIO_MMIO_STATUS, st);
    if (reads) {
        vwrite(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
        vread(VIRTIO_MMIO_DEVICE_FEATURES, (uint32_t)VBLK_FEATURES);
        vwrite(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
        vread(VIRTIO_MMIO_DEVICE_FEATURES, (uint32_t)(VBLK_FEATURES >> 32));
    }
    vwrite(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    vwrite(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
    vwrite(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    vwrite(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
    vwrite(VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_FEATURES_OK);
    bool ok = !(features & ~VBLK_FEATURES) && (features & VIRTIO_F_VERSION_1);
    vread(VIRTIO_MMIO_STATUS, st | (ok ? VIRTIO_STATUS_FEATURES_OK : 0));
    if (!ok)
        return false;
    vm_.features = features;
    st |= VIRTIO_STATUS_FEATURES_OK;
    vwrite(VIRTIO_MMIO_QUEUE_SEL, 0);
    if (reads)
        vread(VIRTIO_MMIO_QUEUE_NUM_MAX, VBLK_QUEUE_NUM_MAX);
    vm_.num = num;
    vwrite(VIRTIO_MMIO_QUEUE_NUM, num);
    uint64_t d = P4_RAM + vm_.desc, a = P4_RAM + vm_.avail, u = P4_RAM + vm_.used;
    vwrite(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)d);
    vwrite(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(d >> 32));
    vwrite(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)a);
    vwrite(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(a >> 32));
    vwrite(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)u);
    vwrite(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(u >> 32));
    vwrite(VIRTIO_MMIO_QUEUE_READY, 1);
    if (reads)
        vread(VIRTIO_MMIO_QUEUE_READY, 1);
    vwrite(VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_DRIVER_OK);
    if (reads)
        vread(VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_DRIVER_OK);
    return true;
}

/* The usual setup: every feature, queue at the usual offsets. */
static void setup(unsigned num)
{
    vm_.desc = VR_DESC;
    vm_.avail = VR_AVAIL;
    vm_.used = VR_USED;
    handshake(num, VBLK_FEATURES, false);
}

/* --- requests --- */

static uint64_t data_alloc(uint32_t n)
{
    uint64_t at = vm_.data_at;
    if (at + n > VR_DATA_END)
        panic("p4 tests: a virtio case's data buffers fill P4_RAM");
    vm_.data_at += (n + 15) & ~15u;
    return at;
}

/* A new request (not yet in a round): IN, OUT, GET_ID, FLUSH or any type. */
static struct vreq *request(uint32_t type, uint64_t sector, unsigned nsectors, unsigned ndata)
{
    if (vm_.nreq == VR_REQS)
        panic("p4 tests: more than %d virtio requests in a case", VR_REQS);
    struct vreq *r = &vm_.req[vm_.nreq++];
    *r = (struct vreq){.type = type, .sector = sector, .nsectors = nsectors, .ndata = ndata};
    return r;
}

static struct vreq *read_req(uint64_t sector, unsigned n)
{
    return request(VIRTIO_BLK_T_IN, sector, n, n == 0 ? 0 : (unsigned)rng_range(&cur->rng, 1, n < 3 ? n : 3));
}

static struct vreq *write_req(uint64_t sector, unsigned n)
{
    return request(VIRTIO_BLK_T_OUT, sector, n, n == 0 ? 0 : (unsigned)rng_range(&cur->rng, 1, n < 3 ? n : 3));
}

/* The descriptors request r needs: header, data, status. */
static unsigned ndesc(const struct vreq *r)
{
    return r->ndata + 2;
}

/* The model serves r (the device's rules, docs/project4.md). */
static void model_serve(struct vreq *r)
{
    r->len = 1;
    r->status = VIRTIO_BLK_S_OK;
    if (r->bad == VB_ADDR || r->bad == VB_DIR || r->bad == VB_LEN || r->bad == VB_HEADER ||
        r->bad == VB_SECTOR) {
        r->status = VIRTIO_BLK_S_IOERR;
        return;
    }
    size_t n = (size_t)r->nsectors * VIRTIO_BLK_SECTOR_SIZE;
    switch (r->type) {
    case VIRTIO_BLK_T_IN:
        memcpy(vm_.want + r->data, model_disk(r->sector, false), n);
        r->len += (uint32_t)n;
        break;
    case VIRTIO_BLK_T_OUT:
        memcpy(model_disk(r->sector, true), vm_.ram + r->data, n);
        break;
    case VIRTIO_BLK_T_GET_ID:
        memcpy(vm_.want + r->data, VBLK_ID, VIRTIO_BLK_ID_BYTES);
        r->len += VIRTIO_BLK_ID_BYTES;
        break;
    case VIRTIO_BLK_T_FLUSH:
        if (!(vm_.features & VIRTIO_BLK_F_FLUSH))
            r->status = VIRTIO_BLK_S_UNSUPP;
        break;
    default:
        r->status = VIRTIO_BLK_S_UNSUPP;
    }
}

/* An address for a data buffer of n bytes the device may not use: no
 * guest memory there (the device's own page, 0, past 2^48, the top of the
 * address space), or for a buffer the device writes, a page the EPT allows
 * no writes to or one that runs past the end of P4_RAM (its first sector
 * is guest memory: only a buffer the device writes, since a write to the
 * disk cannot be taken back). */
static uint64_t bad_address(bool device_writes, uint32_t n)
{
    uint64_t edges[] = {VBLK_MMIO_BASE, 0, (1ULL << 48) - VIRTIO_BLK_SECTOR_SIZE,
                        -(uint64_t)VIRTIO_BLK_SECTOR_SIZE, P4_PARAMS, P4_CODE,
                        P4_RAM + P4_RAM_PAGES * PAGE_SIZE - VIRTIO_BLK_SECTOR_SIZE};
    unsigned k = (unsigned)rng_range(&cur->rng, 0, device_writes ? (n > VIRTIO_BLK_SECTOR_SIZE ? 6 : 5) : 3);
    return edges[k];
}

/*
 * Writes the chains of r[0..n) into the round's staged table, at
 * descriptor indices drawn at random (chains need not be contiguous),
 * and their heads into the staged ring entries; then the guest copies
 * them, bumps the avail idx and notifies (waits for the interrupt unless
 * `kick`). The model serves them in order.
 */
static void round_of(struct vreq **rs, unsigned n, bool kick)
{
    unsigned num = vm_.num, need = 0;
    for (unsigned i = 0; i < n; i++)
        need += ndesc(rs[i]);
    if (need > num || vm_.rounds == VR_ROUNDS)
        panic("p4 tests: a round of %u descriptors for a queue of %u, or more than %d rounds", need,
              num, VR_ROUNDS);
    uint64_t stage = VR_STAGE + 512 * vm_.rounds++;
    struct virtq_desc *table = (struct virtq_desc *)(vm_.ram + stage);
    uint16_t *ring = (uint16_t *)(vm_.ram + stage + 256);
    memset(table, 0, 16 * num);
    /* A random order of the descriptors. */
    uint16_t perm[VBLK_QUEUE_NUM_MAX];
    for (unsigned i = 0; i < num; i++)
        perm[i] = (uint16_t)i;
    for (unsigned i = num - 1; i > 0; i--) {
        unsigned j = (unsigned)rng_range(&cur->rng, 0, i);
        uint16_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    unsigned next = 0;
    for (unsigned i = 0; i < n; i++) {
        struct vreq *r = rs[i];
        unsigned k = (unsigned)(r - vm_.req);
        uint16_t idx[8];
        for (unsigned d = 0; d < ndesc(r); d++)
            idx[d] = perm[next++];
        r->head = idx[0];
        bool dev_writes = r->type != VIRTIO_BLK_T_OUT;
        /* The header. */
        struct virtio_blk_req_header h = {.type = r->type, .sector = r->sector};
        put(VR_HDR + 16 * k, &h, sizeof(h));
        table[idx[0]] = (struct virtq_desc){.addr = P4_RAM + VR_HDR + 16 * k, .len = 16};
        if (r->bad == VB_HEADER) {
            if (vm_.header_writable)
                table[idx[0]].flags |= VIRTQ_DESC_F_WRITE;
            else
                table[idx[0]].len = (uint32_t)rng_range(&cur->rng, 0, 15);
        }
        /* The data: the sectors split over ndata buffers, each whole sectors. */
        uint32_t total = r->type == VIRTIO_BLK_T_GET_ID ? VIRTIO_BLK_ID_BYTES
                                                        : r->nsectors * VIRTIO_BLK_SECTOR_SIZE;
        r->data = r->ndata ? data_alloc(total) : 0;
        if (r->type == VIRTIO_BLK_T_OUT)
            rng_bytes(&cur->rng, vm_.ram + r->data, total);
        unsigned left = r->nsectors;
        uint64_t at = r->data;
        for (unsigned d = 1; d <= r->ndata; d++) {
            unsigned s = d == r->ndata ? left : (unsigned)rng_range(&cur->rng, 1, left - (r->ndata - d));
            uint32_t len = r->type == VIRTIO_BLK_T_GET_ID ? total : s * VIRTIO_BLK_SECTOR_SIZE;
            left -= s;
            table[idx[d]] = (struct virtq_desc){.addr = P4_RAM + at, .len = len,
                                                .flags = dev_writes ? VIRTQ_DESC_F_WRITE : 0};
            at += len;
        }
        if (r->ndata && r->bad == VB_ADDR)
            table[idx[1]].addr = bad_address(dev_writes, table[idx[1]].len);
        if (r->ndata && r->bad == VB_DIR)
            table[idx[1 + rng_next(&cur->rng) % r->ndata]].flags ^= VIRTQ_DESC_F_WRITE;
        if (r->ndata && r->bad == VB_LEN) {
            struct virtq_desc *x = &table[idx[1 + rng_next(&cur->rng) % r->ndata]];
            static const int32_t off[] = {-1, 1, -511, 256};
            x->len = (uint32_t)((int32_t)x->len + off[rng_next(&cur->rng) % 4]);
        }
        /* The status byte. */
        unsigned last = ndesc(r) - 1;
        table[idx[last]] = (struct virtq_desc){.addr = P4_RAM + VR_STATUS + k, .len = 1,
                                               .flags = VIRTQ_DESC_F_WRITE};
        for (unsigned d = 0; d < last; d++) {
            table[idx[d]].flags |= VIRTQ_DESC_F_NEXT;
            table[idx[d]].next = idx[d + 1];
        }
        ring[i] = r->head;
    }
    /* The guest: the table, the ring entries (which may wrap), idx, notify. */
    vop(P4V_OP_COPY, P4_RAM + vm_.desc, P4_RAM + stage, 16 * num);
    for (unsigned i = 0; i < n; i++) {
        unsigned slot = (uint16_t)(vm_.avail_idx + i) % num;
        vop(P4V_OP_COPY, P4_RAM + vm_.avail + 4 + 2 * slot, P4_RAM + stage + 256 + 2 * i, 2);
    }
    vm_.avail_idx = (uint16_t)(vm_.avail_idx + n);
    vop(P4V_OP_STORE16, P4_RAM + vm_.avail + 2, vm_.avail_idx, 0);
    vop(kick ? P4V_OP_KICK : P4V_OP_NOTIFY, 0, 0, 0);
    /* The model, in the device's order. */
    for (unsigned i = 0; i < n; i++) {
        struct vreq *r = rs[i];
        model_serve(r);
        vm_.want[VR_STATUS + (r - vm_.req)] = r->status;
        struct virtq_used_elem el = {.id = r->head, .len = r->len};
        memcpy(vm_.want + vm_.used + 4 + 8 * (vm_.used_idx % num), &el, sizeof(el));
        vm_.used_idx++;
        memcpy(vm_.want + vm_.used + 2, &vm_.used_idx, 2);
    }
    if (n > 0 && !kick)
        expect_line("interrupt: InterruptStatus 0x%08x\n", VIRTIO_MMIO_INT_VRING);
}

/* The end of a case: the used ring, the status bytes, what was read. */
static void v_end(void)
{
    dump(vm_.used, 4 + 8 * vm_.num, "used ring (flags, idx, %u entries):\n", vm_.num);
    if (vm_.nreq)
        dump(VR_STATUS, vm_.nreq, "status bytes of requests 0 to %u:\n", vm_.nreq - 1);
    for (unsigned k = 0; k < vm_.nreq; k++) {
        const struct vreq *r = &vm_.req[k];
        if (r->status != VIRTIO_BLK_S_OK || (r->type != VIRTIO_BLK_T_IN && r->type != VIRTIO_BLK_T_GET_ID))
            continue;
        if (r->type == VIRTIO_BLK_T_GET_ID)
            dump(r->data, VIRTIO_BLK_ID_BYTES, "request %u: GET_ID's id:\n", k);
        else
            dump(r->data, r->nsectors * VIRTIO_BLK_SECTOR_SIZE, "request %u: IN of %u sectors from %lu:\n",
                 k, r->nsectors, r->sector);
    }
    gtest_input(cur, "requests=%u rounds=%u num=%u ops=%lu", vm_.nreq, vm_.rounds, vm_.num, V()->nops);
}

/* A queue size for rounds of `need` descriptors: 4, 8 or 16. */
static unsigned queue_num(unsigned need)
{
    unsigned num = 4u << rng_range(&cur->rng, 0, 2);
    while (num < need)
        num *= 2;
    return num;
}

/* A read's sector range: the disk's edges first (0, the last sector, the
 * last 8), then anywhere. */
static void read_range(unsigned i, uint64_t *sector, unsigned *n)
{
    uint64_t cap = vm_.sectors;
    unsigned e = cur->index * 3 + i;
    *n = (unsigned)rng_range(&cur->rng, 1, 8);
    if (e == 0)
        *sector = 0;
    else if (e == 1)
        *n = 1, *sector = cap - 1;
    else if (e == 2)
        *n = 8, *sector = cap - 8;
    else
        *sector = rng_range(&cur->rng, 0, cap - *n);
}

#define P4V_TEST_AS(graded, id, category, weight, ncases, description)                    \
    static enum ktest_result p4v_prep_##id(struct gtest_case *c);                         \
    static enum ktest_result p4v_wrap_##id(const struct gtest *t, struct gtest_case *c)   \
    {                                                                                     \
        enum ktest_result r = v_begin(c);                                                 \
        if (r == KTEST_PASS)                                                              \
            r = p4v_prep_##id(c);                                                         \
        if (r == KTEST_PASS)                                                              \
            v_end();                                                                      \
        return r;                                                                         \
    }                                                                                     \
    graded(id, 4, category, weight, description)                                         \
    {                                                                                     \
        static const struct gtest t = {#id, ncases, NULL, p4v_wrap_##id, p4_run};         \
        return gtest_run(&t);                                                             \
    }                                                                                     \
    static enum ktest_result p4v_prep_##id(struct gtest_case *c)
#define P4V_TEST(...) P4V_TEST_AS(KTEST_GRADED, __VA_ARGS__)
#define P4V_TEST_HIDDEN(...) P4V_TEST_AS(KTEST_GRADED_HIDDEN, __VA_ARGS__)

static void probe_registers(struct gtest_case *c);

P4V_TEST(p4_virtio_probe, "Virtio", 4, 4,
         "the device's identity (MagicValue 0x74726976, Version 2, DeviceID 2, VendorID), "
         "DeviceFeatures by DeviceFeaturesSel, QueueNumMax (0 for a queue other than 0), the "
         "capacity, write-only registers reading 0, the status handshake read back; FEATURES_OK "
         "refused for a feature not offered or without VIRTIO_F_VERSION_1")
{
    /* The identity and the other registers in the first two cases (every
     * run has them), the negotiation in every case. */
    if (c->index < 2)
        probe_registers(c);
    /* The features the driver takes: all, VERSION_1 alone, one not
     * offered, or none of VERSION_1. */
    uint64_t f;
    switch (c->index % 4) {
    case 0:
        f = VBLK_FEATURES;
        break;
    case 1:
        f = VIRTIO_F_VERSION_1;
        break;
    case 2: {
        unsigned bit;
        do
            bit = (unsigned)rng_range(&c->rng, 0, 63);
        while ((VBLK_FEATURES >> bit) & 1);
        f = VBLK_FEATURES | 1ULL << bit;
        break;
    }
    default:
        f = VIRTIO_BLK_F_FLUSH;
    }
    vm_.desc = VR_DESC;
    vm_.avail = VR_AVAIL;
    vm_.used = VR_USED;
    gtest_input(c, "driver_features=0x%lx", f);
    handshake(16, f, true);
    return KTEST_PASS;
}

static void probe_registers(struct gtest_case *c)
{
    vread(VIRTIO_MMIO_MAGIC_VALUE, VIRTIO_MMIO_MAGIC);
    vread(VIRTIO_MMIO_VERSION, VIRTIO_MMIO_VERSION_1X);
    vread(VIRTIO_MMIO_DEVICE_ID, VIRTIO_ID_BLOCK);
    vread(VIRTIO_MMIO_VENDOR_ID, VBLK_VENDOR_ID);
    vread(VIRTIO_MMIO_CONFIG_CAPACITY_LOW, (uint32_t)vm_.sectors);
    vread(VIRTIO_MMIO_CONFIG_CAPACITY_HIGH, (uint32_t)(vm_.sectors >> 32));
    vread(VIRTIO_MMIO_CONFIG_GENERATION, 0);
    vread(VIRTIO_MMIO_STATUS, 0);
    vread(VIRTIO_MMIO_INTERRUPT_STATUS, 0);
    /* Selectors past the features and queues there are. */
    uint32_t sel = (uint32_t)(c->index == 0 ? 2 : rng_range(&c->rng, 2, UINT32_MAX));
    vwrite(VIRTIO_MMIO_DEVICE_FEATURES_SEL, sel);
    vread(VIRTIO_MMIO_DEVICE_FEATURES, 0);
    vwrite(VIRTIO_MMIO_QUEUE_SEL, c->index == 1 ? UINT32_MAX : (uint32_t)rng_range(&c->rng, 1, 8));
    vread(VIRTIO_MMIO_QUEUE_NUM_MAX, 0);
    vread(VIRTIO_MMIO_QUEUE_READY, 0);
    static const uint32_t write_only[] = {VIRTIO_MMIO_DEVICE_FEATURES_SEL, VIRTIO_MMIO_DRIVER_FEATURES,
                                          VIRTIO_MMIO_QUEUE_NUM, VIRTIO_MMIO_QUEUE_NOTIFY,
                                          VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_QUEUE_DESC_LOW,
                                          VIRTIO_MMIO_QUEUE_DEVICE_HIGH};
    vread(write_only[rng_next(&c->rng) % ARRAY_SIZE(write_only)], 0);
    /* A read-only register ignores a write. */
    vwrite(VIRTIO_MMIO_MAGIC_VALUE, (uint32_t)rng_next(&c->rng));
    vread(VIRTIO_MMIO_MAGIC_VALUE, VIRTIO_MMIO_MAGIC);
}

P4V_TEST(p4_virtio_read, "Virtio", 6, 4,
         "1 to 6 reads (IN) one per notification, each of 1 to 8 sectors anywhere on the disk "
         "(sector 0, the last, the last 8 first), the data split over 1 to 3 descriptors at "
         "random places in the table, queues of 4, 8 or 16 (the ring wraps): every byte read, "
         "status OK, the used ring's entries and idx, one interrupt each")
{
    /* The first two cases: a queue of 4 and 6 requests, so that both rings wrap. */
    unsigned n = c->index < 2 ? 6 : (unsigned)rng_range(&c->rng, 1, 6);
    unsigned num = c->index < 2 ? 4 : queue_num(5);
    setup(num);
    for (unsigned i = 0; i < n; i++) {
        uint64_t s;
        unsigned k;
        read_range(i, &s, &k);
        struct vreq *r = read_req(s, k);
        if (c->index == 0 && i == 2)
            r->ndata = 2; /* 8 sectors in two buffers: the second goes on where the first ended */
        if (ndesc(r) > num)
            r->ndata = num - 2;
        round_of(&r, 1, false);
    }
    return KTEST_PASS;
}

/* The sectors the last case of p4_virtio_write wrote: this case reads them
 * first (a fresh disk must not show them). */
static uint64_t written_before = 1;

P4V_TEST(p4_virtio_write, "Virtio", 6, 3,
         "writes (OUT) of random bytes to random sectors, then reads of them and their "
         "neighbours: the data written comes back, sectors not written keep the image's; each "
         "VM's disk starts as the image (a sector an earlier case wrote reads as the image's)")
{
    setup(16);
    struct vreq *rs[5];
    rs[0] = read_req(written_before, 1);
    round_of(rs, 1, false);
    unsigned n = (unsigned)rng_range(&c->rng, 1, 3);
    for (unsigned i = 0; i < n; i++) {
        unsigned k = (unsigned)rng_range(&c->rng, 1, 8);
        uint64_t s = i == 0 && c->index == 0 ? vm_.sectors - k : rng_range(&c->rng, 0, vm_.sectors - k);
        rs[i] = write_req(s, k);
        if (i == 0)
            written_before = s;
    }
    round_of(rs, n, false);
    for (unsigned i = 0; i < n; i++) {
        uint64_t s = vm_.req[1 + i].sector;
        unsigned k = vm_.req[1 + i].nsectors;
        uint64_t from = s > 0 && rng_next(&c->rng) % 2 ? s - 1 : s;
        unsigned len = (unsigned)(s + k - from) + (s + k < vm_.sectors && rng_next(&c->rng) % 2);
        if (len > 8)
            len = 8;
        rs[0] = read_req(from, len);
        round_of(rs, 1, false);
    }
    return KTEST_PASS;
}

P4V_TEST(p4_virtio_batch, "Virtio", 6, 3,
         "2 to 5 requests in one notification (reads, writes, GET_ID, FLUSH, mixed), more "
         "than one batch in a row: served in the avail ring's order (a read after a write in the "
         "same batch sees it), one used entry each, one interrupt per batch")
{
    setup(16);
    unsigned batches = (unsigned)rng_range(&c->rng, 1, 3);
    for (unsigned b = 0; b < batches; b++) {
        unsigned n = c->index == 0 && b == 0 ? 5 : (unsigned)rng_range(&c->rng, 2, 5);
        struct vreq *rs[5];
        unsigned descs = 0; /* 15 at most: 5 chains of 3 */
        uint64_t last_write = 0;
        for (unsigned i = 0; i < n; i++) {
            /* The first batch of case 0: write, read it back, read, GET_ID, FLUSH. */
            static const unsigned first[] = {2, 0, 1, 4, 5};
            unsigned kind = c->index == 0 && b == 0 ? first[i] : (unsigned)rng_range(&c->rng, 0, 5);
            unsigned k = (unsigned)rng_range(&c->rng, 1, 4);
            uint64_t s = rng_range(&c->rng, 0, vm_.sectors - k);
            if (kind == 0 && i > 0 && last_write)
                s = last_write + k <= vm_.sectors ? last_write : vm_.sectors - k; /* what this batch wrote */
            if (kind <= 1)
                rs[i] = request(VIRTIO_BLK_T_IN, s, k, 1);
            else if (kind <= 3) {
                rs[i] = request(VIRTIO_BLK_T_OUT, s, k, 1);
                last_write = s;
            } else if (kind == 4)
                rs[i] = request(VIRTIO_BLK_T_GET_ID, 0, 0, 1);
            else
                rs[i] = request(VIRTIO_BLK_T_FLUSH, rng_u64(&c->rng), 0, 0);
            descs += ndesc(rs[i]);
        }
        round_of(rs, n, false);
    }
    return KTEST_PASS;
}

P4V_TEST(p4_virtio_reset, "Virtio", 5, 2,
         "requests, then Status = 0: Status, QueueReady and InterruptStatus read 0, the queue is "
         "forgotten (a notification then is ignored); the driver sets up again (another queue "
         "size, the rings elsewhere) and the new rings start from idx 0")
{
    setup(queue_num(3));
    struct vreq *r = read_req(rng_range(&c->rng, 0, vm_.sectors - 1), 1);
    round_of(&r, 1, false);
    r = write_req(rng_range(&c->rng, 0, vm_.sectors - 2), 2);
    round_of(&r, 1, false);
    vwrite(VIRTIO_MMIO_STATUS, 0);
    vread(VIRTIO_MMIO_STATUS, 0);
    vread(VIRTIO_MMIO_QUEUE_READY, 0);
    vread(VIRTIO_MMIO_INTERRUPT_STATUS, 0);
    /* A notification to the device after its reset, before any setup: ignored. */
    vop(P4V_OP_KICK, 0, 0, 0);
    /* The old used ring, as it is now: a device that went on using it shows. */
    dump(vm_.used, 4 + 8 * vm_.num, "the first used ring after the reset:\n");
    /* A queue elsewhere. */
    vm_.desc = VR_DESC + 0x100 * (1 + rng_next(&c->rng) % 2);
    vm_.avail = VR_AVAIL + 0x100;
    vm_.used = VR_USED + 0x200;
    vm_.avail_idx = vm_.used_idx = 0;
    handshake(queue_num(4), VIRTIO_F_VERSION_1, c->index == 0);
    r = read_req(rng_range(&c->rng, 0, vm_.sectors - 1), 1);
    round_of(&r, 1, false);
    return KTEST_PASS;
}

/* A request that breaks `bad` (VB_TYPE: an unknown type, or FLUSH when
 * `flush` and the driver did not take VIRTIO_BLK_F_FLUSH); `edge` picks a
 * VB_SECTOR's range: 0 past the end by one, 3 wrapping around 2^64, else
 * any of those and two more. */
static struct vreq *bad_request(enum vbad bad, bool flush, unsigned edge)
{
    struct rng *g = &cur->rng;
    unsigned k = (unsigned)rng_range(g, 1, 4);
    uint64_t s = rng_range(g, 0, vm_.sectors - k);
    if (bad == VB_SECTOR) {
        /* Past the end by one sector, from the end, anywhere past, or so far
         * that sector + k wraps around 2^64. */
        unsigned e = edge < 4 ? edge : (unsigned)(rng_next(g) % 4);
        s = e == 0 ? vm_.sectors - k + 1 : e == 1 ? vm_.sectors
            : e == 2 ? rng_range(g, vm_.sectors, UINT64_MAX) : UINT64_MAX - rng_range(g, 0, k - 1);
    }
    struct vreq *r;
    if (bad == VB_TYPE) {
        uint32_t t = flush ? VIRTIO_BLK_T_FLUSH : (uint32_t)rng_next(g);
        while (!flush && (t == VIRTIO_BLK_T_IN || t == VIRTIO_BLK_T_OUT || t == VIRTIO_BLK_T_GET_ID ||
                          t == VIRTIO_BLK_T_FLUSH))
            t = (uint32_t)rng_next(g);
        r = request(t, s, 0, 0);
    } else {
        r = rng_next(g) % 2 ? read_req(s, k) : write_req(s, k);
        r->bad = bad;
    }
    gtest_input(cur, "bad=%d type=%u sector=0x%lx", (int)bad, r->type, s);
    return r;
}

P4V_TEST(p4_virtio_ioerr, "Virtio", 8, 5,
         "two bad requests between good ones, each of a different fault: a data buffer outside "
         "what the device may use (the device's page, 0, past 2^48, wrapping, a read-only page "
         "to read into), a sector range past the end (by one, 2^64 - 1), a buffer in the wrong "
         "direction or not whole sectors, a bad header: IOERR; an unknown type, FLUSH not "
         "negotiated: UNSUPP; used len 1, and the good requests served")
{
    /* Every fault in every run: case i breaks pairs[i] (a header
     * device-writable in case 2, too short in case 4; FLUSH not negotiated
     * in case 4). */
    static const enum vbad pairs[][2] = {{VB_ADDR, VB_SECTOR}, {VB_DIR, VB_LEN}, {VB_HEADER, VB_TYPE},
                                         {VB_ADDR, VB_SECTOR}, {VB_TYPE, VB_HEADER}};
    static const enum vbad any[] = {VB_ADDR, VB_SECTOR, VB_DIR, VB_LEN, VB_HEADER, VB_TYPE};
    enum vbad bad[2];
    for (unsigned i = 0; i < 2; i++)
        bad[i] = c->index < ARRAY_SIZE(pairs) ? pairs[c->index][i] : any[rng_next(&c->rng) % ARRAY_SIZE(any)];
    bool flush_off = c->index == 4 || (c->index >= ARRAY_SIZE(pairs) && rng_next(&c->rng) % 2);
    vm_.header_writable = c->index == 2 ? 1 : c->index == 4 ? 0 : (int)(rng_next(&c->rng) % 2);
    vm_.desc = VR_DESC;
    vm_.avail = VR_AVAIL;
    vm_.used = VR_USED;
    handshake(16, flush_off ? VIRTIO_F_VERSION_1 : VBLK_FEATURES, false);
    struct vreq *rs[4];
    rs[0] = read_req(rng_range(&c->rng, 0, vm_.sectors - 1), 1);
    rs[1] = bad_request(bad[0], flush_off && bad[0] == VB_TYPE, c->index == 0 ? 0 : 4);
    rs[2] = bad_request(bad[1], flush_off && bad[1] == VB_TYPE, c->index == 3 ? 3 : 4);
    rs[3] = read_req(rng_range(&c->rng, 0, vm_.sectors - 1), 1);
    round_of(rs, 4, false);
    return KTEST_PASS;
}

/* The faults the device gives up on (KEV_EVIRTIO), one per case. */
enum vgiveup { VG_NUM, VG_ALIGN, VG_NO_STATUS, VG_STATUS_RO, VG_NEXT_PAST, VG_LOOP, VG_AVAIL_JUMP,
               VG_RING_OUTSIDE, VG_COUNT };

P4V_TEST(p4_virtio_giveup, "Virtio", 6, 10,
         "what the device gives up on stops the VM with KEV_EVIRTIO, never the host: QueueReady "
         "with a size not a power of 2 (0, 3, 17, ...), rings not aligned, a chain without a "
         "device-writable status byte (or of one descriptor), a next past the table, a loop, an "
         "avail idx more than the queue's size ahead, a ring outside guest memory")
{
    /* Case i < VG_COUNT: fault i; cases 8 and 9 two more sizes (one not a
     * power of 2, one past QueueNumMax); then any. */
    enum vgiveup g = c->index < VG_COUNT ? (enum vgiveup)c->index
                     : c->index < VG_COUNT + 2 ? VG_NUM : (enum vgiveup)(rng_next(&c->rng) % VG_COUNT);
    gtest_input(c, "fault=%d", (int)g);
    vm_.desc = VR_DESC;
    vm_.avail = VR_AVAIL;
    vm_.used = VR_USED;
    unsigned num = 8;
    if (g == VG_NUM) {
        static const unsigned bad[] = {0, 3, 5, 6, 7, 12, 17, 32};
        num = c->index == VG_NUM ? 0
              : c->index == VG_COUNT ? bad[rng_range(&c->rng, 1, 5)]
              : c->index == VG_COUNT + 1 ? bad[rng_range(&c->rng, 6, 7)]
              : bad[rng_next(&c->rng) % ARRAY_SIZE(bad)];
    } else if (g == VG_ALIGN) {
        switch (rng_next(&c->rng) % 3) {
        case 0:
            vm_.desc += 8;
            break;
        case 1:
            vm_.avail += 1;
            break;
        default:
            vm_.used += 2;
        }
    }
    handshake(num, VBLK_FEATURES, false);
    if (g == VG_NUM || g == VG_ALIGN) {
        /* The VM stops at QueueReady = 1: the rest never runs. */
        vstop(KEV_EVIRTIO);
        return KTEST_PASS;
    }
    if (g == VG_RING_OUTSIDE) {
        /* The driver tells the device a ring is where no guest memory is
         * (or, for the used ring, where the EPT allows no writes), and
         * keeps its own where it was. */
        static const uint64_t nowhere[] = {VBLK_MMIO_BASE, 0x200000000ULL, 0};
        uint64_t at = nowhere[rng_next(&c->rng) % ARRAY_SIZE(nowhere)];
        switch (rng_next(&c->rng) % 3) {
        case 0:
            vwrite(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)at);
            vwrite(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(at >> 32));
            break;
        case 1:
            vwrite(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)at);
            vwrite(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(at >> 32));
            break;
        default:
            at = rng_next(&c->rng) % 2 ? P4_CODE : at;
            vwrite(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)at);
            vwrite(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(at >> 32));
        }
    }
    /* An OUT when the chain is cut before its status: its data buffer is
     * device-readable, so no descriptor can pass for the status. */
    struct vreq *r = g == VG_NO_STATUS ? write_req(rng_range(&c->rng, 0, vm_.sectors - 2), 2)
                                       : read_req(rng_range(&c->rng, 0, vm_.sectors - 2), 2);
    unsigned round = vm_.rounds;
    round_of(&r, 1, true);
    struct virtq_desc *table = (struct virtq_desc *)(vm_.ram + VR_STAGE + 512 * round);
    struct virtq_desc *chain[5];
    unsigned n = 0;
    for (uint16_t i = r->head;; i = table[i].next) {
        chain[n++] = &table[i];
        if (!(table[i].flags & VIRTQ_DESC_F_NEXT))
            break;
    }
    struct virtq_desc *last = chain[n - 1];
    switch (g) {
    case VG_NO_STATUS:
        if (rng_next(&c->rng) % 2)
            chain[0]->flags &= (uint16_t)~VIRTQ_DESC_F_NEXT; /* the header alone */
        else
            chain[n - 2]->flags &= (uint16_t)~VIRTQ_DESC_F_NEXT; /* header and data, no status */
        break;
    case VG_STATUS_RO:
        if (rng_next(&c->rng) % 2)
            last->flags &= (uint16_t)~VIRTQ_DESC_F_WRITE;
        else
            last->len = 0;
        break;
    case VG_NEXT_PAST:
        chain[1]->next = (uint16_t)(c->index == VG_NEXT_PAST ? num : rng_range(&c->rng, num, 0xffff));
        break;
    case VG_LOOP:
        chain[n - 2]->next = r->head;
        break;
    case VG_AVAIL_JUMP:
        /* idx more than num past the served: the guest's STORE16 before its kick. */
        V()->ops[V()->nops - 2].b = (uint16_t)rng_range(&c->rng, num + 1, 0xffff);
        break;
    default:
        break;
    }
    vstop(KEV_EVIRTIO);
    return KTEST_PASS;
}

P4V_TEST(p4_virtio_mmio_errors, "Virtio", 3, 3,
         "an access to the device's page the wrong way stops the VM with KEV_EMMIO: a 1-byte "
         "read of a register, a 4-byte read at an offset with no register (0x018, 0x0fd, "
         "0x108 ...)")
{
    vread(VIRTIO_MMIO_MAGIC_VALUE, VIRTIO_MMIO_MAGIC);
    if (c->index % 2 == 0) {
        vop(P4V_OP_READ8, c->index == 0 ? VIRTIO_MMIO_STATUS : VIRTIO_MMIO_MAGIC_VALUE, 0, 0);
    } else {
        static const uint32_t holes[] = {0x018, 0x0fd, 0x108, 0x040, 0xffc, 0x0a8};
        vop(P4V_OP_READ, holes[rng_next(&c->rng) % ARRAY_SIZE(holes)], 0, 0);
    }
    vstop(KEV_EMMIO);
    return KTEST_PASS;
}

#ifdef KEVLAB_HIDDEN /* a hidden test: instructors only (docs/instructors.md) */
P4V_TEST_HIDDEN(p4_virtio_mixed, "Virtio", 3, 2,
                "6 rounds of 1 to 3 random requests (reads, writes, GET_ID, one bad now and "
                "then) on a queue of 16")
{
    setup(16);
    for (unsigned b = 0; b < 6; b++) {
        unsigned n = (unsigned)rng_range(&c->rng, 1, 3);
        struct vreq *rs[3];
        for (unsigned i = 0; i < n; i++) {
            unsigned k = (unsigned)rng_range(&c->rng, 1, 2);
            uint64_t s = rng_range(&c->rng, 0, vm_.sectors - k);
            unsigned kind = (unsigned)rng_range(&c->rng, 0, 6);
            rs[i] = kind < 3 || kind == 6 ? read_req(s, k) : kind < 5 ? write_req(s, k)
                                                                      : request(VIRTIO_BLK_T_GET_ID, 0, 0, 1);
            if (kind == 6)
                rs[i]->bad = VB_LEN;
        }
        round_of(rs, n, false);
    }
    return KTEST_PASS;
}
#endif

/* --- Guest kernel: minos on both ------------------------------------------------------- */

/*
 * minos, project 3's guest OS, booted on a virtio VM with a boot command
 * line that turns on its two drivers (guests/project3/os/main.c): N ticks
 * of its x2APIC timer in TSC-deadline mode, each T ticks after the last,
 * then a "file" (L bytes from sector S) read from the disk through its own
 * virtio-blk driver, 4 sectors a request, and printed. The expectation:
 * what minos prints natively (its self-tests, guests/project3/os/native.txt),
 * then the timer's line, the device's, the file's bytes as the disk image
 * holds them and their FNV-1a, computed here.
 */
#define MINOS_REQ_SECTORS 4
#define MINOS_FILE_MAX 4096

static char minos_cmdline[128];

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static enum ktest_result minos_prepare(const struct gtest *t, struct gtest_case *c)
{
    (void)t;
    const uint8_t *file, *native;
    size_t size, native_size;
    if (!p3_minos(&file, &size, &native, &native_size))
        return ktest_fail("GRUB loaded no module \"minos\" or \"minos-native\" (project3/project.mk's MODULES)");
    uint64_t cap;
    const uint8_t *image = p4_disk_image(&cap);
    if (image == NULL || cap < MINOS_FILE_MAX / VIRTIO_BLK_SECTOR_SIZE)
        return ktest_fail("no disk image of at least 8 sectors (the boot module \"%s\")", P4_DISK_MODULE);
    cur = c;
    memset(&config, 0, sizeof(config));
    config.guest = "minos";
    config.minos = true;
    config.virtio = true;
    config.cmdline = minos_cmdline;
    /* Case 0: one tick, a file from sector 0 in one request; case 1: 2 to 4
     * ticks, the whole 4 KiB up to the disk's last sector in two requests;
     * then anything. */
    unsigned ticks = c->index == 0 ? 1 : (unsigned)rng_range(&c->rng, 2, 4);
    uint64_t every = rng_range(&c->rng, 20000, 60000);
    uint64_t len = c->index == 0 ? rng_range(&c->rng, 1, MINOS_REQ_SECTORS * VIRTIO_BLK_SECTOR_SIZE)
                   : c->index == 1 ? MINOS_FILE_MAX : rng_range(&c->rng, 1, MINOS_FILE_MAX);
    uint64_t sectors = (len + VIRTIO_BLK_SECTOR_SIZE - 1) / VIRTIO_BLK_SECTOR_SIZE;
    uint64_t sector = c->index == 0 ? 0 : c->index == 1 ? cap - sectors : rng_range(&c->rng, 0, cap - sectors);
    uint64_t requests = (sectors + MINOS_REQ_SECTORS - 1) / MINOS_REQ_SECTORS;
    snprintf(minos_cmdline, sizeof(minos_cmdline), "timer=%u,%lu vblk=0x%lx,0x%x file=%lu,%lu", ticks,
             every, VBLK_MMIO_BASE, VBLK_VECTOR, sector, len);
    gtest_input(c, "cmdline=\"%s\"", minos_cmdline);
    gtest_expect_print(c, native, native_size);
    expect_line("minos: timer: %u ticks of vector 0x40 every %lu TSC ticks, 0 early\n", ticks, every);
    expect_line("minos: vblk: %lu sectors, %lu requests, %lu interrupts\n", cap, requests, requests);
    expect_line("minos: file: %lu bytes from sector %lu:\n", len, sector);
    const uint8_t *bytes = image + sector * VIRTIO_BLK_SECTOR_SIZE;
    gtest_expect_print(c, bytes, len);
    expect_line("\nminos: file: fnv 0x%016lx\n", fnv1a(bytes, len));
    gtest_expect_exit(c, 0);
    return KTEST_PASS;
}

KTEST_GRADED(p4_minos, 4, "Guest kernel", 1,
             "minos, project 3's guest OS, uses both: N ticks (1 to 4) of its x2APIC timer in "
             "TSC-deadline mode, each 20,000 to 60,000 TSC ticks after the last, none early; then "
             "its own virtio-blk driver (the handshake, one queue of 4) reads a file of 1 to 4096 "
             "bytes from a sector on the disk (0, the last 8, anywhere), 4 sectors a request: "
             "it prints its self-tests as natively, the ticks, one interrupt a request and the "
             "file's every byte as the disk image holds it")
{
    static const struct gtest t = {"p4_minos", 3, NULL, minos_prepare, p4_run};
    return gtest_run(&t);
}

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

/* The virtio device's throughput: BENCH_VIRTIO_REQUESTS reads of
 * BENCH_VIRTIO_SECTORS sectors each, `batch` of them a notification, the
 * chains written once and the avail ring's slots filled up front (the
 * guest only bumps idx and notifies). Sectors per second of emulated time,
 * the guest's interrupt handler and the notifications' exits included. */
#define BENCH_VIRTIO_REQUESTS 16
#define BENCH_VIRTIO_SECTORS 8

static enum ktest_result bench_virtio(unsigned batch)
{
    static struct gtest_case bc;
    static uint8_t expect[1024];
    memset(&bc, 0, sizeof(bc));
    bc.expect_capture = expect;
    enum ktest_result r = v_begin(&bc);
    if (r != KTEST_PASS)
        return r;
    setup(16);
    struct virtq_desc *table = (struct virtq_desc *)(vm_.ram + VR_DESC);
    for (unsigned i = 0; i < batch; i++) {
        unsigned h = 3 * i;
        struct virtio_blk_req_header hdr = {.type = VIRTIO_BLK_T_IN, .sector = 8 * i};
        put(VR_HDR + 16 * i, &hdr, sizeof(hdr));
        uint32_t len = BENCH_VIRTIO_SECTORS * VIRTIO_BLK_SECTOR_SIZE;
        table[h] = (struct virtq_desc){P4_RAM + VR_HDR + 16 * i, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(h + 1)};
        table[h + 1] = (struct virtq_desc){P4_RAM + VR_DATA + len * i, len,
                                           VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (uint16_t)(h + 2)};
        table[h + 2] = (struct virtq_desc){P4_RAM + VR_STATUS + i, 1, VIRTQ_DESC_F_WRITE, 0};
    }
    for (unsigned slot = 0; slot < 16; slot++) {
        uint16_t head = (uint16_t)(3 * (slot % batch));
        put(VR_AVAIL + 4 + 2 * slot, &head, 2);
    }
    vop(P4V_OP_MARK, 0, 0, 0);
    for (unsigned n = batch; n <= BENCH_VIRTIO_REQUESTS; n += batch) {
        vop(P4V_OP_STORE16, P4_RAM + VR_AVAIL + 2, n, 0);
        vop(P4V_OP_NOTIFY, 0, 0, 0);
    }
    vop(P4V_OP_EXIT_TICKS, 0, 0, 0);
    struct vm_outcome o;
    r = bench_run(&o);
    if (r != KTEST_PASS)
        return r;
    uint64_t hz = tsc_per_second(), ticks = (uint64_t)o.exit_code;
    uint64_t sectors = BENCH_VIRTIO_REQUESTS * BENCH_VIRTIO_SECTORS;
    char buf[320];
    int n = snprintf(buf, sizeof(buf), "virtio-blk, %u request%s of %u sectors a notification: %lu "
                     "emulated instructions a sector (%lu a notification): %lu sectors per second of "
                     "emulated time (the TSC counts %lu a second)", batch, batch == 1 ? "" : "s",
                     BENCH_VIRTIO_SECTORS, ticks / sectors, ticks / (BENCH_VIRTIO_REQUESTS / batch),
                     ticks ? sectors * hz / ticks : 0, hz);
    ktest_data("figure", buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
    return KTEST_PASS;
}

/* minos on both (p4_minos's VM): 4 ticks 20,000 TSC ticks apart, then a
 * file of 4096 bytes (two requests). The whole VM's ticks (its setup, the
 * self-tests, the drivers, the prints), its exits and the interrupts
 * delivered. */
KTEST(p4_bench_minos, KTEST_BENCH)
{
    memset(&config, 0, sizeof(config));
    config.guest = "minos";
    config.minos = true;
    config.virtio = true;
    config.cmdline = "timer=4,20000 vblk=0xd0000000,0x51 file=8,4096";
    struct p4_vm_stats st;
    config.stats = &st;
    uint64_t t0 = rdtsc();
    struct vm_outcome o;
    enum ktest_result r = bench_run(&o);
    uint64_t ticks = rdtsc() - t0;
    if (r != KTEST_PASS)
        return r;
    config.cmdline = ""; /* minos alone: its drivers off */
    config.stats = NULL;
    t0 = rdtsc();
    r = bench_run(&o);
    uint64_t bare = rdtsc() - t0;
    if (r != KTEST_PASS)
        return r;
    char buf[400];
    int n = snprintf(buf, sizeof(buf), "minos with its timer (4 ticks, 20,000 TSC ticks apart) and a 4 KiB "
                     "file from the virtio disk: %lu emulated instructions for the whole VM (%lu without "
                     "its drivers), %lu VM exits (%lu of them the device's registers), %lu interrupts "
                     "injected (%lu the device's), %lu timer_deliver() calls", ticks, bare, st.exits,
                     st.device_accesses, st.injected, st.device_interrupts, st.deliveries);
    ktest_data("figure", buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
    return KTEST_PASS;
}

KTEST(p4_bench_virtio_single, KTEST_BENCH)
{
    return bench_virtio(1);
}

KTEST(p4_bench_virtio_batch, KTEST_BENCH)
{
    return bench_virtio(4);
}
