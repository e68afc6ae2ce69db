/*
 * The kernel command line: space-separated key=value words whose values are
 * percent-encoded (docs/protocol.md). Parsed once at boot.
 */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

#include "kernel/types.h"

void cmdline_init(const char *raw);
const char *cmdline_raw(void);
/*
 * Finds key and decodes its value into buf (at most cap bytes, not
 * terminated: values may hold any byte). Returns the decoded length, or -1
 * when the key is absent or the value does not fit.
 */
long cmdline_get(const char *key, char *buf, size_t cap);
/* The same, NUL-terminated (the value must fit in cap-1 bytes). */
bool cmdline_get_str(const char *key, char *buf, size_t cap);
/* An unsigned or negative decimal / 0x-hex integer; def when absent or malformed. */
int64_t cmdline_get_int(const char *key, int64_t def);
/* Parses a decimal or 0x-hex integer, with an optional '-' (a value of the
 * command line: cmdline_get_int's); false when malformed. */
bool cmdline_parse_int(const char *s, int64_t *out);
bool cmdline_flag(const char *key); /* key=1 or key=true or key=yes */

/* Decodes %XX escapes of src[0..n) into dst (cap bytes); returns length or -1. Pure. */
long percent_decode(const char *src, size_t n, char *dst, size_t cap);

#endif
