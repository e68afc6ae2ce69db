/*
 * EPT: the second translation, guest-physical -> host-physical, that the
 * CPU does itself once a VM's "enable EPT" control is set (Intel SDM Vol.
 * 3C, 29.3 "The Extended Page Table Mechanism (EPT)"). A 4-level EPT is a
 * tree of 4 KiB tables of 512 entries, like the guest's own page tables: a
 * guest-physical address gives one 9-bit index per level (bits 47:39 in
 * the root, then 38:30, 29:21, 20:12) and a 12-bit offset. An entry holds
 * the next table's, or at the last level the page's, host-physical address
 * in bits 51:12, and what it allows in bits 2:0 (read, write, execute); an
 * entry allowing nothing is not present. A leaf also holds the page's
 * memory type in bits 5:3 (write-back, 6, for ordinary memory).
 *
 * An ept_space is one EPT and the memory around it: its table pages (the
 * root first) and the host pages of guest memory it may map. Student code
 * (project 3) builds the tables: it allocates table pages with
 * ept_table_alloc() and reaches any page of the space at phys_to_virt(pa)
 * (table pages writable, guest pages as lent). kev checks the tables
 * before every VM entry that follows student code: every table entry must
 * name a table page of the space and every leaf a guest page of it, with
 * 4 KiB pages only; whatever else the tables hold, they reach no host
 * memory but the VM's, and a bad entry stops the VM with KEV_EEPT and a
 * message naming it.
 *
 *   struct ept_space *sp = kev_ept_create(64);        the root, 63 tables more at most
 *   paddr_t page;
 *   kev_ept_guest_page(sp, false, &page);            a zeroed guest page, lent read-only
 *   kev_ept_map(sp, GPA(0x1000), page, EPT_R | EPT_W);   kev's own map (given code, tests)
 *   struct vm_config c = {..., .ept = sp};           the VM runs on it
 *   ...
 *   kev_ept_destroy(sp);                             after the VM: frees every page
 */
#ifndef KEV_EPT_H
#define KEV_EPT_H

#include "kernel/types.h"
#include "kernel/user.h"
#include "kev/addr.h"
#include "kev/error.h"

/* An EPT entry's bits (Vol. 3C, 29.3.2 "EPT Translation Mechanism"). */
#define EPT_R (1ULL << 0)            /* reads allowed */
#define EPT_W (1ULL << 1)            /* writes allowed */
#define EPT_X (1ULL << 2)            /* instruction fetches allowed */
#define EPT_RWX (EPT_R | EPT_W | EPT_X)
#define EPT_MT_SHIFT 3               /* a leaf's memory type, bits 5:3 */
#define EPT_MT_WB (6ULL << EPT_MT_SHIFT)
#define EPT_IGNORE_PAT (1ULL << 6)
#define EPT_LARGE (1ULL << 7)        /* a 2 MiB or 1 GiB leaf (kev refuses them) */
#define EPT_ACCESSED (1ULL << 8)     /* set by the CPU when the EPTP enables A/D */
#define EPT_DIRTY (1ULL << 9)
#define EPT_ADDR_MASK 0x000ffffffffff000ULL
#define EPT_LEVELS 4
#define EPT_ENTRIES 512
/* A 4-level EPT translates guest-physical addresses below 2^48. */
#define EPT_GPA_LIMIT (1ULL << 48)

/* The host page at pa, as student code sees it (the physical window of
 * kernel/user.h): valid for the pages of the running test's EPT space. */
static inline void *phys_to_virt(paddr_t pa)
{
    return (void *)(uintptr_t)(USER_PHYS_BASE + pa);
}

struct ept_space;

/*
 * A new space with its root table; at most max_tables table pages in all
 * (the root included), so a test can run the allocator dry. It becomes
 * the space student code's ept_table_alloc() allocates in. NULL when there
 * is no memory, or another space exists.
 */
struct ept_space *kev_ept_create(size_t max_tables);
/* Frees every page of the space and lends none any more. */
void kev_ept_destroy(struct ept_space *sp);
/* The space ept_table_alloc() uses now, or NULL. */
struct ept_space *kev_ept_current(void);
paddr_t kev_ept_root(const struct ept_space *sp);
/* The EPT pointer for the VMCS: write-back, 4 levels, A/D flags where the
 * CPU has them (Vol. 3C, 25.6.11 "Extended-Page-Table Pointer (EPTP)"). */
uint64_t kev_ept_pointer(const struct ept_space *sp);
size_t kev_ept_tables(const struct ept_space *sp);

/* A zeroed table page (what student code's ept_table_alloc() gets).
 * KEV_ENOMEM past max_tables. */
enum kev_error kev_ept_table_alloc(struct ept_space *sp, paddr_t *page);
/* A zeroed host page of guest memory, lent to student code read-only or
 * writable; the space owns it. */
enum kev_error kev_ept_guest_page(struct ept_space *sp, bool writable, paddr_t *page);
/* Whether pa is a table page, or a guest page, of the space. */
bool kev_ept_is_table(const struct ept_space *sp, paddr_t pa);
bool kev_ept_is_guest(const struct ept_space *sp, paddr_t pa);

/*
 * What the CPU's walk finds for a guest-physical address, read from the
 * tables as they are (whoever built them).
 */
struct ept_walk {
    int level;               /* 0: a 4 KiB leaf found; else the level (4 = root) where it stopped */
    uint64_t entry[EPT_LEVELS]; /* the entries read, the root's first */
    unsigned nentries;
    uint64_t perm;           /* EPT_R/W/X: what every level allows (a leaf found) */
    uint64_t memtype;        /* the leaf's bits 5:3 */
    paddr_t hpa;             /* the page's address plus the offset */
    char problem[160];       /* KEV_EEPT: what is wrong with the entry at `level` */
};
/*
 * KEV_OK with w->hpa; KEV_EUNMAPPED when an entry on the way is not
 * present (w->level says which); KEV_EINVAL for gpa >= EPT_GPA_LIMIT;
 * KEV_EEPT when a table entry is one kev refuses, a large page or one
 * naming a page that is not a table of the space (w->problem says why).
 * The page a leaf names is not checked: before using it as memory, ask
 * kev_ept_is_guest.
 */
enum kev_error kev_ept_walk(const struct ept_space *sp, gpa_t gpa, struct ept_walk *w);

/* kev's own 4 KiB map (given code, tests): WB, tables from the space.
 * KEV_EEXIST when gpa is mapped already. */
enum kev_error kev_ept_map(struct ept_space *sp, gpa_t gpa, paddr_t hpa, uint64_t perm);

/*
 * The check before VM entry: every present entry of every table reached
 * from the root names a table page of the space (a leaf: a guest page of
 * it), and no entry is a large page. False with a sentence naming the
 * first bad entry in msg.
 */
bool kev_ept_check(struct ept_space *sp, char *msg, size_t size);
/* Whether the tables may have changed since the last call: student code
 * wrote to a table page, or kev mapped or allocated. */
bool kev_ept_changed(struct ept_space *sp);

/* "rw-" for EPT_R | EPT_W: 4 bytes with the NUL. */
void kev_ept_perm_name(uint64_t perm, char buf[4]);

/* An EPT violation's exit qualification, in words: "a write (the EPT
 * allows r--) of guest-physical 0x... (guest-linear 0x...)"
 * (Vol. 3C, 28.2.1, Table 28-7 "Exit Qualification for EPT Violations"). */
void kev_ept_describe_violation(uint64_t qual, uint64_t gpa, uint64_t gla, char *buf, size_t size);

/*
 * A guest's own page table on EPT, in guest memory (kev/ept_guest.c): its
 * entries hold guest-physical addresses, and its table pages are guest
 * pages of the space at guest-physical addresses from table_gpa up, each
 * mapped in the EPT read/write (the CPU sets accessed and dirty bits in
 * them) through `map`: kev_ept_map's own, or the student's.
 *
 *   struct gpt g;
 *   gpt_init(&g, sp, GPA(0x1000), gpt_kev_map, sp);
 *   gpt_map(&g, GVA(0x400000), GPA(0x200000), 0);          read-only, executable
 *   gpt_map(&g, GVA(0x600000), GPA(0x201000), PTE_W | PTE_NX);
 *   ... then GUEST_CR3 = gpt_root(&g).addr
 */
#define GPT_TABLES_MAX 32
typedef enum kev_error (*ept_map_fn)(void *ctx, gpa_t gpa, paddr_t hpa, uint64_t perm);
struct gpt {
    struct ept_space *sp;
    ept_map_fn map;
    void *ctx;
    uint64_t next_gpa;   /* the next table page's guest-physical address */
    unsigned ntables;
    struct {
        uint64_t gpa;
        paddr_t hpa;
    } tables[GPT_TABLES_MAX]; /* [0]: the PML4 */
};
enum kev_error gpt_init(struct gpt *g, struct ept_space *sp, gpa_t table_gpa, ept_map_fn map, void *ctx);
/* Maps the 4 KiB guest page at gva to gpa with kernel/paging.h's PTE_W and
 * PTE_NX (P is added). KEV_EEXIST when gva is mapped already. */
enum kev_error gpt_map(struct gpt *g, gva_t gva, gpa_t gpa, uint64_t flags);
/* The PML4's guest-physical address: the guest's CR3. */
gpa_t gpt_root(const struct gpt *g);
/* kev_ept_map as an ept_map_fn (ctx: the space). */
enum kev_error gpt_kev_map(void *ctx, gpa_t gpa, paddr_t hpa, uint64_t perm);

/*
 * For student code: a zeroed table page for the EPT being built, KEV_OK
 * and its host-physical address in *page, or KEV_ENOMEM when the test's
 * EPT has no more table pages to give (tests set a limit). A syscall
 * (user/syscalls.tbl); sys_ept_table_alloc serves it.
 */
enum kev_error ept_table_alloc(paddr_t *page);
enum kev_error sys_ept_table_alloc(paddr_t *page);

#endif
