/*
 * Project 2, port I/O. This is a file you edit.
 *
 * Devices of a PC are reached through I/O ports as well as memory: the
 * serial port at 0x3f8, the PIC at 0x20, ... A guest that executes IN,
 * OUT, INS or OUTS must not reach the real hardware, so kev makes every
 * I/O instruction exit (unconditional I/O exiting, Intel SDM Vol. 3C,
 * 25.6.2 "Processor-Based VM-Execution Controls"). The CPU stops the guest
 * *before* the instruction does anything and says which instruction it
 * was in the exit qualification. The hypervisor then does what the
 * instruction would have done, against a device it emulates. Project 2's
 * port-I/O controller (pio_ctl.c, given)
 *
 *   1. calls pio_decode(): read the exit qualification into a struct
 *      pio_request (its layout is in pio.h, from Vol. 3C, 28.2.1 "Basic
 *      VM-Exit Information", table "Exit Qualification for I/O
 *      Instructions");
 *   2. finds the device at req->port (a port no device owns stops the VM
 *      with KEV_EIOPORT);
 *   3. calls pio_handle(): do the instruction (Vol. 2, "IN", "OUT",
 *      "INS/INSB/INSW/INSD", "OUTS/OUTSB/OUTSW/OUTSD", "REP/REPE/...");
 *   4. moves the guest's RIP past the instruction (by the exit's
 *      instruction length) and resumes it, unless the VM stopped.
 *
 * What each instruction does (size = req->size, 1, 2 or 4 bytes):
 *
 *   IN    reads one value from the device into AL, AX or EAX. An 8- or
 *         16-bit IN leaves the rest of RAX as it was; a 32-bit IN, like
 *         every write of a 32-bit register in 64-bit mode, zero-extends:
 *         bits 63:32 of RAX become 0.
 *   OUT   writes the low 1, 2 or 4 bytes of RAX to the device.
 *   INS   reads one value from the device into guest memory at RDI;
 *   OUTS  writes the value in guest memory at RSI to the device.
 *         Then RDI (INS) or RSI (OUTS) moves by size: up, or down when
 *         RFLAGS.DF is set (GUEST_RFLAGS in the VMCS).
 *   REP   (INS and OUTS only) repeats the string instruction RCX times,
 *         decrementing RCX after each element: RCX = 0 does nothing, and
 *         RCX is 0 when it is done. All 64 bits of RCX, RSI and RDI count.
 *
 * No other register changes. Guest memory is reached only through the
 * probe (kev/probe.h): RSI and RDI are guest-virtual addresses. A bad one
 * (unmapped, non-canonical, INS into a read-only page) stops the VM with
 * the probe's error, and no byte of that element reaches the device; the
 * elements before it have been moved. A device's error (an IN from the
 * queue when it is empty: KEV_EEMPTY) stops the VM with that error.
 *
 * Run one test: make run TEST=p2_pio_forms. The handout is docs/project2.md.
 */
#include "project2/pio.h"
#include "kernel/panic.h"
#ifdef SOLUTION

/* The exit qualification of an I/O instruction (pio.h). */
#define PIO_QUAL_SIZE 0x7u         /* bits 2:0: size of access - 1 */
#define PIO_QUAL_IN (1u << 3)      /* bit 3: direction, 1 = IN */
#define PIO_QUAL_STRING (1u << 4)  /* bit 4: INS or OUTS */
#define PIO_QUAL_REP (1u << 5)     /* bit 5: REP prefixed */
#define PIO_QUAL_IMM (1u << 6)     /* bit 6: operand encoding, 1 = immediate */
#define PIO_QUAL_PORT_SHIFT 16     /* bits 31:16: the port */

/* The low `size` bytes of a register. */
static uint64_t mask_of(unsigned size)
{
    return size == 4 ? 0xffffffffULL : (1ULL << (8 * size)) - 1;
}

static struct vmexit_result in_out(struct vcpu_state *s, const struct pio_request *req,
                                   struct pio_device *dev)
{
    enum kev_error e;
    if (req->in) {
        uint32_t v;
        e = pio_device_in(dev, req, &v);
        if (e == KEV_OK) /* a 32-bit register write zero-extends into RAX */
            s->regs.rax = req->size == 4 ? v : (s->regs.rax & ~mask_of(req->size)) | v;
    } else {
        e = pio_device_out(dev, req, (uint32_t)(s->regs.rax & mask_of(req->size)));
    }
    if (e != KEV_OK)
        return vm_stop(s->vm, e, "%s port 0x%x: %s", req->in ? "IN from" : "OUT to", req->port,
                       kev_strerror(e));
    return vmexit_continue();
}

/* INS and OUTS, with or without REP: one element at a time, each copied
 * whole through the probe before it goes to the device (OUTS), or after
 * it came from there (INS). */
static struct vmexit_result string(struct vcpu_state *s, const struct pio_request *req,
                                   struct pio_device *dev)
{
    uint64_t rflags;
    enum kev_error e = vmcs_readl(&s->vmcs, GUEST_RFLAGS, &rflags);
    if (e != KEV_OK)
        return vm_stop(s->vm, e, "reading GUEST_RFLAGS: %s", kev_strerror(e));
    uint64_t step = rflags & RFLAGS_DF ? -(uint64_t)req->size : req->size;
    uint64_t *addr = req->in ? &s->regs.rdi : &s->regs.rsi;
    uint64_t count = req->rep ? s->regs.rcx : 1;
    for (uint64_t i = 0; i < count; i++) {
        uint32_t v = 0;
        if (req->in) {
            e = pio_device_in(dev, req, &v);
            if (e == KEV_OK)
                e = probe_copy_to_guest(s, GVA(*addr), &v, req->size);
        } else {
            e = probe_copy_from_guest(s, &v, GVA(*addr), req->size);
            if (e == KEV_OK)
                e = pio_device_out(dev, req, v);
        }
        if (e != KEV_OK)
            return vm_stop(s->vm, e, "%s%s port 0x%x, element %lu at %s = 0x%lx: %s",
                           req->rep ? "REP " : "", req->in ? "INS from" : "OUTS to", req->port,
                           i, req->in ? "rdi" : "rsi", *addr, kev_strerror(e));
        *addr += step;
        if (req->rep)
            s->regs.rcx--;
    }
    return vmexit_continue();
}
#endif

void pio_decode(uint64_t qualification, struct pio_request *req)
{
#ifdef SOLUTION
    uint64_t q = qualification;
    *req = (struct pio_request){
        .port = (uint16_t)(q >> PIO_QUAL_PORT_SHIFT),
        .size = (uint8_t)((q & PIO_QUAL_SIZE) + 1),
        .in = q & PIO_QUAL_IN,
        .string = q & PIO_QUAL_STRING,
        .rep = q & PIO_QUAL_REP,
        .imm = q & PIO_QUAL_IMM,
    };
#else
    /*
     * Hints:
     *   - Write the table of pio.h as named masks (#define PIO_QUAL_IN
     *     (1u << 3), ...), then set each field of *req from its bits.
     *   - The size is encoded as size - 1: 0, 1 or 3 stand for 1, 2 or 4
     *     bytes.
     *   - The port is 16 bits, 31:16: all of them (0x3f8 is not 0xf8).
     *   - A bool field takes a test of a bit: req->in = q & PIO_QUAL_IN.
     */
    (void)qualification;
    (void)req;
    TODO();
#endif
}

struct vmexit_result pio_handle(struct vcpu_state *s, const struct pio_request *req,
                                struct pio_device *dev)
{
#ifdef SOLUTION
    return req->string ? string(s, req, dev) : in_out(s, req, dev);
#else
    /*
     * Hints:
     *   - Two cases: IN/OUT work on s->regs.rax; INS/OUTS on guest memory.
     *   - pio_device_in(dev, req, &v) reads one value (its bits above the
     *     size are 0); pio_device_out(dev, req, v) writes the low
     *     req->size bytes of v. Both return an enum kev_error: on anything
     *     but KEV_OK, stop the VM with that very error:
     *         return vm_stop(s->vm, e, "IN from port 0x%x: %s", ...);
     *   - IN of 1 or 2 bytes: keep RAX's other bytes, replace the low ones
     *     (a mask of the size). IN of 4 bytes: RAX = the value, bits 63:32
     *     cleared.
     *   - INS/OUTS: one element of req->size bytes at a time, through a
     *     small variable (uint32_t v) and the probe: probe_copy_from_guest
     *     (s, &v, GVA(s->regs.rsi), req->size) for OUTS, and
     *     probe_copy_to_guest for INS. For OUTS, copy the element before
     *     you call the device: a bad address must send none of it.
     *   - The direction flag: vmcs_readl(&s->vmcs, GUEST_RFLAGS, &rflags),
     *     then rflags & RFLAGS_DF. The step is +size, or -size when set.
     *   - REP: RCX elements (a 64-bit count, maybe 0), RCX decremented
     *     after each; without REP one element, and RCX is not touched.
     *   - Success is vmexit_continue(); never move RIP yourself: the
     *     controller does.
     */
    (void)s;
    (void)req;
    (void)dev;
    TODO();
#endif
}
