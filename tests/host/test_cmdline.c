/*
 * kernel/cmdline.c: percent_decode (docs/protocol.md's value encoding) and
 * the key lookups on a command line like the runner's.
 */
#include "kernel/cmdline.h"
#include "kernel/string.h"
#include "tests/host/harness.h"

/* Decodes the C string src into buf (cap bytes); returns the length or -1. */
static long decode(const char *src, char *buf, size_t cap)
{
    return percent_decode(src, strlen(src), buf, cap);
}

HOST_TEST(cmdline_percent_decode)
{
    char buf[32];
    CHECK_EQ_INT(decode("plain", buf, sizeof(buf)), 5);
    CHECK_EQ_MEM(buf, "plain", 5);
    CHECK_EQ_INT(decode("Hello%2c%20world%21", buf, sizeof(buf)), 13);
    CHECK_EQ_MEM(buf, "Hello, world!", 13);
    CHECK_EQ_INT(decode("100%25", buf, sizeof(buf)), 4);
    CHECK_EQ_MEM(buf, "100%", 4);
    CHECK_EQ_INT(decode("%4a%4A", buf, sizeof(buf)), 2); /* either case of hex */
    CHECK_EQ_MEM(buf, "JJ", 2);
    CHECK_EQ_INT(decode("a%00b%ff", buf, sizeof(buf)), 4); /* any byte, NUL included */
    CHECK_EQ_MEM(buf, "a\0b\xff", 4);
    CHECK_EQ_INT(decode("", buf, sizeof(buf)), 0);
}

HOST_TEST(cmdline_percent_decode_malformed)
{
    char buf[32];
    CHECK_EQ_INT(decode("%", buf, sizeof(buf)), -1);
    CHECK_EQ_INT(decode("ab%4", buf, sizeof(buf)), -1);
    CHECK_EQ_INT(decode("%zz", buf, sizeof(buf)), -1);
    CHECK_EQ_INT(decode("%g0", buf, sizeof(buf)), -1);
    /* The escape must lie within n, even when the bytes after it are valid. */
    CHECK_EQ_INT(percent_decode("%41", 2, buf, sizeof(buf)), -1);
    CHECK_EQ_INT(percent_decode("%41", 3, buf, sizeof(buf)), 1);
}

HOST_TEST(cmdline_percent_decode_capacity)
{
    char buf[4] = {'x', 'x', 'x', 'x'};
    CHECK_EQ_INT(decode("abc", buf, 3), 3); /* exactly fits: no terminator needed */
    CHECK_EQ_MEM(buf, "abcx", 4);
    CHECK_EQ_INT(decode("abcd", buf, 3), -1);
    CHECK_EQ_INT(decode("%41%42%43%44", buf, 3), -1);
    CHECK_EQ_INT(decode("", buf, 0), 0);
    CHECK_EQ_INT(decode("a", buf, 0), -1);
}

HOST_TEST(cmdline_lookup)
{
    cmdline_init("test=a,b  hc.msg=Hi%20there hc.code=0x2a neg=-17 kev.trace=1 bad=12x tes=no");
    char buf[32];
    CHECK(cmdline_get_str("test", buf, sizeof(buf)) && CHECK_EQ_STR(buf, "a,b"));
    CHECK(cmdline_get_str("hc.msg", buf, sizeof(buf)) && CHECK_EQ_STR(buf, "Hi there"));
    CHECK_EQ_INT(cmdline_get("hc.msg", buf, sizeof(buf)), 8);
    CHECK_EQ_INT(cmdline_get("missing", buf, sizeof(buf)), -1);
    CHECK(!cmdline_get_str("hc.msg", buf, 8)); /* needs 9 bytes with the NUL */
    CHECK_EQ_INT(cmdline_get_int("hc.code", 0), 42);
    CHECK_EQ_INT(cmdline_get_int("neg", 0), -17);
    CHECK_EQ_INT(cmdline_get_int("bad", 5), 5);
    CHECK_EQ_INT(cmdline_get_int("missing", -1), -1);
    CHECK(cmdline_flag("kev.trace"));
    CHECK(!cmdline_flag("tes"));
    CHECK(!cmdline_flag("te")); /* a prefix of a key is not the key */
    CHECK_EQ_STR(cmdline_raw(),
                 "test=a,b  hc.msg=Hi%20there hc.code=0x2a neg=-17 kev.trace=1 bad=12x tes=no");
    cmdline_init(NULL);
    CHECK_EQ_STR(cmdline_raw(), "");
}

/* The word index cmdline_init builds: spaces anywhere, empty values, a key
 * that is a whole word without '=', the last word of a line that fills
 * CMDLINE_MAX, and a line of the most words it can hold. */
HOST_TEST(cmdline_lookup_word_index)
{
    char buf[64];
    cmdline_init("   lead=1   empty= noval trail=x   ");
    CHECK(cmdline_flag("lead"));
    CHECK(cmdline_get_str("empty", buf, sizeof(buf)) && CHECK_EQ_STR(buf, ""));
    CHECK_EQ_INT(cmdline_get("noval", buf, sizeof(buf)), -1);
    CHECK(cmdline_get_str("trail", buf, sizeof(buf)) && CHECK_EQ_STR(buf, "x"));

    static char line[4097];
    memset(line, 'a', 4000);
    memcpy(line, "test=", 5);
    strlcpy(line + 4000, " seed=7 last=ok", sizeof(line) - 4000);
    memset(line + strlen(line), 'z', 4096 - strlen(line)); /* "last=okzzz...": cut at 4096 */
    cmdline_init(line);
    CHECK_EQ_INT(cmdline_get_int("seed", 0), 7);
    CHECK_EQ_INT(cmdline_get("test", buf, sizeof(buf)), -1); /* 3995 bytes: does not fit */
    CHECK_EQ_INT(cmdline_get("last", line, sizeof(line)), 4096 - 4013);

    for (size_t i = 0; i < 4096; i += 2)
        line[i] = 'k', line[i + 1] = ' ';
    line[4094] = 'x', line[4095] = '\0';
    memcpy(line + 4090, "y=5", 3);
    cmdline_init(line);
    CHECK_EQ_INT(cmdline_get_int("y", 0), 5);
    CHECK(!cmdline_flag("k"));
    cmdline_init(NULL);
}
