/*
 * What tests/host/shim.c provides in place of the kernel: the page
 * allocator's interface over aligned_alloc (so AddressSanitizer watches every
 * page) with a count and a limit, and panic_at as a longjmp into the harness.
 */
#ifndef TESTS_HOST_SHIM_H
#define TESTS_HOST_SHIM_H

#include <stddef.h>

/* Pages handed out by the shim's page_alloc/pages_alloc and not yet freed. */
extern size_t host_pages_out;
/* When not negative: page_alloc fails once host_pages_out would exceed it. */
extern long host_pages_limit;

#endif
