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

static void console_emit(char c, void *arg)
{
    (void)arg;
    if (c == '\n')
        serial_putc('\r');
    serial_putc(c);
    line_start = c == '\n';
}

int printk_frame(const char *fmt, ...)
{
    if (!line_start)
        console_emit('\n', NULL);
    console_emit('@', NULL);
    console_emit('@', NULL);
    console_emit(' ', NULL);
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
            console_emit(' ', NULL); /* a line of student output is never a frame */
        if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) {
            console_emit((char)c, NULL);
        } else {
            static const char hex[] = "0123456789abcdef";
            console_emit('\\', NULL);
            console_emit('x', NULL);
            console_emit(hex[c >> 4], NULL);
            console_emit(hex[c & 15], NULL);
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
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\')
            printk("\\\\");
        else if (p[i] > 0x20 && p[i] < 0x7f)
            console_emit((char)p[i], NULL);
        else
            printk("\\x%02x", p[i]);
    }
}
