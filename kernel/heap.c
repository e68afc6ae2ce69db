/*
 * The kernel heap: kmalloc, kzalloc and kfree for objects of any size.
 * Small requests come from size classes of 32 to 2048 bytes (powers of two):
 * a page is cut into blocks of one class, and freed blocks go back onto their
 * class's free list (the pages themselves are never returned; the heap of a
 * teaching kernel stays small). A request that does not fit the largest
 * class gets its own run of contiguous pages. Every block starts with a
 * 16-byte header, so the pointer handed out is 16-byte aligned like the
 * block; the header's magic lets kfree tell a live block from a freed one
 * or from a pointer kmalloc never returned, and panic saying which.
 */
#include "kernel/mm.h"
#include "kernel/panic.h"
#include "kernel/string.h"

#define HEAP_MAGIC_USED 0x6b6d616cU /* "kmal" */
#define HEAP_MAGIC_FREE 0x66726565U /* "free" */

#define MIN_SHIFT 5                /* the smallest class: 32 bytes */
#define NCLASSES 7                 /* 32 .. 2048 */
#define CLASS_PAGES 0xffffffffU    /* the block is a run of whole pages */

struct block {
    uint32_t magic;
    uint32_t cls;   /* size class index, or CLASS_PAGES */
    uint64_t npages; /* for CLASS_PAGES: the length of the run */
    /* the caller's bytes follow; in a free block, the free-list link */
};
_Static_assert(sizeof(struct block) == 16, "the header keeps blocks 16-byte aligned");

struct free_block {
    struct block hdr;
    struct free_block *next;
};

static struct free_block *free_lists[NCLASSES];

static size_t class_size(unsigned cls)
{
    return (size_t)1 << (MIN_SHIFT + cls);
}

/* The smallest class whose blocks hold size bytes after the header, or NCLASSES. */
static unsigned class_of(size_t size)
{
    unsigned cls = 0;
    while (cls < NCLASSES && class_size(cls) - sizeof(struct block) < size)
        cls++;
    return cls;
}

/* Cuts a fresh page into free blocks of class cls; false when out of memory. */
static bool refill(unsigned cls)
{
    paddr_t page = page_alloc();
    if (page == 0)
        return false;
    size_t size = class_size(cls);
    for (size_t off = 0; off + size <= PAGE_SIZE; off += size) {
        struct free_block *b = (struct free_block *)(uintptr_t)(page + off);
        b->hdr = (struct block){.magic = HEAP_MAGIC_FREE, .cls = cls};
        b->next = free_lists[cls];
        free_lists[cls] = b;
    }
    return true;
}

static void *alloc_pages(size_t size)
{
    size_t npages = (size + sizeof(struct block) + PAGE_SIZE - 1) / PAGE_SIZE;
    struct block *b = (struct block *)(uintptr_t)pages_alloc(npages);
    if (b == NULL)
        return NULL;
    *b = (struct block){.magic = HEAP_MAGIC_USED, .cls = CLASS_PAGES, .npages = npages};
    return b + 1;
}

void *kmalloc(size_t size)
{
    if (size > SIZE_MAX / 2)
        return NULL; /* no machine has that much; also keeps the page count from overflowing */
    unsigned cls = class_of(size);
    if (cls == NCLASSES)
        return alloc_pages(size);
    if (free_lists[cls] == NULL && !refill(cls))
        return NULL;
    struct free_block *b = free_lists[cls];
    if (b->hdr.magic != HEAP_MAGIC_FREE || b->hdr.cls != cls)
        panic("kmalloc: heap corrupted: free block %p of %zu bytes has magic 0x%x "
              "(was it written to after kfree?)",
              (void *)b, class_size(cls), b->hdr.magic);
    free_lists[cls] = b->next;
    b->hdr.magic = HEAP_MAGIC_USED;
    return &b->hdr + 1;
}

void *kzalloc(size_t size)
{
    void *p = kmalloc(size);
    if (p != NULL)
        memset(p, 0, size);
    return p;
}

void kfree(void *p)
{
    if (p == NULL)
        return;
    if ((uintptr_t)p % 16 != 0)
        panic("kfree(%p): not a pointer kmalloc returned (not 16-byte aligned)", p);
    struct block *b = (struct block *)p - 1;
    if (b->magic == HEAP_MAGIC_FREE)
        panic("kfree(%p): double free (the block is free already)", p);
    if (b->magic != HEAP_MAGIC_USED)
        panic("kfree(%p): not a pointer kmalloc returned (bad magic 0x%x)", p, b->magic);

    if (b->cls == CLASS_PAGES) {
        if ((uintptr_t)b % PAGE_SIZE != 0)
            panic("kfree(%p): heap corrupted: a multi-page block not at a page start", p);
        /* Clear the magic so a second kfree is caught while the pages are free. */
        b->magic = HEAP_MAGIC_FREE;
        pages_free((paddr_t)(uintptr_t)b, b->npages);
        return;
    }
    if (b->cls >= NCLASSES)
        panic("kfree(%p): heap corrupted: size class %u in the header", p, b->cls);
    struct free_block *f = (struct free_block *)b;
    f->hdr.magic = HEAP_MAGIC_FREE;
    f->next = free_lists[b->cls];
    free_lists[b->cls] = f;
}
