/*
 * Builds multiboot2 boot information in memory, as GRUB would lay it out
 * (Multiboot2 specification, 3.6 "Boot information format"), for the tests
 * of kernel/multiboot.c and of the page allocator's map parsing.
 */
#ifndef TESTS_HOST_MBI_BUILDER_H
#define TESTS_HOST_MBI_BUILDER_H

#include "kernel/multiboot.h"

struct mbi_builder {
    uint64_t words[512]; /* 8-byte aligned, as the specification requires */
    uint32_t len;        /* bytes used */
};

static inline uint8_t *mbi_bytes(struct mbi_builder *b)
{
    return (uint8_t *)b->words;
}

static inline void mbi_put32(struct mbi_builder *b, uint32_t off, uint32_t v)
{
    uint8_t *p = mbi_bytes(b) + off;
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void mbi_put64(struct mbi_builder *b, uint32_t off, uint64_t v)
{
    mbi_put32(b, off, (uint32_t)v);
    mbi_put32(b, off + 4, (uint32_t)(v >> 32));
}

static inline void mbi_begin(struct mbi_builder *b)
{
    for (size_t i = 0; i < sizeof(b->words) / 8; i++)
        b->words[i] = 0;
    b->len = 8; /* total_size and reserved, filled in by mbi_finish */
}

/* Starts a tag of `type` and `size` bytes; returns its offset. */
static inline uint32_t mbi_tag(struct mbi_builder *b, uint32_t type, uint32_t size)
{
    uint32_t off = b->len;
    mbi_put32(b, off, type);
    mbi_put32(b, off + 4, size);
    b->len = off + ((size + 7) & ~7u);
    return off;
}

static inline void mbi_cmdline(struct mbi_builder *b, const char *s)
{
    uint32_t n = 0;
    while (s[n])
        n++;
    uint32_t off = mbi_tag(b, 1, 8 + n + 1);
    for (uint32_t i = 0; i <= n; i++)
        mbi_bytes(b)[off + 8 + i] = (uint8_t)s[i];
}

struct mbi_region {
    uint64_t base, length;
    uint32_t type;
};

/* A memory-map tag; entry_size is 24 in GRUB today (later versions may grow it). */
static inline void mbi_mmap(struct mbi_builder *b, const struct mbi_region *r, uint32_t n,
                            uint32_t entry_size)
{
    uint32_t off = mbi_tag(b, 6, 16 + n * entry_size);
    mbi_put32(b, off + 8, entry_size);
    mbi_put32(b, off + 12, 0);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t e = off + 16 + i * entry_size;
        mbi_put64(b, e, r[i].base);
        mbi_put64(b, e + 8, r[i].length);
        mbi_put32(b, e + 16, r[i].type);
    }
}

/* A module tag: [start, end) and the string after the module's path. */
static inline void mbi_module(struct mbi_builder *b, uint32_t start, uint32_t end, const char *s)
{
    uint32_t n = 0;
    while (s[n])
        n++;
    uint32_t off = mbi_tag(b, 3, 16 + n + 1);
    mbi_put32(b, off + 8, start);
    mbi_put32(b, off + 12, end);
    for (uint32_t i = 0; i <= n; i++)
        mbi_bytes(b)[off + 16 + i] = (uint8_t)s[i];
}

static inline const struct multiboot_info *mbi_finish(struct mbi_builder *b)
{
    mbi_tag(b, 0, 8);
    mbi_put32(b, 0, b->len);
    return (const struct multiboot_info *)b->words;
}

#endif
