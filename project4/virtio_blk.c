/*
 * Project 4, part 2: a virtio block device. This is a file you edit.
 *
 * A paravirtual device does not pretend to be real hardware: the guest's
 * driver knows it talks to a hypervisor, and both sides share a protocol
 * made for that, virtio. Its heart is the virtqueue, three small tables in
 * guest memory (the virtio 1.x spec, section 2.6 "Split Virtqueues"):
 *
 *   the descriptor table  struct virtq_desc[num]: buffers (guest-physical
 *                         address, length, flags), chained by `next`
 *   the available ring    the driver's: "chain k is ready" (ring[idx % num]
 *                         = k, then idx + 1)
 *   the used ring         yours: "chain k is done, I wrote len bytes"
 *
 * A block request is one chain: a 16-byte header (type, sector), the data
 * buffers, one status byte (section 5.2.6 "Device Operation"). The driver
 * writes a few chains, bumps avail->idx and writes the QueueNotify
 * register: one VM exit for any number of requests. You serve each, put it
 * in the used ring, set InterruptStatus, and the controller interrupts the
 * guest through part 1's APIC (your timer_deliver injects VBLK_VECTOR).
 *
 * Before any of that, the registers (virtio_blk.h has their table): the
 * guest finds the device (MagicValue, Version, DeviceID), agrees on
 * features (DeviceFeatures, DriverFeatures, Status's FEATURES_OK), tells
 * you where the three tables are (Queue*), and says DRIVER_OK (section
 * 3.1 "Device Initialization"). A write of 0 to Status resets it all.
 *
 * The rings are in guest-PHYSICAL memory, and your code runs in ring 3:
 * every byte of the guest goes through the probe, never a pointer:
 *
 *   struct virtq_desc d;
 *   e = probe_copy_from_gpa(s->vm, &d, GPA(dev->q.desc + 16 * i), sizeof(d));
 *   e = probe_copy_to_gpa(s->vm, GPA(addr), &status, 1);
 *
 * and the disk through two syscalls, a sector or a few at a time:
 * vblk_disk_read(s, sector, buf, nsectors) and vblk_disk_write(s, sector, buf, nsectors) (sectors, not bytes).
 * A guest address that is not guest memory is the probe's error, never a
 * crash: turn it into the status VIRTIO_BLK_S_IOERR, or give up with
 * KEV_EVIRTIO where the handout says so.
 *
 * Given: the MMIO decoding of project 3 (mmio_exit.h), the controller
 * (virtio_ctl.c) that calls vblk_mmio for each access and raises the
 * interrupt, the guest's driver. Run one test: make run PROJECT=4
 * TEST=p4_virtio_probe. The handout is docs/project4.md; a suggested order:
 * vblk_mmio's registers and vblk_reset, then vblk_notify, then
 * vblk_request.
 */
#include "project4/virtio_blk.h"
#include "kernel/panic.h"
#include "kernel/string.h"

#ifdef SOLUTION
static uint32_t half(uint64_t v, uint32_t sel)
{
    return sel == 0 ? (uint32_t)v : sel == 1 ? (uint32_t)(v >> 32) : 0;
}

static void set_half(uint64_t *v, bool high, uint32_t value)
{
    *v = high ? (*v & 0xffffffffULL) | (uint64_t)value << 32 : (*v & ~0xffffffffULL) | value;
}

static bool is_register(uint64_t off)
{
    switch (off) {
#define VBLK_CASE(name, offset, what) case offset:
        VIRTIO_MMIO_REGS(VBLK_CASE)
#undef VBLK_CASE
        return true;
    }
    return false;
}

static uint32_t load(const struct vblk *dev, uint64_t off)
{
    bool q0 = dev->queue_sel == 0;
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE:
        return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION:
        return VIRTIO_MMIO_VERSION_1X;
    case VIRTIO_MMIO_DEVICE_ID:
        return VIRTIO_ID_BLOCK;
    case VIRTIO_MMIO_VENDOR_ID:
        return VBLK_VENDOR_ID;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        return half(VBLK_FEATURES, dev->device_features_sel);
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        return q0 ? VBLK_QUEUE_NUM_MAX : 0;
    case VIRTIO_MMIO_QUEUE_READY:
        return q0 ? dev->q.ready : 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS:
        return dev->interrupt_status;
    case VIRTIO_MMIO_STATUS:
        return dev->status;
    case VIRTIO_MMIO_CONFIG_CAPACITY_LOW:
        return (uint32_t)dev->capacity;
    case VIRTIO_MMIO_CONFIG_CAPACITY_HIGH:
        return (uint32_t)(dev->capacity >> 32);
    }
    return 0; /* write-only, and ConfigGeneration */
}

/* QueueReady = 1: the queue must be one a device can use (2.6 "Split
 * Virtqueues": a power of 2 up to QueueNumMax; the parts' alignment). */
static struct vmexit_result queue_ready(struct vcpu_state *s, struct vblk *dev, uint32_t value)
{
    struct vblk_queue *q = &dev->q;
    if (value & 1) {
        if (q->num == 0 || q->num > VBLK_QUEUE_NUM_MAX || (q->num & (q->num - 1)))
            return vm_stop(s->vm, KEV_EVIRTIO, "QueueReady = 1 with QueueNum %u: a split virtqueue's "
                           "size is a power of 2, at most QueueNumMax (%u)", q->num, VBLK_QUEUE_NUM_MAX);
        if (q->desc % VIRTQ_DESC_ALIGN || q->driver % VIRTQ_AVAIL_ALIGN || q->device % VIRTQ_USED_ALIGN)
            return vm_stop(s->vm, KEV_EVIRTIO, "QueueReady = 1 with the descriptor table at 0x%lx, "
                           "the available ring at 0x%lx, the used ring at 0x%lx: they must be "
                           "aligned to 16, 2 and 4 bytes", q->desc, q->driver, q->device);
    }
    q->ready = value & 1;
    return vmexit_continue();
}

static void write_status(struct vblk *dev, uint32_t value)
{
    if (value == 0) {
        vblk_reset(dev);
        return;
    }
    /* FEATURES_OK stays only for features the device offered, VERSION_1
     * among them (3.1.1 "Driver Requirements: Device Initialization"). */
    if ((value & VIRTIO_STATUS_FEATURES_OK) &&
        ((dev->driver_features & ~VBLK_FEATURES) || !(dev->driver_features & VIRTIO_F_VERSION_1)))
        value &= ~VIRTIO_STATUS_FEATURES_OK;
    dev->status = value;
}

static struct vmexit_result store(struct vcpu_state *s, struct vblk *dev, uint64_t off, uint32_t value)
{
    struct vblk_queue *q = &dev->q;
    bool q0 = dev->queue_sel == 0;
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        dev->device_features_sel = value;
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (dev->driver_features_sel < 2)
            set_half(&dev->driver_features, dev->driver_features_sel == 1, value);
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        dev->driver_features_sel = value;
        break;
    case VIRTIO_MMIO_QUEUE_SEL:
        dev->queue_sel = value;
        break;
    case VIRTIO_MMIO_QUEUE_NUM:
        if (q0)
            q->num = value;
        break;
    case VIRTIO_MMIO_QUEUE_READY:
        return q0 ? queue_ready(s, dev, value) : vmexit_continue();
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        /* Only a live queue is served (3.1.1: not before DRIVER_OK). */
        if (value == 0 && q->ready && (dev->status & VIRTIO_STATUS_DRIVER_OK))
            return vblk_notify(s, dev);
        break;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        dev->interrupt_status &= ~value;
        break;
    case VIRTIO_MMIO_STATUS:
        write_status(dev, value);
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        if (q0)
            set_half(&q->desc, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, value);
        break;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        if (q0)
            set_half(&q->driver, off == VIRTIO_MMIO_QUEUE_DRIVER_HIGH, value);
        break;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        if (q0)
            set_half(&q->device, off == VIRTIO_MMIO_QUEUE_DEVICE_HIGH, value);
        break;
    }
    return vmexit_continue(); /* read-only registers ignore writes */
}
#endif

struct vmexit_result vblk_mmio(struct vcpu_state *s, struct vblk *dev, struct mmio_request *req)
{
#ifdef SOLUTION
    uint64_t off = req->gpa.addr - VBLK_MMIO_BASE;
    if (req->size != 4 || !is_register(off))
        return vm_stop(s->vm, KEV_EMMIO, "a %u-byte %s at guest-physical 0x%lx (offset 0x%03lx): the "
                       "virtio device has %s", req->size, req->write ? "write" : "read", req->gpa.addr,
                       off, is_register(off) ? "4-byte registers only" : "no register there");
    if (!req->write) {
        req->value = load(dev, off);
        return vmexit_continue();
    }
    return store(s, dev, off, (uint32_t)req->value);
#else
    /*
     * Hints:
     *   - The offset is req->gpa.addr - VBLK_MMIO_BASE. Every register is
     *     4 bytes: another size, or an offset with no row in
     *     VIRTIO_MMIO_REGS, is KEV_EMMIO (say the offset and the size).
     *   - A load: one switch on the offset. DeviceFeatures shows half of
     *     VBLK_FEATURES, the half DeviceFeaturesSel chose (0: bits 31:0,
     *     1: 63:32, anything else: 0; shifting a 64-bit value by 64 or
     *     more is undefined in C, so test sel first). QueueNumMax and
     *     QueueReady are about queue 0 only (QueueSel != 0 reads 0, and
     *     stores to the queue's registers are ignored).
     *   - A store: DriverFeatures sets one half of dev->driver_features
     *     (DriverFeaturesSel 0 or 1; any other: ignored); the Queue*
     *     addresses are halves of 64-bit values too, and take effect
     *     whether the queue is ready or not.
     *   - Status: 0 resets (vblk_reset). FEATURES_OK is kept only when the
     *     driver's features are a subset of VBLK_FEATURES with
     *     VIRTIO_F_VERSION_1; otherwise store the value without it (the
     *     driver reads Status back to see).
     *   - QueueReady = 1 checks the queue: QueueNum a power of 2 from 1 to
     *     VBLK_QUEUE_NUM_MAX, the three addresses aligned (16, 2, 4);
     *     otherwise KEV_EVIRTIO.
     *   - QueueNotify with value 0 (the queue), a ready queue and
     *     DRIVER_OK in Status: vblk_notify. Otherwise nothing happens.
     *   - InterruptACK clears the bits written from InterruptStatus.
     */
    (void)s, (void)dev, (void)req;
    TODO();
#endif
}

void vblk_reset(struct vblk *dev)
{
#ifdef SOLUTION
    uint64_t capacity = dev->capacity;
    memset(dev, 0, sizeof(*dev));
    dev->capacity = capacity;
#else
    /*
     * Hints:
     *   - Everything goes back to 0 (status, selectors, features, queue 0
     *     with its indices, InterruptStatus): everything but capacity.
     */
    (void)dev;
    TODO();
#endif
}

#ifdef SOLUTION
static struct vmexit_result ring_error(struct vcpu_state *s, const char *what, uint64_t gpa, enum kev_error e)
{
    return vm_stop(s->vm, KEV_EVIRTIO, "%s at guest-physical 0x%lx: %s", what, gpa, kev_strerror(e));
}
#endif

struct vmexit_result vblk_notify(struct vcpu_state *s, struct vblk *dev)
{
#ifdef SOLUTION
    struct vblk_queue *q = &dev->q;
    uint16_t idx;
    enum kev_error e = probe_copy_from_gpa(s->vm, &idx, GPA(q->driver + 2), sizeof(idx));
    if (e != KEV_OK)
        return ring_error(s, "reading the available ring's idx", q->driver + 2, e);
    if ((uint16_t)(idx - q->last_avail) > q->num)
        return vm_stop(s->vm, KEV_EVIRTIO, "the available ring's idx is %u, %u entries past the %u "
                       "served: more than the queue's %u", idx, (uint16_t)(idx - q->last_avail),
                       q->last_avail, q->num);
    bool used = false;
    while (q->last_avail != idx) {
        uint64_t at = q->driver + 4 + 2 * (q->last_avail % q->num);
        uint16_t head;
        if ((e = probe_copy_from_gpa(s->vm, &head, GPA(at), sizeof(head))) != KEV_OK)
            return ring_error(s, "reading the available ring", at, e);
        uint32_t written = 0;
        struct vmexit_result r = vblk_request(s, dev, head, &written);
        if (r.action != VMEXIT_CONTINUE)
            return r;
        struct virtq_used_elem el = {.id = head, .len = written};
        at = q->device + 4 + 8 * (q->used_idx % q->num);
        if ((e = probe_copy_to_gpa(s->vm, GPA(at), &el, sizeof(el))) != KEV_OK)
            return ring_error(s, "writing the used ring", at, e);
        q->used_idx++;
        q->last_avail++;
        /* The entry first, then idx: the driver trusts what idx covers
         * (2.6.8.2 "Device Requirements: The Virtqueue Used Ring"). */
        if ((e = probe_copy_to_gpa(s->vm, GPA(q->device + 2), &q->used_idx, 2)) != KEV_OK)
            return ring_error(s, "writing the used ring's idx", q->device + 2, e);
        used = true;
    }
    if (used)
        dev->interrupt_status |= VIRTIO_MMIO_INT_VRING;
    return vmexit_continue();
#else
    /*
     * Hints:
     *   - Read the avail ring's idx (at q.driver + 2). idx and your
     *     last_avail are free-running 16-bit counters: the entries to
     *     serve are last_avail, last_avail + 1, ... up to idx (uint16_t
     *     arithmetic wraps the way the driver's does), each at
     *     ring[counter % num]. More than num of them is KEV_EVIRTIO.
     *   - Each entry is a chain's head: vblk_request serves it. Then the
     *     used ring: ring[used_idx % num] = {head, written}, and the new
     *     used_idx at q.device + 2 (the entry before the idx).
     *   - A ring that is not guest memory: KEV_EVIRTIO.
     *   - Anything used: set VIRTIO_MMIO_INT_VRING in interrupt_status
     *     (the controller raises the interrupt).
     */
    (void)s, (void)dev;
    TODO();
#endif
}

#ifdef SOLUTION
/* The longest chain vblk_request follows: header, up to 6 data buffers,
 * status (a longer one: KEV_EVIRTIO, the device gives up). */
#define CHAIN_MAX 8

static struct vmexit_result read_chain(struct vcpu_state *s, struct vblk *dev, uint16_t head,
                                       struct virtq_desc *d, unsigned *n)
{
    uint16_t i = head;
    for (unsigned k = 0;; k++) {
        /* A chain longer than the table has a loop (2.6.5.2 "Driver
         * Requirements: The Virtqueue Descriptor Table"). */
        if (i >= dev->q.num || k == dev->q.num)
            return vm_stop(s->vm, KEV_EVIRTIO, "the chain from descriptor %u %s", head,
                           i >= dev->q.num ? "names a descriptor past the table's end" : "loops");
        struct virtq_desc x;
        uint64_t at = dev->q.desc + 16 * (uint64_t)i;
        enum kev_error e = probe_copy_from_gpa(s->vm, &x, GPA(at), sizeof(x));
        if (e != KEV_OK)
            return ring_error(s, "reading a descriptor", at, e);
        if (k < CHAIN_MAX)
            d[k] = x;
        if (!(x.flags & VIRTQ_DESC_F_NEXT)) {
            *n = k + 1;
            return vmexit_continue();
        }
        i = x.next;
    }
}

/* The data buffers' checks: each in the direction of the request, a
 * whole number of sectors, all of them on the disk. */
static bool data_ok(const struct vblk *dev, const struct virtq_desc *d, unsigned n, bool to_guest,
                    uint64_t sector)
{
    uint64_t sectors = 0;
    for (unsigned k = 1; k + 1 < n; k++) {
        if (!!(d[k].flags & VIRTQ_DESC_F_WRITE) != to_guest || d[k].len % VIRTIO_BLK_SECTOR_SIZE)
            return false;
        sectors += d[k].len / VIRTIO_BLK_SECTOR_SIZE;
    }
    return sector <= dev->capacity && sectors <= dev->capacity - sector;
}

/* The data, a descriptor at a time and up to VBLK_DISK_IO_MAX sectors a
 * step (each syscall costs more than the copy it makes). */
static uint8_t transfer(struct vcpu_state *s, const struct virtq_desc *d, unsigned n, bool to_guest,
                        uint64_t sector, uint32_t *written)
{
    static uint8_t buf[VBLK_DISK_IO_MAX * VIRTIO_BLK_SECTOR_SIZE];
    for (unsigned k = 1; k + 1 < n; k++) {
        for (uint32_t off = 0; off < d[k].len;) {
            uint32_t count = (d[k].len - off) / VIRTIO_BLK_SECTOR_SIZE;
            if (count > VBLK_DISK_IO_MAX)
                count = VBLK_DISK_IO_MAX;
            uint32_t bytes = count * VIRTIO_BLK_SECTOR_SIZE;
            gpa_t at = GPA(d[k].addr + off);
            enum kev_error e = to_guest ? vblk_disk_read(s, sector, buf, count)
                                        : probe_copy_from_gpa(s->vm, buf, at, bytes);
            if (e == KEV_OK)
                e = to_guest ? probe_copy_to_gpa(s->vm, at, buf, bytes) : vblk_disk_write(s, sector, buf, count);
            if (e != KEV_OK)
                return VIRTIO_BLK_S_IOERR;
            off += bytes;
            sector += count;
        }
        if (to_guest)
            *written += d[k].len;
    }
    return VIRTIO_BLK_S_OK;
}

static uint8_t serve(struct vcpu_state *s, struct vblk *dev, const struct virtq_desc *d, unsigned n,
                     uint32_t *written)
{
    struct virtio_blk_req_header h;
    if ((d[0].flags & VIRTQ_DESC_F_WRITE) || d[0].len < sizeof(h) ||
        probe_copy_from_gpa(s->vm, &h, GPA(d[0].addr), sizeof(h)) != KEV_OK)
        return VIRTIO_BLK_S_IOERR;
    for (unsigned k = 0; k < n; k++)
        if (d[k].flags & VIRTQ_DESC_F_INDIRECT)
            return VIRTIO_BLK_S_IOERR; /* not negotiated */
    switch (h.type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT: {
        bool in = h.type == VIRTIO_BLK_T_IN;
        if (!data_ok(dev, d, n, in, h.sector))
            return VIRTIO_BLK_S_IOERR;
        return transfer(s, d, n, in, h.sector, written);
    }
    case VIRTIO_BLK_T_FLUSH:
        /* The disk is memory: nothing to flush, if the driver may ask. */
        return dev->driver_features & VIRTIO_BLK_F_FLUSH ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_UNSUPP;
    case VIRTIO_BLK_T_GET_ID:
        if (n != 3 || !(d[1].flags & VIRTQ_DESC_F_WRITE) || d[1].len < VIRTIO_BLK_ID_BYTES ||
            probe_copy_to_gpa(s->vm, GPA(d[1].addr), VBLK_ID, VIRTIO_BLK_ID_BYTES) != KEV_OK)
            return VIRTIO_BLK_S_IOERR;
        *written += VIRTIO_BLK_ID_BYTES;
        return VIRTIO_BLK_S_OK;
    }
    return VIRTIO_BLK_S_UNSUPP;
}
#endif

struct vmexit_result vblk_request(struct vcpu_state *s, struct vblk *dev, uint16_t head, uint32_t *written)
{
#ifdef SOLUTION
    struct virtq_desc d[CHAIN_MAX];
    unsigned n;
    struct vmexit_result r = read_chain(s, dev, head, d, &n);
    if (r.action != VMEXIT_CONTINUE)
        return r;
    /* The status byte: the last descriptor's first byte, device-writable.
     * Without it the request cannot even fail (5.2.6). */
    const struct virtq_desc *last = &d[n <= CHAIN_MAX ? n - 1 : CHAIN_MAX - 1];
    if (n < 2 || n > CHAIN_MAX || !(last->flags & VIRTQ_DESC_F_WRITE) || last->len < 1)
        return vm_stop(s->vm, KEV_EVIRTIO, "the chain from descriptor %u (%u descriptors) %s", head, n,
                       n > CHAIN_MAX ? "is longer than the device takes"
                                     : "ends without a device-writable status byte");
    *written = 0;
    uint8_t status = serve(s, dev, d, n, written);
    if (status != VIRTIO_BLK_S_OK)
        *written = 0;
    enum kev_error e = probe_copy_to_gpa(s->vm, GPA(last->addr), &status, 1);
    if (e != KEV_OK)
        return ring_error(s, "writing the status byte", last->addr, e);
    *written += 1;
    return vmexit_continue();
#else
    /*
     * Hints:
     *   - Follow the chain from head (VIRTQ_DESC_F_NEXT, next): a
     *     descriptor index past num, or more than num descriptors (a
     *     loop), is KEV_EVIRTIO. Keep the descriptors in an array of 8:
     *     a chain longer than 8 is KEV_EVIRTIO too (kevlab's limit).
     *   - The last one holds the status byte (its first byte): it must be
     *     device-writable (VIRTQ_DESC_F_WRITE) with len >= 1, and the chain
     *     at least 2 long; else nothing can be reported: KEV_EVIRTIO.
     *   - The first is the header: device-readable, 16 bytes or more. A
     *     bad header, a data buffer in the wrong direction or not a whole
     *     number of sectors, a sector range past capacity, or a header
     *     or data buffer the probe refuses: VIRTIO_BLK_S_IOERR (the
     *     descriptor table or the status byte refused: KEV_EVIRTIO). A type you do not
     *     know (or FLUSH without VIRTIO_BLK_F_FLUSH negotiated):
     *     VIRTIO_BLK_S_UNSUPP.
     *   - IN: disk -> guest; OUT: guest -> disk, through a buffer of your
     *     own (static: your stack is small). A sector at a time works; up
     *     to VBLK_DISK_IO_MAX sectors a call is faster (every syscall costs
     *     more than the bytes it copies). GET_ID writes the 20 bytes of
     *     VBLK_ID into its one data buffer.
     *   - *written counts the bytes you wrote into the chain: the data of
     *     IN or GET_ID, plus 1 for the status; a request that failed wrote
     *     only its status: 1.
     */
    (void)s, (void)dev, (void)head, (void)written;
    TODO();
#endif
}
