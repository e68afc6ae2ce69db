/*
 * Powering off under QEMU (isa-debug-exit) and Bochs (port 0x8900), with a
 * status the emulator passes on. See docs/protocol.md.
 */
#ifndef KERNEL_POWER_H
#define KERNEL_POWER_H

#include "kernel/types.h"

__noreturn void power_off(bool success);

#endif
