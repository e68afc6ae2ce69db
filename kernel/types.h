/*
 * Basic types for the freestanding kernel. gcc's freestanding headers
 * (stdint, stddef, stdbool, stdarg) are all a kernel may include from the
 * C library; everything else kevlab writes itself.
 */
#ifndef KERNEL_TYPES_H
#define KERNEL_TYPES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t paddr_t; /* a host-physical address */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))

#define PAGE_SIZE 4096UL

/* The struct that holds member at ptr. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

#define __noreturn __attribute__((noreturn))
#define __packed __attribute__((packed))
#define __printf(f, a) __attribute__((format(printf, f, a)))

#endif
