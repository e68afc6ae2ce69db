/*
 * kernel/multiboot.c on boot information built like GRUB's: the command
 * line, the memory map (including entries larger than today's 24 bytes),
 * missing tags, and malformed sizes that must stop the walk.
 */
#include "kernel/multiboot.h"
#include "tests/host/harness.h"
#include "tests/host/mbi_builder.h"

struct seen {
    struct mb_mem_region r[8];
    int n;
};

static void collect(const struct mb_mem_region *r, void *arg)
{
    struct seen *s = arg;
    if (s->n < 8)
        s->r[s->n] = *r;
    s->n++;
}

static const struct mbi_region qemu_map[] = {
    {0x0, 0x9fc00, 1},
    {0x9fc00, 0x400, 2},
    {0xf0000, 0x10000, 2},
    {0x100000, 0x7ee0000, 1},
    {0xfffc0000, 0x40000, 2},
    {0x100000000, 0x40000000, 1},
};

HOST_TEST(multiboot_cmdline_and_map)
{
    static struct mbi_builder b;
    mbi_begin(&b);
    mbi_tag(&b, 21, 12); /* an unrelated tag first (load base address) */
    mbi_cmdline(&b, "test=all kev.trace=1");
    mbi_mmap(&b, qemu_map, 6, 24);
    const struct multiboot_info *mb = mbi_finish(&b);

    CHECK_EQ_STR(multiboot_cmdline(mb), "test=all kev.trace=1");
    struct seen s = {.n = 0};
    CHECK_EQ_INT(multiboot_memory_map(mb, collect, &s), 6);
    CHECK_EQ_INT(s.n, 6);
    for (int i = 0; i < 6; i++) {
        CHECK_EQ_UINT(s.r[i].base, qemu_map[i].base);
        CHECK_EQ_UINT(s.r[i].length, qemu_map[i].length);
        CHECK_EQ_UINT(s.r[i].type, qemu_map[i].type);
    }
    CHECK_EQ_UINT(multiboot_end(mb), (uint64_t)(uintptr_t)mb + b.len);
    CHECK_EQ_INT(multiboot_memory_map(mb, NULL, NULL), 6); /* fn may be NULL: just count */
}

HOST_TEST(multiboot_bigger_entries)
{
    static struct mbi_builder b;
    mbi_begin(&b);
    mbi_mmap(&b, qemu_map, 4, 32); /* a future GRUB with 8 more bytes per entry */
    const struct multiboot_info *mb = mbi_finish(&b);
    struct seen s = {.n = 0};
    CHECK_EQ_INT(multiboot_memory_map(mb, collect, &s), 4);
    CHECK_EQ_UINT(s.r[3].base, 0x100000);
    CHECK_EQ_UINT(s.r[3].length, 0x7ee0000);
}

HOST_TEST(multiboot_missing_tags)
{
    static struct mbi_builder b;
    mbi_begin(&b);
    const struct multiboot_info *mb = mbi_finish(&b);
    CHECK_EQ_STR(multiboot_cmdline(mb), "");
    CHECK_EQ_INT(multiboot_memory_map(mb, collect, NULL), -1);
    CHECK_EQ_UINT(multiboot_end(mb), (uint64_t)(uintptr_t)mb + 16);

    mbi_begin(&b);
    mbi_cmdline(&b, "");
    mb = mbi_finish(&b);
    CHECK_EQ_STR(multiboot_cmdline(mb), "");
}

HOST_TEST(multiboot_malformed)
{
    static struct mbi_builder b;
    /* A tag whose size runs past total_size ends the walk. */
    mbi_begin(&b);
    uint32_t bad = mbi_tag(&b, 21, 16);
    mbi_cmdline(&b, "unreachable");
    const struct multiboot_info *mb = mbi_finish(&b);
    mbi_put32(&b, bad + 4, 4000);
    CHECK_EQ_STR(multiboot_cmdline(mb), "");

    /* A tag smaller than its own header ends it too (and cannot loop). */
    mbi_put32(&b, bad + 4, 4);
    CHECK_EQ_STR(multiboot_cmdline(mb), "");

    /* A memory map whose entries are too small to hold an entry is no map. */
    mbi_begin(&b);
    mbi_mmap(&b, qemu_map, 2, 16);
    mb = mbi_finish(&b);
    CHECK_EQ_INT(multiboot_memory_map(mb, collect, NULL), -1);

    /* A command line without its terminator inside the tag is ignored. */
    mbi_begin(&b);
    uint32_t off = mbi_tag(&b, 1, 8 + 4);
    for (int i = 0; i < 4; i++)
        mbi_bytes(&b)[off + 8 + i] = 'x';
    mb = mbi_finish(&b);
    CHECK_EQ_STR(multiboot_cmdline(mb), "");
}

struct mods {
    struct mb_module m[4];
    int n;
};

static void collect_module(const struct mb_module *m, void *arg)
{
    struct mods *s = arg;
    if (s->n < 4)
        s->m[s->n] = *m;
    s->n++;
}

HOST_TEST(multiboot_modules_in_order)
{
    static struct mbi_builder b;
    mbi_begin(&b);
    mbi_module(&b, 0x200000, 0x2012a7, "guestos");
    mbi_cmdline(&b, "x");
    mbi_module(&b, 0x202000, 0x212000, "disk");
    mbi_module(&b, 0x213000, 0x213000, ""); /* empty file, no name */
    const struct multiboot_info *mb = mbi_finish(&b);
    struct mods s = {.n = 0};
    CHECK_EQ_INT(multiboot_modules(mb, collect_module, &s), 3);
    CHECK_EQ_INT(s.n, 3);
    CHECK_EQ_UINT(s.m[0].start, 0x200000);
    CHECK_EQ_UINT(s.m[0].end, 0x2012a7);
    CHECK_EQ_STR(s.m[0].string, "guestos");
    CHECK_EQ_UINT(s.m[1].start, 0x202000);
    CHECK_EQ_STR(s.m[1].string, "disk");
    CHECK_EQ_UINT(s.m[2].end - s.m[2].start, 0);
    CHECK_EQ_STR(s.m[2].string, "");
    CHECK_EQ_STR(multiboot_cmdline(mb), "x");
}

HOST_TEST(multiboot_modules_malformed)
{
    static struct mbi_builder b;
    mbi_begin(&b);
    mbi_tag(&b, 3, 16);                       /* no room for the string */
    mbi_module(&b, 0x300000, 0x200000, "backwards"); /* end before start */
    uint32_t bad = b.len;
    mbi_module(&b, 0x400000, 0x401000, "unterminated");
    mbi_bytes(&b)[bad + 16 + 12] = 'x'; /* overwrite the terminator */
    mbi_module(&b, 0x500000, 0x501000, "ok");
    const struct multiboot_info *mb = mbi_finish(&b);
    struct mods s = {.n = 0};
    CHECK_EQ_INT(multiboot_modules(mb, collect_module, &s), 1);
    CHECK_EQ_STR(s.m[0].string, "ok");
    CHECK_EQ_INT(multiboot_modules(mb, NULL, NULL), 1);

    static struct mbi_builder none;
    mbi_begin(&none);
    CHECK_EQ_INT(multiboot_modules(mbi_finish(&none), collect_module, &s), 0);
}
