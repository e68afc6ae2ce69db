/*
 * The kernel's test runner. A test is one entry in the ktest table, made by
 * KTEST() in any folder (the linker gathers them into the section
 * "ktests"); the command line's test= names which to run (docs/protocol.md).
 *
 *   KTEST(printk_widths, 0)
 *   {
 *       ...
 *       KTEST_CHECK(strcmp(buf, "  42") == 0);
 *       return KTEST_PASS;
 *   }
 *
 * A test returns KTEST_PASS, or KTEST_FAIL after saying why with
 * ktest_fail(), or KTEST_SKIP through ktest_skip() when the machine lacks
 * what it needs. `all` runs the framework's self-tests; tests flagged
 * KTEST_CRASH (they end the boot on purpose, to test panics and faults),
 * KTEST_BENCH or KTEST_PROJECT run only when named, or (the graded ones)
 * all of a project's with `@N`.
 */
#ifndef KERNEL_KTEST_H
#define KERNEL_KTEST_H

#include "kernel/types.h"

enum ktest_result { KTEST_PASS = 0, KTEST_FAIL = 1, KTEST_SKIP = 2 };

/* Flags. `all` runs the framework's self-tests: every test with none of these. */
#define KTEST_CRASH (1u << 0)   /* ends the boot on purpose (tests panics and faults) */
#define KTEST_BENCH (1u << 1)   /* a benchmark: prints figures, takes long */
#define KTEST_PROJECT (1u << 2) /* a project's graded test: the grader runs it by name */
#define KTEST_NOT_IN_ALL (KTEST_CRASH | KTEST_BENCH | KTEST_PROJECT)

struct ktest {
    const char *name;
    enum ktest_result (*run)(void);
    unsigned flags;
    unsigned project; /* a graded test's project (KTEST_GRADED); 0 for the others */
    const char *file;
};

#define KTEST_OF(fn, fl, proj)                                               \
    static enum ktest_result ktest_fn_##fn(void);                            \
    static const struct ktest ktest_entry_##fn                               \
        __attribute__((used, section("ktests"), aligned(8))) = {             \
            .name = #fn, .run = ktest_fn_##fn, .flags = (fl), .project = (proj), \
            .file = __FILE__};                                               \
    static enum ktest_result ktest_fn_##fn(void)
#define KTEST(fn, fl) KTEST_OF(fn, fl, 0)

/*
 * A graded test: KTEST with the facts the grader reads from kernel.elf's
 * section ktest_info (grader/kernelinfo.py), one record of "key=value"
 * lines per test. weight is the test's share of its category's points
 * (the project's rubric gives each category its points).
 *
 *   KTEST_GRADED(p2_halt_code, 2, "HaltCpu", 2, "HaltCpu(code) ends the VM with code")
 *   { return gtest_run(...); }
 *
 * KTEST_GRADED_HIDDEN marks a hidden test (inside #ifdef KEVLAB_HIDDEN).
 */
#define KTEST_INFO(fn, project, category, weight, hidden, description)                 \
    static const char ktest_info_##fn[] __attribute__((used, section("ktest_info"),     \
                                                        aligned(1))) =                  \
        "test=" #fn "\nproject=" #project "\ncategory=" category "\nweight=" #weight       \
        "\nhidden=" #hidden "\ndescription=" description "\nfile=" __FILE__ "\n";
/* A graded test's limits, when the grader's defaults do not fit: seconds
 * of wall clock and emulated instructions (under Bochs) it may take. */
#define KTEST_LIMITS(fn, seconds, instructions)                                         \
    static const char ktest_limits_##fn[] __attribute__((used, section("ktest_info"),   \
                                                          aligned(1))) =                \
        "test=" #fn "\ntimeout=" #seconds "\nbudget=" #instructions "\n";
#define KTEST_GRADED(fn, project, category, weight, description)                       \
    KTEST_INFO(fn, project, category, weight, 0, description)                         \
    KTEST_OF(fn, KTEST_PROJECT, project)
#define KTEST_GRADED_HIDDEN(fn, project, category, weight, description)                \
    KTEST_INFO(fn, project, category, weight, 1, description)                         \
    KTEST_OF(fn, KTEST_PROJECT, project)

/* Records why the running test fails (printed in its `test end` frame). */
enum ktest_result ktest_fail(const char *fmt, ...) __printf(1, 2);
/*
 * Records why the running test cannot run on this machine (e.g. no VMX
 * under QEMU's TCG) and returns KTEST_SKIP. For self-tests only: a skip is
 * not a pass, and the grader fails a graded test that was skipped.
 */
enum ktest_result ktest_skip(const char *fmt, ...) __printf(1, 2);

#define KTEST_CHECK(cond)                                                    \
    do {                                                                     \
        if (!(cond))                                                         \
            return ktest_fail("%s:%d: check failed: %s", __FILE__, __LINE__, #cond); \
    } while (0)

/* Emits `@@ test data <test> <key> <escaped value>` for the running test. */
void ktest_data(const char *key, const void *value, size_t n);
void ktest_data_int(const char *key, int64_t value);
/* The running test's name (NULL outside a test). */
const char *ktest_current(void);
/*
 * Reads the running test's parameter `<test>.<param>` from the command line
 * (see cmdline.h for the meaning of the result).
 */
long ktest_param(const char *param, char *buf, size_t cap);
int64_t ktest_param_int(const char *param, int64_t def);

/*
 * Catching a CPU exception inside a test: ktest_try() returns 0 when called
 * and, if an exception happens before ktest_try_end(), returns again with
 * the vector + 1 after the exception was reported. Kernel self-tests only.
 */
#define ktest_try() (ktest_try_arm(), kjmp_set(&ktest_recover))
void ktest_try_end(void);

/* Runs the tests the command line names, then powers off. */
__noreturn void ktest_main(void);

/* Internals used by ktest_try. */
struct kjmp {
    uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};
extern struct kjmp ktest_recover;
void ktest_try_arm(void);
int kjmp_set(struct kjmp *j) __attribute__((returns_twice));
__noreturn void kjmp_jump(struct kjmp *j, int value);
bool ktest_try_armed(void);

#endif
