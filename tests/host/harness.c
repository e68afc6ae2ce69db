/*
 * The host test harness: registry, checks and main (see harness.h). This
 * file uses the C library's own string and stdio functions, so it is built
 * without the kernel renames and judges the kernel's functions with code
 * that does not share their bugs. main runs every registered test (or those
 * named on the command line), prints each failing check, and ends with one
 * line "N passed, M failed"; the exit status is 1 when a test failed.
 */
#include "tests/host/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TESTS 512

static struct {
    const char *name;
    void (*fn)(void);
} tests[MAX_TESTS];
static int ntests;

static const char *current;   /* the running test */
static bool current_failed;
static jmp_buf test_jmp;      /* back to main when a test panics unexpectedly */

jmp_buf harness_panic_jmp;
volatile bool harness_panic_armed;
char harness_panic_msg[512];

void harness_register(const char *name, void (*fn)(void))
{
    if (ntests == MAX_TESTS) {
        fprintf(stderr, "harness: more than %d tests; raise MAX_TESTS\n", MAX_TESTS);
        exit(2);
    }
    tests[ntests].name = name;
    tests[ntests].fn = fn;
    ntests++;
}

/* Starts a failure report: "file:line: test: ". */
static void fail_at(const char *file, int line)
{
    current_failed = true;
    printf("%s:%d: %s: ", file, line, current);
}

bool harness_check(bool cond, const char *file, int line, const char *expr)
{
    if (!cond) {
        fail_at(file, line);
        printf("CHECK(%s) failed\n", expr);
    }
    return cond;
}

bool harness_check_int(int64_t want, int64_t got, const char *file, int line, const char *expr)
{
    if (want != got) {
        fail_at(file, line);
        printf("%s: expected %lld, got %lld\n", expr, (long long)want, (long long)got);
    }
    return want == got;
}

bool harness_check_uint(uint64_t want, uint64_t got, const char *file, int line, const char *expr)
{
    if (want != got) {
        fail_at(file, line);
        printf("%s: expected 0x%llx, got 0x%llx\n", expr, (unsigned long long)want,
               (unsigned long long)got);
    }
    return want == got;
}

bool harness_check_str(const char *want, const char *got, const char *file, int line,
                       const char *expr)
{
    bool ok = want && got ? strcmp(want, got) == 0 : want == got;
    if (!ok) {
        fail_at(file, line);
        printf("%s: expected \"%s\", got \"%s\"\n", expr, want ? want : "(NULL)",
               got ? got : "(NULL)");
    }
    return ok;
}

static void print_bytes(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%s%02x", i ? " " : "", p[i]);
}

bool harness_check_mem(const void *want, const void *got, size_t n, const char *file, int line,
                       const char *expr)
{
    bool ok = memcmp(want, got, n) == 0;
    if (!ok) {
        fail_at(file, line);
        printf("%s: expected bytes ", expr);
        print_bytes(want, n);
        printf(", got ");
        print_bytes(got, n);
        printf("\n");
    }
    return ok;
}

void harness_no_panic(const char *file, int line, const char *stmt)
{
    harness_panic_armed = false;
    fail_at(file, line);
    printf("%s: expected a panic, none happened\n", stmt);
}

void harness_check_panic(const char *file, int line, const char *stmt, const char *want)
{
    if (strstr(harness_panic_msg, want) == NULL) {
        fail_at(file, line);
        printf("%s: expected a panic saying \"%s\", got \"%s\"\n", stmt, want,
               harness_panic_msg);
    }
}

void harness_unexpected_panic(void)
{
    current_failed = true;
    printf("%s: unexpected panic: %s\n", current, harness_panic_msg);
    longjmp(test_jmp, 1);
}

static bool selected(const char *name, int argc, char **argv)
{
    if (argc < 2)
        return true;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return true;
    return false;
}

/* Runs one test; returns true when it passed. */
static bool run(int i)
{
    current = tests[i].name;
    current_failed = false;
    harness_panic_armed = false;
    if (setjmp(test_jmp) == 0)
        tests[i].fn();
    if (current_failed)
        printf("FAIL %s\n", current);
    return !current_failed;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 0; i < ntests; i++) {
        if (!selected(tests[i].name, argc, argv))
            continue;
        if (run(i))
            passed++;
        else
            failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
