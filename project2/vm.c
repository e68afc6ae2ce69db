/*
 * Project 2's VM: the guest builder of kev/guest.h sets up a flat 64-bit
 * guest without EPT, whose page table maps (project2/guest.h):
 *
 *   GUEST_CODE       the guest binary, read-only and executable
 *   GUEST_PARAMS     the parameter page, read-only, filled from the case
 *   GUEST_BUF        GUEST_BUF_PAGES writable pages that are neighbours for
 *                    the guest but never in host memory (but the case's hole)
 *   the stack page   below GUEST_STACK_TOP
 *
 * Nothing else is mapped, GUEST_UNMAPPED included. The probe translates
 * through this same page table (GUEST_CR3).
 */
#include "project2/vm.h"
#include "guests/guests.h"
#include "kernel/cmdline.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "project2/controller.h"
#include "project2/entry.h"
#include "kev/upcall.h"

#define PARAMS_PAGES ((sizeof(struct guest_params) + PAGE_SIZE - 1) / PAGE_SIZE)
_Static_assert(GUEST_PARAMS + PARAMS_PAGES * PAGE_SIZE <= GUEST_BUF, "the parameters reach GUEST_BUF");

/*
 * Cases mostly run one guest at one layout (a test's cases, and often the
 * next test's), and building a VM's memory is most of what a short case
 * costs: the VM of the last case is kept (kev_run_vm_kept) while the layout
 * stays, and refresh_bsp sets it up again: it writes the case's parameters,
 * zeroes what the last case wrote of the buffer and the stack (the pages the
 * guest and student code may write), refills the buffer and clears the
 * accessed and dirty flags of every mapping; the code and the page table are read-only to both, and stay (a
 * VM whose memory student code wrote through a lent page or
 * probe_copy_to_gpa is not kept). The page pointers below are those of the
 * VM setup_bsp built last, `owner`.
 */
static struct {
    struct vm_keep keep;
    uint64_t layouts;  /* layouts seen: the kept VM's is number layouts */
    char guest[48];
    uint64_t code_gva;
    size_t entry_offset;
    int hole;
    const struct vm *owner;
    size_t code_pages;
    uint8_t *params[PARAMS_PAGES], *buf[GUEST_BUF_PAGES], *stack;
    bool written[GUEST_BUF_PAGES]; /* the page may hold bytes other than zero */
} kept;

/* GUEST_BUF's image (c->buf's bytes [buf_off, buf_off + buf_len)) into its
 * pages (host[i] NULL: the hole). */
static enum kev_error fill_buffer(uint8_t *const host[GUEST_BUF_PAGES], const struct p2_vm_config *c)
{
    for (size_t at = 0; at < c->buf_len;) {
        size_t off = c->buf_off + at, page = off / PAGE_SIZE;
        size_t n = PAGE_SIZE - off % PAGE_SIZE;
        if (n > c->buf_len - at)
            n = c->buf_len - at;
        if (page >= GUEST_BUF_PAGES)
            return KEV_EINVAL;
        if (host[page])
            memcpy(host[page] + off % PAGE_SIZE, c->buf + off, n);
        at += n;
    }
    return KEV_OK;
}

/* The part of buffer page i that c's fill writes: bytes [*from, *to) of
 * the page (from == to: none). */
static void fill_span(const struct p2_vm_config *c, size_t i, size_t *from, size_t *to)
{
    size_t start = i * PAGE_SIZE, lo = c->buf_off, hi = c->buf_off + c->buf_len;
    lo = lo < start ? start : lo > start + PAGE_SIZE ? start + PAGE_SIZE : lo;
    hi = hi < lo ? lo : hi > start + PAGE_SIZE ? start + PAGE_SIZE : hi;
    *from = lo - start;
    *to = hi - start;
}

/* Zeroes the buffer's bytes that fill_buffer leaves alone on the pages
 * that may hold others (kept.written): with the fill, what a new VM's
 * pages hold, without writing the filled bytes twice, nor pages that are
 * zero already. */
static void clear_unfilled(uint8_t *const host[GUEST_BUF_PAGES], const struct p2_vm_config *c)
{
    for (size_t i = 0; i < GUEST_BUF_PAGES; i++) {
        size_t from, to;
        if (host[i] == NULL || !kept.written[i])
            continue;
        fill_span(c, i, &from, &to);
        memset(host[i], 0, from);
        memset(host[i] + to, 0, PAGE_SIZE - to);
    }
}

/* The pages c's fill writes are the ones that hold other bytes than zero
 * once it is done (until the guest or student code writes more). */
static void note_filled(const struct p2_vm_config *c)
{
    for (size_t i = 0; i < GUEST_BUF_PAGES; i++) {
        size_t from, to;
        fill_span(c, i, &from, &to);
        kept.written[i] = from < to;
    }
}

/*
 * The GUEST_BUF pages, allocated last page first: the page allocator hands
 * out the lowest free page, so each page ends up above the next and never
 * right below it. Checked anyway: the cross-page tests rely on it.
 */
static enum kev_error map_buffer(struct vm *vm, const struct p2_vm_config *c)
{
    uint8_t **host = kept.buf;
    memset(kept.buf, 0, sizeof(kept.buf));
    for (int i = GUEST_BUF_PAGES - 1; i >= 0; i--) {
        if (i == c->hole)
            continue;
        void *h;
        enum kev_error e = kev_guest_alloc(vm, GVA(GUEST_BUF + i * PAGE_SIZE), 1, PTE_W | PTE_NX, &h);
        if (e != KEV_OK)
            return e;
        host[i] = h;
    }
    for (int i = 0; i + 1 < GUEST_BUF_PAGES; i++) {
        if (host[i] && host[i] + PAGE_SIZE == host[i + 1]) {
            printk("p2: GUEST_BUF's pages %d and %d are neighbours in host memory\n", i, i + 1);
            return KEV_EINVAL;
        }
    }
    note_filled(c);
    return fill_buffer(host, c);
}

/* c's parameters into kept.params' pages, the rest of the last one zero. */
static void write_params(const struct p2_vm_config *c)
{
    const uint8_t *src = (const uint8_t *)&c->params;
    for (size_t i = 0; i < PARAMS_PAGES; i++) {
        size_t n = sizeof(c->params) - i * PAGE_SIZE;
        n = n < PAGE_SIZE ? n : PAGE_SIZE;
        memcpy(kept.params[i], src + i * PAGE_SIZE, n);
        memset(kept.params[i] + n, 0, PAGE_SIZE - n);
    }
}

/* The parameter pages, each kept for a refresh. */
static enum kev_error load_params(struct vm *vm, const struct p2_vm_config *c)
{
    for (size_t i = 0; i < PARAMS_PAGES; i++) {
        void *h;
        enum kev_error e = kev_guest_alloc(vm, GVA(GUEST_PARAMS + i * PAGE_SIZE), 1, PTE_NX, &h);
        if (e != KEV_OK)
            return e;
        kept.params[i] = h;
    }
    write_params(c);
    return KEV_OK;
}

/* The entry-state part: the student's entry_setup() writes GUEST_CR3 and
 * GUEST_RIP (an upcall, the only time those two are theirs to write), and
 * the two fields are checked before the first entry, by name. */
static const uint32_t entry_writable[] = {GUEST_CR3, GUEST_RIP, VMCS_FIELD_END};

static enum kev_error check_field(struct vcpu_state *s, uint32_t field, uint64_t want,
                                  const char *desc)
{
    uint64_t got = vmcs_read_diag(field);
    if (got == want)
        return KEV_OK;
    vm_stop(s->vm, KEV_EGUEST_STATE, "after entry_setup(), %s is 0x%lx, but the guest's %s is 0x%lx "
            "(d->%s)%s", vmcs_field_name(field), got,
            field == GUEST_CR3 ? "page table" : "entry point", want, desc,
            got == 0 ? ": entry_setup() did not write it" : "");
    return KEV_EGUEST_STATE;
}

static enum kev_error entry_state(struct vm *vm, struct vcpu_state *s, uint64_t entry)
{
    /* What the builder leaves in the two fields: nothing a guest could run on. */
    enum kev_error e;
    if ((e = vmcs_writel(&s->vmcs, GUEST_CR3, 0)) || (e = vmcs_writel(&s->vmcs, GUEST_RIP, 0)))
        return e;
    struct entry_desc d = {.page_table = GPA(kev_guest_pml4(vm)), .entry = GVA(entry)};
    user_frame_reset();
    uint64_t us = upcall_push_vcpu(s);
    uint64_t ud = user_push(&d, sizeof(d));
    struct user_result r = user_call(entry_setup, us, ud, 0, 0);
    if (r.status != USER_RETURNED) {
        upcall_stopped(s, &r);
        return KEV_ESTUDENT;
    }
    e = (enum kev_error)(uint32_t)r.ret[0];
    if (e != KEV_OK) {
        vm_stop(vm, e, "entry_setup() returned %s", kev_error_name(e));
        return e;
    }
    if ((e = check_field(s, GUEST_CR3, d.page_table.addr, "page_table")) ||
        (e = check_field(s, GUEST_RIP, d.entry.addr, "entry")))
        return e;
    return KEV_OK;
}

/* The guest's code at gva, after `sled` bytes of ud2 (0f 0b): a RIP that
 * misses the entry point runs into them. */
static enum kev_error load_code(struct vm *vm, uint64_t gva, const struct guest_image *g, size_t sled)
{
    static uint8_t image[GUEST_CODE_MAX];
    size_t size = (size_t)(g->end - g->start);
    if (size + sled > sizeof(image))
        return KEV_EINVAL;
    if (sled == 0) /* most guests: straight from the kernel image */
        return kev_guest_load(vm, GVA(gva), g->start, size, 0);
    for (size_t i = 0; i < sled; i++)
        image[i] = i % 2 ? 0x0b : 0x0f;
    memcpy(image + sled, g->start, size);
    return kev_guest_load(vm, GVA(gva), image, sled + size, 0);
}

/* guests/project2/<name>.asm's image; the last one found is kept, since a
 * test's cases all run one guest. */
static const struct guest_image *find_guest(const char *name)
{
    static char last[48];
    static const struct guest_image *found;
    if (found && strcmp(name, last) == 0)
        return found;
    char path[64];
    snprintf(path, sizeof(path), "project2/%s", name);
    found = guest_find(path);
    if (found == NULL) {
        printk("p2: there is no guest %s (guests/%s.asm)\n", path, path);
        return NULL;
    }
    strlcpy(last, name, sizeof(last));
    return found;
}

static enum kev_error setup_bsp(struct vm *vm, struct vcpu_state *s)
{
    const struct p2_vm_config *c = vm_data(vm);
    const struct guest_image *g = find_guest(c->guest);
    if (g == NULL)
        return KEV_EINVAL;
    uint64_t code = c->code_gva ? c->code_gva : GUEST_CODE;
    enum kev_error e;
    void *stack;
    kept.owner = NULL;
    if ((e = load_code(vm, code, g, c->entry_offset)) || (e = load_params(vm, c)) ||
        (e = map_buffer(vm, c)) ||
        (e = kev_guest_alloc(vm, GVA(GUEST_STACK_TOP - PAGE_SIZE), 1, PTE_W | PTE_NX, &stack)))
        return e;
    kept.stack = stack;
    kept.code_pages = (c->entry_offset + (size_t)(g->end - g->start) + PAGE_SIZE - 1) / PAGE_SIZE;
    kept.owner = vm;
    if (c->parts & P2_ENTRY) {
        if ((e = kev_guest_move_pml4(vm, c->pml4_skip)) ||
            (e = kev_guest_setup_flat64(s, GVA(0), GVA(GUEST_STACK_TOP))))
            return e;
        return entry_state(vm, s, code + c->entry_offset);
    }
    return kev_guest_setup_flat64(s, GVA(code + c->entry_offset), GVA(GUEST_STACK_TOP));
}

/* The accessed and dirty flags of the n pages from gva (those of them
 * mapped: host[i] not NULL, when host is given); written[i] (when given)
 * becomes true when page i was written since. */
static enum kev_error clear_accessed(struct vm *vm, uint64_t gva, size_t n, uint8_t *const *host,
                                     bool *written)
{
    for (size_t i = 0; i < n; i++) {
        bool dirty = false;
        if (host == NULL || host[i])
            KEV_TRY(kev_guest_clear_accessed(vm, GVA(gva + i * PAGE_SIZE), &dirty));
        if (written)
            written[i] |= dirty;
    }
    return KEV_OK;
}

/* The first byte in [from, to) of p that is not zero, or to. */
static size_t first_nonzero(const uint8_t *p, size_t from, size_t to)
{
    while (from < to && p[from] == 0)
        from++;
    return from;
}

/* p2.check_refresh=1 on the command line (tests/e2e/projects.py): after
 * each refresh, every byte the fill left alone, on the buffer and the
 * stack, is checked to be zero, as on a new VM. */
static enum kev_error check_refresh(const struct p2_vm_config *c)
{
    static int on = -1;
    if (on < 0)
        on = cmdline_flag("p2.check_refresh");
    for (size_t i = 0; on && i < GUEST_BUF_PAGES; i++) {
        size_t from, to, bad;
        if (kept.buf[i] == NULL)
            continue;
        fill_span(c, i, &from, &to);
        if ((bad = first_nonzero(kept.buf[i], 0, from)) == from)
            bad = first_nonzero(kept.buf[i], to, PAGE_SIZE);
        if (bad < PAGE_SIZE) {
            printk("p2: after refresh_bsp, byte %zu of the buffer is 0x%02x, not 0: a write the "
                   "refresh missed\n", i * PAGE_SIZE + bad, kept.buf[i][bad]);
            return KEV_EINVAL;
        }
    }
    size_t bad = on ? first_nonzero(kept.stack, 0, PAGE_SIZE) : PAGE_SIZE;
    if (bad < PAGE_SIZE) {
        printk("p2: after refresh_bsp, byte %zu of the stack page is 0x%02x, not 0: a write the "
               "refresh missed\n", bad, kept.stack[bad]);
        return KEV_EINVAL;
    }
    return KEV_OK;
}

/*
 * A kept VM (see `kept`): its pages as setup_bsp left them, the mappings'
 * accessed and dirty flags cleared, the vCPU at the entry point. What the
 * last case wrote is known: the buffer pages its fill wrote, and those the
 * dirty flags name (the guest's stores, the probe's copies into the guest;
 * student code that wrote VM memory otherwise made kev drop the VM).
 */
static enum kev_error refresh_bsp(struct vm *vm, struct vcpu_state *s)
{
    const struct p2_vm_config *c = vm_data(vm);
    if (kept.owner != vm || (c->parts & P2_ENTRY))
        return KEV_EINVAL; /* not the VM these pages are of: a bug here */
    uint64_t code = c->code_gva ? c->code_gva : GUEST_CODE;
    bool stack_written = false;
    enum kev_error e;
    if ((e = clear_accessed(vm, code, kept.code_pages, NULL, NULL)) ||
        (e = clear_accessed(vm, GUEST_PARAMS, PARAMS_PAGES, NULL, NULL)) ||
        (e = clear_accessed(vm, GUEST_BUF, GUEST_BUF_PAGES, kept.buf, kept.written)) ||
        (e = clear_accessed(vm, GUEST_STACK_TOP - PAGE_SIZE, 1, NULL, &stack_written)))
        return e;
    write_params(c);
    clear_unfilled(kept.buf, c);
    if (stack_written)
        memset(kept.stack, 0, PAGE_SIZE);
    note_filled(c);
    if ((e = fill_buffer(kept.buf, c)) || (e = check_refresh(c)))
        return e;
    return kev_guest_setup_flat64(s, GVA(code + c->entry_offset), GVA(GUEST_STACK_TOP));
}

/* The number of c's layout: the kept VM's when c would build the same. */
static uint64_t layout_of(const struct p2_vm_config *c)
{
    uint64_t code = c->code_gva ? c->code_gva : GUEST_CODE;
    if (kept.layouts == 0 || strlen(c->guest) >= sizeof(kept.guest) ||
        strcmp(c->guest, kept.guest) != 0 || code != kept.code_gva ||
        c->entry_offset != kept.entry_offset || c->hole != kept.hole) {
        kept.layouts++;
        strlcpy(kept.guest, c->guest, sizeof(kept.guest));
        kept.code_gva = code;
        kept.entry_offset = c->entry_offset;
        kept.hole = c->hole;
    }
    return kept.layouts;
}

void p2_vm_release(void)
{
    vm_keep_release(&kept.keep);
}

static const struct vm_state_ops p2_vm_ops = {.setup_bsp = setup_bsp, .refresh_bsp = refresh_bsp};

/* A part's controller in the chain: the parts' own (cpuid_ctl.c, ...) add
 * their row. */
static const struct {
    unsigned part;
    void (*init)(struct vmexit_controller *c, struct printer *out);
} part_controllers[] = {
    {P2_HYPERCALLS, hypercall_controller_init},
    {P2_CPUID, cpuid_controller_init},
    {P2_PIO, pio_controller_init},
    {P2_MSR, msr_controller_init},
};

void p2_vm_run(const struct p2_vm_config *c, struct printer *out, struct vm_outcome *outcome)
{
    unsigned parts = c->parts ? c->parts : P2_HYPERCALLS;
    struct vmexit_controller ctl[ARRAY_SIZE(part_controllers) + 1];
    struct vmexit_controller *chain[ARRAY_SIZE(part_controllers) + 2];
    size_t n = 0;
    if (parts != P2_HYPERCALLS) { /* the tests' own hypercalls, first */
        test_controller_init(&ctl[n], out);
        chain[n] = &ctl[n];
        n++;
    }
    for (size_t i = 0; i < ARRAY_SIZE(part_controllers); i++) {
        if (parts & part_controllers[i].part) {
            part_controllers[i].init(&ctl[n], out);
            chain[n] = &ctl[n];
            n++;
        }
    }
    chain[n] = NULL;
    struct vm_config config = {
        .name = c->guest,
        .ops = &p2_vm_ops,
        .data = (void *)c,
        .controllers = chain,
        .controls = c->controls,
        .first_vcpu_id = c->vcpu_id,
        .user_writable = (parts & P2_ENTRY) ? entry_writable : NULL,
    };
    struct pio_vm pio = {0};
    if (parts & P2_PIO) {
        enum kev_error e = pio_vm_begin(&pio, c, out);
        if (e != KEV_OK) {
            *outcome = (struct vm_outcome){.kind = VM_FAILED, .error = e};
            snprintf(outcome->message, sizeof(outcome->message), "no memory for the I/O bitmaps");
            return;
        }
        if (pio.bitmaps)
            config.controls = &pio.controls;
    }
    if ((parts & P2_MSR) && !msr_vm_begin(c, &config, outcome)) {
        if (parts & P2_PIO)
            pio_vm_end(&pio);
        return;
    }
    if (parts & P2_ENTRY) { /* its page table moves and its state is the student's: always new */
        p2_vm_release();
        kev_run_vm(&config, outcome);
    } else {
        kev_run_vm_kept(&config, layout_of(c), &kept.keep, outcome);
    }
    if (parts & P2_PIO)
        pio_vm_end(&pio);
    if (parts & P2_MSR)
        msr_vm_end(outcome);
}
