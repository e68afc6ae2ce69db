/*
 * kernel/string.c: the memory and string functions, edge cases first
 * (zero lengths, overlap in both directions, bytes above 0x7f, truncation).
 */
#include "kernel/string.h"
#include "tests/host/harness.h"

HOST_TEST(string_memset)
{
    unsigned char buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    CHECK(memset(buf + 1, 0x1ab, 3) == buf + 1); /* only the low byte counts */
    CHECK_EQ_MEM(buf, ((unsigned char[]){1, 0xab, 0xab, 0xab, 5, 6, 7, 8}), 8);
    memset(buf, 0, 0);
    CHECK_EQ_INT(buf[0], 1);
}

HOST_TEST(string_memcpy)
{
    char dst[8] = "xxxxxxx";
    CHECK(memcpy(dst, "abc", 3) == dst);
    CHECK_EQ_STR(dst, "abcxxxx");
    memcpy(dst, "zzz", 0);
    CHECK_EQ_STR(dst, "abcxxxx");
}

HOST_TEST(string_memmove_overlap)
{
    char up[] = "abcdef";
    CHECK(memmove(up + 2, up, 4) == up + 2); /* destination above the source */
    CHECK_EQ_STR(up, "ababcd");
    char down[] = "abcdef";
    memmove(down, down + 2, 4); /* destination below the source */
    CHECK_EQ_STR(down, "cdefef");
    char same[] = "abc";
    memmove(same, same, 3);
    CHECK_EQ_STR(same, "abc");
}

HOST_TEST(string_memcmp)
{
    CHECK_EQ_INT(memcmp("abc", "abc", 3), 0);
    CHECK(memcmp("abc", "abd", 3) < 0);
    CHECK(memcmp("abd", "abc", 3) > 0);
    CHECK(memcmp("\x80", "\x01", 1) > 0); /* bytes compare as unsigned */
    CHECK_EQ_INT(memcmp("abc", "xyz", 0), 0);
}

/* The sign of the first differing byte, a byte at a time: what memcmp's
 * 8-byte steps must agree with. */
static int sign_of_first_difference(const unsigned char *a, const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

/* Every length to 40, every alignment of either side, a difference at every
 * position (up and down, 0x00 against 0xff too), or none. */
HOST_TEST(string_memcmp_every_length_and_position)
{
    unsigned char a[64], b[64];
    for (size_t n = 0; n <= 40; n++)
        for (size_t ao = 0; ao < 8; ao++)
            for (size_t bo = 0; bo < 8; bo += 3) {
                for (size_t i = 0; i < n; i++)
                    a[ao + i] = b[bo + i] = (unsigned char)(i * 37 + 1);
                CHECK_EQ_INT(memcmp(a + ao, b + bo, n), 0);
                for (size_t d = 0; d < n; d++) {
                    static const unsigned char pairs[][2] = {{1, 2}, {2, 1}, {0x00, 0xff}, {0xff, 0x00}};
                    for (size_t p = 0; p < 4; p++) {
                        unsigned char ka = a[ao + d], kb = b[bo + d];
                        a[ao + d] = pairs[p][0], b[bo + d] = pairs[p][1];
                        if (d + 1 < n) /* a later difference the other way must not win */
                            b[bo + n - 1] ^= 0x80;
                        CHECK_EQ_INT(sign(memcmp(a + ao, b + bo, n)),
                                     sign_of_first_difference(a + ao, b + bo, n));
                        if (d + 1 < n)
                            b[bo + n - 1] ^= 0x80;
                        a[ao + d] = ka, b[bo + d] = kb;
                    }
                }
            }
}

HOST_TEST(string_strlen)
{
    CHECK_EQ_UINT(strlen(""), 0);
    CHECK_EQ_UINT(strlen("kevlab"), 6);
    CHECK_EQ_UINT(strnlen("kevlab", 3), 3);
    CHECK_EQ_UINT(strnlen("kev", 10), 3);
    CHECK_EQ_UINT(strnlen("kev", 0), 0);
    char unterminated[4] = {'a', 'b', 'c', 'd'}; /* strnlen must not read past max */
    CHECK_EQ_UINT(strnlen(unterminated, 4), 4);
}

HOST_TEST(string_strcmp)
{
    CHECK_EQ_INT(strcmp("", ""), 0);
    CHECK_EQ_INT(strcmp("kev", "kev"), 0);
    CHECK(strcmp("kev", "kevlab") < 0);
    CHECK(strcmp("kevlab", "kev") > 0);
    CHECK(strcmp("a", "b") < 0);
    CHECK(strcmp("\xff", "a") > 0); /* unsigned */
    CHECK_EQ_INT(strncmp("kevlab", "kevin", 3), 0);
    CHECK(strncmp("kevlab", "kevin", 4) > 0);
    CHECK_EQ_INT(strncmp("abc", "abd", 0), 0);
    CHECK_EQ_INT(strncmp("ab", "ab", 10), 0); /* stops at the terminator */
    CHECK(strncmp("ab", "abc", 10) < 0);
}

HOST_TEST(string_strchr)
{
    const char *s = "hello";
    CHECK(strchr(s, 'l') == s + 2);
    CHECK(strchr(s, 'h') == s);
    CHECK(strchr(s, 'z') == NULL);
    CHECK(strchr(s, '\0') == s + 5); /* the terminator is part of the string */
    CHECK(strchr("a\xe9", 0xe9) != NULL); /* c is converted to char */
}

HOST_TEST(string_strstr)
{
    const char *s = "the guest raised #UD";
    CHECK(strstr(s, "#UD") == s + 17);
    CHECK(strstr(s, "the") == s);
    CHECK(strstr(s, "#GP") == NULL);
    CHECK(strstr(s, "") == s);
    CHECK(strstr("", "x") == NULL);
    CHECK(strstr("aab", "ab") != NULL);
}

HOST_TEST(string_strlcpy)
{
    char buf[8];
    CHECK_EQ_UINT(strlcpy(buf, "kev", sizeof(buf)), 3);
    CHECK_EQ_STR(buf, "kev");
    CHECK_EQ_UINT(strlcpy(buf, "0123456789", sizeof(buf)), 10); /* the source's length */
    CHECK_EQ_STR(buf, "0123456");
    CHECK_EQ_UINT(strlcpy(buf, "1234567", sizeof(buf)), 7); /* exactly fits */
    CHECK_EQ_STR(buf, "1234567");
    buf[0] = 'X';
    CHECK_EQ_UINT(strlcpy(buf, "abc", 0), 3); /* size 0 writes nothing */
    CHECK_EQ_INT(buf[0], 'X');
    CHECK_EQ_UINT(strlcpy(buf, "abc", 1), 3);
    CHECK_EQ_STR(buf, "");
}
