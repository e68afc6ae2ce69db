/*
 * Formatted output. kvformat is the one formatter; printk sends its output
 * to the serial console, snprintf to a buffer.
 *
 * Conversions: %d %i %u %x %X %p %s %c %%, length modifiers l, ll, z,
 * a field width (or *), the flags '-' (left-justify) and '0' (zero-pad).
 */
#ifndef KERNEL_PRINTK_H
#define KERNEL_PRINTK_H

#include "kernel/types.h"

/* Calls emit(s, n, arg) for every run of n output bytes (n > 0), in order;
 * returns the number of bytes. */
typedef void (*kvformat_emit_fn)(const char *s, size_t n, void *arg);
int kvformat(kvformat_emit_fn emit, void *arg, const char *fmt, va_list ap);

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

int vprintk(const char *fmt, va_list ap);
int printk(const char *fmt, ...) __printf(1, 2);

/*
 * Prints a protocol frame (docs/protocol.md): "@@ " and the formatted rest,
 * on a line of its own (a newline first when the console is mid-line).
 * Only the kernel writes frames.
 */
int printk_frame(const char *fmt, ...) __printf(1, 2);
/*
 * Prints what student code printed: bytes outside printable ASCII (but
 * newline and tab) as \xNN, and a space before a line's leading '@', so no
 * line of it can be taken for a frame.
 */
void printk_user(const char *buf, size_t n);

/*
 * Prints n bytes escaped as docs/protocol.md says: printable ASCII except
 * '\' as itself, every other byte as \xNN, the empty string as \e.
 */
void printk_escaped(const void *data, size_t n);

#endif
