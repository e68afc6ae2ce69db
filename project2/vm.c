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
#include "kernel/printk.h"
#include "kernel/string.h"
#include "project2/controller.h"

/*
 * The GUEST_BUF pages, allocated last page first: the page allocator hands
 * out the lowest free page, so each page ends up above the next and never
 * right below it. Checked anyway: the cross-page tests rely on it.
 */
static enum kev_error map_buffer(struct vm *vm, const struct p2_vm_config *c)
{
    uint8_t *host[GUEST_BUF_PAGES] = {0};
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

static enum kev_error setup_bsp(struct vm *vm, struct vcpu_state *s)
{
    const struct p2_vm_config *c = vm_data(vm);
    char name[64];
    snprintf(name, sizeof(name), "project2/%s", c->guest);
    const struct guest_image *g = guest_find(name);
    if (g == NULL) {
        printk("p2: there is no guest %s (guests/%s.asm)\n", name, name);
        return KEV_EINVAL;
    }
    size_t size = (size_t)(g->end - g->start);
    if (size > GUEST_CODE_MAX)
        return KEV_EINVAL;
    enum kev_error e;
    if ((e = kev_guest_load(vm, GVA(GUEST_CODE), g->start, size, 0)) ||
        (e = kev_guest_load(vm, GVA(GUEST_PARAMS), &c->params, sizeof(c->params), PTE_NX)) ||
        (e = map_buffer(vm, c)) ||
        (e = kev_guest_alloc(vm, GVA(GUEST_STACK_TOP - PAGE_SIZE), 1, PTE_W | PTE_NX, NULL)))
        return e;
    return kev_guest_setup_flat64(s, GVA(GUEST_CODE), GVA(GUEST_STACK_TOP));
}

static const struct vm_state_ops p2_vm_ops = {.setup_bsp = setup_bsp};

void p2_vm_run(const struct p2_vm_config *c, struct printer *out, struct vm_outcome *outcome)
{
    struct vmexit_controller hypercalls;
    hypercall_controller_init(&hypercalls, out);
    struct vmexit_controller *const chain[] = {&hypercalls, NULL};
    struct vm_config config = {
        .name = c->guest,
        .ops = &p2_vm_ops,
        .data = (void *)c,
        .controllers = chain,
    };
    kev_run_vm(&config, outcome);
}
