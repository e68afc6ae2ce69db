/*
 * Guest tests: the harness every project's graded tests share. A graded
 * test runs its guest in a fresh VM once per case; each case draws its
 * inputs from its own random stream (the grader's seed, the test's name,
 * the case's number), with the domain's edges forced into the first cases
 * of every run, and states exactly how its VM must end and what it must
 * print. The harness runs the cases, compares byte for byte, and reports
 * to the grader (docs/protocol.md):
 *
 *   @@ test data <test> cases <passed>/<planned>
 *   and, for the first case that failed (the test stops there):
 *   @@ test data <test> failed_case <i>
 *   @@ test data <test> inputs <what the case drew>
 *   @@ test data <test> exit_code <code> | error <KEV_E...> (+ message <words>)
 *   @@ test data <test> expect.exit_code <code> | expect.error <KEV_E...>
 *   @@ test data <test> capture <bytes> / expect.capture <bytes>
 *        (windows around the first difference: capture.at, capture.len,
 *         expect.capture.len say where and how long)
 *   @@ test data <test> exits <VM exits the case took>
 *
 * A project's table row becomes a struct gtest: prepare() draws one case
 * (gtest_input for the report, gtest_expect_* for what must happen) and
 * run() runs its guest with the PrinterProxy the harness gives.
 *
 * `make run TEST=t ARGS='seed=7 t.case=3'` runs case 3 of the seed-7 run alone.
 */
#ifndef KEV_GTEST_H
#define KEV_GTEST_H

#include "kernel/ktest.h"
#include "kernel/rng.h"
#include "kev/error.h"
#include "kev/printer.h"
#include "kev/vm.h"

#define GTEST_INPUTS_MAX 512
#define GTEST_EXPECT_MAX PRINTER_CAPACITY

struct gtest_case {
    unsigned index, count;     /* this case, of how many */
    struct rng rng;            /* this case's random stream */
    char inputs[GTEST_INPUTS_MAX];
    bool expect_error;         /* the VM must stop with expect_err, else exit with expect_code */
    int64_t expect_code;
    enum kev_error expect_err;
    uint8_t *expect_capture;   /* what it must print (the harness's buffer) */
    size_t expect_len;
    size_t capture_capacity;   /* the PrinterProxy's capacity; 0: PRINTER_CAPACITY */
};

struct gtest {
    const char *name;
    unsigned cases;
    const void *row;           /* the project's table row */
    /* Draws case c; KTEST_PASS, or a failure of the test itself. */
    enum ktest_result (*prepare)(const struct gtest *t, struct gtest_case *c);
    /* Runs the guest of case c with output to out; stores how its VM ended. */
    void (*run)(const struct gtest *t, struct gtest_case *c, struct printer *out,
                struct vm_outcome *o);
};

/* Runs every case of t (or the one ARGS names); the test's verdict. */
enum ktest_result gtest_run(const struct gtest *t);

/* Appends "name=value" words to the case's inputs (for the report). */
void gtest_input(struct gtest_case *c, const char *fmt, ...) __printf(2, 3);
void gtest_expect_exit(struct gtest_case *c, int64_t code);
void gtest_expect_error(struct gtest_case *c, enum kev_error e);
/* Appends n bytes to what the case must print. */
void gtest_expect_print(struct gtest_case *c, const void *bytes, size_t n);

/* Case i's value from a list of edges, or a random draw past them. */
uint64_t gtest_u64(struct gtest_case *c, const uint64_t *edges, size_t nedges);

#endif
