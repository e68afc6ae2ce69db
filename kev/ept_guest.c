/*
 * A guest's own page table on EPT (kev/ept.h: struct gpt). Without EPT kev
 * builds the guest's table in host memory with kernel/paging.h, whose
 * entries are host addresses; on EPT the entries are guest-physical
 * addresses and the tables are guest memory, reached through the EPT like
 * any other guest page, so they are built here by hand (Vol. 3A, 4.5
 * "4-Level Paging and 5-Level Paging").
 */
#include "kernel/paging.h"
#include "kernel/string.h"
#include "kev/internal.h"

#define GPT_ALLOWED_FLAGS (PTE_W | PTE_NX)

/* A new zeroed table page at the next table address, mapped in the EPT. */
static enum kev_error new_table(struct gpt *g, uint64_t *gpa_out, uint64_t **host)
{
    if (g->ntables == GPT_TABLES_MAX)
        return KEV_ENOMEM;
    paddr_t hpa;
    KEV_TRY(kev_ept_guest_page(g->sp, false, &hpa));
    uint64_t gpa = g->next_gpa;
    KEV_TRY(g->map(g->ctx, GPA(gpa), hpa, EPT_R | EPT_W));
    g->tables[g->ntables].gpa = gpa;
    g->tables[g->ntables].hpa = hpa;
    g->ntables++;
    g->next_gpa += PAGE_SIZE;
    *gpa_out = gpa;
    *host = (uint64_t *)(uintptr_t)hpa;
    return KEV_OK;
}

/* The host page of the table at gpa (one of ours). */
static uint64_t *table_at(const struct gpt *g, uint64_t gpa)
{
    for (unsigned i = 0; i < g->ntables; i++)
        if (g->tables[i].gpa == gpa)
            return (uint64_t *)(uintptr_t)g->tables[i].hpa;
    return NULL;
}

enum kev_error gpt_init(struct gpt *g, struct ept_space *sp, gpa_t table_gpa, ept_map_fn map, void *ctx)
{
    memset(g, 0, sizeof(*g));
    if (table_gpa.addr & (PAGE_SIZE - 1))
        return KEV_EALIGN;
    g->sp = sp;
    g->map = map;
    g->ctx = ctx;
    g->next_gpa = table_gpa.addr;
    uint64_t gpa, *host;
    return new_table(g, &gpa, &host);
}

gpa_t gpt_root(const struct gpt *g)
{
    return GPA(g->tables[0].gpa);
}

enum kev_error gpt_map(struct gpt *g, gva_t gva, gpa_t gpa, uint64_t flags)
{
    if ((gva.addr | gpa.addr) & (PAGE_SIZE - 1) || (flags & ~GPT_ALLOWED_FLAGS))
        return KEV_EINVAL;
    if ((uint64_t)((int64_t)(gva.addr << 16) >> 16) != gva.addr)
        return KEV_ENONCANONICAL;
    uint64_t *t = (uint64_t *)(uintptr_t)g->tables[0].hpa;
    for (int level = 4; level > 1; level--) {
        uint64_t *e = &t[(gva.addr >> (12 + 9 * (level - 1))) & 511];
        if (!(*e & PTE_P)) {
            uint64_t next;
            uint64_t *host;
            KEV_TRY(new_table(g, &next, &host));
            *e = next | PTE_P | PTE_W; /* tables allow everything: the leaf decides */
        }
        t = table_at(g, *e & PTE_ADDR_MASK);
        if (t == NULL)
            return KEV_EINVAL; /* not reached: every table is one of ours */
    }
    uint64_t *leaf = &t[(gva.addr >> 12) & 511];
    if (*leaf & PTE_P)
        return KEV_EEXIST;
    if (!kev_guest_nx())
        flags &= ~PTE_NX; /* a reserved bit without EFER.NXE */
    *leaf = gpa.addr | flags | PTE_P;
    return KEV_OK;
}

enum kev_error gpt_kev_map(void *ctx, gpa_t gpa, paddr_t hpa, uint64_t perm)
{
    return kev_ept_map(ctx, gpa, hpa, perm);
}
