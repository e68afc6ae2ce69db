/*
 * Project 3's MMIO: the printer device whose registers sit in a page of
 * guest-physical memory, the request an access to them is decoded into,
 * and the function you write in mmio.c.
 *
 * A device a guest reaches through memory (memory-mapped I/O) is a range
 * of guest-physical addresses that no RAM backs. The hypervisor leaves
 * that page out of the EPT on purpose: every load or store the guest makes
 * there is an EPT violation (Intel SDM Vol. 3C, 29.3.3.2 "EPT
 * Violations"), a VM exit before the access happens. Unlike port I/O, the
 * exit does not say what the instruction was: the exit qualification says
 * only read or write, and GUEST_PHYSICAL_ADDRESS where (Vol. 3C, 28.2.1
 * "Basic VM-Exit Information", table "Exit Qualification for EPT
 * Violations"). So the MMIO controller (project3/mmio_ctl.c, given) reads
 * the instruction at the guest's RIP, decodes it (a MOV between a register
 * or an immediate and memory), and hands you the access as a request; it
 * finishes the instruction afterwards (a load's value into its register,
 * RIP past the instruction).
 *
 * The printer's registers (MMIO_PRINTER_BASE is guest-physical):
 *
 *   offset  size  name      a write                        a read returns
 *   0x00    8     buffer    the buffer's guest-physical    the value last written
 *                           address
 *   0x08    4     length    the buffer's length in bytes   the value last written
 *   0x10    1     doorbell  prints `length` bytes from     0
 *                           `buffer` (the value is ignored)
 *
 * Every register starts at 0 when the VM starts. An access must be the
 * register's size at the register's address: any other access to the page
 * (a 4-byte read of the buffer register, a write at 0x0c or 0x11, ...)
 * stops the VM with KEV_EMMIO and a message naming the address and the
 * size.
 */
#ifndef PROJECT3_MMIO_H
#define PROJECT3_MMIO_H

#include "kernel/types.h"
#include "kev/kev.h"
#include "kev/printer.h"

#define MMIO_PRINTER_BASE 0xcafe0000UL /* guest-physical: the page the EPT leaves out */
#define MMIO_PRINTER_BUFFER (MMIO_PRINTER_BASE + 0x00)   /* 8 bytes */
#define MMIO_PRINTER_LENGTH (MMIO_PRINTER_BASE + 0x08)   /* 4 bytes */
#define MMIO_PRINTER_DOORBELL (MMIO_PRINTER_BASE + 0x10) /* 1 byte */
/* The most one doorbell prints: a longer length stops the VM with KEV_EINVAL. */
#define MMIO_PRINTER_MAX 4096

/* One guest access to the printer's page, as the controller decoded it. */
struct mmio_request {
    gpa_t gpa;      /* the access's first byte (guest-physical) */
    uint8_t size;   /* 1, 2, 4 or 8 bytes */
    bool write;     /* a store; false: a load */
    uint64_t value; /* a store: the value written (bits above size bytes are 0);
                       a load: yours to set (bits above size bytes are ignored) */
};

/*
 * The printer's state: what its registers hold. The controller keeps one
 * for each VM, zeroed when the VM starts, and hands it to every call
 * (changes you make are kept for the next one).
 */
struct mmio_printer {
    uint64_t buffer; /* register 0x00 */
    uint32_t length; /* register 0x08 */
};

/*
 * mmio_handle: does the access *req to the printer dev for the vCPU s:
 * a store sets a register (the doorbell prints, through the PrinterProxy
 * out), a load sets req->value from one. Returns:
 *
 *   vmexit_continue()                the access is done: the controller
 *                                    finishes the instruction (a load's
 *                                    value into the guest's register) and
 *                                    moves RIP past it
 *   vm_stop(s->vm, KEV_EMMIO, ...)   not an access the printer takes (a
 *                                    size other than the register's, an
 *                                    address with no register); the
 *                                    message names the address and size
 *   vm_stop(s->vm, e, ...)           the doorbell failed: KEV_EINVAL for a
 *                                    length above MMIO_PRINTER_MAX, the
 *                                    copy's error for a buffer that is not
 *                                    the VM's memory, printer_write's error
 *                                    (KEV_ENOMEM: the capture is full)
 *
 * A doorbell that fails prints nothing.
 */
struct vmexit_result mmio_handle(struct vcpu_state *s, struct mmio_printer *dev,
                                 struct mmio_request *req, struct printer *out);

/*
 * probe_copy_from_gpa (kev/probe.h, a syscall): copies n bytes of the
 * VM's guest-physical memory from src into dst, page by page through the
 * VM's EPT. KEV_OK; KEV_EOVERFLOW when src + n - 1 wraps; KEV_ENOTGUESTMEM
 * when a page of the range is not the VM's memory (the EPT leaves it out,
 * or it is past 2^48). n = 0 is KEV_OK.
 */

#endif
