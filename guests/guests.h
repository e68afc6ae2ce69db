/*
 * The test guests: small 64-bit programs in NASM, one folder per project
 * (guests/projectN/NAME.asm), assembled to flat binaries and linked into the
 * kernels that hold that project (guests/guests.mk). A guest knows only its
 * project's ABI: guests/projectN/asm_offsets.c generates the constants its
 * assembly includes from that project's headers.
 */
#ifndef GUESTS_GUESTS_H
#define GUESTS_GUESTS_H

#include "kernel/types.h"

/* One guest binary linked into the kernel. */
struct guest_image {
    const char *name; /* its path under guests/ without .asm: "project2/print" */
    const uint8_t *start, *end;
};

/* The guest named `name` ("project2/print"), or NULL. */
const struct guest_image *guest_find(const char *name);

#endif
