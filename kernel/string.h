/*
 * String and memory functions: the subset of <string.h> the kernel uses.
 * Pure code, also compiled for the host by tests/host.
 */
#ifndef KERNEL_STRING_H
#define KERNEL_STRING_H

#include "kernel/types.h"

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
/* The first occurrence of needle in haystack, or NULL. */
char *strstr(const char *haystack, const char *needle);
/* Copies at most size-1 bytes and always terminates (when size > 0). */
size_t strlcpy(char *dst, const char *src, size_t size);
/* FNV-1a of a string: a quick hash of a name (a test's random stream, the
 * test table's check for two tests of one name). */
static inline uint64_t str_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
    return h;
}

#endif
