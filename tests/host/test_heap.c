/*
 * kernel/heap.c over the shim's pages: sizes from 0 to several pages, 16-byte
 * alignment, no overlap between live blocks, reuse after kfree, kzalloc on
 * dirty memory, multi-page blocks returning their pages, running out of
 * pages, and the panics of a bad kfree.
 */
#include "kernel/mm.h"
#include "kernel/string.h"
#include "tests/host/harness.h"
#include "tests/host/shim.h"

static const size_t sizes[] = {0, 1, 7, 15, 16, 17, 31, 32, 48, 100, 112, 113, 240, 500,
                               1000, 1008, 1009, 2000, 2032, 2033, 4000, 4080, 4081, 8192,
                               12345, 3 * 4096 + 1};

HOST_TEST(heap_sizes_alignment_no_overlap)
{
    enum { N = ARRAY_SIZE(sizes), COPIES = 5 };
    unsigned char *p[N * COPIES];
    for (size_t i = 0; i < N * COPIES; i++) {
        size_t size = sizes[i % N];
        p[i] = kmalloc(size);
        if (!CHECK(p[i] != NULL))
            return;
        CHECK_EQ_UINT((uintptr_t)p[i] % 16, 0);
        memset(p[i], (int)(i & 0xff), size); /* ASan catches a block that is too small */
    }
    for (size_t i = 0; i < N * COPIES; i++) /* no later block overwrote an earlier one */
        for (size_t j = 0; j < sizes[i % N]; j++)
            if (!CHECK_EQ_INT(p[i][j], (int)(i & 0xff)))
                return;
    for (size_t i = 0; i < N * COPIES; i++)
        kfree(p[i]);
}

HOST_TEST(heap_reuse_after_free)
{
    void *a = kmalloc(40);
    kfree(a);
    void *b = kmalloc(40);
    CHECK(a == b); /* the block just freed is the first one handed out again */
    void *c = kmalloc(50); /* the same size class */
    CHECK(c != b);
    kfree(b);
    kfree(c);
    size_t before = host_pages_out;
    for (int i = 0; i < 1000; i++) /* a steady state takes no new pages */
        kfree(kmalloc(100));
    CHECK_EQ_UINT(host_pages_out, before);
}

HOST_TEST(heap_kzalloc_zeroes_reused_memory)
{
    unsigned char *a = kmalloc(200);
    memset(a, 0xa5, 200);
    kfree(a);
    unsigned char *b = kzalloc(200);
    CHECK(b == a);
    for (int i = 0; i < 200; i++)
        if (!CHECK_EQ_INT(b[i], 0))
            break;
    kfree(b);
}

HOST_TEST(heap_large_blocks_use_pages)
{
    size_t before = host_pages_out;
    void *p = kmalloc(3 * PAGE_SIZE); /* needs 4 pages with the header */
    CHECK(p != NULL);
    CHECK_EQ_UINT((uintptr_t)p % PAGE_SIZE, 16);
    CHECK_EQ_UINT(host_pages_out, before + 4);
    kfree(p);
    CHECK_EQ_UINT(host_pages_out, before);
    p = kmalloc(PAGE_SIZE - 16); /* exactly one page */
    CHECK_EQ_UINT(host_pages_out, before + 1);
    kfree(p);
    CHECK_EQ_UINT(host_pages_out, before);
}

HOST_TEST(heap_out_of_memory)
{
    CHECK(kmalloc((size_t)-1) == NULL);
    CHECK(kmalloc((size_t)-1 / 2 + 1) == NULL);
    host_pages_limit = (long)host_pages_out;
    CHECK(kmalloc(5 * PAGE_SIZE) == NULL);
    CHECK(kzalloc(2 * PAGE_SIZE) == NULL);
    /* A size class whose free list is empty needs a page: none left. */
    void *blocks[200];
    size_t n = 0;
    while (n < ARRAY_SIZE(blocks) && (blocks[n] = kmalloc(1500)) != NULL)
        n++;
    CHECK(n < ARRAY_SIZE(blocks));
    host_pages_limit = -1;
    while (n > 0)
        kfree(blocks[--n]);
    kfree(NULL); /* allowed, does nothing */
}

HOST_TEST(heap_bad_free_panics)
{
    char *p = kmalloc(64);
    memset(p, 0, 64);
    CHECK_PANICS(kfree(p + 1), "not 16-byte aligned");
    CHECK_PANICS(kfree(p + 16), "not a pointer kmalloc returned (bad magic 0x0)");
    static _Alignas(16) char not_heap[64];
    CHECK_PANICS(kfree(not_heap + 16), "not a pointer kmalloc returned");
    kfree(p);
    CHECK_PANICS(kfree(p), "double free");
}

HOST_TEST(heap_corrupted_free_list_panics)
{
    uint32_t *p = kmalloc(300);
    kfree(p);
    p[-4] = 0x12345678; /* a write before the block after kfree: the magic */
    CHECK_PANICS(kmalloc(300), "heap corrupted");
    p[-4] = 0x66726565; /* put "free" back so the list stays usable */
}
