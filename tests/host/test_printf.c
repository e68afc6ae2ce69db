/*
 * kernel/printf.c: kvformat through snprintf/vsnprintf. Every conversion,
 * every length modifier, widths and flags, the extremes of each integer
 * type, and snprintf's truncation (it returns the length it would have
 * written, and always terminates when size > 0).
 */
#include "kernel/printk.h"
#include "tests/host/harness.h"

#include <limits.h>

/* Formats into a fresh buffer and checks the text and the returned length. */
#define FMT(want, ...)                                                       \
    do {                                                                     \
        char buf_[128];                                                      \
        int n_ = snprintf(buf_, sizeof(buf_), __VA_ARGS__);                  \
        CHECK_EQ_STR(buf_, want);                                            \
        CHECK_EQ_INT(n_, (int)sizeof(want) - 1);                             \
    } while (0)

HOST_TEST(printf_signed)
{
    FMT("0", "%d", 0);
    FMT("42 -7", "%d %i", 42, -7);
    FMT("2147483647 -2147483648", "%d %d", INT_MAX, INT_MIN);
    FMT("-9223372036854775808", "%ld", LONG_MIN);
    FMT("-9223372036854775808", "%lld", (long long)INT64_MIN);
    FMT("9223372036854775807", "%lli", LLONG_MAX);
    FMT("-1", "%zd", -1L); /* a signed size_t */
}

HOST_TEST(printf_unsigned)
{
    FMT("4294967295", "%u", UINT_MAX);
    FMT("18446744073709551615", "%lu", ULONG_MAX);
    FMT("18446744073709551615", "%llu", ULLONG_MAX);
    FMT("123456789012", "%zu", (size_t)123456789012UL);
    FMT("0", "%u", 0u);
}

HOST_TEST(printf_hex)
{
    FMT("ff FF", "%x %X", 255u, 255u);
    FMT("deadbeef DEADBEEF", "%x %X", 0xdeadbeefu, 0xdeadbeefu);
    FMT("ffffffffffffffff", "%lx", ULONG_MAX);
    FMT("123456789abcdef0", "%llx", 0x123456789abcdef0ULL);
    FMT("1000", "%zx", (size_t)4096);
    FMT("0", "%x", 0u);
    FMT("ffffffff", "%x", -1); /* an int read as unsigned */
}

HOST_TEST(printf_pointer)
{
    FMT("0x1000", "%p", (void *)0x1000);
    FMT("0x0", "%p", (void *)0);
    FMT("0xffff800000000000", "%p", (void *)0xffff800000000000UL);
    FMT("    0x10", "%8p", (void *)0x10);
}

HOST_TEST(printf_string_char)
{
    FMT("kev", "%s", "kev");
    FMT("", "%s", "");
    const char *volatile null = NULL; /* volatile: gcc warns about a literal NULL */
    FMT("(null)", "%s", null);
    FMT("x", "%c", 'x');
    FMT("a b", "%c%c%c", 'a', ' ', 'b');
    FMT("100%", "%d%%", 100);
    FMT("%", "%%");
}

HOST_TEST(printf_width_flags)
{
    FMT("  42|42  |00042", "%4d|%-4d|%05d", 42, 42, 42);
    FMT("-0042", "%05d", -42);   /* the sign before the zeros */
    FMT("  -42", "%5d", -42);
    FMT("-42  |", "%-5d|", -42);
    FMT("12345", "%3d", 12345);  /* a width never truncates */
    FMT("[abc  ] [  abc]", "[%-5s] [%5s]", "abc", "abc");
    FMT("  x|x  ", "%3c|%-3c", 'x', 'x');
    FMT("000000ff", "%08x", 255u);
    FMT("   42", "%*d", 5, 42);
    FMT("42   |", "%*d|", -5, 42); /* a negative * width left-justifies */
    FMT("0000000000000000dead", "%020lx", 0xdeadUL);
}

HOST_TEST(printf_minus_beats_zero)
{
    /* gcc warns about "%-04d"; a volatile format hides it from -Wformat. */
    const char *volatile fmt = "%-04d|";
    char buf[16];
    CHECK_EQ_INT(snprintf(buf, sizeof(buf), fmt, 42), 5);
    CHECK_EQ_STR(buf, "42  |");
}

HOST_TEST(printf_unknown_conversion)
{
    /* Printed as is, so a bad format shows; volatile hides it from -Wformat. */
    const char *volatile fmt = "a%qb";
    char buf[16];
    CHECK_EQ_INT(snprintf(buf, sizeof(buf), fmt), 4);
    CHECK_EQ_STR(buf, "a%qb");
    const char *volatile trailing = "50%";
    CHECK_EQ_INT(snprintf(buf, sizeof(buf), trailing), 3);
    CHECK_EQ_STR(buf, "50%");
}

HOST_TEST(printf_truncation)
{
    char buf[8];
    CHECK_EQ_INT(snprintf(buf, sizeof(buf), "%s", "0123456789"), 10);
    CHECK_EQ_STR(buf, "0123456");
    CHECK_EQ_INT(snprintf(buf, sizeof(buf), "%d", 1234567), 7); /* exactly fits */
    CHECK_EQ_STR(buf, "1234567");
    CHECK_EQ_INT(snprintf(buf, 1, "abc"), 3);
    CHECK_EQ_STR(buf, "");
    buf[0] = 'X';
    CHECK_EQ_INT(snprintf(buf, 0, "abc%d", 12), 5); /* size 0: nothing written */
    CHECK_EQ_INT(buf[0], 'X');
    CHECK_EQ_INT(snprintf(NULL, 0, "%lld", (long long)INT64_MIN), 20);
}

/* Every buffer size, so a cut falls inside each run (literal text, padding,
 * digits, a string): the result is the whole output's prefix, terminated,
 * and nothing past the buffer is written. */
HOST_TEST(printf_truncation_every_size)
{
    char full[64], buf[64];
    int len = snprintf(full, sizeof(full), "ab%5dcd%-3sx%%%08lx.", 42, "q", 0xbeefUL);
    CHECK_EQ_STR(full, "ab   42cdq  x%0000beef.");
    for (int size = 0; size <= len + 2; size++) {
        memset(buf, '#', sizeof(buf));
        CHECK_EQ_INT(snprintf(buf, (size_t)size, "ab%5dcd%-3sx%%%08lx.", 42, "q", 0xbeefUL), len);
        int kept = size == 0 ? -1 : size - 1 < len ? size - 1 : len;
        if (kept >= 0) {
            CHECK(memcmp(buf, full, (size_t)kept) == 0);
            CHECK_EQ_INT(buf[kept], '\0');
        }
        CHECK_EQ_INT(buf[kept + 1], '#');
    }
}

static int vs(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
static int vs(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

HOST_TEST(printf_vsnprintf)
{
    char buf[32];
    CHECK_EQ_INT(vs(buf, sizeof(buf), "%s=%d", "x", -3), 4);
    CHECK_EQ_STR(buf, "x=-3");
}

struct counter {
    char text[64];
    int n, calls;
};

static void count_emit(const char *s, size_t n, void *arg)
{
    struct counter *k = arg;
    CHECK(n > 0); /* a run is never empty */
    for (size_t i = 0; i < n; i++, k->n++)
        if (k->n < (int)sizeof(k->text) - 1)
            k->text[k->n] = s[i];
    k->calls++;
}

static int kv(struct counter *k, const char *fmt, ...) __printf(2, 3);
static int kv(struct counter *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvformat(count_emit, k, fmt, ap);
    va_end(ap);
    return n;
}

HOST_TEST(printf_kvformat_emits_each_byte)
{
    struct counter k = {{0}, 0, 0};
    CHECK_EQ_INT(kv(&k, "%s:%04x", "id", 0xbeu), 7);
    CHECK_EQ_INT(k.n, 7);
    CHECK_EQ_STR(k.text, "id:00be");
    /* In runs: "id", ":", the zeros, "be". */
    CHECK_EQ_INT(k.calls, 4);
    struct counter w = {{0}, 0, 0};
    CHECK_EQ_INT(kv(&w, "%-40s|%%", "x"), 42); /* padding longer than a run of 16 */
    CHECK_EQ_INT(w.n, 42);
    CHECK_EQ_STR(w.text, "x" "                                       " "|%"); /* 39 spaces */
}
