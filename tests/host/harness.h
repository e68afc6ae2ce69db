/*
 * A tiny unit-test harness for the host build of the kernel's pure code.
 * A test is a function made with HOST_TEST(name) in any tests/host/test_*.c;
 * a constructor registers it, so adding a test is writing it. CHECK macros
 * report file:line, the expression and, for the _EQ forms, expected versus
 * actual, and let the test go on; a test passes when none of its checks
 * failed. CHECK_PANICS runs a statement that must call the kernel's panic()
 * (tests/host/shim.c turns panic into a longjmp back here).
 *
 * This header includes no C library header that declares a string function:
 * test files are compiled with tests/host/kernel_names.h, which renames the
 * kernel's memset, snprintf, ... (see host.mk), and must not mix the two.
 */
#ifndef TESTS_HOST_HARNESS_H
#define TESTS_HOST_HARNESS_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void harness_register(const char *name, void (*fn)(void));

#define HOST_TEST(name)                                                      \
    static void host_test_##name(void);                                      \
    __attribute__((constructor)) static void host_test_register_##name(void) \
    {                                                                        \
        harness_register(#name, host_test_##name);                           \
    }                                                                        \
    static void host_test_##name(void)

/* Each returns cond (so a test can stop early with `if (!CHECK(...)) return;`). */
bool harness_check(bool cond, const char *file, int line, const char *expr);
bool harness_check_int(int64_t want, int64_t got, const char *file, int line, const char *expr);
bool harness_check_uint(uint64_t want, uint64_t got, const char *file, int line, const char *expr);
bool harness_check_str(const char *want, const char *got, const char *file, int line,
                       const char *expr);
bool harness_check_mem(const void *want, const void *got, size_t n, const char *file, int line,
                       const char *expr);

#define CHECK(cond) harness_check((cond), __FILE__, __LINE__, #cond)
/* `got` is the expression under test, `want` what it must equal. */
#define CHECK_EQ_INT(got, want) harness_check_int((want), (got), __FILE__, __LINE__, #got)
#define CHECK_EQ_UINT(got, want) harness_check_uint((want), (got), __FILE__, __LINE__, #got)
#define CHECK_EQ_STR(got, want) harness_check_str((want), (got), __FILE__, __LINE__, #got)
#define CHECK_EQ_MEM(got, want, n) harness_check_mem((want), (got), (n), __FILE__, __LINE__, #got)

/* Panic expectation: shim.c's panic_at longjmps to harness_panic_jmp when armed. */
extern jmp_buf harness_panic_jmp;
extern volatile bool harness_panic_armed;
extern char harness_panic_msg[512];
void harness_no_panic(const char *file, int line, const char *stmt);
void harness_check_panic(const char *file, int line, const char *stmt, const char *want);

/* Runs stmt, which must panic with a message containing the string want. */
#define CHECK_PANICS(stmt, want)                                             \
    do {                                                                     \
        harness_panic_armed = true;                                          \
        if (setjmp(harness_panic_jmp) == 0) {                                \
            stmt;                                                            \
            harness_no_panic(__FILE__, __LINE__, #stmt);                     \
        } else {                                                             \
            harness_check_panic(__FILE__, __LINE__, #stmt, (want));          \
        }                                                                    \
    } while (0)

/* Called by shim.c for a panic nobody expected: fails and ends the test. */
__attribute__((noreturn)) void harness_unexpected_panic(void);

#endif
