/*
 * The kernel services that heap.c and paging.c call, for the host build.
 * Pages come from aligned_alloc, one allocation per call, so an overrun of a
 * page or a use after page_free is caught by AddressSanitizer; the physical
 * address of a page is its host address, as under the kernel's identity map.
 * panic_at formats the message and returns to the harness: into a
 * CHECK_PANICS when one is waiting, otherwise it fails the running test.
 * Built without the kernel renames: it uses the C library's vsnprintf.
 */
#include "kernel/mm.h"
#include "kernel/panic.h"
#include "tests/host/harness.h"
#include "tests/host/shim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t host_pages_out;
long host_pages_limit = -1;

paddr_t pages_alloc(size_t count)
{
    if (count == 0 || count > SIZE_MAX / PAGE_SIZE)
        return 0;
    if (host_pages_limit >= 0 && host_pages_out + count > (size_t)host_pages_limit)
        return 0;
    void *p = aligned_alloc(PAGE_SIZE, count * PAGE_SIZE);
    if (p == NULL)
        return 0;
    memset(p, 0, count * PAGE_SIZE);
    host_pages_out += count;
    return (paddr_t)(uintptr_t)p;
}

paddr_t page_alloc(void)
{
    return pages_alloc(1);
}

void pages_free(paddr_t first, size_t count)
{
    if (first == 0 || first % PAGE_SIZE != 0 || count > host_pages_out)
        panic("pages_free(0x%lx, %zu): bad arguments", first, count);
    host_pages_out -= count;
    free((void *)(uintptr_t)first);
}

void page_free(paddr_t page)
{
    pages_free(page, 1);
}

void panic_at(const char *file, int line, const char *func, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(harness_panic_msg, sizeof(harness_panic_msg), fmt, ap);
    va_end(ap);
    if (harness_panic_armed) {
        harness_panic_armed = false;
        longjmp(harness_panic_jmp, 1);
    }
    printf("%s:%d: %s: panic\n", file, line, func);
    harness_unexpected_panic();
}
