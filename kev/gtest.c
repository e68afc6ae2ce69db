/*
 * The guest-test harness (kev/gtest.h): the case loop, the exact
 * comparison, and the report of the first failing case.
 */
#include "kev/gtest.h"
#include "kernel/cmdline.h"
#include "kernel/mm.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/user.h"

#define WINDOW 160  /* bytes of a capture shown around its first difference */
#define BEFORE 32
#define LINE_BACK 320 /* how far back a window looks for its line's start */

static uint8_t *expect_buf;

void gtest_input(struct gtest_case *c, const char *fmt, ...)
{
    size_t n = strlen(c->inputs);
    if (n && n + 1 < sizeof(c->inputs))
        c->inputs[n++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->inputs + n, sizeof(c->inputs) - n, fmt, ap);
    va_end(ap);
}

void gtest_expect_exit(struct gtest_case *c, int64_t code)
{
    c->expect_error = false;
    c->expect_code = code;
}

void gtest_expect_error(struct gtest_case *c, enum kev_error e)
{
    c->expect_error = true;
    c->expect_err = e;
}

void gtest_expect_print(struct gtest_case *c, const void *bytes, size_t n)
{
    if (n > GTEST_EXPECT_MAX - c->expect_len)
        panic("gtest: case %u of a test expects more than %d bytes", c->index, GTEST_EXPECT_MAX);
    memcpy(c->expect_capture + c->expect_len, bytes, n);
    c->expect_len += n;
}

uint64_t gtest_u64(struct gtest_case *c, const uint64_t *edges, size_t nedges)
{
    return c->index < nedges ? edges[c->index] : rng_u64(&c->rng);
}

static void data_u64(const char *key, int64_t v)
{
    char buf[48];
    int n = snprintf(buf, sizeof(buf), "%lld", (long long)v);
    ktest_data(key, buf, (size_t)n);
}

static void data_str(const char *key, const char *s)
{
    ktest_data(key, s, strlen(s));
}

/* Index of the first byte where a and b differ (the shorter's length if one is a prefix). */
static size_t first_difference(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    size_t i = 0;
    while (i < na && i < nb && a[i] == b[i])
        i++;
    return i;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/*
 * The windows start BEFORE bytes ahead of the difference, or, for text made
 * of lines (a test's log of calls), at the start of the line it is in, so
 * the diff shows whole lines; they run WINDOW bytes past the difference.
 */
static void report_capture(const uint8_t *got, size_t n, const uint8_t *want, size_t m, size_t diff)
{
    size_t at = diff > BEFORE ? diff - BEFORE : 0;
    for (size_t i = diff; diff - i < LINE_BACK; i--) {
        if (i == 0 || want[i - 1] == '\n') {
            at = i;
            break;
        }
    }
    size_t len = diff - at + WINDOW;
    ktest_data("capture", got + min_size(at, n), min_size(len, n - min_size(at, n)));
    ktest_data("expect.capture", want + min_size(at, m), min_size(len, m - min_size(at, m)));
    data_u64("capture.at", (int64_t)at);
    data_u64("capture.len", (int64_t)n);
    data_u64("expect.capture.len", (int64_t)m);
}

/* One case: true when it passed; otherwise reports it and sets the reason. */
static bool run_case(const struct gtest *t, struct gtest_case *c, enum ktest_result *r)
{
    *r = t->prepare(t, c);
    if (*r != KTEST_PASS)
        return false;
    struct printer out;
    if (printer_start(&out, c->capture_capacity) != KEV_OK) {
        *r = ktest_fail("no memory for the PrinterProxy's capture");
        return false;
    }
    struct vm_outcome o;
    uint64_t faults = user_faults;
    t->run(t, c, &out, &o);
    size_t n;
    const uint8_t *got = printer_finish(&out, &n);

    if (o.kind == VM_FAILED && o.error == KEV_ENOVMX) {
        printer_free(&out);
        *r = ktest_skip("%s", o.message);
        return false;
    }
    bool end_ok = c->expect_error ? o.kind == VM_FAILED && o.error == c->expect_err
                                  : o.kind == VM_EXITED && o.exit_code == c->expect_code;
    bool capture_ok = n == c->expect_len && memcmp(got, c->expect_capture, n) == 0;
    if (end_ok && capture_ok) {
        printer_free(&out);
        return true;
    }

    data_u64("failed_case", c->index);
    data_str("inputs", c->inputs);
    if (o.kind == VM_EXITED) {
        data_u64("exit_code", o.exit_code);
    } else {
        data_str("error", kev_error_name(o.error));
        /* Student code that stopped said why in its `@@ fault` frame, which
         * the grader reads: the same message again would cost some 30,000
         * Bochs instructions (87 a character) in every such failing test. */
        if (o.error != KEV_ESTUDENT || user_faults == faults)
            data_str("message", o.message);
    }
    if (c->expect_error)
        data_str("expect.error", kev_error_name(c->expect_err));
    else
        data_u64("expect.exit_code", c->expect_code);
    size_t diff = first_difference(got, n, c->expect_capture, c->expect_len);
    if (!capture_ok || n > 0)
        report_capture(got, n, c->expect_capture, c->expect_len, capture_ok ? n : diff);
    data_u64("exits", (int64_t)o.exits);
    printer_free(&out);

    char how[160];
    if (o.kind == VM_EXITED)
        snprintf(how, sizeof(how), "exited with code %lld", (long long)o.exit_code);
    else
        snprintf(how, sizeof(how), "stopped with %s", kev_error_name(o.error));
    char want[96];
    if (c->expect_error)
        snprintf(want, sizeof(want), "to stop with %s", kev_error_name(c->expect_err));
    else
        snprintf(want, sizeof(want), "to exit with code %lld", (long long)c->expect_code);
    if (!end_ok)
        *r = ktest_fail("case %u (%s): the VM %s, expected %s", c->index, c->inputs, how, want);
    else
        *r = ktest_fail("case %u (%s): the capture differs from byte %zu on (%zu bytes printed, "
                        "%zu expected)", c->index, c->inputs, diff, n, c->expect_len);
    return false;
}

enum ktest_result gtest_run(const struct gtest *t)
{
    if (expect_buf == NULL && (expect_buf = kmalloc(GTEST_EXPECT_MAX)) == NULL)
        return ktest_fail("no memory for the expected capture");
    uint64_t seed = (uint64_t)cmdline_get_int("seed", 0);
    int64_t only = ktest_param_int("case", -1);
    unsigned passed = 0, planned = only >= 0 ? 1 : t->cases;
    enum ktest_result r = KTEST_PASS;
    for (unsigned i = 0; i < t->cases; i++) {
        if (only >= 0 && i != (uint64_t)only)
            continue;
        struct gtest_case c = {
            .index = i,
            .count = t->cases,
            .rng = rng_seed(seed, t->name, i),
            .expect_capture = expect_buf,
        };
        if (!run_case(t, &c, &r))
            break;
        passed++;
    }
    if (only >= (int64_t)t->cases)
        r = ktest_fail("this test has %u cases; %s.case=%lld names none", t->cases, t->name,
                       (long long)only);
    char cases[32];
    snprintf(cases, sizeof(cases), "%u/%u", passed, planned);
    data_str("cases", cases);
    return r;
}
