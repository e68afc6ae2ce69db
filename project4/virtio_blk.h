/*
 * Project 4, part 2: a virtio block device. Its registers, the virtqueue's
 * and the block requests' layouts (one table each), the device's state,
 * and the functions you write in virtio_blk.c.
 *
 * virtio is the standard way a guest talks to a paravirtual device: the
 * guest's driver and the device share rings in guest memory, and the
 * device's registers only set them up and ring the bell (the virtio 1.x
 * spec, "Virtual I/O Device (VIRTIO) Version 1.1"; its sections are cited
 * by title). This device is reached over MMIO (section 4.2 "Virtio Over
 * MMIO"): its registers sit in the guest-physical page VBLK_MMIO_BASE,
 * which the VM's EPT leaves out, so every access is an EPT violation that
 * project 3's given MMIO path decodes into a struct mmio_request for you
 * (project3/mmio.h, mmio_exit.h).
 *
 * The driver's side (given: the test guest, guests/project4/virtio.asm,
 * with requests the tests build in its memory) does what section 3.1.1
 * "Driver Requirements: Device Initialization" says:
 *
 *   Status = 0                                  reset
 *   Status |= ACKNOWLEDGE, then |= DRIVER
 *   read DeviceFeatures (DeviceFeaturesSel 0, 1); write DriverFeatures (sel 0, 1)
 *   Status |= FEATURES_OK; read Status back: FEATURES_OK must still be there
 *   QueueSel = 0; read QueueNumMax; QueueNum = n; QueueDesc/Driver/Device = the rings
 *   QueueReady = 1
 *   Status |= DRIVER_OK
 *   ... requests: descriptors, an avail ring entry, avail->idx++, QueueNotify = 0
 *   ... the interrupt: read InterruptStatus, write it to InterruptACK
 */
#ifndef PROJECT4_VIRTIO_BLK_H
#define PROJECT4_VIRTIO_BLK_H

#include "kernel/types.h"
#include "kev/kev.h"
#include "project3/mmio.h"

/* The device's page, guest-physical (the EPT leaves it out). */
#define VBLK_MMIO_BASE 0xd0000000UL

/*
 * The registers (section 4.2.2 "MMIO Device Register Layout"), at offsets
 * from VBLK_MMIO_BASE, every one 32 bits wide: X(name, offset, what).
 * Read-only registers ignore writes, write-only ones read 0 (kevlab's
 * rule: the spec leaves both undefined). An access of another size, or at
 * an offset no register has, stops the VM with KEV_EMMIO. Writes to
 * QueueNum and the Queue* addresses always take effect (QueueReady 1 or
 * not); only QueueReady = 1 checks them. With QueueSel other than 0,
 * queue registers read 0 and writes to them are ignored, as are writes
 * to DriverFeatures with DriverFeaturesSel 2 or more.
 */
#define VIRTIO_MMIO_REGS(X)                                                                      \
    X(VIRTIO_MMIO_MAGIC_VALUE, 0x000, "R: 0x74726976, \"virt\"")                                 \
    X(VIRTIO_MMIO_VERSION, 0x004, "R: 2, the virtio 1.x register layout")                        \
    X(VIRTIO_MMIO_DEVICE_ID, 0x008, "R: 2, a block device (section 5 \"Device Types\")")       \
    X(VIRTIO_MMIO_VENDOR_ID, 0x00c, "R: VBLK_VENDOR_ID")                                        \
    X(VIRTIO_MMIO_DEVICE_FEATURES, 0x010, "R: bits 32*sel+31..32*sel of VBLK_FEATURES")          \
    X(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0x014, "W: sel for DeviceFeatures")                      \
    X(VIRTIO_MMIO_DRIVER_FEATURES, 0x020, "W: bits 32*sel+31..32*sel of the driver's features") \
    X(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0x024, "W: sel for DriverFeatures")                      \
    X(VIRTIO_MMIO_QUEUE_SEL, 0x030, "W: the queue the Queue* registers are about")              \
    X(VIRTIO_MMIO_QUEUE_NUM_MAX, 0x034, "R: VBLK_QUEUE_NUM_MAX for queue 0, 0 for any other")   \
    X(VIRTIO_MMIO_QUEUE_NUM, 0x038, "W: the queue's size")                                      \
    X(VIRTIO_MMIO_QUEUE_READY, 0x044, "RW: 1: the queue is set up and may be used")             \
    X(VIRTIO_MMIO_QUEUE_NOTIFY, 0x050, "W: the queue whose avail ring has new entries")         \
    X(VIRTIO_MMIO_INTERRUPT_STATUS, 0x060, "R: why the device interrupted (VIRTIO_MMIO_INT_*)") \
    X(VIRTIO_MMIO_INTERRUPT_ACK, 0x064, "W: the InterruptStatus bits the driver handled")       \
    X(VIRTIO_MMIO_STATUS, 0x070, "RW: the status handshake (VIRTIO_STATUS_*); 0 resets")        \
    X(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x080, "W: the descriptor table's address, bits 31:0")        \
    X(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x084, "W: bits 63:32")                                      \
    X(VIRTIO_MMIO_QUEUE_DRIVER_LOW, 0x090, "W: the available ring's address, bits 31:0")       \
    X(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0x094, "W: bits 63:32")                                    \
    X(VIRTIO_MMIO_QUEUE_DEVICE_LOW, 0x0a0, "W: the used ring's address, bits 31:0")            \
    X(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0x0a4, "W: bits 63:32")                                    \
    X(VIRTIO_MMIO_CONFIG_GENERATION, 0x0fc, "R: 0 (the configuration never changes)")          \
    X(VIRTIO_MMIO_CONFIG_CAPACITY_LOW, 0x100, "R: the disk's size in sectors, bits 31:0")       \
    X(VIRTIO_MMIO_CONFIG_CAPACITY_HIGH, 0x104, "R: bits 63:32 (struct virtio_blk_config)")

/* The VIRTIO_MMIO_* names of the table are offsets (VIRTIO_MMIO_MAGIC_VALUE
 * is 0x000); the values a load returns are the constants below
 * (VIRTIO_MMIO_MAGIC is 0x74726976). */
enum virtio_mmio_reg {
#define VIRTIO_MMIO_REG_ENUM(name, offset, what) name = offset,
    VIRTIO_MMIO_REGS(VIRTIO_MMIO_REG_ENUM)
#undef VIRTIO_MMIO_REG_ENUM
};

#define VIRTIO_MMIO_MAGIC 0x74726976u
#define VIRTIO_MMIO_VERSION_1X 2u
#define VIRTIO_ID_BLOCK 2u
#define VBLK_VENDOR_ID 0x4c56454bu /* "KEVL" */

/* Device status bits (section 2.1 "Device Status Field"). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED 128u

/* Feature bits (section 6 "Reserved Feature Bits", 5.2.3 "Feature bits").
 * The device offers exactly VBLK_FEATURES. */
#define VIRTIO_BLK_F_FLUSH (1ULL << 9)   /* the FLUSH request */
#define VIRTIO_F_VERSION_1 (1ULL << 32)  /* virtio 1.x (not the legacy interface) */
#define VBLK_FEATURES (VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_FLUSH)

/* InterruptStatus bits (section 4.2.2). */
#define VIRTIO_MMIO_INT_VRING 1u   /* "Used Buffer Notification": the used ring has news */
#define VIRTIO_MMIO_INT_CONFIG 2u  /* the configuration changed (never here) */

/* The one queue's largest size. */
#define VBLK_QUEUE_NUM_MAX 16u

/* --- a split virtqueue (section 2.6 "Split Virtqueues") ------------------------------------ */

/* A descriptor: one buffer in guest-physical memory (2.6.5 "The Virtqueue
 * Descriptor Table"). Little-endian, like x86. */
struct virtq_desc {
    uint64_t addr;  /* guest-physical */
    uint32_t len;
    uint16_t flags; /* VIRTQ_DESC_F_* */
    uint16_t next;  /* the next descriptor of the chain, with VIRTQ_DESC_F_NEXT */
};
#define VIRTQ_DESC_F_NEXT 1u      /* the chain goes on at `next` */
#define VIRTQ_DESC_F_WRITE 2u     /* the device writes this buffer (else it reads it) */
#define VIRTQ_DESC_F_INDIRECT 4u  /* not offered here: a descriptor with it is IOERR */

/* The available ring (2.6.6 "The Virtqueue Available Ring"): the driver
 * writes ring[idx % num] = a chain's first descriptor, then idx + 1. */
struct virtq_avail {
    uint16_t flags;    /* ignored here: the device interrupts after every notification it used entries in */
    uint16_t idx;      /* free-running: wraps at 2^16, not at num */
    uint16_t ring[];   /* num entries (then used_event, unused here) */
};

/* The used ring (2.6.8 "The Virtqueue Used Ring"): the device writes
 * ring[idx % num] = {the chain's first descriptor, bytes it wrote}, then
 * idx + 1. */
struct virtq_used_elem {
    uint32_t id;
    uint32_t len;  /* bytes written into the chain's device-writable buffers */
};
struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[];
};

/* Alignment of the three parts (2.6 "Split Virtqueues", table of sizes). */
#define VIRTQ_DESC_ALIGN 16
#define VIRTQ_AVAIL_ALIGN 2
#define VIRTQ_USED_ALIGN 4

/* --- block requests (section 5.2.6 "Device Operation") ------------------------------------ */

/* A request's chain: the header (device-readable), the data buffers (IN
 * and GET_ID: device-writable; OUT: device-readable), and last the one
 * status byte (device-writable). */
struct virtio_blk_req_header {
    uint32_t type;     /* VIRTIO_BLK_T_* */
    uint32_t reserved;
    uint64_t sector;   /* the first 512-byte sector (IN, OUT) */
};
#define VIRTIO_BLK_T_IN 0u      /* read sectors into the data buffers */
#define VIRTIO_BLK_T_OUT 1u     /* write the data buffers to sectors */
#define VIRTIO_BLK_T_FLUSH 4u   /* with VIRTIO_BLK_F_FLUSH negotiated */
#define VIRTIO_BLK_T_GET_ID 8u  /* the device's id string: VIRTIO_BLK_ID_BYTES bytes */
#define VIRTIO_BLK_S_OK 0u
#define VIRTIO_BLK_S_IOERR 1u
#define VIRTIO_BLK_S_UNSUPP 2u
#define VIRTIO_BLK_SECTOR_SIZE 512u
#define VIRTIO_BLK_ID_BYTES 20u
/* The id GET_ID writes (20 bytes, no NUL: the spec's rule when all 20 are used). */
#define VBLK_ID "kevlab-virtio-blk-01"

/* --- the device's state ------------------------------------------------------------------- */

/* Queue 0, as the driver set it up. */
struct vblk_queue {
    uint32_t num;        /* QueueNum: its size; 0 after reset */
    uint32_t ready;      /* QueueReady */
    uint64_t desc;       /* QueueDesc: the descriptor table, guest-physical */
    uint64_t driver;     /* QueueDriver: the available ring */
    uint64_t device;     /* QueueDevice: the used ring */
    uint16_t last_avail; /* free-running: the avail ring's next entry to serve */
    uint16_t used_idx;   /* free-running: the used ring's idx as the device wrote it last */
};

/*
 * The device: what its registers hold. The controller keeps one for each
 * VM (reset, capacity set) and hands it to every call; changes you make
 * are kept for the next. capacity is the controller's: keep it as it is.
 */
struct vblk {
    uint32_t status;              /* Status */
    uint32_t device_features_sel; /* DeviceFeaturesSel */
    uint32_t driver_features_sel; /* DriverFeaturesSel */
    uint64_t driver_features;     /* what DriverFeatures wrote, both halves */
    uint32_t queue_sel;           /* QueueSel */
    struct vblk_queue q;          /* queue 0 */
    uint32_t interrupt_status;    /* InterruptStatus */
    uint64_t capacity;            /* the disk's sectors (the config space) */
};

/*
 * vblk_mmio: the guest's access *req to the device's page (req->gpa is in
 * [VBLK_MMIO_BASE, VBLK_MMIO_BASE + 4 KiB)). A load sets req->value, a
 * store does what the register's row above says. Returns
 *
 *   vmexit_continue()                  done: the controller finishes the guest's MOV
 *   vm_stop(s->vm, KEV_EMMIO, ...)     not a 4-byte access at a register's offset
 *   vm_stop(s->vm, KEV_EVIRTIO, ...)   a rule the device gives up on (the handout's table)
 *
 * After each call the controller looks at dev->interrupt_status: when it
 * went from 0 to non-zero, it raises the device's interrupt
 * (VBLK_VECTOR) through the APIC of part 1: your timer_deliver injects it.
 */
struct vmexit_result vblk_mmio(struct vcpu_state *s, struct vblk *dev, struct mmio_request *req);

/* The device after reset (a write of 0 to Status, section 4.2.2, the
 * Status row; 2.1.2 says what status reads after it): every
 * register 0, queue 0 unset, capacity kept. */
void vblk_reset(struct vblk *dev);

/*
 * vblk_notify: the driver wrote QueueNotify. Serves every avail ring entry
 * from q.last_avail up to the avail ring's idx, in order: each chain's
 * request (vblk_request), its used ring entry, used->idx; then sets
 * VIRTIO_MMIO_INT_VRING in InterruptStatus if it used any. vmexit_continue()
 * or a vm_stop with KEV_EVIRTIO.
 */
struct vmexit_result vblk_notify(struct vcpu_state *s, struct vblk *dev);

/*
 * vblk_request: serves the chain that begins at descriptor `head`: reads
 * the header, moves the data, writes the status byte (the handout's rules
 * say which status). *written: the bytes the device wrote into the chain's
 * device-writable buffers, status byte included (the used entry's len; 1
 * for a request that failed). vmexit_continue(), or vm_stop(s->vm,
 * KEV_EVIRTIO, ...) for a chain the device gives up on.
 */
struct vmexit_result vblk_request(struct vcpu_state *s, struct vblk *dev, uint16_t head,
                                  uint32_t *written);

/*
 * Given (syscalls, project4/virtio_ctl.c): the VM's disk, nsectors
 * 512-byte sectors (not bytes) from `sector` into or out of your buffer
 * of nsectors * VIRTIO_BLK_SECTOR_SIZE bytes. KEV_OK; KEV_EINVAL when
 * sector + nsectors is past the disk's end (nothing moved) or nsectors is
 * more than VBLK_DISK_IO_MAX; a write: KEV_ENOMEM when the host has no
 * page for the VM's copy of the disk.
 */
#define VBLK_DISK_IO_MAX 8
enum kev_error vblk_disk_read(struct vcpu_state *s, uint64_t sector, void *buf, size_t nsectors);
enum kev_error vblk_disk_write(struct vcpu_state *s, uint64_t sector, const void *buf, size_t nsectors);
/* Not yours to call: the kernel's side of the two syscalls above. */
enum kev_error sys_vblk_disk_read(struct vcpu_state *s, uint64_t sector, void *buf, size_t nsectors);
enum kev_error sys_vblk_disk_write(struct vcpu_state *s, uint64_t sector, const void *buf, size_t nsectors);

/* The device's interrupt vector (the platform's choice: virtio-mmio has one
 * interrupt line, section 4.2.3.4 "Notifications From The Device"). */
#define VBLK_VECTOR 0x51

#endif
