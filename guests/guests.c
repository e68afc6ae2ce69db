/*
 * The table of guest binaries linked into the kernel. guests/guests.mk
 * generates it (in NASM, next to the incbin'd binaries); this file only
 * looks names up in it.
 */
#include "guests/guests.h"
#include "kernel/string.h"

extern const struct guest_image guest_images[];
extern const uint64_t guest_images_count;

const struct guest_image *guest_find(const char *name)
{
    for (uint64_t i = 0; i < guest_images_count; i++)
        if (strcmp(guest_images[i].name, name) == 0)
            return &guest_images[i];
    return NULL;
}
