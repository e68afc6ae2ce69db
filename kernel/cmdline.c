/*
 * The kernel command line (docs/protocol.md): space-separated key=value
 * words, values percent-encoded. GRUB's copy lives in boot memory that the
 * page allocator may hand out, so we keep our own copy.
 */
#include "kernel/cmdline.h"
#include "kernel/string.h"

#define CMDLINE_MAX 4096

static char line[CMDLINE_MAX + 1];

/* Where each word starts and how long it is, found once: the grader's list
 * of tests makes the line a few thousand bytes, and kev reads its flags for
 * every VM a test makes, so a lookup must not scan the line. */
#define WORDS_MAX (CMDLINE_MAX / 2 + 1)
static uint16_t word_at[WORDS_MAX], word_len[WORDS_MAX];
static size_t nwords;

void cmdline_init(const char *raw)
{
    strlcpy(line, raw ? raw : "", sizeof(line));
    nwords = 0;
    for (const char *p = line; *p;) {
        while (*p == ' ')
            p++;
        const char *w = p;
        while (*p && *p != ' ')
            p++;
        if (p > w) {
            word_at[nwords] = (uint16_t)(w - line);
            word_len[nwords++] = (uint16_t)(p - w);
        }
    }
}

const char *cmdline_raw(void) { return line; }

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long percent_decode(const char *src, size_t n, char *dst, size_t cap)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        if (c == '%') {
            if (i + 2 >= n || hexval(src[i + 1]) < 0 || hexval(src[i + 2]) < 0)
                return -1; /* a malformed escape */
            c = (char)(hexval(src[i + 1]) << 4 | hexval(src[i + 2]));
            i += 2;
        }
        if (len == cap)
            return -1;
        dst[len++] = c;
    }
    return (long)len;
}

/* Finds key's value: sets *val and *n and returns true when key is present. */
static bool find(const char *key, const char **val, size_t *n)
{
    size_t klen = strlen(key);
    for (size_t i = 0; i < nwords; i++) {
        const char *w = line + word_at[i];
        if (word_len[i] > klen && w[klen] == '=' && strncmp(w, key, klen) == 0) {
            *val = w + klen + 1;
            *n = word_len[i] - klen - 1;
            return true;
        }
    }
    return false;
}

long cmdline_get(const char *key, char *buf, size_t cap)
{
    const char *v;
    size_t n;
    if (!find(key, &v, &n))
        return -1;
    return percent_decode(v, n, buf, cap);
}

bool cmdline_get_str(const char *key, char *buf, size_t cap)
{
    if (cap == 0)
        return false;
    long n = cmdline_get(key, buf, cap - 1);
    if (n < 0)
        return false;
    buf[n] = '\0';
    return true;
}

bool cmdline_parse_int(const char *s, int64_t *out)
{
    bool neg = *s == '-';
    if (neg)
        s++;
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        base = 16, s += 2;
    if (!*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        int d = hexval(*s);
        if (d < 0 || (unsigned)d >= base)
            return false;
        v = v * base + (unsigned)d;
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

int64_t cmdline_get_int(const char *key, int64_t def)
{
    char buf[32];
    int64_t v;
    if (!cmdline_get_str(key, buf, sizeof(buf)) || !cmdline_parse_int(buf, &v))
        return def;
    return v;
}

bool cmdline_flag(const char *key)
{
    char buf[8];
    if (!cmdline_get_str(key, buf, sizeof(buf)))
        return false;
    return strcmp(buf, "1") == 0 || strcmp(buf, "true") == 0 || strcmp(buf, "yes") == 0;
}
