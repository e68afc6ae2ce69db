/*
 * Project 3's loader VM (given code: students write loader_parse and
 * loader_fault in loader.c, which run at CPL 3 through upcalls). It boots
 * an ELF kernel, minos in the tests, on demand paging:
 *
 *   1. loader_parse reads the file (lent read-only to ring 3 for the call);
 *   2. the VM's memory outside the image is mapped up front by kev's own
 *      map: a multiboot2 information page (the boot loader's name: "kev")
 *      and the guest page tables kev enters the kernel on, an identity map
 *      of [0, LOADER_IMAGE_END) in 4 KiB pages;
 *   3. the vCPU starts at the entry point in 64-bit mode (the kernel's
 *      64-bit boot protocol: guests/project3/os/boot.asm), with EAX the
 *      multiboot2 magic and EBX the information's guest-physical address;
 *   4. every EPT violation goes to loader_fault (Intel SDM Vol. 3C, 28.2.1,
 *      table "Exit Qualification for EPT Violations": bit 0 a read, 1 a
 *      write, 2 a fetch); KEV_OK resumes the guest at the same instruction
 *      (RIP is not moved: the access is made again, on the new page),
 *      KEV_EUNMAPPED passes the violation to kev, which stops the VM naming
 *      it, any other error stops the VM with it;
 *   5. the kernel's hypercalls HaltCpu and Print (project 2's numbers) are
 *      served here, so that a loader test grades the loader and not your
 *      project-2 Print.
 */
#include "project3/vm.h"
#include "project2/hypercall.h"
#include "kernel/module.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/user.h"
#include "kev/upcall.h"

#define EPTQ_WRITE (1ULL << 1)
#define EPTQ_FETCH (1ULL << 2)
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER_NAME 2
#define PRINT_CHUNK 256
/* minos takes about 40 exits (a violation a page, a Print a line); a
 * loader that serves a violation without mapping its page loops on it:
 * stopped here, before it costs the boot's whole budget. */
#define LOADER_MAX_EXITS 1000

/* --- the file, lent to ring 3 ------------------------------------------------ */

/* Maps the file's pages read-only into this upcall's window: its user
 * address, or 0 when it does not fit. An empty file is lent as its first
 * page, so the student's loader gets a pointer like any other (and must
 * refuse the file by its size). */
static uint64_t lend(const uint8_t *file, size_t size)
{
    paddr_t first = ALIGN_DOWN((paddr_t)(uintptr_t)file, PAGE_SIZE);
    paddr_t end = ALIGN_UP((paddr_t)(uintptr_t)file + (size ? size : 1), PAGE_SIZE);
    if ((end - first) / PAGE_SIZE > LOADER_FILE_PAGES_MAX)
        return 0;
    uint64_t base = 0;
    for (paddr_t p = first; p < end; p += PAGE_SIZE) {
        uint64_t va = user_window_map(p, false);
        if (va == 0)
            return 0;
        if (p == first)
            base = va;
    }
    return base + ((uintptr_t)file - first);
}

struct loader_call p3_call_parse(const uint8_t *file, size_t size, struct loader_image *img)
{
    struct loader_call c = {0};
    user_frame_reset();
    uint64_t uimg = user_push(NULL, sizeof(*img));
    uint64_t ufile = lend(file, size);
    if (ufile == 0) {
        c.error = KEV_ENOMEM;
        c.why = "the file is larger than the loader's window";
        return c;
    }
    struct user_result r = user_call(loader_parse, ufile, size, uimg, 0);
    if (r.status != USER_RETURNED) {
        c.error = KEV_ESTUDENT;
        c.why = r.message;
        return c;
    }
    user_pull(img, uimg, sizeof(*img));
    img->why[sizeof(img->why) - 1] = '\0';
    c.error = (enum kev_error)(uint32_t)r.ret[0];
    c.why = img->why;
    return c;
}

struct loader_call p3_call_fault(const struct ept *ept, const struct loader_image *img,
                                 const uint8_t *file, size_t size, gpa_t gpa, enum guest_access access)
{
    struct loader_call c = {0};
    user_frame_reset();
    uint64_t uept = user_push(ept, sizeof(*ept));
    uint64_t uimg = user_push(img, sizeof(*img));
    uint64_t ufile = lend(file, size);
    if (ufile == 0) {
        c.error = KEV_ENOMEM;
        c.why = "the file is larger than the loader's window";
        return c;
    }
    struct user_result r = user_call5(loader_fault, uept, uimg, ufile, gpa.addr, (uint64_t)access);
    if (r.status != USER_RETURNED) {
        c.error = KEV_ESTUDENT;
        c.why = r.message;
        return c;
    }
    c.error = (enum kev_error)(uint32_t)r.ret[0];
    return c;
}

/* --- the syscall ----------------------------------------------------------------- */

/* Fills a fresh guest page with junk, so that a loader that forgets to
 * clear it is seen: 0xcc (INT3) wherever it forgot. */
enum kev_error sys_loader_page_alloc(paddr_t *page)
{
    struct ept_space *sp = kev_ept_current();
    if (sp == NULL)
        return KEV_ESTOPPED;
    paddr_t pa = 0;
    enum kev_error e = kev_ept_guest_page(sp, true, &pa);
    if (e == KEV_OK)
        memset((void *)(uintptr_t)pa, 0xcc, PAGE_SIZE);
    *page = pa;
    return e;
}

/* --- the controller ---------------------------------------------------------------- */

struct loader_vm {
    const struct p3_loader_config *c;
    struct loader_image img;
    struct ept_space *sp;
    struct ept ept;
    struct printer *out;
    struct p3_loader_stats *stats;
};

static struct vmexit_result print(struct vcpu_state *s, struct printer *out)
{
    uint64_t buf = s->regs.rdi, size = s->regs.rsi;
    for (uint64_t done = 0; done < size;) {
        uint8_t chunk[PRINT_CHUNK];
        uint64_t n = size - done < PRINT_CHUNK ? size - done : PRINT_CHUNK;
        enum kev_error e = probe_copy_from_guest(s, chunk, GVA(buf + done), n);
        if (e == KEV_OK)
            e = printer_write(out, chunk, n);
        if (e != KEV_OK)
            return vm_stop(s->vm, e, "the kernel's Print(0x%lx, %lu): %s", buf, size, kev_strerror(e));
        done += n;
    }
    enum kev_error e = vmcs_forward_rip(&s->vmcs);
    return e == KEV_OK ? vmexit_continue() : vm_stop(s->vm, e, "moving RIP past vmcall failed");
}

/* minos's two hypercalls, for a VM of a later project that boots it. */
static struct vmexit_result hypercalls_handle(struct vmexit_controller *self, struct vcpu_state *s,
                                              union exit_reason reason)
{
    if (reason.basic == EXIT_REASON_VMCALL && s->regs.rax == HC_HALT_CPU)
        return vm_exit(s->vm, (int64_t)s->regs.rdi);
    if (reason.basic == EXIT_REASON_VMCALL && s->regs.rax == HC_PRINT)
        return print(s, self->data);
    return vmexit_pass();
}

void p3_minos_hypercalls_init(struct vmexit_controller *c, struct printer *out)
{
    *c = (struct vmexit_controller){.name = "minos-hypercalls", .handle = hypercalls_handle, .data = out};
}

static const char *const access_names[] = {"read", "write", "fetch"};

static struct vmexit_result loader_ctl_handle(struct vmexit_controller *self, struct vcpu_state *s,
                                              union exit_reason reason)
{
    struct loader_vm *v = self->data;
    if (reason.basic == EXIT_REASON_VMCALL && s->regs.rax == HC_HALT_CPU)
        return vm_exit(s->vm, (int64_t)s->regs.rdi);
    if (reason.basic == EXIT_REASON_VMCALL && s->regs.rax == HC_PRINT)
        return print(s, v->out);
    if (reason.basic != EXIT_REASON_EPT_VIOLATION)
        return vmexit_pass();
    uint64_t gpa, qual;
    enum kev_error e;
    if ((e = vmcs_read64(&s->vmcs, GUEST_PHYSICAL_ADDRESS, &gpa)) ||
        (e = vmcs_exit_qualification(&s->vmcs, &qual)))
        return vm_stop(s->vm, e, "reading the EPT violation's exit information: %s", kev_strerror(e));
    enum guest_access access = qual & EPTQ_FETCH ? GUEST_FETCH : qual & EPTQ_WRITE ? GUEST_WRITE : GUEST_READ;
    for (int round = 0; round < (v->c->refault ? 2 : 1); round++) {
        struct loader_call r = p3_call_fault(&v->ept, &v->img, v->c->file, v->c->size, GPA(gpa), access);
        if (r.error == KEV_ESTUDENT)
            return vm_stop(s->vm, KEV_ESTUDENT, "loader_fault(gpa 0x%lx, a %s) stopped: %s", gpa,
                           access_names[access], r.why);
        if (r.error == KEV_EUNMAPPED && round == 0)
            return vmexit_pass(); /* not the image's: kev names the violation */
        if (r.error != KEV_OK)
            return vm_stop(s->vm, r.error, "loader_fault(gpa 0x%lx, a %s%s) returned %s", gpa,
                           access_names[access], round ? ", again: a second violation" : "",
                           kev_error_name(r.error));
        v->stats->served++;
    }
    return vmexit_continue();
}

/* --- the VM -------------------------------------------------------------------------- */

/* The multiboot2 information (Multiboot2 spec, 3.6 "Boot information
 * format"): total size, reserved, the boot command line tag (3.6.2; only
 * with a command line), the boot loader name tag (3.6.3), the end tag; each
 * tag starts 8-aligned. KEV_EINVAL for a command line that does not fit. */
static uint32_t put_tag(uint8_t *page, uint32_t at, uint32_t type, const char *text, size_t n)
{
    uint32_t *w = (uint32_t *)(page + at);
    w[0] = type;
    w[1] = (uint32_t)(8 + n + 1);
    memcpy(page + at + 8, text, n);
    page[at + 8 + n] = '\0';
    return ALIGN_UP(at + 8 + (uint32_t)n + 1, 8);
}

enum kev_error p3_boot_info(uint8_t *page, const char *cmdline)
{
    static const char name[] = "kev";
    memset(page, 0, PAGE_SIZE);
    uint32_t at = 8;
    if (cmdline) {
        size_t n = strlen(cmdline);
        if (n > PAGE_SIZE / 2)
            return KEV_EINVAL;
        at = put_tag(page, at, MB2_TAG_CMDLINE, cmdline, n);
    }
    at = put_tag(page, at, MB2_TAG_LOADER_NAME, name, sizeof(name) - 1);
    uint32_t *end = (uint32_t *)(page + at);
    end[0] = 0;
    end[1] = 8;
    uint32_t *w = (uint32_t *)page;
    w[0] = at + 8;
    w[1] = 0;
    return KEV_OK;
}

static enum kev_error setup_bsp(struct vm *vm, struct vcpu_state *s)
{
    struct loader_vm *v = vm_data(vm);
    paddr_t info;
    KEV_TRY(kev_ept_guest_page(v->sp, false, &info));
    KEV_TRY(p3_boot_info((uint8_t *)(uintptr_t)info, NULL));
    KEV_TRY(kev_ept_map(v->sp, GPA(LOADER_INFO_GPA), info, EPT_R));
    struct gpt g;
    KEV_TRY(gpt_init(&g, v->sp, GPA(LOADER_TABLES_GPA), gpt_kev_map, v->sp));
    for (uint64_t a = 0; a < LOADER_IMAGE_END; a += PAGE_SIZE)
        KEV_TRY(gpt_map(&g, GVA(a), GPA(a), PTE_W));
    KEV_TRY(kev_guest_setup_flat64(s, GVA(v->img.entry), GVA(0)));
    s->regs.rax = MB2_BOOT_MAGIC;
    s->regs.rbx = LOADER_INFO_GPA;
    return vmcs_writel(&s->vmcs, GUEST_CR3, gpt_root(&g).addr);
}

static const struct vm_state_ops loader_vm_ops = {.setup_bsp = setup_bsp};

static void failed(struct vm_outcome *o, enum kev_error e, const char *fmt, ...) __printf(3, 4);
static void failed(struct vm_outcome *o, enum kev_error e, const char *fmt, ...)
{
    memset(o, 0, sizeof(*o));
    o->kind = VM_FAILED;
    o->error = e;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->message, sizeof(o->message), fmt, ap);
    va_end(ap);
}

void p3_loader_run(const struct p3_loader_config *c, struct printer *out, struct vm_outcome *o,
                   struct p3_loader_stats *stats)
{
    static struct loader_vm v;
    memset(&v, 0, sizeof(v));
    memset(stats, 0, sizeof(*stats));
    v.c = c;
    v.out = out;
    v.stats = stats;
    v.sp = kev_ept_create(c->max_tables ? c->max_tables : 64);
    if (v.sp == NULL) {
        failed(o, KEV_ENOMEM, "no memory for the VM's EPT");
        return;
    }
    v.ept = p3_ept_of(v.sp);
    struct loader_call r = p3_call_parse(c->file, c->size, &v.img);
    if (r.error != KEV_OK) {
        failed(o, r.error, "loader_parse: %s", r.why);
        kev_ept_destroy(v.sp);
        return;
    }
    struct vmexit_controller loader = {.name = "loader", .handle = loader_ctl_handle, .data = &v};
    struct vmexit_controller *chain[] = {&loader, NULL};
    struct vm_config config = {
        .name = "minos",
        .ops = &loader_vm_ops,
        .data = &v,
        .controllers = chain,
        .ept = v.sp,
        .max_exits = LOADER_MAX_EXITS,
    };
    kev_run_vm(&config, o);
    if (c->after)
        c->after(v.sp, &v.img, out);
    kev_ept_destroy(v.sp);
}

bool p3_minos(const uint8_t **file, size_t *size, const uint8_t **native, size_t *native_size)
{
    const struct boot_module *m = module_find("minos"), *t = module_find("minos-native");
    if (m == NULL || t == NULL)
        return false;
    *file = (const uint8_t *)(uintptr_t)m->start;
    *size = m->size;
    *native = (const uint8_t *)(uintptr_t)t->start;
    *native_size = t->size;
    return true;
}
