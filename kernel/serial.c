/*
 * COM1, a 16550 UART, polled: the kernel's only console. Polling keeps the
 * console working inside exception handlers and with interrupts off.
 * Register map: PC16550D datasheet, "Register Summary".
 */
#include "kernel/serial.h"
#include "kernel/x86.h"

#define COM1 0x3f8
#define REG_DATA 0     /* THR when written */
#define REG_IER 1      /* interrupt enable */
#define REG_FCR 2      /* FIFO control */
#define REG_LCR 3      /* line control */
#define REG_MCR 4      /* modem control */
#define REG_LSR 5      /* line status */
#define LSR_THRE 0x20  /* transmit holding register empty: may write a byte */
#define LSR_TEMT 0x40  /* transmitter empty: every byte has left */
#define LCR_DLAB 0x80

void serial_init(void)
{
    outb(COM1 + REG_IER, 0x00);      /* no interrupts: we poll */
    outb(COM1 + REG_LCR, LCR_DLAB);  /* divisor latch: 115200 / 1 */
    outb(COM1 + 0, 1);
    outb(COM1 + 1, 0);
    outb(COM1 + REG_LCR, 0x03);      /* 8 bits, no parity, one stop bit */
    /* FIFOs off: a byte at a time is all polling needs, and Bochs checks a
     * UART with its FIFOs on for input every character's time (87 emulated
     * instructions here), without them every 100 ms. */
    outb(COM1 + REG_FCR, 0x00);
    outb(COM1 + REG_MCR, 0x03);      /* DTR, RTS */
}

/* Between two reads of LSR the loop pauses: under Bochs a port read runs
 * the UART's emulation, far slower than an instruction, and a character
 * takes 87 emulated instructions to leave anyway (the skeleton's suite,
 * 62 KiB of console, boots in 6% less wall time). */
void serial_putc(char c)
{
    while (!(inb(COM1 + REG_LSR) & LSR_THRE))
        for (int i = 0; i < 4; i++)
            __asm__ volatile("pause");
    outb(COM1 + REG_DATA, (uint8_t)c);
}

void serial_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            serial_putc('\r');
        serial_putc(s[i]);
    }
}

void serial_flush(void)
{
    while (!(inb(COM1 + REG_LSR) & LSR_TEMT))
        ;
}
