/*
 * The kernel's self-tests (memory tests live in mm_tests.c). Tests flagged
 * KTEST_CRASH end the boot on purpose; `make test` runs each alone and
 * checks that the kernel reported it properly and powered off with a
 * failure status.
 */
#include "kernel/cmdline.h"
#include "kernel/ktest.h"
#include "kernel/mm.h"
#include "kernel/module.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/user.h"
#include "kernel/user_layout.h"
#include "kernel/x86.h"

static enum ktest_result expect_fmt(const char *want, const char *fmt, ...) __printf(2, 3);
static enum ktest_result expect_fmt(const char *want, const char *fmt, ...)
{
    char got[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(got, sizeof(got), fmt, ap);
    va_end(ap);
    if (strcmp(got, want) != 0)
        return ktest_fail("format \"%s\": expected \"%s\", got \"%s\"", fmt, want, got);
    return KTEST_PASS;
}

#define FMT(want, ...)                                                       \
    do {                                                                     \
        if (expect_fmt(want, __VA_ARGS__) != KTEST_PASS)                     \
            return KTEST_FAIL;                                               \
    } while (0)

KTEST(printk_formats, 0)
{
    FMT("42 -7 17", "%d %i %u", 42, -7, 17u);
    FMT("ff FF 0x1000", "%x %X %p", 255u, 255u, (void *)0x1000);
    FMT("  42|42  |00042", "%4d|%-4d|%05d", 42, 42, 42);
    FMT("-0042", "%05d", -42);
    FMT("-9223372036854775808", "%lld", (long long)INT64_MIN);
    FMT("18446744073709551615", "%lu", UINT64_MAX);
    FMT("123456789012", "%zu", (size_t)123456789012UL);
    const char *volatile null = NULL; /* volatile: gcc would warn about a literal NULL */
    FMT("[abc  ] [  abc] (null)", "[%-5s] [%5s] %s", "abc", "abc", null);
    FMT("x 100%", "%c %d%%", 'x', 100);
    /* printk itself: the bytes reach the console (checked by make test's log). */
    return printk("printk: hello from the kernel self-test\n") > 0 ? KTEST_PASS : ktest_fail("printk wrote nothing");
}

KTEST(string_functions, 0)
{
    char buf[16];
    KTEST_CHECK(strlen("kev") == 3 && strnlen("kevlab", 3) == 3);
    KTEST_CHECK(strcmp("a", "b") < 0 && strcmp("b", "a") > 0 && strcmp("kev", "kev") == 0);
    KTEST_CHECK(strncmp("kevlab", "kevin", 3) == 0);
    KTEST_CHECK(strlcpy(buf, "0123456789abcdefXYZ", sizeof(buf)) == 19 && strlen(buf) == 15);
    memcpy(buf, "abcdef", 7);
    memmove(buf + 1, buf, 5);
    KTEST_CHECK(memcmp(buf, "aabcde", 6) == 0);
    memset(buf, 'z', 3);
    KTEST_CHECK(memcmp(buf, "zzzcde", 6) == 0);
    KTEST_CHECK(strchr("hypercall", 'c') != NULL && strchr("vmx", 'q') == NULL);
    return KTEST_PASS;
}

KTEST(cmdline_params, 0)
{
    /* The runner passes this test's parameter when it is run by make test. */
    char buf[64];
    long n = ktest_param("text", buf, sizeof(buf));
    if (n >= 0)
        KTEST_CHECK(n == 9 && memcmp(buf, "a b%c\xe2\x82\xac\n", 9) == 0);
    char dec[8];
    KTEST_CHECK(percent_decode("a%20b%25", 8, dec, sizeof(dec)) == 4 && memcmp(dec, "a b%", 4) == 0);
    KTEST_CHECK(percent_decode("%2", 2, dec, sizeof(dec)) == -1);
    KTEST_CHECK(percent_decode("%zz", 3, dec, sizeof(dec)) == -1);
    KTEST_CHECK(percent_decode("abc", 3, dec, 2) == -1);
    KTEST_CHECK(ktest_param_int("absent", 7) == 7);
    return KTEST_PASS;
}

KTEST(exception_caught, 0)
{
    int v = ktest_try();
    if (v == 0) {
        __asm__ volatile("ud2");
        ktest_try_end();
        return ktest_fail("ud2 did not raise #UD");
    }
    ktest_try_end();
    KTEST_CHECK(v == 6 + 1); /* #UD */

    v = ktest_try();
    if (v == 0) {
        /* A non-canonical address: #GP (Vol. 3A, 3.3.7.1 "Canonical Addressing"). */
        (void)*(volatile uint64_t *)0x8000000000000000UL;
        ktest_try_end();
        return ktest_fail("a non-canonical read did not fault");
    }
    ktest_try_end();
    KTEST_CHECK(v == 13 + 1); /* #GP */
    return KTEST_PASS;
}

KTEST(backtrace_symbols, 0)
{
    const char *name;
    uint64_t off;
    KTEST_CHECK(ksym_lookup((uint64_t)ktest_fn_backtrace_symbols + 3, &name, &off));
    KTEST_CHECK(strcmp(name, "ktest_fn_backtrace_symbols") == 0 && off == 3);
    KTEST_CHECK(!ksym_lookup(0x10, &name, &off));
    return KTEST_PASS;
}

/* --- Tests that end the boot on purpose (make test checks their reports). --- */

/* user_string, which checks every string a syscall takes (kernel/user.c):
 * user_push's blocks sit at the top of the student's stack, right below
 * its guard page. */
KTEST(user_strings, 0)
{
    static char text[6000];
    user_frame_reset();
    uint64_t top = user_push("0123456789abcdef", 16); /* no NUL before the guard page */
    KTEST_CHECK(top + 16 == USER_STACK_TOP);
    KTEST_CHECK(user_string(top, 4096) == -1);
    KTEST_CHECK(user_string(top, 16) == -1);
    memset(text, 'x', sizeof(text));
    text[5000] = '\0';
    uint64_t u = user_push(text, sizeof(text)); /* across a page boundary */
    KTEST_CHECK((u & ~(uint64_t)(PAGE_SIZE - 1)) != ((u + 5000) & ~(uint64_t)(PAGE_SIZE - 1)));
    KTEST_CHECK(user_string(u, 8192) == 5000);
    KTEST_CHECK(user_string(u, 5001) == 5000);
    KTEST_CHECK(user_string(u, 5000) == -1); /* the NUL is byte 5001 */
    KTEST_CHECK(user_string(u + 4999, 10) == 1);
    KTEST_CHECK(user_string(u + 5000, 1) == 0);
    KTEST_CHECK(user_string(u, 0) == -1);
    KTEST_CHECK(user_string((uint64_t)(uintptr_t)text, 100) == -1); /* kernel memory */
    KTEST_CHECK(user_string(0, 100) == -1);
    KTEST_CHECK(user_string(~0ULL - 2, 100) == -1); /* wraps around */
    KTEST_CHECK(user_string(USER_STACK_TOP - USER_STACK_PAGES * PAGE_SIZE - 1, 2) == -1);
    user_frame_reset();
    return KTEST_PASS;
}

/* user/bench.c's ring-3 functions: one returns, one writes a word. */
uint64_t ulib_bench_null(uint64_t x);
uint64_t ulib_test_poke(uint64_t addr, uint64_t value);

/* user_reset leaves the student's whole stack zero, whichever way its pages
 * were written: by ring 3 (two pokes deep down), by a push, and through the
 * kernel's own map (the return slot of an upcall whose frame starts on a
 * page boundary is the only word written on the page below). */
KTEST(user_reset_clears_stack, 0)
{
    static uint8_t page[PAGE_SIZE], frame[PAGE_SIZE];
    const uint64_t bottom = USER_STACK_TOP - USER_STACK_PAGES * PAGE_SIZE;
    const uint64_t pokes[] = {bottom + 64, bottom + 3 * PAGE_SIZE + 8};
    for (size_t i = 0; i < ARRAY_SIZE(pokes); i++) {
        user_frame_reset();
        KTEST_CHECK(user_call(ulib_test_poke, pokes[i], 0x5eed, 0, 0).status == USER_RETURNED);
    }
    user_frame_reset();
    memset(frame, 0xa5, sizeof(frame));
    KTEST_CHECK(user_push(frame, sizeof(frame)) == USER_STACK_TOP - PAGE_SIZE);
    KTEST_CHECK(user_call(ulib_bench_null, 1, 0, 0, 0).status == USER_RETURNED);
    uint64_t slot;
    user_pull(&slot, USER_STACK_TOP - PAGE_SIZE - 8, 8);
    KTEST_CHECK(slot != 0); /* the return address: written, so the reset has work to do */
    user_reset();
    for (uint64_t p = bottom; p < USER_STACK_TOP; p += PAGE_SIZE) {
        user_pull(page, p, PAGE_SIZE);
        for (size_t j = 0; j < PAGE_SIZE; j++)
            if (page[j] != 0)
                return ktest_fail("user_reset left byte 0x%02x at 0x%lx of the stack", page[j],
                                  (unsigned long)(p + j));
    }
    return KTEST_PASS;
}

/* Handles (kernel/user.h): a forgotten object's handle names nothing, the
 * others still name theirs, and no number is given twice in a test. */
KTEST(user_handles_forgotten, 0)
{
    static int a, b;
    uint64_t ha = user_handle(&a, "thing"), hb = user_handle(&b, "thing");
    KTEST_CHECK(ha != hb && user_handle(&a, "thing") == ha);
    KTEST_CHECK(user_handle_object(ha, "thing") == &a && user_handle_object(ha, "other") == NULL);
    user_forget(&a);
    KTEST_CHECK(user_handle_object(ha, "thing") == NULL && user_handle_object(hb, "thing") == &b);
    uint64_t again = user_handle(&a, "thing");
    KTEST_CHECK(again != ha && again != hb && user_handle_object(again, "thing") == &a);
    user_forget(&a);
    user_forget(&b);
    KTEST_CHECK(user_handle_object(hb, "thing") == NULL);
    return KTEST_PASS;
}

KTEST(crash_assert, KTEST_CRASH)
{
    int answer = 41;
    assert(answer == 42);
    return KTEST_PASS;
}

KTEST(crash_panic, KTEST_CRASH)
{
    panic("the self-test panicked on purpose (code %d)", 7);
}

KTEST(crash_todo, KTEST_CRASH)
{
    TODO();
}

/* A noinline helper, so the backtrace shows two of our frames. */
__attribute__((noinline)) static void write_unmapped(uint64_t addr)
{
    *(volatile uint64_t *)addr = 0xdead;
}

KTEST(crash_page_fault, KTEST_CRASH)
{
    write_unmapped(0x0000100000000000UL); /* canonical, far above the 4 GiB we map */
    return KTEST_PASS;
}

KTEST(crash_null, KTEST_CRASH)
{
    write_unmapped(0); /* page 0 is unmapped (paging_init) */
    return KTEST_PASS;
}

KTEST(crash_triple_fault, KTEST_CRASH)
{
    /* No IDT at all: the breakpoint cannot be delivered, nor the #GP that follows, nor the #DF. */
    struct dtr empty = {0, 0};
    __asm__ volatile("lidt %0\n int3" ::"m"(empty));
    return KTEST_PASS;
}

KTEST(crash_hang, KTEST_CRASH)
{
    for (;;) /* for the runners' timeouts and instruction budgets */
        __asm__ volatile("pause");
    return KTEST_PASS;
}

/*
 * Some self-tests are graded too, as "project 0", by the grader's own tests
 * (tests/grader/e2e.py with tests/grader/rubric_selftests.py): the passing
 * ones must pass, and each crash must cost only its own test.
 */
KTEST_INFO(printk_formats, 0, "Kernel", 1, 0, "printk's conversions")
KTEST_INFO(string_functions, 0, "Kernel", 1, 0, "the string functions")
KTEST_INFO(cmdline_params, 0, "Kernel", 1, 0, "a test's command-line parameter")
KTEST_INFO(exception_caught, 0, "Kernel", 1, 0, "ktest_try catches #UD and #GP")
KTEST_INFO(backtrace_symbols, 0, "Kernel", 1, 0, "the symbol table")
KTEST_INFO(crash_panic, 0, "Crashes", 1, 0, "a panic ends the boot, reported")
KTEST_INFO(crash_triple_fault, 0, "Crashes", 1, 0, "a triple fault ends the boot")
KTEST_INFO(crash_hang, 0, "Crashes", 1, 0, "a hang is stopped by the grader")
KTEST_LIMITS(crash_hang, 4, 100000000)
KTEST_INFO(crash_page_fault, 0, "Crashes", 1, 0, "a kernel page fault is a panic")

/* kernel/kernel.mk's kevlab-pattern module: GRUB loaded it, the kernel
 * found it by name with its size and bytes, and the allocator keeps its
 * pages (pages handed out now lie outside it). Only the self-tests' image
 * (kevlab-test.iso, which tests/e2e/kernel.py boots and where this test
 * must pass) carries the module. */
KTEST(boot_modules, 0)
{
    const struct boot_module *m = module_find("kevlab-pattern");
    if (m == NULL)
        return ktest_skip("no boot module kevlab-pattern (%zu modules): only the self-tests' image "
                          "has it, kevlab-test.iso of `make test-iso`, which tests/e2e/kernel.py "
                          "boots", module_count());
    KTEST_CHECK(module_find("kevlab-patter") == NULL && module_find("") == NULL);
    KTEST_CHECK(module_at(module_count()) == NULL);
    if (m->size != 5000)
        return ktest_fail("kevlab-pattern holds %zu bytes, expected 5000", m->size);
    const uint8_t *p = (const uint8_t *)(uintptr_t)m->start;
    for (size_t i = 0; i < m->size; i++)
        if (p[i] != (uint8_t)((7 * i + 3) % 251))
            return ktest_fail("kevlab-pattern byte %zu is 0x%02x, expected 0x%02x", i, p[i],
                              (unsigned)((7 * i + 3) % 251));
    paddr_t pages[64];
    enum ktest_result r = KTEST_PASS;
    for (size_t i = 0; i < ARRAY_SIZE(pages); i++) {
        pages[i] = page_alloc();
        if (pages[i] + PAGE_SIZE > m->start && pages[i] < m->start + m->size)
            r = ktest_fail("page_alloc handed out 0x%lx, inside the module", (unsigned long)pages[i]);
    }
    for (size_t i = 0; i < ARRAY_SIZE(pages); i++)
        if (pages[i] != 0)
            page_free(pages[i]);
    return r;
}
