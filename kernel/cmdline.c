/*
 * The kernel command line (docs/protocol.md): space-separated key=value
 * words, values percent-encoded. GRUB's copy lives in boot memory that the
 * page allocator may hand out, so we keep our own copy.
 */
#include "kernel/cmdline.h"
#include "kernel/string.h"

#define CMDLINE_MAX 4096

static char line[CMDLINE_MAX + 1];

void cmdline_init(const char *raw)
{
    strlcpy(line, raw ? raw : "", sizeof(line));
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
    for (const char *p = line; *p;) {
        while (*p == ' ')
            p++;
        const char *w = p;
        while (*p && *p != ' ')
            p++;
        if ((size_t)(p - w) > klen && strncmp(w, key, klen) == 0 && w[klen] == '=') {
            *val = w + klen + 1;
            *n = (size_t)(p - *val);
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

/* Parses a decimal or 0x-hex integer, with an optional '-'; false when malformed. */
static bool parse_int(const char *s, int64_t *out)
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
    if (!cmdline_get_str(key, buf, sizeof(buf)) || !parse_int(buf, &v))
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
