/*
 * Power-off with a status the runner can read (docs/protocol.md):
 * QEMU's isa-debug-exit device at port 0xf4 exits with (value << 1) | 1;
 * Bochs's port 0x8900 takes "D" (break into the debugger, whose rc file
 * quits with status 0) or "Shutdown" (a Bochs panic: status 1). Each
 * emulator ignores the other's port, so we try both.
 */
#include "kernel/power.h"
#include "kernel/serial.h"
#include "kernel/x86.h"

#define QEMU_DEBUG_EXIT 0xf4
#define QEMU_SUCCESS 0x10 /* QEMU exits with 33 */
#define QEMU_FAILURE 0x11 /* QEMU exits with 35 */
#define BOCHS_PORT 0x8900

__noreturn void power_off(bool success)
{
    cli();
    serial_flush(); /* every byte must leave the UART before we go */
    outl(QEMU_DEBUG_EXIT, success ? QEMU_SUCCESS : QEMU_FAILURE);
    if (success) {
        outb(BOCHS_PORT, 'D');
    } else {
        for (const char *s = "Shutdown"; *s; s++)
            outb(BOCHS_PORT, (uint8_t)*s);
    }
    for (;;) /* real hardware, or an emulator without either device */
        hlt();
}
