/*
 * Project 2's I/O devices (given kernel code, pio_dev.c): what answers at
 * the ports of a port-I/O test's VM. The controller (pio_ctl.c) routes
 * each decoded request by its port to one of them; the student's
 * pio_handle() reaches the device through pio_device_in() and
 * pio_device_out() (project2/pio.h, syscalls of user/syscalls.tbl).
 *
 *   port   device   what it does (docs/project2.md, "Port I/O")
 *   0x3f8  printer  an OUT's bytes (low byte first) go to the PrinterProxy;
 *                   an IN reads 0
 *   0xbb   queue    three FIFOs, one per size: an OUT appends its value to
 *                   the FIFO of its size, an IN takes the oldest value of
 *                   its size (KEV_EEMPTY when there is none; KEV_ENOMEM
 *                   for an OUT to a full one)
 *   3      tracer   prints one line per access to the PrinterProxy, e.g.
 *                   "port 3 in byte al imm8 0x01"; an IN reads the number
 *                   of accesses port 3 has had, this one included
 *
 * No other port has a device: the controller stops the VM with
 * KEV_EIOPORT. The devices are the VM's: pio_devices_reset() makes them
 * anew before each VM runs.
 */
#ifndef PROJECT2_PIO_DEV_H
#define PROJECT2_PIO_DEV_H

#include "kev/kev.h"
#include "kev/printer.h"
#include "project2/pio.h"

#define PIO_PORT_PRINTER 0x3f8
#define PIO_PORT_QUEUE 0xbb
#define PIO_PORT_TRACER 3

#define PIO_QUEUE_MAX 512    /* values one FIFO holds */
#define PIO_EXIT_PORTS_MAX 8 /* ports an I/O bitmap sets */
#define PIO_TRACE_LINE_MAX 64

/* A port-I/O VM's devices and controls, from the test case. */
struct pio_config {
    /* The queue's FIFOs when the guest starts, oldest value first. */
    uint8_t bytes[PIO_QUEUE_MAX];
    uint16_t words[PIO_QUEUE_MAX];
    uint32_t dwords[PIO_QUEUE_MAX];
    size_t nbytes, nwords, ndwords;
    /*
     * bitmap: the VM uses I/O bitmaps instead of unconditional I/O exiting
     * (Vol. 3C, 25.6.4 "I/O-Bitmap Addresses"), with the bits of
     * exit_ports set: an I/O instruction on any other port runs on the
     * real port, without a VM exit.
     */
    bool bitmap;
    uint16_t exit_ports[PIO_EXIT_PORTS_MAX];
    size_t nexit_ports;
};

/* A device: its port, its name for messages, and what an access does. */
struct pio_device {
    uint16_t port;
    const char *name;
    enum kev_error (*in)(const struct pio_request *req, uint32_t *value);
    enum kev_error (*out)(const struct pio_request *req, uint32_t value);
};

/* The devices as they are before a VM's guest runs: output to `out`, the
 * queue filled from c (NULL: empty), port 3's count at 0. */
void pio_devices_reset(struct printer *out, const struct pio_config *c);
/* The device at port, or NULL when no device owns it. */
struct pio_device *pio_device_find(uint16_t port);

/* The tracer's line for one access of req (its value read or written),
 * NUL-terminated in buf (PIO_TRACE_LINE_MAX bytes); returns its length. */
size_t pio_trace_line(const struct pio_request *req, uint32_t value, char *buf);
/* The instruction of req in assembly, for messages: "rep outsw",
 * "in al, 0xbb", "out dx, eax". */
void pio_request_describe(const struct pio_request *req, char *buf, size_t size);

#endif
