/* The COM1 serial port (16550 UART), polled. */
#ifndef KERNEL_SERIAL_H
#define KERNEL_SERIAL_H

#include "kernel/types.h"

void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s, size_t n);
/* Waits until every byte has left the transmitter (before power-off). */
void serial_flush(void);

#endif
