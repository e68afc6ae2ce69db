/*
 * kmalloc, kzalloc and kfree for student code: a first-fit free list over
 * the user heap, an arena the kernel maps page by page (ulib_heap_grow) and
 * empties before every test. Written here rather than reusing the kernel's
 * heap (kernel/heap.c), which cuts pages of the physical allocator into
 * size classes: student code has no physical pages, only this arena.
 * Blocks carry a header with a magic number, so kfree of a pointer kmalloc
 * never returned, or a double kfree, is reported as the student's panic.
 */
#include "kernel/mm.h"
#include "kernel/panic.h"
#include "kernel/string.h"
#include "user/ulib.h"

#define MAGIC_USED 0x75736564U /* "used" */
#define MAGIC_FREE 0x66726565U /* "free" */

struct block {
    uint32_t magic;
    uint32_t reserved;
    uint64_t size; /* bytes after the header */
    struct block *next_free;
    uint64_t pad;
};
_Static_assert(sizeof(struct block) % 16 == 0, "blocks stay 16-byte aligned");

static uint8_t *top, *end; /* the arena's unused part */
static struct block *free_list;

void *kmalloc(size_t size)
{
    size = ALIGN_UP(size ? size : 1, 16);
    for (struct block **p = &free_list; *p; p = &(*p)->next_free) {
        if ((*p)->size >= size) {
            struct block *b = *p;
            *p = b->next_free;
            b->magic = MAGIC_USED;
            return b + 1;
        }
    }
    size_t need = sizeof(struct block) + size;
    if (need < size)
        return NULL;
    if (top == NULL || (size_t)(end - top) < need) {
        size_t pages = ALIGN_UP(need - (top ? (size_t)(end - top) : 0), PAGE_SIZE) / PAGE_SIZE;
        uint64_t first = ulib_heap_grow(pages);
        if (first == 0)
            return NULL;
        if (top == NULL || (uint8_t *)first != end)
            top = (uint8_t *)first;
        end = (uint8_t *)first + pages * PAGE_SIZE;
    }
    struct block *b = (struct block *)top;
    top += need;
    *b = (struct block){.magic = MAGIC_USED, .size = size};
    return b + 1;
}

void *kzalloc(size_t size)
{
    void *p = kmalloc(size);
    if (p)
        memset(p, 0, size);
    return p;
}

void kfree(void *p)
{
    if (p == NULL)
        return;
    struct block *b = (struct block *)p - 1;
    if (((uintptr_t)p & 15) != 0 || b->magic == MAGIC_FREE)
        panic("kfree(%p): %s", p, ((uintptr_t)p & 15) ? "not a pointer kmalloc returned"
                                                        : "freed already (a double kfree)");
    if (b->magic != MAGIC_USED)
        panic("kfree(%p): not a pointer kmalloc returned (or its block was overwritten)", p);
    b->magic = MAGIC_FREE;
    b->next_free = free_list;
    free_list = b;
}
