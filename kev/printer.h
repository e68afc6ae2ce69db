/*
 * The PrinterProxy: the one way a guest's output reaches the console. It
 * does two things with every write: echoes the bytes to the console, each
 * line prefixed "guest| " and escaped (so no guest can forge a "@@ " frame
 * of docs/protocol.md), and appends them to a capture that the tests compare
 * with what the guest should have printed. The echo stops after
 * PRINTER_ECHO_MAX bytes, so a flooding guest cannot drown the log, and is
 * off when the command line says kev.echo=0: `make grade` does, since a
 * failing case's report carries the capture around its first difference,
 * and under Bochs the echo was a fifth of what project 2's passing suite
 * adds to a bare boot (3.2M of 16.7M emulated instructions: each character
 * is about 87 of UART). Output that bypasses the proxy (a printk in a
 * handler) is invisible to the tests and the grader.
 *
 *   struct printer out;
 *   printer_start(&out, 0);
 *   printer_write(&out, "hi\n", 3);         console: "guest| hi"
 *   size_t n;
 *   const uint8_t *bytes = printer_finish(&out, &n);   "hi\n", 3
 *   ...
 *   printer_free(&out);
 */
#ifndef KEV_PRINTER_H
#define KEV_PRINTER_H

#include "kernel/types.h"
#include "kev/error.h"

/* The most a capture holds by default; a VM that prints more is stopped. */
#define PRINTER_CAPACITY (64 * 1024)
/* Echoed lines longer than this are split over several console lines. */
#define PRINTER_LINE_MAX 96
/* The console shows this much of a capture; the capture keeps it all (every
 * byte echoed costs hundreds of emulated instructions in the UART). */
#define PRINTER_ECHO_MAX 128

struct printer {
    uint8_t *capture;
    size_t len, capacity;
    size_t echo_max; /* PRINTER_ECHO_MAX, or 0 with kev.echo=0 */
    bool full; /* a write did not fit */
    uint8_t line[PRINTER_LINE_MAX]; /* the echo's unfinished line */
    size_t line_len;
};

/* Starts an empty capture of PRINTER_CAPACITY bytes (capacity 0) or of
 * `capacity`. KEV_ENOMEM when there is no memory for it. */
enum kev_error printer_start(struct printer *p, size_t capacity);
/*
 * Echoes n bytes and appends them to the capture. KEV_ENOMEM, with nothing
 * echoed or kept, when the capture would grow past its capacity.
 */
enum kev_error printer_write(struct printer *p, const void *bytes, size_t n);
/* How many more bytes the capture takes. */
size_t printer_room(const struct printer *p);
/* True once a write has failed for lack of room. */
bool printer_full(const struct printer *p);
/*
 * Ends the echo's last line and returns the captured bytes (*n of them),
 * valid until printer_free.
 */
const uint8_t *printer_finish(struct printer *p, size_t *n);
void printer_free(struct printer *p);

#endif
