/*
 * Project 4's VM: kev's guest builder sets up a flat 64-bit guest without
 * EPT (kev/guest.h), whose page table maps (project4/guest.h):
 *
 *   P4_CODE     the guest binary, read-only and executable
 *   P4_PARAMS   the parameter page, read-only, filled from the case
 *   P4_DATA     P4_DATA_PAGES writable pages (the guest's IDT, GDT, log)
 *   the stack   P4_STACK_PAGES writable pages below P4_STACK_TOP
 *
 * Its chain: the tests' own hypercalls (project 2's test_ctl.c), then the
 * timer's controller. Student code may write one VMCS field here,
 * VM_ENTRY_INTR_INFO_FIELD: the interrupt it injects.
 */
#include "project4/vm.h"
#include "guests/guests.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "project2/controller.h"
#include "project4/controller.h"

struct p4_vm {
    struct p4_vm_config c;   /* with the spots' words */
    struct p4_timer timer;
};

/* The project-4 VM running now (one at a time), for p4_timer_of. */
static struct vm *running;

static const char *const spot_words[P4_SPOT_COUNT] = {
#define P4_SPOT_WORDS(name, words) [name] = words,
    P4_SPOTS(P4_SPOT_WORDS)
#undef P4_SPOT_WORDS
};

static const uint32_t p4_writable[] = {VM_ENTRY_INTR_INFO_FIELD, VMCS_FIELD_END};

static enum kev_error setup_bsp(struct vm *vm, struct vcpu_state *s)
{
    struct p4_vm *v = vm_data(vm);
    running = vm;
    char name[64];
    snprintf(name, sizeof(name), "project4/%s", v->c.guest);
    const struct guest_image *g = guest_find(name);
    if (g == NULL) {
        printk("p4: there is no guest %s (guests/%s.asm)\n", name, name);
        return KEV_EINVAL;
    }
    size_t size = (size_t)(g->end - g->start);
    if (size > P4_CODE_MAX)
        return KEV_EINVAL;
    KEV_TRY(kev_guest_load(vm, GVA(P4_CODE), g->start, size, 0));
    KEV_TRY(kev_guest_load(vm, GVA(P4_PARAMS), &v->c.params, sizeof(v->c.params), PTE_NX));
    KEV_TRY(kev_guest_alloc(vm, GVA(P4_DATA), P4_DATA_PAGES, PTE_W | PTE_NX, NULL));
    KEV_TRY(kev_guest_alloc(vm, GVA(P4_STACK_TOP - P4_STACK_PAGES * PAGE_SIZE), P4_STACK_PAGES,
                            PTE_W | PTE_NX, NULL));
    return kev_guest_setup_flat64(s, GVA(P4_CODE), GVA(P4_STACK_TOP));
}

static const struct vm_state_ops p4_vm_ops = {.setup_bsp = setup_bsp};

struct p4_timer *p4_timer_of(struct vm *vm)
{
    return vm != NULL && vm == running ? &((struct p4_vm *)vm_data(vm))->timer : NULL;
}

void p4_vm_run(const struct p4_vm_config *c, struct printer *out, struct vm_outcome *outcome)
{
    static struct p4_vm v; /* a page and more: not on the kernel stack */
    v.c = *c;
    for (unsigned i = 0; i < P4_SPOT_COUNT; i++)
        strlcpy(v.c.params.spots[i], spot_words[i], P4_SPOT_WORDS_MAX);
    struct vmexit_controller tests, timer;
    test_controller_init(&tests, out);
    timer_controller_init(&timer, &v.timer);
    struct vmexit_controller *chain[] = {&tests, &timer, NULL};
    struct vm_config config = {
        .name = c->guest,
        .ops = &p4_vm_ops,
        .data = &v,
        .controllers = chain,
        .user_writable = p4_writable,
        .timer = true,
        /* A script makes a few exits an operation: a delivery that loops on
         * its exits (an interrupt delivered again and again) stops sooner. */
        .max_exits = 5000,
    };
    kev_run_vm(&config, outcome);
    running = NULL;
}
