/*
 * Project 4's VM: kev's guest builder sets up a flat 64-bit guest without
 * EPT (kev/guest.h), whose page table maps (project4/guest.h):
 *
 *   P4_CODE     the guest binary, read-only and executable
 *   P4_PARAMS   the parameter page, read-only, filled from the case
 *   P4_DATA     P4_DATA_PAGES writable pages (the guest's IDT, GDT, log)
 *   the stack   P4_STACK_PAGES writable pages below P4_STACK_TOP
 *
 * A virtio VM (the virtio tests') is built on EPT instead (kev/ept.h: kev's
 * own map, since project 3's EPT is not under test here), with the pages
 * of project4/guest.h: P4_RAM, and the device's page P4_VIRTIO, which the
 * guest's table maps to VBLK_MMIO_BASE and the EPT leaves out.
 *
 * A minos VM is a virtio VM whose guest is minos, project 3's guest OS: its
 * ELF file's segments mapped up front (setup_minos: kev's own map, since
 * project 3's loader is not under test here), a multiboot2 information with
 * a boot command line that turns minos's timer and disk drivers on.
 *
 * Its chain: the tests' own hypercalls (project 2's test_ctl.c), then the
 * timer's controller, then (a virtio VM) the device's, which raises its
 * interrupt through the timer's APIC. Student code may write one VMCS field here,
 * VM_ENTRY_INTR_INFO_FIELD: the interrupt it injects.
 */
#include "project4/vm.h"
#include "guests/guests.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "project2/controller.h"
#include "project3/vm.h"
#include "project4/controller.h"

struct p4_vm {
    struct p4_vm_config c;   /* with the spots' words */
    struct p4_timer timer;
    struct p4_virtio virtio; /* a virtio VM's */
    struct ept_space *sp;    /* a virtio VM's EPT */
};

/* The project-4 VM running now (one at a time), for p4_timer_of. */
static struct vm *running;

/* --- a minos VM ------------------------------------------------------------------------- */

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* minos's PT_LOAD segments (the ELF specification, "Program Header"), each
 * page copied from the file and mapped with the segment's permissions. minos
 * is the course's own file, but its bytes are still checked: each segment
 * starts on a page and lies inside the file and [LOADER_IMAGE_START,
 * LOADER_IMAGE_END). */
static enum kev_error map_minos(struct p4_vm *v, const uint8_t *f, size_t size, uint64_t *entry)
{
    if (size < ELF_EHDR_SIZE || memcmp(f, "\x7f" "ELF", 4) != 0 || f[4] != ELFCLASS64 ||
        rd64(f + 54) % 0x10000 != ELF_PHDR_SIZE) {
        printk("p4: the module \"minos\" is not a 64-bit ELF file\n");
        return KEV_EELF;
    }
    uint64_t phoff = rd64(f + 32);
    unsigned phnum = (unsigned)(rd64(f + 56) & 0xffff);
    if (phoff > size || (size - phoff) / ELF_PHDR_SIZE < phnum)
        return KEV_EELF;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = f + phoff + (size_t)i * ELF_PHDR_SIZE;
        uint32_t type = (uint32_t)rd64(ph), flags = (uint32_t)(rd64(ph) >> 32);
        uint64_t off = rd64(ph + 8), gpa = rd64(ph + 24), filesz = rd64(ph + 32), memsz = rd64(ph + 40);
        if (type != PT_LOAD || memsz == 0)
            continue;
        if (gpa % PAGE_SIZE || filesz > memsz || off > size || filesz > size - off ||
            gpa < LOADER_IMAGE_START || gpa > LOADER_IMAGE_END || memsz > LOADER_IMAGE_END - gpa) {
            printk("p4: minos's segment %u (0x%lx, 0x%lx bytes) is not one the VM maps\n", i, gpa, memsz);
            return KEV_EELF;
        }
        uint64_t perm = (flags & PF_R ? EPT_R : 0) | (flags & PF_W ? EPT_W : 0) | (flags & PF_X ? EPT_X : 0);
        for (uint64_t at = 0; at < memsz; at += PAGE_SIZE) {
            paddr_t page;
            KEV_TRY(kev_ept_guest_page(v->sp, false, &page));
            if (at < filesz)
                memcpy((void *)(uintptr_t)page, f + off + at, filesz - at < PAGE_SIZE ? filesz - at : PAGE_SIZE);
            KEV_TRY(kev_ept_map(v->sp, GPA(gpa + at), page, perm));
        }
    }
    *entry = rd64(f + 24);
    return KEV_OK;
}

static enum kev_error setup_minos(struct p4_vm *v, struct vcpu_state *s)
{
    const uint8_t *file, *native;
    size_t size, native_size;
    if (!p3_minos(&file, &size, &native, &native_size)) {
        printk("p4: GRUB loaded no module \"minos\" (project3/project.mk's MODULES)\n");
        return KEV_EINVAL;
    }
    uint64_t entry;
    KEV_TRY(map_minos(v, file, size, &entry));
    paddr_t info;
    KEV_TRY(kev_ept_guest_page(v->sp, false, &info));
    KEV_TRY(p3_boot_info((uint8_t *)(uintptr_t)info, v->c.cmdline));
    KEV_TRY(kev_ept_map(v->sp, GPA(LOADER_INFO_GPA), info, EPT_R));
    struct gpt g;
    KEV_TRY(gpt_init(&g, v->sp, GPA(LOADER_TABLES_GPA), gpt_kev_map, v->sp));
    for (uint64_t a = 0; a < LOADER_IMAGE_END; a += PAGE_SIZE)
        KEV_TRY(gpt_map(&g, GVA(a), GPA(a), PTE_W));
    KEV_TRY(kev_guest_setup_flat64(s, GVA(entry), GVA(0)));
    s->regs.rax = MB2_BOOT_MAGIC; /* booted as project 3's loader boots it */
    s->regs.rbx = LOADER_INFO_GPA;
    return vmcs_writel(&s->vmcs, GUEST_CR3, gpt_root(&g).addr);
}

static const char *const spot_words[P4_SPOT_COUNT] = {
#define P4_SPOT_WORDS(name, words) [name] = words,
    P4_SPOTS(P4_SPOT_WORDS)
#undef P4_SPOT_WORDS
};

static const uint32_t p4_writable[] = {VM_ENTRY_INTR_INFO_FIELD, VMCS_FIELD_END};

/* A virtio VM's guest page: a fresh page of the EPT space with n bytes
 * copied in, at guest-physical == guest-virtual gva. */
static enum kev_error ept_page(struct p4_vm *v, struct gpt *g, uint64_t gva, uint64_t perm,
                               uint64_t pte_flags, const void *bytes, size_t n)
{
    paddr_t page;
    KEV_TRY(kev_ept_guest_page(v->sp, false, &page));
    if (bytes)
        memcpy((void *)(uintptr_t)page, bytes, n < PAGE_SIZE ? n : PAGE_SIZE);
    KEV_TRY(kev_ept_map(v->sp, GPA(gva), page, perm));
    return gpt_map(g, GVA(gva), GPA(gva), pte_flags);
}

static enum kev_error setup_virtio(struct p4_vm *v, struct vcpu_state *s, const struct guest_image *g)
{
    size_t size = (size_t)(g->end - g->start);
    struct gpt t;
    KEV_TRY(gpt_init(&t, v->sp, GPA(P4_TABLES), gpt_kev_map, v->sp));
    for (size_t off = 0; off < size; off += PAGE_SIZE)
        KEV_TRY(ept_page(v, &t, P4_CODE + off, EPT_R | EPT_X, 0, g->start + off, size - off));
    KEV_TRY(ept_page(v, &t, P4_PARAMS, EPT_R, PTE_NX, &v->c.vparams, sizeof(v->c.vparams)));
    for (unsigned i = 0; i < P4_DATA_PAGES; i++)
        KEV_TRY(ept_page(v, &t, P4_DATA + i * PAGE_SIZE, EPT_R | EPT_W, PTE_W | PTE_NX, NULL, 0));
    for (unsigned i = 0; i < P4_STACK_PAGES; i++)
        KEV_TRY(ept_page(v, &t, P4_STACK_TOP - (i + 1) * PAGE_SIZE, EPT_R | EPT_W, PTE_W | PTE_NX, NULL, 0));
    for (unsigned i = 0; i < P4_RAM_PAGES; i++)
        KEV_TRY(ept_page(v, &t, P4_RAM + i * PAGE_SIZE, EPT_R | EPT_W, PTE_W | PTE_NX,
                         v->c.ram ? v->c.ram + i * PAGE_SIZE : NULL, PAGE_SIZE));
    /* The device's page: in the guest's table, not in the EPT. */
    KEV_TRY(gpt_map(&t, GVA(P4_VIRTIO), GPA(VBLK_MMIO_BASE), PTE_W | PTE_NX));
    KEV_TRY(kev_guest_setup_flat64(s, GVA(P4_CODE), GVA(P4_STACK_TOP)));
    return vmcs_writel(&s->vmcs, GUEST_CR3, gpt_root(&t).addr);
}

static enum kev_error setup_bsp(struct vm *vm, struct vcpu_state *s)
{
    struct p4_vm *v = vm_data(vm);
    running = vm;
    if (v->c.minos)
        return v->sp ? setup_minos(v, s) : KEV_EINVAL;
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
    if (v->sp)
        return setup_virtio(v, s, g);
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

struct p4_virtio *p4_virtio_of(struct vm *vm)
{
    struct p4_vm *v = vm != NULL && vm == running ? vm_data(vm) : NULL;
    return v && v->sp ? &v->virtio : NULL;
}

static void failed(struct vm_outcome *outcome, enum kev_error e, const char *why)
{
    memset(outcome, 0, sizeof(*outcome));
    outcome->kind = VM_FAILED;
    outcome->error = e;
    strlcpy(outcome->message, why, sizeof(outcome->message));
}

void p4_vm_run(const struct p4_vm_config *c, struct printer *out, struct vm_outcome *outcome)
{
    static struct p4_vm v; /* a page and more: not on the kernel stack */
    v.c = *c;
    for (unsigned i = 0; i < P4_SPOT_COUNT; i++)
        strlcpy(v.c.params.spots[i], spot_words[i], P4_SPOT_WORDS_MAX);
    struct vmexit_controller tests, timer, virtio, minos;
    test_controller_init(&tests, out);
    timer_controller_init(&timer, &v.timer);
    struct vmexit_controller *chain[] = {&tests, &timer, NULL, NULL, NULL};
    if (c->minos) {
        p3_minos_hypercalls_init(&minos, out);
        chain[3] = &minos;
    }
    v.sp = NULL;
    if (c->virtio) {
        enum kev_error e = virtio_controller_init(&virtio, &v.virtio, &v.timer);
        if (e != KEV_OK) {
            failed(outcome, e, "no disk for the virtio device (the kernel's log says why)");
            return;
        }
        v.sp = kev_ept_create(64);
        if (v.sp == NULL) {
            p4_virtio_free(&v.virtio);
            failed(outcome, KEV_ENOMEM, "no memory for the VM's EPT");
            return;
        }
        chain[2] = &virtio;
    }
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
        .ept = v.sp,
    };
    kev_run_vm(&config, outcome);
    running = NULL;
    if (c->stats)
        *c->stats = (struct p4_vm_stats){
            .exits = outcome->exits, .deliveries = v.timer.deliveries, .injected = v.timer.injected,
            .device_interrupts = v.virtio.interrupts, .device_accesses = v.virtio.accesses,
        };
    if (v.sp) {
        kev_ept_destroy(v.sp);
        p4_virtio_free(&v.virtio);
        v.sp = NULL;
    }
}
