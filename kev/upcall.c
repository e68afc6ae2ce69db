/*
 * kev's side of student code: the student's copy of a vCPU's state, and
 * the kev rows of the student ABI (user/syscalls.tbl): guest memory through
 * the probe, stopping the VM, the VMCS, the PrinterProxy. Each sys_ gets
 * arguments the generated table has checked (pointers in the student's
 * memory, handles it was given); what is left to check is what only kev
 * knows: which VMCS fields a student may touch, and that a guest page the
 * student may write is not one of the guest's page tables.
 */
#include "kernel/string.h"
#include "kev/internal.h"
#include "kev/printer.h"
#include "kev/upcall.h"
#include "kernel/printk.h"

uint64_t upcall_push_vcpu(struct vcpu_state *s)
{
    struct vcpu_state copy = {
        .regs = s->regs,
        .vmcs = {.vmcs = NULL, .exit_reason = s->vmcs.exit_reason},
        .vm = (struct vm *)(uintptr_t)user_handle(s->vm, "vm"),
        .data = NULL,
        .id = s->id,
    };
    uint64_t u = user_push(&copy, sizeof(copy));
    user_bind(u, s, "vcpu_state");
    user_bind(u + offsetof(struct vcpu_state, vmcs), &s->vmcs, "active_vmcs");
    return u;
}

void upcall_pull_regs(struct vcpu_state *s, uint64_t ucopy)
{
    user_pull(&s->regs, ucopy + offsetof(struct vcpu_state, regs), sizeof(s->regs));
}

struct vmexit_result upcall_stopped(struct vcpu_state *s, const struct user_result *r)
{
    return vm_stop(s->vm, KEV_ESTUDENT, "%s", r->message);
}

/* --- syscalls --------------------------------------------------------------- */

enum kev_error sys_probe_gva_to_gpa(struct vcpu_state *s, gva_t gva, gpa_t *gpa, uint64_t *flags)
{
    return probe_gva_to_gpa(s, gva, gpa, flags);
}

/* Maps host [p, p+len) (one region of the VM's memory) into the upcall's
 * window; *out is the student's pointer to p. */
static enum kev_error window(struct vm *vm, uint64_t gpa, void *p, size_t len, void **out)
{
    const struct mem_region *r = mem_find(vm, gpa);
    bool writable = r != NULL && r->kind != MEM_TABLE; /* never the guest's page tables */
    uint64_t first = ALIGN_DOWN((uint64_t)(uintptr_t)p, PAGE_SIZE);
    uint64_t last = ALIGN_DOWN((uint64_t)(uintptr_t)p + (len ? len - 1 : 0), PAGE_SIZE);
    uint64_t base = 0;
    for (uint64_t page = first; page <= last; page += PAGE_SIZE) {
        uint64_t u = user_window_map(page, writable);
        if (u == 0)
            return KEV_ENOMEM; /* the window is full: too many pages in one call */
        if (page == first)
            base = u;
    }
    *out = (void *)(uintptr_t)(base + ((uint64_t)(uintptr_t)p - first));
    return KEV_OK;
}

enum kev_error sys_probe_gpa_to_host(struct vm *vm, gpa_t gpa, size_t len, void **host)
{
    void *p;
    enum kev_error e = probe_gpa_to_host(vm, gpa, len, &p);
    return e != KEV_OK ? e : window(vm, gpa.addr, p, len, host);
}

enum kev_error sys_probe_gva_to_host(struct vcpu_state *s, gva_t gva, size_t len, void **host)
{
    gpa_t gpa;
    void *p;
    enum kev_error e = probe_gva_to_host_gpa(s, gva, len, &p, &gpa); /* one walk for both */
    return e != KEV_OK ? e : window(s->vm, gpa.addr, p, len, host);
}

enum kev_error sys_probe_copy_from_guest(struct vcpu_state *s, void *dst, gva_t src, size_t n)
{
    return probe_copy_from_guest(s, dst, src, n);
}

enum kev_error sys_probe_copy_to_guest(struct vcpu_state *s, gva_t dst, const void *src, size_t n)
{
    return probe_copy_to_guest(s, dst, src, n);
}

enum kev_error sys_probe_copy_from_gpa(struct vm *vm, void *dst, gpa_t src, size_t n)
{
    return probe_copy_from_gpa(vm, dst, src, n);
}

enum kev_error sys_probe_copy_to_gpa(struct vm *vm, gpa_t dst, const void *src, size_t n)
{
    vm->student_wrote |= n > 0; /* such a VM is not kept (kev_run_vm_kept) */
    return probe_copy_to_gpa(vm, dst, src, n);
}

void sys_ulib_vm_stop(struct vm *vm, enum kev_error error, const char *msg)
{
    if ((unsigned)error >= KEV_ERROR_COUNT)
        user_stop("vm_stop(): %d is not a kev error (use one of kev/error.h's KEV_E...)", (int)error);
    if (error == KEV_OK)
        user_stop("vm_stop(): KEV_OK is success, not an error: to go on, return vmexit_continue()");
    vm_stop(vm, error, "%s", msg);
}

/* The VMCS fields student code may read: guest state and exit information
 * (never the host state, which describes the kernel). */
static bool may_read(uint32_t field)
{
    return VMCS_FIELD_TYPE(field) == VMCS_GUEST || VMCS_FIELD_TYPE(field) == VMCS_EXIT_INFO ||
           VMCS_FIELD_TYPE(field) == VMCS_CONTROL;
}

static struct vm *vm_of(struct active_vmcs *v)
{
    return container_of(v, struct vcpu_state, vmcs)->vm;
}

static bool may_write(struct vm *vm, uint32_t field)
{
    for (const uint32_t *f = vm->user_writable; f && *f != VMCS_FIELD_END; f++)
        if (*f == field)
            return true;
    return false;
}

static void writable_names(struct vm *vm, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (const uint32_t *f = vm->user_writable; f && *f != VMCS_FIELD_END && n < size; f++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", vmcs_field_name(*f));
    if (n == 0)
        strlcpy(buf, "none", size);
}

enum kev_error sys_ulib_vmcs_read(struct active_vmcs *v, uint32_t field, uint64_t *out)
{
    if (vmcs_field_name(field) == NULL)
        user_stop("vmcs_read(): 0x%x is not a VMCS field (use the names of kev/vmcs_fields.h)", field);
    if (!may_read(field))
        user_stop("vmcs_read(): %s is host state, which your code may not read", vmcs_field_name(field));
    return vmcs_read(v, field, out);
}

enum kev_error sys_ulib_vmcs_write(struct active_vmcs *v, uint32_t field, uint64_t value)
{
    if (vmcs_field_name(field) == NULL)
        user_stop("vmcs_write(): 0x%x is not a VMCS field (use the names of kev/vmcs_fields.h)", field);
    struct vm *vm = vm_of(v);
    if (!may_write(vm, field)) {
        char names[200];
        writable_names(vm, names, sizeof(names));
        user_stop("vmcs_write(): your code may not write %s in this VM (it may write: %s)",
                  vmcs_field_name(field), names);
    }
    return vmcs_write(v, field, value);
}

enum kev_error sys_printer_write(struct printer *p, const void *bytes, size_t n)
{
    return printer_write(p, bytes, n);
}

size_t sys_printer_room(const struct printer *p)
{
    return printer_room(p);
}
