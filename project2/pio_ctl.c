/*
 * The port-I/O controller (given code: students write pio_decode and
 * pio_handle in pio.c, which run at CPL 3 through upcalls, kev/upcall.h).
 * On an IO_INSTRUCTION exit it has pio_decode() read the exit
 * qualification into a request, routes the request by its port to a
 * device (pio_dev.c), has pio_handle() do the instruction against it and,
 * when the guest goes on, moves the guest's RIP past the instruction (by
 * the exit's instruction length), as the hypercall controller does for
 * vmcall. A port no device owns stops the VM with KEV_EIOPORT, naming it.
 *
 * Before a port-I/O VM runs, p2_vm_run() calls pio_vm_begin(): the devices
 * start anew (the queue filled from the case) and, when the case asks for
 * them, the VM gets I/O bitmaps instead of unconditional I/O exiting.
 */
#include "project2/controller.h"
#include "project2/pio_dev.h"
#include "project2/vm.h"
#include "kernel/mm.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kev/upcall.h"

/* The student's pio_decode() of qualification q; false when the VM stopped. */
static bool decode(struct vcpu_state *s, uint64_t q, struct pio_request *req,
                   struct vmexit_result *stop)
{
    user_frame_reset();
    uint64_t ureq = user_push(NULL, sizeof(*req));
    struct user_result r = user_call(pio_decode, q, ureq, 0, 0);
    if (r.status != USER_RETURNED) {
        *stop = upcall_stopped(s, &r);
        return false;
    }
    user_pull(req, ureq, sizeof(*req));
    if (req->size != 1 && req->size != 2 && req->size != 4) {
        *stop = vm_stop(s->vm, KEV_EINVAL, "pio_decode() read exit qualification 0x%lx as a "
                        "%u-byte access: an access is 1, 2 or 4 bytes (bits 2:0 hold 0, 1 or 3)",
                        q, req->size);
        return false;
    }
    return true;
}

static struct vmexit_result pio_controller_handle(struct vmexit_controller *self,
                                                  struct vcpu_state *s, union exit_reason reason)
{
    if (reason.basic != EXIT_REASON_IO_INSTRUCTION)
        return vmexit_pass();
    uint64_t q;
    enum kev_error e = vmcs_exit_qualification(&s->vmcs, &q);
    if (e != KEV_OK)
        return vm_stop(s->vm, e, "reading the I/O instruction's exit qualification: %s",
                       kev_strerror(e));
    struct pio_request req;
    struct vmexit_result r;
    if (!decode(s, q, &req, &r))
        return r;
    char insn[48];
    struct pio_device *dev = pio_device_find(req.port);
    if (dev == NULL) {
        pio_request_describe(&req, insn, sizeof(insn));
        return vm_stop(s->vm, KEV_EIOPORT, "%s: no device owns port 0x%x (exit qualification "
                       "0x%lx; the devices: 0x%x printer, 0x%x queue, 0x%x tracer)", insn, req.port,
                       q, PIO_PORT_PRINTER, PIO_PORT_QUEUE, PIO_PORT_TRACER);
    }

    user_frame_reset();
    uint64_t us = upcall_push_vcpu(s);
    uint64_t ureq = user_push(&req, sizeof(req));
    uint64_t udev = user_handle(dev, "pio_device");
    struct user_result u = user_call(pio_handle, us, ureq, udev, 0);
    if (u.status != USER_RETURNED)
        return upcall_stopped(s, &u);
    upcall_pull_regs(s, us);
    r = vmexit_result_from(u.ret[0], u.ret[1]);
    if (vm_stopped(s->vm))
        return r; /* pio_handle stopped it (vm_stop): it stays stopped */
    pio_request_describe(&req, insn, sizeof(insn));
    if (r.action == VMEXIT_CONTINUE) {
        e = vmcs_forward_rip(&s->vmcs);
        return e == KEV_OK ? r : vm_stop(s->vm, e, "after `%s` (port 0x%x): moving RIP past it: %s",
                                         insn, req.port, kev_strerror(e));
    }
    return vm_stop(s->vm, KEV_EINVAL, "pio_handle() returned neither vmexit_continue() nor "
                   "vm_stop() for `%s` (port 0x%x, the %s): action %d", insn, req.port, dev->name,
                   (int)r.action);
}

void pio_controller_init(struct vmexit_controller *c, struct printer *out)
{
    /* The devices hold `out` (pio_vm_begin). */
    *c = (struct vmexit_controller){.name = "pio", .handle = pio_controller_handle};
}

/*
 * The I/O bitmaps (Vol. 3C, 25.6.4 "I/O-Bitmap Addresses"): A holds one
 * bit for each port 0x0000-0x7fff, B for 0x8000-0xffff; an instruction
 * exits when a bit of a port it touches is set.
 */
enum kev_error pio_vm_begin(struct pio_vm *v, const struct p2_vm_config *c, struct printer *out)
{
    const struct pio_config *p = c->pio;
    memset(v, 0, sizeof(*v));
    pio_devices_reset(out, p);
    if (p == NULL || !p->bitmap)
        return KEV_OK;
    if (c->controls)
        v->controls = *c->controls;
    v->controls.proc |= CPU_BASED_USE_IO_BITMAPS;
    v->controls.proc_off |= CPU_BASED_UNCOND_IO_EXITING;
    v->controls.io_bitmap_a = page_alloc();
    v->controls.io_bitmap_b = page_alloc();
    if (v->controls.io_bitmap_a == 0 || v->controls.io_bitmap_b == 0) {
        pio_vm_end(v);
        return KEV_ENOMEM;
    }
    uint8_t *a = (uint8_t *)(uintptr_t)v->controls.io_bitmap_a;
    uint8_t *b = (uint8_t *)(uintptr_t)v->controls.io_bitmap_b;
    for (size_t i = 0; i < p->nexit_ports && i < PIO_EXIT_PORTS_MAX; i++) {
        uint16_t port = p->exit_ports[i];
        uint8_t *map = port < 0x8000 ? a : b;
        map[(port & 0x7fff) / 8] |= 1u << (port % 8);
    }
    v->bitmaps = true;
    return KEV_OK;
}

void pio_vm_end(struct pio_vm *v)
{
    if (v->controls.io_bitmap_a)
        page_free(v->controls.io_bitmap_a);
    if (v->controls.io_bitmap_b)
        page_free(v->controls.io_bitmap_b);
    memset(v, 0, sizeof(*v));
}
