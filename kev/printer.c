/*
 * The PrinterProxy (see printer.h). The echo is line-buffered: a line goes
 * to the console in one piece once it ends (or fills PRINTER_LINE_MAX), so
 * other output such as kev.trace's lines never lands in the middle of it
 * and every console line the guest causes starts with "guest| ".
 */
#include "kev/printer.h"
#include "kernel/cmdline.h"
#include "kernel/mm.h"
#include "kernel/printk.h"
#include "kernel/user.h"
#include "kernel/string.h"

/* The capture of the last printer freed, kept for the next one: a test
 * makes a VM per case, and allocating 64 KiB of zeroed pages for each
 * would cost more than most cases. */
static uint8_t *spare;

enum kev_error printer_start(struct printer *p, size_t capacity)
{
    static int echo = -1; /* the command line's kev.echo, read once */
    if (echo < 0)
        echo = cmdline_get_int("kev.echo", 1) != 0;
    *p = (struct printer){.capacity = capacity ? capacity : PRINTER_CAPACITY,
                          .echo_max = echo ? PRINTER_ECHO_MAX : 0};
    if (p->capacity > PRINTER_CAPACITY)
        return KEV_EINVAL;
    p->capture = spare ? spare : kmalloc(PRINTER_CAPACITY);
    spare = NULL;
    return p->capture ? KEV_OK : KEV_ENOMEM;
}

size_t printer_room(const struct printer *p)
{
    return p->capacity - p->len;
}

/*
 * Prints the buffered line: printable ASCII as itself (space included: the
 * prefix already keeps the line from being a frame), '\' as "\\", every
 * other byte as \xNN, so control bytes cannot move the cursor or end the
 * line early.
 */
static void echo_line(struct printer *p)
{
    char text[PRINTER_LINE_MAX * 4 + 1];
    size_t t = 0;
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < p->line_len; i++) {
        uint8_t c = p->line[i];
        if (c == '\\') {
            text[t++] = '\\';
            text[t++] = '\\';
        } else if (c >= 0x20 && c < 0x7f) {
            text[t++] = (char)c;
        } else {
            text[t++] = '\\';
            text[t++] = 'x';
            text[t++] = hex[c >> 4];
            text[t++] = hex[c & 15];
        }
    }
    text[t] = '\0';
    printk("guest| %s\n", text);
    p->line_len = 0;
}

enum kev_error printer_write(struct printer *p, const void *bytes, size_t n)
{
    if (n > p->capacity - p->len) {
        p->full = true;
        return KEV_ENOMEM;
    }
    const uint8_t *b = bytes;
    if (p->len >= p->echo_max) { /* past the echo: only the capture */
        memcpy(p->capture + p->len, b, n);
        p->len += n;
        return KEV_OK;
    }
    for (size_t i = 0; i < n; i++) {
        p->capture[p->len++] = b[i];
        if (p->len > p->echo_max)
            continue;
        if (b[i] == '\n') {
            echo_line(p);
            continue;
        }
        p->line[p->line_len++] = b[i];
        if (p->line_len == PRINTER_LINE_MAX)
            echo_line(p);
    }
    return KEV_OK;
}

bool printer_full(const struct printer *p)
{
    return p->full;
}

const uint8_t *printer_finish(struct printer *p, size_t *n)
{
    if (p->line_len > 0)
        echo_line(p);
    if (p->echo_max && p->len > p->echo_max)
        printk("guest| [the echo stopped after %zu bytes; the capture holds all %zu]\n",
               p->echo_max, p->len);
    *n = p->len;
    return p->capture;
}

void printer_free(struct printer *p)
{
    user_forget(p); /* a handle student code kept names no finished printer */
    if (spare == NULL)
        spare = p->capture;
    else
        kfree(p->capture);
    p->capture = NULL;
}
