/*
 * printk: formatted output to the serial console. The console remembers
 * whether its last byte ended a line, so that a protocol frame
 * (printk_frame) always starts a line of its own whatever came before it,
 * and student output (printk_user) can be kept from ever looking like a
 * frame.
 */
#include "kernel/printk.h"
#include "kernel/serial.h"

static bool line_start = true;

static void console_putc(char c)
{
    if (c == '\n')
        serial_putc('\r');
    serial_putc(c);
    line_start = c == '\n';
}

static void console_emit(const char *s, size_t n, void *arg)
{
    (void)arg;
    for (size_t i = 0; i < n; i++)
        console_putc(s[i]);
}

int printk_frame(const char *fmt, ...)
{
    if (!line_start)
        console_putc('\n');
    console_emit("@@ ", 3, NULL);
    va_list ap;
    va_start(ap, fmt);
    int n = vprintk(fmt, ap);
    va_end(ap);
    return n + 3;
}

void printk_user(const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (line_start && c == '@')
            console_putc(' '); /* a line of student output is never a frame */
        if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) {
            console_putc((char)c);
        } else {
            static const char hex[] = "0123456789abcdef";
            const char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            console_emit(esc, 4, NULL);
        }
    }
}

int vprintk(const char *fmt, va_list ap)
{
    return kvformat(console_emit, NULL, fmt, ap);
}

int printk(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintk(fmt, ap);
    va_end(ap);
    return n;
}

void printk_escaped(const void *data, size_t n)
{
    const unsigned char *p = data;
    if (n == 0) {
        printk("\\e");
        return;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\') {
            console_emit("\\\\", 2, NULL);
        } else if (p[i] > 0x20 && p[i] < 0x7f) {
            console_putc((char)p[i]);
        } else {
            const char esc[4] = {'\\', 'x', hex[p[i] >> 4], hex[p[i] & 15]};
            console_emit(esc, 4, NULL);
        }
    }
}
