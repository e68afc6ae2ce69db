/*
 * Project 3's VM and the upcalls into the student's EPT functions. The
 * VM's memory is all guest pages of a fresh EPT space: the guest's code,
 * parameters, data and stack, and its own page table (struct gpt), each
 * mapped by the student's ept_map. kev checks the finished EPT before the
 * first entry; the guest then runs on it, and its tests' hypercalls
 * (project 2's test controller) read its memory through it.
 */
#include "project3/vm.h"
#include "guests/guests.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/user.h"
#include "kev/upcall.h"
#include "project2/controller.h"

/* --- upcalls --------------------------------------------------------------- */

static struct ept_call finish(struct user_result r, uint64_t out_hpa, uint64_t out_perm)
{
    struct ept_call c = {0};
    if (r.status != USER_RETURNED) {
        c.error = KEV_ESTUDENT;
        c.why = r.message;
        return c;
    }
    c.error = (enum kev_error)(uint32_t)r.ret[0];
    if (out_hpa)
        user_pull(&c.hpa, out_hpa, sizeof(c.hpa));
    if (out_perm)
        user_pull(&c.perm, out_perm, sizeof(c.perm));
    return c;
}

struct ept_call p3_call_map(const struct ept *e, gpa_t gpa, paddr_t hpa, uint64_t perm)
{
    user_frame_reset();
    uint64_t ue = user_push(e, sizeof(*e));
    return finish(user_call(ept_map, ue, gpa.addr, hpa, perm), 0, 0);
}

struct ept_call p3_call_unmap(const struct ept *e, gpa_t gpa)
{
    user_frame_reset();
    uint64_t ue = user_push(e, sizeof(*e));
    return finish(user_call(ept_unmap, ue, gpa.addr, 0, 0), 0, 0);
}

struct ept_call p3_call_translate(const struct ept *e, gpa_t gpa)
{
    user_frame_reset();
    uint64_t ue = user_push(e, sizeof(*e));
    uint64_t uh = user_push(NULL, sizeof(paddr_t)), up = user_push(NULL, sizeof(uint64_t));
    return finish(user_call(ept_translate, ue, gpa.addr, uh, up), uh, up);
}

struct ept_call p3_call_gva(const struct ept *e, uint64_t cr3, gva_t gva, enum guest_access access)
{
    user_frame_reset();
    uint64_t ue = user_push(e, sizeof(*e));
    uint64_t uh = user_push(NULL, sizeof(paddr_t));
    return finish(user_call5(ept_gva_to_hpa, ue, cr3, gva.addr, (uint64_t)access, uh), uh, 0);
}

struct ept p3_ept_of(struct ept_space *sp)
{
    return (struct ept){
        .root = kev_ept_root(sp),
        .execute_only = (kev_vmx_caps()->ept_vpid & EPT_CAP_EXECUTE_ONLY) != 0,
    };
}

/* --- the VM ------------------------------------------------------------------ */

struct p3_vm {
    const struct p3_vm_config *c;
    struct ept_space *sp;
    struct ept ept;
    struct vm *vm;
};

/* struct gpt's map: the student's ept_map; a failure stops the VM with
 * what was being mapped. */
static enum kev_error student_map(void *ctx, gpa_t gpa, paddr_t hpa, uint64_t perm)
{
    struct p3_vm *v = ctx;
    struct ept_call r = p3_call_map(&v->ept, gpa, hpa, perm);
    char p[4];
    kev_ept_perm_name(perm, p);
    if (r.error == KEV_ESTUDENT)
        vm_stop(v->vm, KEV_ESTUDENT, "ept_map(0x%lx, 0x%lx, %s), mapping the VM's memory, stopped: %s",
                gpa.addr, hpa, p, r.why);
    else if (r.error != KEV_OK)
        vm_stop(v->vm, r.error, "ept_map(0x%lx, 0x%lx, %s), mapping the VM's memory, returned %s",
                gpa.addr, hpa, p, kev_error_name(r.error));
    return r.error;
}

/* A guest page at gva: a fresh page of the space with `bytes` (n of them),
 * mapped at gpa by the student's EPT and at gva by the guest's table. */
static enum kev_error guest_page(struct p3_vm *v, struct gpt *g, uint64_t gva, uint64_t gpa,
                                 uint64_t perm, uint64_t pte_flags, const void *bytes, size_t n)
{
    paddr_t page;
    KEV_TRY(kev_ept_guest_page(v->sp, false, &page));
    if (bytes)
        memcpy((void *)(uintptr_t)page, bytes, n < PAGE_SIZE ? n : PAGE_SIZE);
    KEV_TRY(student_map(v, GPA(gpa), page, perm));
    return gpt_map(g, GVA(gva), GPA(gpa), pte_flags);
}

static enum kev_error setup_bsp(struct vm *vm, struct vcpu_state *s)
{
    struct p3_vm *v = vm_data(vm);
    const struct p3_vm_config *c = v->c;
    v->vm = vm;
    char name[64];
    snprintf(name, sizeof(name), "project3/%s", c->guest);
    const struct guest_image *img = guest_find(name);
    if (img == NULL) {
        printk("p3: there is no guest %s (guests/%s.asm)\n", name, name);
        return KEV_EINVAL;
    }
    size_t size = (size_t)(img->end - img->start);
    if (size > PAGE_SIZE)
        return KEV_EINVAL;
    struct gpt g;
    KEV_TRY(gpt_init(&g, v->sp, GPA(c->tables_gpa), student_map, v));
    KEV_TRY(guest_page(v, &g, P3_CODE, c->code_gpa, EPT_R | EPT_X, 0, img->start, size));
    KEV_TRY(guest_page(v, &g, P3_PARAMS, c->params_gpa, EPT_R, PTE_NX, &c->params, sizeof(c->params)));
    KEV_TRY(guest_page(v, &g, P3_STACK_TOP - PAGE_SIZE, c->stack_gpa, EPT_R | EPT_W, PTE_W | PTE_NX,
                       NULL, 0));
    for (unsigned i = 0; i < c->ndata; i++)
        KEV_TRY(guest_page(v, &g, P3_DATA + i * PAGE_SIZE, c->data[i].gpa, c->data[i].perm,
                           c->data[i].pte_flags, c->data[i].bytes, PAGE_SIZE));
    KEV_TRY(kev_guest_setup_flat64(s, GVA(P3_CODE), GVA(P3_STACK_TOP)));
    return vmcs_writel(&s->vmcs, GUEST_CR3, gpt_root(&g).addr);
}

static const struct vm_state_ops p3_vm_ops = {.setup_bsp = setup_bsp};

void p3_vm_run(const struct p3_vm_config *c, struct printer *out, struct vm_outcome *outcome)
{
    struct p3_vm v = {.c = c};
    v.sp = kev_ept_create(c->max_tables ? c->max_tables : 512);
    if (v.sp == NULL) {
        memset(outcome, 0, sizeof(*outcome));
        outcome->kind = VM_FAILED;
        outcome->error = KEV_ENOMEM;
        strlcpy(outcome->message, "no memory for the VM's EPT", sizeof(outcome->message));
        return;
    }
    v.ept = p3_ept_of(v.sp);
    struct vmexit_controller tests;
    test_controller_init(&tests, out);
    struct vmexit_controller *chain[] = {&tests, NULL};
    struct vm_config config = {
        .name = c->guest,
        .ops = &p3_vm_ops,
        .data = &v,
        .controllers = chain,
        .ept = v.sp,
    };
    kev_run_vm(&config, outcome);
    kev_ept_destroy(v.sp);
}
