/*
 * Project 2's VM: the guest builder of kev/guest.h sets up a flat 64-bit
 * guest without EPT, whose page table maps (guests/guests.h):
 *
 *   GUEST_CODE       the guest binary, read-only and executable
 *   GUEST_PARAMS     the parameter page, writable, filled from the test's
 *                    struct guest_params before the guest runs
 *   GUEST_BUF        two writable pages that are neighbours for the guest
 *                    but not in host memory, and an unmapped page after them
 *   the stack page   below GUEST_STACK_TOP
 *
 * Nothing else is mapped, GUEST_UNMAPPED included. The probe translates
 * through this same page table (GUEST_CR3).
 */
#include "project2/vm.h"
#include "project2/controller.h"
#include "kernel/printk.h"

struct p2_vm {
    const struct guest_image *guest;
    const struct guest_params *params;
};

/*
 * The two GUEST_BUF pages, allocated last page first: the page allocator
 * hands out the lowest free page, so the first page ends up above the second
 * and never right below it. Checked anyway: the cross-page test relies on it.
 */
static enum kev_error map_buffer(struct vm *vm)
{
    void *host[GUEST_BUF_PAGES];
    for (int i = GUEST_BUF_PAGES - 1; i >= 0; i--) {
        enum kev_error e = kev_guest_alloc(vm, GVA(GUEST_BUF + i * PAGE_SIZE), 1, PTE_W | PTE_NX,
                                           &host[i]);
        if (e != KEV_OK)
            return e;
    }
    for (int i = 0; i + 1 < GUEST_BUF_PAGES; i++) {
        if ((uint8_t *)host[i] + PAGE_SIZE == host[i + 1]) {
            printk("p2: GUEST_BUF's pages %d and %d are neighbours in host memory\n", i, i + 1);
            return KEV_EINVAL;
        }
    }
    return KEV_OK;
}

static enum kev_error setup_bsp(struct vm *vm, struct vcpu_state *s)
{
    const struct p2_vm *p = vm_data(vm);
    size_t size = (size_t)(p->guest->end - p->guest->start);
    if (size > GUEST_CODE_MAX)
        return KEV_EINVAL;
    struct kev_guest_image img = {
        .code = p->guest->start,
        .code_size = size,
        .code_gva = GUEST_CODE,
        .data_pages = 1,
        .data_gva = GUEST_PARAMS,
        .stack_pages = 1,
        .stack_top = GUEST_STACK_TOP,
    };
    enum kev_error e = kev_guest_build(s, &img);
    if (e == KEV_OK)
        e = map_buffer(vm);
    if (e == KEV_OK)
        e = probe_copy_to_guest(s, GVA(GUEST_PARAMS), p->params, sizeof(*p->params));
    return e;
}

static const struct vm_state_ops p2_vm_ops = {.setup_bsp = setup_bsp};

void p2_vm_run(const struct guest_image *guest, const struct guest_params *params,
               struct printer *out, struct vm_outcome *outcome)
{
    struct p2_vm state = {.guest = guest, .params = params};
    struct vmexit_controller hypercalls;
    hypercall_controller_init(&hypercalls, out);
    struct vmexit_controller *const chain[] = {&hypercalls, NULL};
    struct vm_config config = {
        .name = guest->name,
        .ops = &p2_vm_ops,
        .data = &state,
        .controllers = chain,
    };
    kev_run_vm(&config, outcome);
}
