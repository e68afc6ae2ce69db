/*
 * Project 3, MMIO. This is a file you edit.
 *
 * Port I/O (project 2) is one way a guest talks to a device; the other is
 * memory: a device's registers appear at guest-physical addresses, and the
 * driver reads and writes them with ordinary MOVs. In a hypervisor there
 * is no device at those addresses, so it leaves their page out of the EPT:
 * every access there is an EPT violation, a VM exit *before* the access
 * happens (Intel SDM Vol. 3C, 29.3.3.2 "EPT Violations"). The VM exit says
 * where (GUEST_PHYSICAL_ADDRESS) and whether it was a read or a write, but
 * not the size or the value: those are in the instruction. The MMIO
 * controller (mmio_ctl.c, given)
 *
 *   1. reads the instruction bytes at the guest's RIP and decodes them (a
 *      MOV between memory and a register or an immediate, Vol. 2B,
 *      "MOV--Move"; anything else stops the VM);
 *   2. calls mmio_handle() with the request: the guest-physical address,
 *      the size (1, 2, 4 or 8 bytes), store or load, and a store's value;
 *   3. for a load, puts req->value into the instruction's destination
 *      register as the CPU would (an 8- or 16-bit load keeps the rest of
 *      the register, a 32-bit load clears bits 63:32);
 *   4. moves RIP past the instruction and resumes the guest.
 *
 * You write the device: a printer with three registers (mmio.h has the
 * table). The guest writes a buffer's guest-physical address and length,
 * then rings the doorbell, and the printer prints those bytes through the
 * PrinterProxy. A read returns what the register last held (the doorbell
 * reads 0). An access that is not exactly one register, at its size, is
 * the guest's mistake: stop the VM with KEV_EMMIO and say where:
 *
 *     return vm_stop(s->vm, KEV_EMMIO, "a %u-byte %s at guest-physical 0x%lx: ...", ...);
 *
 * The buffer is guest-PHYSICAL memory: there is no guest page table to
 * walk, only the EPT. probe_copy_from_gpa(s->vm, dst, GPA(addr), n) copies
 * it page by page (guest-physical pages that follow each other need not be
 * neighbours in host memory).
 *
 * Run one test: make run PROJECT=3 TEST=p3_mmio_hello. The handout is
 * docs/project3.md.
 */
#include "project3/mmio.h"
#include "kernel/panic.h"
#ifdef SOLUTION

/* The printer's registers: where, how wide, what. */
enum mmio_reg { REG_BUFFER, REG_LENGTH, REG_DOORBELL };
static const struct {
    uint64_t gpa;
    uint8_t size;
    const char *name;
} regs[] = {
    [REG_BUFFER] = {MMIO_PRINTER_BUFFER, 8, "buffer"},
    [REG_LENGTH] = {MMIO_PRINTER_LENGTH, 4, "length"},
    [REG_DOORBELL] = {MMIO_PRINTER_DOORBELL, 1, "doorbell"},
};

/* The doorbell: the whole buffer copied first, so a bad one prints nothing. */
static struct vmexit_result ring(struct vcpu_state *s, struct mmio_printer *dev, struct printer *out)
{
    static uint8_t buf[MMIO_PRINTER_MAX];
    if (dev->length > MMIO_PRINTER_MAX)
        return vm_stop(s->vm, KEV_EINVAL, "printer doorbell: the length register holds %u, more "
                       "than the %d bytes the printer takes", dev->length, MMIO_PRINTER_MAX);
    enum kev_error e = probe_copy_from_gpa(s->vm, buf, GPA(dev->buffer), dev->length);
    if (e == KEV_OK)
        e = printer_write(out, buf, dev->length);
    if (e != KEV_OK)
        return vm_stop(s->vm, e, "printer doorbell: %u bytes at guest-physical 0x%lx: %s",
                       dev->length, dev->buffer, kev_strerror(e));
    return vmexit_continue();
}
#endif

struct vmexit_result mmio_handle(struct vcpu_state *s, struct mmio_printer *dev,
                                 struct mmio_request *req, struct printer *out)
{
#ifdef SOLUTION
    const char *what = req->write ? "write" : "read";
    size_t r = 0;
    while (r < ARRAY_SIZE(regs) && regs[r].gpa != req->gpa.addr)
        r++;
    if (r == ARRAY_SIZE(regs))
        return vm_stop(s->vm, KEV_EMMIO, "a %u-byte %s at guest-physical 0x%lx: the printer has no "
                       "register there (0x%lx buffer, 0x%lx length, 0x%lx doorbell)", req->size,
                       what, req->gpa.addr, MMIO_PRINTER_BUFFER, MMIO_PRINTER_LENGTH,
                       MMIO_PRINTER_DOORBELL);
    if (req->size != regs[r].size)
        return vm_stop(s->vm, KEV_EMMIO, "a %u-byte %s at guest-physical 0x%lx: the printer's %s "
                       "register takes %u-byte accesses only", req->size, what, req->gpa.addr,
                       regs[r].name, regs[r].size);
    if (!req->write) {
        req->value = r == REG_BUFFER ? dev->buffer : r == REG_LENGTH ? dev->length : 0;
        return vmexit_continue();
    }
    if (r == REG_BUFFER)
        dev->buffer = req->value;
    else if (r == REG_LENGTH)
        dev->length = (uint32_t)req->value;
    else
        return ring(s, dev, out);
    return vmexit_continue();
#else
    /*
     * Hints:
     *   - Write the table of mmio.h as data: each register's address, size
     *     and name. Find the register whose address is req->gpa.addr; none,
     *     or a size other than its own, is KEV_EMMIO (say which address, how
     *     many bytes, read or write).
     *   - A load sets req->value from *dev (the doorbell: 0); a store sets
     *     the register in *dev. Only the doorbell does more.
     *   - The doorbell: check the length (at most MMIO_PRINTER_MAX), copy the
     *     whole buffer with probe_copy_from_gpa(s->vm, buf, GPA(dev->buffer),
     *     dev->length) into a buffer of your own (static uint8_t
     *     buf[MMIO_PRINTER_MAX]), then printer_write(out, buf, length). On an
     *     error, stop the VM with that very error.
     *   - Success is vmexit_continue(); never move RIP or write the guest's
     *     registers yourself: the controller does.
     */
    (void)s;
    (void)dev;
    (void)req;
    (void)out;
    TODO();
#endif
}
