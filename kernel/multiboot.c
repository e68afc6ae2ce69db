/*
 * Multiboot2 boot information: the command line and the memory map GRUB
 * hands the kernel. The information is a header (total size, reserved)
 * followed by tags, each 8-byte aligned and starting with its type and size;
 * a tag of type 0 ends the list. Multiboot2 specification, 3.6 "Boot
 * information format". Pure code (no kernel state), so tests/host runs it on
 * made-up boot information too. Every length is checked against the total
 * size, so a malformed structure ends the walk instead of running past it.
 */
#include "kernel/multiboot.h"

struct multiboot_info {
    uint32_t total_size; /* including this header */
    uint32_t reserved;
    /* tags follow */
};

struct mb_tag {
    uint32_t type;
    uint32_t size; /* including this header, not the padding to 8 bytes */
};

/* Tag types (3.6.1 "Basic tags structure" and the sections after it). */
#define MB_TAG_END 0
#define MB_TAG_CMDLINE 1 /* 3.6.3 "Boot command line" */
#define MB_TAG_MODULE 3  /* 3.6.6 "Modules" */
#define MB_TAG_MMAP 6    /* 3.6.8 "Memory map" */

struct mb_tag_module {
    uint32_t type;
    uint32_t size;
    uint32_t mod_start;
    uint32_t mod_end;
    /* a zero-terminated string follows */
};

struct mb_tag_mmap {
    uint32_t type;
    uint32_t size;
    uint32_t entry_size; /* at least 24; later versions may add fields */
    uint32_t entry_version;
    /* entries follow */
};

struct mb_mmap_entry {
    uint64_t base_addr;
    uint64_t length;
    uint32_t type;
    uint32_t reserved;
};

/*
 * Returns the first tag of `type` after `after` (from the start when NULL),
 * or NULL when there is none.
 */
static const struct mb_tag *next_tag(const struct multiboot_info *mb, uint32_t type,
                                     const struct mb_tag *after)
{
    const uint8_t *start = (const uint8_t *)mb;
    uint32_t total = mb->total_size;
    uint32_t off = sizeof(*mb);
    if (after != NULL)
        off = (uint32_t)((const uint8_t *)after - start) + ALIGN_UP(after->size, 8);

    while (off + sizeof(struct mb_tag) <= total) {
        const struct mb_tag *tag = (const struct mb_tag *)(start + off);
        if (tag->type == MB_TAG_END || tag->size < sizeof(*tag) || tag->size > total - off)
            return NULL;
        if (tag->type == type)
            return tag;
        off += ALIGN_UP(tag->size, 8);
    }
    return NULL;
}

static const struct mb_tag *find_tag(const struct multiboot_info *mb, uint32_t type)
{
    return next_tag(mb, type, NULL);
}

const char *multiboot_cmdline(const struct multiboot_info *mb)
{
    const struct mb_tag *tag = find_tag(mb, MB_TAG_CMDLINE);
    if (tag == NULL || tag->size <= sizeof(*tag))
        return "";
    /* The string must end inside the tag; GRUB always terminates it. */
    const char *s = (const char *)(tag + 1);
    if (s[tag->size - sizeof(*tag) - 1] != '\0')
        return "";
    return s;
}

int multiboot_memory_map(const struct multiboot_info *mb,
                         void (*fn)(const struct mb_mem_region *r, void *arg), void *arg)
{
    const struct mb_tag_mmap *tag = (const struct mb_tag_mmap *)find_tag(mb, MB_TAG_MMAP);
    if (tag == NULL || tag->size < sizeof(*tag) || tag->entry_size < sizeof(struct mb_mmap_entry))
        return -1;

    const uint8_t *p = (const uint8_t *)(tag + 1);
    const uint8_t *end = (const uint8_t *)tag + tag->size;
    int n = 0;
    for (; p + tag->entry_size <= end; p += tag->entry_size, n++) {
        const struct mb_mmap_entry *e = (const struct mb_mmap_entry *)p;
        struct mb_mem_region r = {.base = e->base_addr, .length = e->length, .type = e->type};
        if (fn != NULL)
            fn(&r, arg);
    }
    return n;
}

int multiboot_modules(const struct multiboot_info *mb,
                      void (*fn)(const struct mb_module *m, void *arg), void *arg)
{
    int n = 0;
    for (const struct mb_tag *t = next_tag(mb, MB_TAG_MODULE, NULL); t != NULL;
         t = next_tag(mb, MB_TAG_MODULE, t)) {
        const struct mb_tag_module *tag = (const struct mb_tag_module *)t;
        if (tag->size <= sizeof(*tag))
            continue;
        const char *s = (const char *)(tag + 1);
        if (s[tag->size - sizeof(*tag) - 1] != '\0' || tag->mod_end < tag->mod_start)
            continue;
        struct mb_module m = {.start = tag->mod_start, .end = tag->mod_end, .string = s};
        if (fn != NULL)
            fn(&m, arg);
        n++;
    }
    return n;
}

uint64_t multiboot_end(const struct multiboot_info *mb)
{
    return (uint64_t)(uintptr_t)mb + mb->total_size;
}
