/* printk: formatted output to the serial console. */
#include "kernel/printk.h"
#include "kernel/serial.h"

static void console_emit(char c, void *arg)
{
    (void)arg;
    if (c == '\n')
        serial_putc('\r');
    serial_putc(c);
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
            serial_putc((char)p[i]);
        else
            printk("\\x%02x", p[i]);
    }
}
