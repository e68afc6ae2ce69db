/*
 * A VM's memory map: which guest-physical ranges are memory of this VM and
 * where they are in the host. With no EPT the guest's physical addresses
 * are host-physical ones, so the map mostly says which host pages the guest
 * may reach -- it is what the probe trusts, and what is freed with the VM.
 * Regions are kept sorted by address and never overlap; adjacent pages of
 * the same kind merge, so a lookup is a binary search over few regions;
 * the last pages looked up are remembered (the probe walks the same tables
 * again and again).
 */
#include "kernel/mm.h"
#include "kernel/string.h"
#include "kev/internal.h"

/* The index of the first region that ends after gpa. */
static size_t lower_bound(const struct vm *vm, uint64_t gpa)
{
    size_t lo = 0, hi = vm->nmem;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (vm->mem[mid].gpa + vm->mem[mid].size <= gpa)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct mem_region *mem_find(struct vm *vm, uint64_t gpa)
{
    uint64_t page = gpa / PAGE_SIZE + 1;
    size_t slot = page % KEV_MEM_HINTS;
    if (vm->mem_hints[slot].page == page) {
        const struct mem_region *r = &vm->mem[vm->mem_hints[slot].index];
        if (r->gpa <= gpa && gpa - r->gpa < r->size)
            return r;
    }
    size_t i = lower_bound(vm, gpa);
    if (i < vm->nmem && vm->mem[i].gpa <= gpa) {
        vm->mem_hints[slot].page = page;
        vm->mem_hints[slot].index = i;
        return &vm->mem[i];
    }
    return NULL;
}

/* Every change to the map may move or resize a region a hint names (and
 * comes with a change to the page table, whose walks the probe remembers). */
void mem_forget_hints(struct vm *vm)
{
    memset(vm->mem_hints, 0, sizeof(vm->mem_hints));
    memset(vm->walk_hints, 0, sizeof(vm->walk_hints));
}

static bool mergeable(const struct mem_region *a, uint64_t gpa, paddr_t host, enum mem_kind kind)
{
    return a->kind == kind && a->gpa + a->size == gpa && a->host + a->size == host;
}

enum kev_error mem_add(struct vm *vm, uint64_t gpa, uint64_t size, paddr_t host, enum mem_kind kind)
{
    if (size == 0 || gpa + size < gpa)
        return KEV_EINVAL;
    mem_forget_hints(vm);
    size_t i = lower_bound(vm, gpa);
    if (i < vm->nmem && vm->mem[i].gpa < gpa + size) {
        const struct mem_region *r = &vm->mem[i];
        /* Already there (a table page shared by many mappings, a page mapped twice). */
        if (r->kind == kind && r->gpa <= gpa && gpa + size <= r->gpa + r->size &&
            r->host + (gpa - r->gpa) == host)
            return KEV_OK;
        return KEV_EEXIST;
    }
    if (i > 0 && mergeable(&vm->mem[i - 1], gpa, host, kind)) {
        vm->mem[i - 1].size += size;
        /* It may now touch the next one. */
        if (i < vm->nmem && mergeable(&vm->mem[i - 1], vm->mem[i].gpa, vm->mem[i].host, vm->mem[i].kind)) {
            vm->mem[i - 1].size += vm->mem[i].size;
            memmove(&vm->mem[i], &vm->mem[i + 1], (vm->nmem - i - 1) * sizeof(vm->mem[0]));
            vm->nmem--;
        }
        return KEV_OK;
    }
    if (i < vm->nmem && kind == vm->mem[i].kind && gpa + size == vm->mem[i].gpa &&
        host + size == vm->mem[i].host) {
        vm->mem[i].gpa = gpa;
        vm->mem[i].host = host;
        vm->mem[i].size += size;
        return KEV_OK;
    }
    if (vm->nmem == vm->capmem) {
        size_t cap = vm->capmem ? vm->capmem * 2 : 16;
        struct mem_region *m = kmalloc(cap * sizeof(*m));
        if (m == NULL)
            return KEV_ENOMEM;
        if (vm->nmem)
            memcpy(m, vm->mem, vm->nmem * sizeof(*m));
        kfree(vm->mem);
        vm->mem = m;
        vm->capmem = cap;
    }
    memmove(&vm->mem[i + 1], &vm->mem[i], (vm->nmem - i) * sizeof(vm->mem[0]));
    vm->mem[i] = (struct mem_region){.gpa = gpa, .size = size, .host = host, .kind = kind};
    vm->nmem++;
    return KEV_OK;
}

void mem_free_all(struct vm *vm, bool tables)
{
    for (size_t i = 0; i < vm->nmem; i++)
        if (vm->mem[i].kind == MEM_OWNED || (tables && vm->mem[i].kind == MEM_TABLE))
            pages_free(vm->mem[i].host, vm->mem[i].size / PAGE_SIZE);
    kfree(vm->mem);
    vm->mem = NULL;
    vm->nmem = vm->capmem = 0;
    mem_forget_hints(vm);
}
