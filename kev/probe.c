/*
 * The probe: guest-virtual -> guest-physical through the guest's page
 * tables, guest-physical -> host through the VM's memory map (on EPT: the
 * VM's EPT, walked as the CPU walks it, to a guest page of its space), and copies
 * that check every page before touching it. A table the guest points at
 * is read only once the memory map says it is this VM's memory, so a
 * guest that sets CR3 or a table entry to anything at all gets an error,
 * never a host page fault. Intel SDM Vol. 3A, 4.5 "4-Level Paging and
 * 5-Level Paging".
 */
#include "kernel/string.h"
#include "kernel/x86.h"
#include "kev/internal.h"

#define EFER_LMA (1ULL << 10)

static bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

enum kev_error probe_gpa_to_host(struct vm *vm, gpa_t gpa, size_t len, void **host)
{
    if (len == 0)
        len = 1;
    if (gpa.addr + len - 1 < gpa.addr)
        return KEV_EOVERFLOW;
    if (vm->ept) {
        /* Guest-physical pages are host pages one at a time. */
        struct ept_walk w;
        if ((gpa.addr & (PAGE_SIZE - 1)) + len > PAGE_SIZE ||
            kev_ept_walk(vm->ept, gpa, &w) != KEV_OK || !(w.perm & EPT_R) ||
            !kev_ept_is_guest(vm->ept, ALIGN_DOWN(w.hpa, PAGE_SIZE)))
            return KEV_ENOTGUESTMEM;
        *host = (void *)(uintptr_t)w.hpa;
        return KEV_OK;
    }
    const struct mem_region *r = mem_find(vm, gpa.addr);
    if (r == NULL || gpa.addr + len - 1 > r->gpa + r->size - 1)
        return KEV_ENOTGUESTMEM;
    *host = (void *)(uintptr_t)(r->host + (gpa.addr - r->gpa));
    return KEV_OK;
}

/* The end of a walk at the leaf entry `ent` of `level`, under upper levels
 * that allow w, u and nx. */
static void walk_end(int level, uint64_t ent, uint64_t w, uint64_t u, uint64_t nx, gva_t gva,
                     gpa_t *gpa, uint64_t *flags)
{
    uint64_t page_mask = (1ULL << (12 + 9 * (level - 1))) - 1;
    uint64_t base = ent & PTE_ADDR_MASK & ~page_mask;
    *gpa = GPA(base | (gva.addr & page_mask));
    if (flags)
        *flags = (ent & ~(PTE_ADDR_MASK | PTE_W | PTE_U | PTE_NX)) | (w & ent) | (u & ent) |
                 nx | (ent & PTE_NX);
}

static enum kev_error walk(struct vcpu_state *s, gva_t gva, gpa_t *gpa, uint64_t *flags,
                           uint64_t **leaf);

enum kev_error probe_gva_to_gpa(struct vcpu_state *s, gva_t gva, gpa_t *gpa, uint64_t *flags)
{
    return walk(s, gva, gpa, flags, NULL);
}

/*
 * The walk; *leaf (when asked, in a VM without EPT): the leaf entry, in
 * kev's table. In a VM without EPT the walk is remembered (struct
 * walk_hint): its page table is kev's, which the guest cannot write (its
 * pages are read-only to it and CR3 loads exit) nor student code
 * (probe_copy_to_gpa refuses them, the probe lends them read-only), and
 * every change kev makes forgets the walks (mem_forget_hints). The leaf is
 * read afresh each time: its address and flags; one no longer present (or
 * no longer a large page) is walked to again.
 */
static enum kev_error walk(struct vcpu_state *s, gva_t gva, gpa_t *gpa, uint64_t *flags,
                           uint64_t **leaf)
{
    uint64_t cr0 = 0, cr3 = 0, cr4 = 0, entry = 0;
    enum kev_error e;
    if ((e = vmcs_readl(&s->vmcs, GUEST_CR0, &cr0)) || (e = vmcs_readl(&s->vmcs, GUEST_CR3, &cr3)) ||
        (e = vmcs_readl(&s->vmcs, GUEST_CR4, &cr4)))
        return e;
    uint32_t ctl;
    if ((e = vmcs_read32(&s->vmcs, VM_ENTRY_CONTROLS, &ctl)))
        return e;
    entry = ctl;
    /* 4-level paging: CR0.PG, CR4.PAE, IA-32e mode (EFER.LMA follows the
     * entry control, and WRMSR to EFER always exits), CR4.LA57 clear. */
    if (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE) || (cr4 & CR4_LA57) || !(entry & VM_ENTRY_IA32E_MODE))
        return KEV_EPAGINGMODE;
    if (!canonical(gva.addr))
        return KEV_ENONCANONICAL;

    uint64_t root = cr3 & PTE_ADDR_MASK, table = root, w = PTE_W, u = PTE_U, nx = 0;
    struct walk_hint *hint = NULL;
    if (s->vm->ept == NULL) {
        hint = &s->vm->walk_hints[(gva.addr >> 12) % KEV_WALK_HINTS];
        uint64_t ent = hint->leaf ? *hint->leaf : 0;
        if (hint->cr3 == root && hint->page == gva.addr >> 12 && (ent & PTE_P) &&
            (hint->level == 1 || (ent & PTE_PS))) {
            if (leaf)
                *leaf = hint->leaf;
            walk_end(hint->level, ent, hint->w, hint->u, hint->nx, gva, gpa, flags);
            return KEV_OK;
        }
    }
    for (int level = 4; level >= 1; level--) {
        unsigned idx = (gva.addr >> (12 + 9 * (level - 1))) & 511;
        uint64_t *pte;
        e = probe_gpa_to_host(s->vm, GPA(table + idx * 8), 8, (void **)&pte);
        if (e != KEV_OK)
            return e;
        uint64_t ent = *pte;
        if (!(ent & PTE_P))
            return KEV_EUNMAPPED;
        if (level == 1 || ((level == 2 || level == 3) && (ent & PTE_PS))) {
            if (hint) {
                *hint = (struct walk_hint){root, gva.addr >> 12, pte, w, u, nx, level};
                if (leaf)
                    *leaf = pte;
            }
            walk_end(level, ent, w, u, nx, gva, gpa, flags);
            return KEV_OK;
        }
        w &= ent;
        u &= ent;
        nx |= ent & PTE_NX;
        table = ent & PTE_ADDR_MASK;
    }
    return KEV_EUNMAPPED; /* not reached */
}

enum kev_error probe_gva_to_host_gpa(struct vcpu_state *s, gva_t gva, size_t len, void **host,
                                     gpa_t *gpa)
{
    if (len > PAGE_SIZE - (gva.addr & (PAGE_SIZE - 1)))
        return KEV_EINVAL; /* crosses a page: use the copies */
    enum kev_error e = probe_gva_to_gpa(s, gva, gpa, NULL);
    return e != KEV_OK ? e : probe_gpa_to_host(s->vm, *gpa, len, host);
}

enum kev_error probe_gva_to_host(struct vcpu_state *s, gva_t gva, size_t len, void **host)
{
    gpa_t gpa;
    return probe_gva_to_host_gpa(s, gva, len, host, &gpa);
}

/* The host address of `chunk` bytes of guest memory at addr (inside one
 * page), checked for a copy in that direction. */
typedef enum kev_error (*page_fn)(void *ctx, uint64_t addr, size_t chunk, bool to_guest, void **p);

/* Every copy: split at guest page boundaries, each page resolved and
 * checked before a byte of it moves. */
static enum kev_error copy_pages(page_fn page, void *ctx, uint64_t addr, uint8_t *host_buf, size_t n,
                                 bool to_guest)
{
    if (n == 0)
        return KEV_OK;
    if (addr + (n - 1) < addr)
        return KEV_EOVERFLOW;
    while (n > 0) {
        size_t chunk = PAGE_SIZE - (addr & (PAGE_SIZE - 1));
        if (chunk > n)
            chunk = n;
        void *p;
        KEV_TRY(page(ctx, addr, chunk, to_guest, &p));
        if (to_guest)
            memcpy(p, host_buf, chunk);
        else
            memcpy(host_buf, p, chunk);
        host_buf += chunk;
        addr += chunk;
        n -= chunk;
    }
    return KEV_OK;
}

/* A guest-virtual page: through the guest's page tables; a write needs
 * them to allow it (read-only for the guest: not for the probe either), and
 * marks the page accessed and dirty in a table of kev's (no EPT), as the
 * guest's own store would: a kept VM's refresh rewrites the dirty pages. */
static enum kev_error gva_page(void *ctx, uint64_t addr, size_t chunk, bool to_guest, void **p)
{
    struct vcpu_state *s = ctx;
    gpa_t gpa;
    uint64_t flags, *leaf = NULL;
    KEV_TRY(walk(s, GVA(addr), &gpa, &flags, to_guest ? &leaf : NULL));
    if (to_guest && !(flags & PTE_W))
        return KEV_EREADONLY;
    KEV_TRY(probe_gpa_to_host(s->vm, gpa, chunk, p));
    if (leaf)
        *leaf |= PTE_A | PTE_D;
    return KEV_OK;
}

enum kev_error probe_copy_from_guest(struct vcpu_state *s, void *dst, gva_t src, size_t n)
{
    return copy_pages(gva_page, s, src.addr, dst, n, false);
}

enum kev_error probe_copy_to_guest(struct vcpu_state *s, gva_t dst, const void *src, size_t n)
{
    return copy_pages(gva_page, s, dst.addr, (uint8_t *)(uintptr_t)src, n, true);
}

/* A guest-physical page: a write also needs the EPT to allow writes there,
 * as the guest's own store would. Without EPT a write never reaches the
 * guest's page tables: they are kev's (read-only to the guest, and their
 * entries are host-physical addresses, so whoever wrote one could map the
 * guest onto any host page). */
static enum kev_error gpa_page(void *ctx, uint64_t addr, size_t chunk, bool to_guest, void **p)
{
    struct vm *vm = ctx;
    KEV_TRY(probe_gpa_to_host(vm, GPA(addr), chunk, p));
    if (to_guest && vm->ept) {
        struct ept_walk w;
        if (kev_ept_walk(vm->ept, GPA(addr), &w) != KEV_OK || !(w.perm & EPT_W))
            return KEV_EREADONLY;
    } else if (to_guest) {
        const struct mem_region *r = mem_find(vm, addr);
        if (r == NULL || r->kind == MEM_TABLE)
            return KEV_EREADONLY;
    }
    return KEV_OK;
}

enum kev_error probe_copy_from_gpa(struct vm *vm, void *dst, gpa_t src, size_t n)
{
    return copy_pages(gpa_page, vm, src.addr, dst, n, false);
}

enum kev_error probe_copy_to_gpa(struct vm *vm, gpa_t dst, const void *src, size_t n)
{
    return copy_pages(gpa_page, vm, dst.addr, (uint8_t *)(uintptr_t)src, n, true);
}
