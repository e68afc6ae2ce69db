/*
 * Project 2's tests. Each is one P2_TEST line: the guest it runs (guests/),
 * the parameters it takes with their defaults, and how the VM must end and
 * what it must print. p2_run does the rest for all of them: it reads the
 * parameters from the command line (`<test>.<param>=`; the grader draws
 * them at random), fills the guest's parameter page, runs the guest in a
 * fresh VM, reports to the grader
 *
 *   @@ test data <test> capture <what the guest printed>     always
 *   @@ test data <test> exit_code <code>                     the VM exited (HaltCpu)
 *   @@ test data <test> vm_error <message>                   the VM stopped with an error
 *
 * and applies the same check as the grader, so `make run TEST=<test>` alone
 * says PASS or FAIL and why.
 */
#include "guests/guests.h"
#include "project2/guest.h"
#include "kernel/ktest.h"
#include "kernel/mm.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kev/printer.h"
#include "project2/vm.h"

/* How the VM must end. */
enum p2_end {
    EXITS_0,             /* HaltCpu(0) */
    EXITS_CODE,          /* HaltCpu(code), code the test's parameter */
    STOPS,               /* an error stops the VM */
    STOPS_NAMING_NR,     /* ... and its message names nr in decimal */
    STOPS_NAMING_LIMIT,  /* ... and its message names PRINTER_CAPACITY */
};

/* What the guest must print. */
enum p2_capture {
    PRINTS_NOTHING,
    PRINTS_MSG,          /* the message, once */
    PRINTS_MSG_COUNT,    /* the message, count times */
    PRINTS_UNCHECKED,    /* not compared */
};

struct p2_test {
    const char *name;
    const char *guest;   /* guests/<guest>.asm */
    /* Parameters the test takes, with their defaults: msg when msg is not
     * NULL, the numbers when their default is not 0. */
    const char *msg;
    size_t msg_min;      /* the guest needs at least this many bytes */
    int64_t code, count, nr;
    enum p2_end end;
    enum p2_capture capture;
    const char *why;     /* for STOPS: what the guest did wrong */
};

#define P2_TEST(id, ...)                                                     \
    static const struct p2_test p2_test_##id = {.name = #id, __VA_ARGS__};  \
    KTEST(id, KTEST_PROJECT) { return p2_run(&p2_test_##id); }

static enum ktest_result p2_run(const struct p2_test *t);

/* --- The tests: the grader's rubric (grader/rubrics/project2.py) uses these names. --- */

P2_TEST(p2_halt_code, .guest = "halt", .code = 42, .end = EXITS_CODE)
P2_TEST(p2_print_hello, .guest = "print", .msg = "Hello, hypervisor!\n", .capture = PRINTS_MSG)
P2_TEST(p2_print_empty, .guest = "print_empty")
P2_TEST(p2_print_exit_code, .guest = "print_exit_code", .msg = "Goodbye with a code\n", .code = 7,
        .end = EXITS_CODE, .capture = PRINTS_MSG)
P2_TEST(p2_print_many, .guest = "print_many", .msg = "tick ", .count = 25,
        .capture = PRINTS_MSG_COUNT)
#ifdef KEVLAB_HIDDEN /* a hidden test: instructors only (docs/instructors.md) */
P2_TEST(p2_print_utf8, .guest = "print",
        .msg = "h\xc3\xa9llo, w\xc3\xb6rld \xe2\x82\xac \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\n",
        .capture = PRINTS_MSG) /* "héllo, wörld € 日本 😀" */
#endif
P2_TEST(p2_print_cross_page, .guest = "print_cross_page", .msg_min = 2,
        .msg = "This message is copied by the guest so that it straddles two guest pages "
               "which the hypervisor finds in two host pages that are not neighbours: "
               "read it page by page, through the guest's page table.\n",
        .capture = PRINTS_MSG)
P2_TEST(p2_regs_preserved, .guest = "regs_preserved", .code = 42, .end = EXITS_CODE)
P2_TEST(p2_unknown_hypercall, .guest = "unknown", .nr = 7, .end = STOPS_NAMING_NR,
        .why = "a hypercall number that the table does not have")
P2_TEST(p2_print_unmapped, .guest = "print_unmapped", .end = STOPS,
        .why = "Print of a buffer at an unmapped guest address")
#ifdef KEVLAB_HIDDEN /* a hidden test: instructors only (docs/instructors.md) */
P2_TEST(p2_print_wrap, .guest = "print_wrap", .end = STOPS,
        .why = "Print of a buffer whose address + size wraps around 2^64")
#endif
P2_TEST(p2_print_past_end, .guest = "print_past_end", .end = STOPS,
        .why = "Print of a buffer that runs from mapped memory into unmapped memory")
P2_TEST(p2_print_flood, .guest = "print_flood", .end = STOPS_NAMING_LIMIT,
        .capture = PRINTS_UNCHECKED, .why = "a guest that prints more than the capture holds")

/* --- The harness. --- */

/*
 * Writes up to 48 bytes of data to buf, for a message that shows them in
 * quotes: printable ASCII (space included) as itself, '"', '\' and every
 * other byte as \xNN, so a newline cannot end the message's line.
 */
static const char *quote(char *buf, size_t cap, const uint8_t *data, size_t n)
{
    size_t t = 0;
    for (size_t i = 0; i < n && t + 8 < cap; i++) {
        if (i == 48) {
            t += (size_t)snprintf(buf + t, cap - t, "...");
            break;
        }
        if (data[i] >= 0x20 && data[i] < 0x7f && data[i] != '"' && data[i] != '\\')
            buf[t++] = (char)data[i];
        else
            t += (size_t)snprintf(buf + t, cap - t, "\\x%02x", data[i]);
    }
    buf[t] = '\0';
    return buf;
}

/* Reads the test's parameters into *p. */
static enum ktest_result read_params(const struct p2_test *t, struct guest_params *p)
{
    static char raw[4096]; /* larger than any command-line value */
    memset(p, 0, sizeof(*p));
    if (t->msg != NULL) {
        long n = ktest_param("msg", raw, sizeof(raw));
        if (n < 0) {
            n = (long)strlen(t->msg);
            memcpy(raw, t->msg, (size_t)n);
        }
        if ((size_t)n > sizeof(p->msg) || (size_t)n < t->msg_min)
            return ktest_fail("parameter %s.msg is %ld bytes; this test takes %zu to %zu",
                              t->name, n, t->msg_min, sizeof(p->msg));
        memcpy(p->msg, raw, (size_t)n);
        p->msg_len = (uint64_t)n;
    }
    if (t->code)
        p->code = (uint64_t)ktest_param_int("code", t->code);
    if (t->nr)
        p->nr = (uint64_t)ktest_param_int("nr", t->nr);
    if (t->count) {
        int64_t count = ktest_param_int("count", t->count);
        if (count < 0 || (p->msg_len && (uint64_t)count > PRINTER_CAPACITY / p->msg_len))
            return ktest_fail("parameter %s.count=%lld: the output would not fit the capture "
                              "(%d bytes)", t->name, (long long)count, PRINTER_CAPACITY);
        p->count = (uint64_t)count;
    }
    return KTEST_PASS;
}

/* What the regs_preserved guest's and the error guests' own exit codes mean. */
static void explain_code(int64_t code, char *buf, size_t cap)
{
    static const char *const regs[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                         "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
    if (code > 0xBAD00 && code < 0xBAD10)
        snprintf(buf, cap, ": the guest found %s changed after a hypercall (only rax may change)",
                 regs[code - 0xBAD00]);
    else if (code == 0xBAD10)
        snprintf(buf, cap, ": the guest did not continue right after vmcall (move RIP by the "
                           "exit's instruction length)");
    else if (code == 0xBAD)
        snprintf(buf, cap, ": a hypercall that should have stopped the VM returned to the guest");
    else
        buf[0] = '\0';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* true when text holds the decimal number n, not as part of a longer number. */
static bool names_number(const char *text, uint64_t n)
{
    char digits[24];
    size_t len = (size_t)snprintf(digits, sizeof(digits), "%lu", n);
    for (const char *p = strstr(text, digits); p != NULL; p = strstr(p + 1, digits))
        if ((p == text || !is_digit(p[-1])) && !is_digit(p[len]))
            return true;
    return false;
}

/*
 * Whether a failed VM was stopped by a hypercall going wrong (a bad number,
 * a guest address the probe refused, a full capture) rather than by kev
 * itself (no VMX, an entry failure, a guest fault, an unhandled exit): the
 * error tests pass only for the former.
 */
static bool stopped_by_hypercall(const struct vm_outcome *o)
{
    switch (o->error) {
    case KEV_EHYPERCALL:
    case KEV_EUNMAPPED:
    case KEV_ENONCANONICAL:
    case KEV_EOVERFLOW:
    case KEV_ENOTGUESTMEM:
    case KEV_EPAGINGMODE:
    case KEV_EINVAL:
    case KEV_ENOMEM:
        return true;
    default:
        return false;
    }
}

static enum ktest_result check_end(const struct p2_test *t, const struct guest_params *p,
                                   const struct vm_outcome *o)
{
    char why[160];
    if (o->kind == VM_FAILED && o->error == KEV_ENOVMX)
        return ktest_fail("%s", o->message);
    if (t->end == EXITS_0 || t->end == EXITS_CODE) {
        int64_t want = t->end == EXITS_CODE ? (int64_t)p->code : 0;
        if (o->kind != VM_EXITED)
            return ktest_fail("the VM stopped with an error (%s) but the test expected it to "
                              "exit with code %lld (HaltCpu's rdi)%s", o->message, (long long)want,
                              o->error == KEV_EGUEST_FAULT && strstr(o->message, "#UD")
                                  ? ". Every HaltCpu in the guests is followed by ud2: a #UD "
                                    "there means HaltCpu returned to the guest instead of "
                                    "ending the VM (return vm_exit())"
                                  : "");
        if (o->exit_code != want) {
            explain_code(o->exit_code, why, sizeof(why));
            return ktest_fail("the VM exited with code %lld (0x%llx) but the test expected %lld "
                              "(HaltCpu's rdi)%s", (long long)o->exit_code,
                              (unsigned long long)o->exit_code, (long long)want, why);
        }
        return KTEST_PASS;
    }
    if (o->kind != VM_FAILED) {
        explain_code(o->exit_code, why, sizeof(why));
        return ktest_fail("the VM exited with code %lld (0x%llx) but the test expected an error "
                          "to stop it: %s%s", (long long)o->exit_code,
                          (unsigned long long)o->exit_code, t->why, why);
    }
    if (!stopped_by_hypercall(o))
        return ktest_fail("the VM stopped, but not because of the hypercall: %s (%s). Expected: "
                          "%s, reported by the hypercall controller", o->message,
                          kev_error_name(o->error), t->why);
    if (t->end == STOPS_NAMING_NR && !names_number(o->message, p->nr))
        return ktest_fail("the VM stopped, but its error \"%s\" does not name the hypercall "
                          "number %lu (in decimal)", o->message, p->nr);
    if (t->end == STOPS_NAMING_LIMIT && !names_number(o->message, PRINTER_CAPACITY))
        return ktest_fail("the VM stopped, but its error \"%s\" does not name the "
                          "PrinterProxy's limit (%d bytes)", o->message, PRINTER_CAPACITY);
    return KTEST_PASS;
}

static enum ktest_result check_capture(const struct p2_test *t, const struct guest_params *p,
                                       const uint8_t *got, size_t n)
{
    if (t->capture == PRINTS_UNCHECKED)
        return KTEST_PASS;
    size_t times = t->capture == PRINTS_NOTHING ? 0 : t->capture == PRINTS_MSG ? 1 : p->count;
    size_t want = times * p->msg_len;
    size_t i = 0;
    while (i < n && i < want && got[i] == p->msg[i % p->msg_len])
        i++;
    if (i == n && n == want)
        return KTEST_PASS;
    char a[200], b[200];
    if (want == 0)
        return ktest_fail("the guest printed %zu bytes (\"%s\") but this test prints nothing%s", n,
                          quote(a, sizeof(a), got, n),
                          t->end == STOPS ? ": a failed Print must print none of its bytes" : "");
    const uint8_t *exp_at = p->msg + i % p->msg_len;
    size_t exp_left = p->msg_len - i % p->msg_len;
    return ktest_fail("the capture differs from byte %zu on: %zu bytes printed, %zu expected; "
                      "from there the guest printed \"%s\", expected \"%s\"",
                      i, n, want, quote(a, sizeof(a), got + i, n - i),
                      quote(b, sizeof(b), exp_at, i < want ? exp_left : 0));
}

static enum ktest_result p2_run(const struct p2_test *t)
{
    static struct guest_params params; /* a page: too big for the stack */
    char name[64];
    snprintf(name, sizeof(name), "project2/%s", t->guest);
    const struct guest_image *guest = guest_find(name);
    if (guest == NULL)
        return ktest_fail("there is no guest %s (guests/%s.asm)", name, name);
    if (read_params(t, &params) != KTEST_PASS)
        return KTEST_FAIL;

    struct printer out;
    if (printer_start(&out) != KEV_OK)
        return ktest_fail("no memory for the PrinterProxy's capture");
    struct vm_outcome o;
    p2_vm_run(guest, &params, &out, &o);
    size_t n;
    const uint8_t *capture = printer_finish(&out, &n);

    ktest_data("capture", capture, n);
    if (o.kind == VM_EXITED) {
        ktest_data_int("exit_code", o.exit_code);
    } else {
        if (o.message[0] == '\0')
            vm_outcome_describe(&o, o.message, sizeof(o.message));
        ktest_data("vm_error", o.message, strlen(o.message));
    }
    enum ktest_result r = check_end(t, &params, &o);
    if (r == KTEST_PASS)
        r = check_capture(t, &params, capture, n);
    printer_free(&out);
    return r;
}
