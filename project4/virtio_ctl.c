/*
 * The virtio block device's controller (given code: students write
 * virtio_blk.c, whose vblk_mmio runs at CPL 3 through an upcall,
 * kev/upcall.h). A virtio VM's EPT leaves the device's page
 * (VBLK_MMIO_BASE) out, so every guest access to a register is an EPT
 * violation (Intel SDM Vol. 3C, 29.3.3.2 "EPT Violations"). On one, this
 * controller
 *
 *   1. decodes the guest's MOV with project 3's given path
 *      (project3/mmio_exit.h: the instruction at RIP, checked against the
 *      exit qualification);
 *   2. calls vblk_mmio() with the request and the VM's device state;
 *   3. finishes the MOV (a load's value into its register, RIP past it);
 *   4. when the device's InterruptStatus went from 0 to non-zero, raises
 *      VBLK_VECTOR through part 1's APIC (timer_raise: the student's
 *      timer_deliver injects it, or opens the interrupt window). The
 *      virtio-mmio interrupt is one line, raised while InterruptStatus is
 *      not 0 (virtio 1.x, 4.2.3.4 "Notifications From The Device"); the
 *      guest's handler acknowledges with InterruptACK.
 *
 * The disk is the boot module P4_DISK_MODULE, copied a page (8 sectors) at
 * a time into the VM's own pages as the VM writes it: the syscalls
 * vblk_disk_read and vblk_disk_write move sectors between it and the
 * student's buffers, so no test's writes reach another's VM (and a VM
 * that only reads copies nothing).
 */
#include "project4/controller.h"
#include "kernel/mm.h"
#include "kernel/module.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/user.h"
#include "kev/upcall.h"
#include "project3/mmio_exit.h"
#include "project4/vm.h"

const uint8_t *p4_disk_image(uint64_t *sectors)
{
    const struct boot_module *m = module_find(P4_DISK_MODULE);
    if (m == NULL || m->size == 0 || m->size % VIRTIO_BLK_SECTOR_SIZE)
        return NULL;
    *sectors = m->size / VIRTIO_BLK_SECTOR_SIZE;
    return (const uint8_t *)(uintptr_t)m->start;
}

#define SECTORS_PER_PAGE (PAGE_SIZE / VIRTIO_BLK_SECTOR_SIZE)

void p4_virtio_free(struct p4_virtio *v)
{
    for (size_t i = 0; i < P4_DISK_PAGES_MAX; i++)
        if (v->written[i])
            page_free((paddr_t)(uintptr_t)v->written[i]);
    memset(v->written, 0, sizeof(v->written));
}

/* Sector s's bytes: the VM's copy of its page, or the image's. */
static const uint8_t *sector_at(const struct p4_virtio *v, uint64_t s)
{
    const uint8_t *page = v->written[s / SECTORS_PER_PAGE];
    return page ? page + (s % SECTORS_PER_PAGE) * VIRTIO_BLK_SECTOR_SIZE
                : v->image + s * VIRTIO_BLK_SECTOR_SIZE;
}

/* Sector s made the VM's own (its page copied first): NULL without memory. */
static uint8_t *sector_own(struct p4_virtio *v, uint64_t s)
{
    size_t p = s / SECTORS_PER_PAGE;
    if (v->written[p] == NULL) {
        paddr_t pa = page_alloc();
        if (pa == 0)
            return NULL;
        v->written[p] = (uint8_t *)(uintptr_t)pa;
        uint64_t first = p * SECTORS_PER_PAGE, n = v->sectors - first;
        memcpy(v->written[p], v->image + first * VIRTIO_BLK_SECTOR_SIZE,
               (n < SECTORS_PER_PAGE ? n : SECTORS_PER_PAGE) * VIRTIO_BLK_SECTOR_SIZE);
    }
    return v->written[p] + (s % SECTORS_PER_PAGE) * VIRTIO_BLK_SECTOR_SIZE;
}

static struct vmexit_result virtio_ctl_handle(struct vmexit_controller *self, struct vcpu_state *s,
                                              union exit_reason reason)
{
    struct p4_virtio *v = self->data;
    struct mmio_exit x;
    struct vmexit_result r = mmio_exit_decode(s, reason, VBLK_MMIO_BASE, &x);
    if (r.action != VMEXIT_CONTINUE || vm_stopped(s->vm))
        return r;
    uint32_t before = v->dev.interrupt_status;
    struct mmio_request req = x.req;
    user_frame_reset();
    uint64_t us = upcall_push_vcpu(s);
    uint64_t udev = user_push(&v->dev, sizeof(v->dev));
    uint64_t ureq = user_push(&req, sizeof(req));
    struct user_result u = user_call(vblk_mmio, us, udev, ureq, 0);
    if (u.status != USER_RETURNED)
        return upcall_stopped(s, &u);
    uint64_t capacity = v->dev.capacity;
    user_pull(&v->dev, udev, sizeof(v->dev));
    user_pull(&req, ureq, sizeof(req));
    v->dev.capacity = capacity; /* the controller's, whatever the student's copy says */
    r = vmexit_result_from(u.ret[0], u.ret[1]);
    if (vm_stopped(s->vm))
        return r; /* vblk_mmio stopped it (vm_stop): it stays stopped */
    if (r.action != VMEXIT_CONTINUE)
        return vm_stop(s->vm, KEV_EINVAL, "vblk_mmio() returned neither vmexit_continue() nor "
                       "vm_stop() for a %u-byte %s at guest-physical 0x%lx, but %s", req.size,
                       req.write ? "write" : "read", req.gpa.addr, vmexit_action_name(r.action));
    v->accesses++;
    x.req.value = req.value;
    r = mmio_exit_finish(s, &x);
    if (r.action != VMEXIT_CONTINUE || before != 0 || v->dev.interrupt_status == 0)
        return r;
    v->interrupts++;
    return timer_raise(s, v->apic, VBLK_VECTOR);
}

enum kev_error virtio_controller_init(struct vmexit_controller *c, struct p4_virtio *v, struct p4_timer *apic)
{
    uint64_t sectors;
    const uint8_t *image = p4_disk_image(&sectors);
    memset(v, 0, sizeof(*v));
    if (image == NULL) {
        printk("p4: no disk image: GRUB loaded no module \"%s\" of whole sectors "
               "(project4/project.mk builds it)\n", P4_DISK_MODULE);
        return KEV_EINVAL;
    }
    if (sectors > P4_DISK_PAGES_MAX * SECTORS_PER_PAGE) {
        printk("p4: the disk image has %lu sectors, more than the %lu kevlab's device takes\n",
               sectors, (uint64_t)P4_DISK_PAGES_MAX * SECTORS_PER_PAGE);
        return KEV_EINVAL;
    }
    v->image = image;
    v->sectors = sectors;
    v->dev.capacity = sectors;
    v->apic = apic;
    *c = (struct vmexit_controller){.name = "virtio", .handle = virtio_ctl_handle, .data = v};
    return KEV_OK;
}

/* --- the syscalls (user/syscalls.tbl) -------------------------------------------------- */

static struct p4_virtio *disk_of(struct vcpu_state *s, uint64_t sector, size_t n, const char *what)
{
    struct p4_virtio *v = p4_virtio_of(s->vm);
    if (v == NULL)
        user_stop("%s(): this is not a VM of project 4's virtio device", what);
    if (n > VBLK_DISK_IO_MAX || sector > v->sectors || n > v->sectors - sector)
        return NULL;
    return v;
}

enum kev_error sys_vblk_disk_read(struct vcpu_state *s, uint64_t sector, void *buf, size_t n)
{
    struct p4_virtio *v = disk_of(s, sector, n, "vblk_disk_read");
    if (v == NULL)
        return KEV_EINVAL;
    for (size_t i = 0; i < n; i++)
        memcpy((uint8_t *)buf + i * VIRTIO_BLK_SECTOR_SIZE, sector_at(v, sector + i), VIRTIO_BLK_SECTOR_SIZE);
    return KEV_OK;
}

enum kev_error sys_vblk_disk_write(struct vcpu_state *s, uint64_t sector, const void *buf, size_t n)
{
    struct p4_virtio *v = disk_of(s, sector, n, "vblk_disk_write");
    if (v == NULL)
        return KEV_EINVAL;
    for (size_t i = 0; i < n; i++) {
        uint8_t *to = sector_own(v, sector + i);
        if (to == NULL)
            return KEV_ENOMEM; /* the sectors before it are written */
        memcpy(to, (const uint8_t *)buf + i * VIRTIO_BLK_SECTOR_SIZE, VIRTIO_BLK_SECTOR_SIZE);
    }
    return KEV_OK;
}
