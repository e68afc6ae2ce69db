/*
 * The one formatter behind printk and snprintf. Pure code (no console, no
 * globals), so tests/host runs it natively.
 *
 * Supported: %d %i %u %x %X %p %s %c %%; length modifiers l, ll, z; a field
 * width (digits or *); flags '-' (left-justify) and '0' (zero-pad). An
 * unknown conversion is printed as is, so a bad format shows in the output
 * instead of silently eating arguments.
 */
#include "kernel/printk.h"

struct out {
    void (*emit)(char c, void *arg);
    void *arg;
    int count;
};

static void put(struct out *o, char c)
{
    o->emit(c, o->arg);
    o->count++;
}

static void pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

/* Prints s (len bytes) in a field of width, honoring '-' and '0'. */
static void field(struct out *o, const char *s, int len, int width, bool left, bool zero)
{
    if (left) {
        for (int i = 0; i < len; i++)
            put(o, s[i]);
        pad(o, ' ', width - len);
        return;
    }
    if (zero && len > 0 && s[0] == '-') { /* the sign goes before the zeros */
        put(o, '-');
        s++, len--, width--;
    }
    pad(o, zero ? '0' : ' ', width - len);
    for (int i = 0; i < len; i++)
        put(o, s[i]);
}

/* Writes v in base into the end of buf; returns the first digit. */
static char *utoa(uint64_t v, unsigned base, bool upper, char *end)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char *p = end;
    do {
        *--p = digits[v % base];
        v /= base;
    } while (v);
    return p;
}

int kvformat(void (*emit)(char c, void *arg), void *arg, const char *fmt, va_list ap)
{
    struct out o = {emit, arg, 0};
    char buf[24]; /* 2^64 in decimal has 20 digits, plus a sign */
    char *end = buf + sizeof(buf);

    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        const char *start = fmt++;
        bool left = false, zero = false;
        for (;; fmt++) {
            if (*fmt == '-')
                left = true;
            else if (*fmt == '0')
                zero = true;
            else
                break;
        }
        int width = 0;
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0)
                left = true, width = -width;
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        int lng = 0; /* 0: int, 1: long, 2: long long, 3: size_t */
        if (*fmt == 'l') {
            lng = 1, fmt++;
            if (*fmt == 'l')
                lng = 2, fmt++;
        } else if (*fmt == 'z') {
            lng = 3, fmt++;
        }
        if (left)
            zero = false;

        char *s;
        switch (*fmt) {
        case 'd':
        case 'i': {
            int64_t v = lng == 0 ? va_arg(ap, int)
                      : lng == 1 ? va_arg(ap, long)
                      : lng == 2 ? va_arg(ap, long long)
                                 : (int64_t)va_arg(ap, size_t);
            uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
            s = utoa(mag, 10, false, end);
            if (v < 0)
                *--s = '-';
            field(&o, s, end - s, width, left, zero);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v = lng == 0 ? va_arg(ap, unsigned)
                       : lng == 1 ? va_arg(ap, unsigned long)
                       : lng == 2 ? va_arg(ap, unsigned long long)
                                  : va_arg(ap, size_t);
            s = utoa(v, *fmt == 'u' ? 10 : 16, *fmt == 'X', end);
            field(&o, s, end - s, width, left, zero);
            break;
        }
        case 'p': {
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            s = utoa(v, 16, false, end);
            *--s = 'x';
            *--s = '0';
            field(&o, s, end - s, width, left, false);
            break;
        }
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = "(null)";
            int len = 0;
            while (str[len])
                len++;
            field(&o, str, len, width, left, false);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            field(&o, &c, 1, width, left, false);
            break;
        }
        case '%':
            put(&o, '%');
            break;
        default: /* unknown or truncated: print the directive itself */
            for (const char *p = start; p <= fmt && *p; p++)
                put(&o, *p);
            if (!*fmt)
                return o.count;
            break;
        }
    }
    return o.count;
}

struct sbuf {
    char *buf;
    size_t size, len;
};

static void sbuf_emit(char c, void *arg)
{
    struct sbuf *b = arg;
    if (b->len + 1 < b->size)
        b->buf[b->len] = c;
    b->len++;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct sbuf b = {buf, size, 0};
    int n = kvformat(sbuf_emit, &b, fmt, ap);
    if (size)
        buf[b.len < size ? b.len : size - 1] = '\0';
    return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
