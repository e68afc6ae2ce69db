/*
 * Project 2's port I/O: the request an I/O instruction's VM exit is
 * decoded into, the devices that serve it, and the two functions you write
 * in pio.c.
 *
 * Beside memory, x86 has a second address space of 65536 I/O ports, which
 * only IN, OUT, INS and OUTS reach (Intel SDM Vol. 1, 19 "Input/Output").
 * kev runs its guests with unconditional I/O exiting (Vol. 3C, 25.6.2
 * "Processor-Based VM-Execution Controls"): every I/O instruction makes a
 * VM exit, reason IO_INSTRUCTION, before it does anything, and the
 * hypervisor does in its place what the instruction would have done,
 * against a device of its own. The exit qualification says which
 * instruction it was (Vol. 3C, 28.2.1 "Basic VM-Exit Information", table
 * "Exit Qualification for I/O Instructions"):
 *
 *   bits 2:0    size of access: 0 = 1 byte, 1 = 2 bytes, 3 = 4 bytes
 *   bit 3       direction: 0 = OUT, 1 = IN
 *   bit 4       string instruction: 1 = INS or OUTS
 *   bit 5       REP prefixed: 1 = REP (string instructions only)
 *   bit 6       operand encoding: 0 = the port is in DX, 1 = an immediate
 *   bits 15:7   reserved (0)
 *   bits 31:16  the port number
 *   bits 63:32  reserved (0)
 */
#ifndef PROJECT2_PIO_H
#define PROJECT2_PIO_H

#include "kernel/types.h"
#include "kev/kev.h"

/* RFLAGS.DF, the direction flag (Vol. 1, 3.4.3 "EFLAGS Register"): set,
 * INS and OUTS step RDI and RSI downwards. In the VMCS field GUEST_RFLAGS. */
#define RFLAGS_DF (1UL << 10)

/* One I/O instruction, as pio_decode() reads it from the exit qualification. */
struct pio_request {
    uint16_t port; /* the I/O port */
    uint8_t size;  /* bytes per access: 1, 2 or 4 */
    bool in;       /* IN or INS (device to guest); false: OUT or OUTS */
    bool string;   /* INS or OUTS (memory at RDI or RSI); false: IN or OUT (RAX) */
    bool rep;      /* a REP prefix: RCX accesses */
    bool imm;      /* the port was an immediate operand (`out 0xbb, al`); false: DX */
};

/*
 * pio_decode: fills every field of *req from the exit qualification of an
 * IO_INSTRUCTION exit (the table above). Only reads its argument: no VM,
 * no registers, no guest memory.
 */
void pio_decode(uint64_t qualification, struct pio_request *req);

/*
 * The device the controller routed a request to, by its port (a handle:
 * pass it on, never dereference it). The devices are given code
 * (project2/pio_dev.c); docs/project2.md says what each does.
 */
struct pio_device;

/*
 * pio_device_in: one access of req->size bytes read from dev (for an IN or
 * INS request), into *value with the bits above req->size bytes zero.
 * KEV_OK, or the device's error (KEV_EEMPTY: the queue holds no value of
 * that size). A string instruction makes one call per element.
 */
enum kev_error pio_device_in(struct pio_device *dev, const struct pio_request *req,
                             uint32_t *value);
/*
 * pio_device_out: the low req->size bytes of value written to dev (for an
 * OUT or OUTS request); the bits above them are ignored. KEV_OK, or the
 * device's error (KEV_ENOMEM: the capture or the queue is full).
 */
enum kev_error pio_device_out(struct pio_device *dev, const struct pio_request *req,
                              uint32_t value);

/*
 * pio_handle: does what the instruction of *req does, for the vCPU s,
 * against dev: IN and INS get data from dev, OUT and OUTS give it data,
 * the guest's registers (s->regs) and memory (through the probe) change as
 * the instruction changes them, and nothing else does. Returns:
 *
 *   vmexit_continue()               done: the controller moves RIP past
 *                                   the instruction and the guest goes on
 *   vm_stop(s->vm, e, "fmt", ...)   it failed with kev error e (a bad
 *                                   string buffer: the probe's error; the
 *                                   device's error); the message says where
 */
struct vmexit_result pio_handle(struct vcpu_state *s, const struct pio_request *req,
                                struct pio_device *dev);

#endif
