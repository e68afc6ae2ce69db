/*
 * Where ring 3's memory is: the addresses of the user address space, apart
 * from kernel/user.h (the kernel's API for upcalls), so that headers
 * student code may include (kev/ept.h: phys_to_virt) can name them without
 * bringing in the kernel's functions.
 */
#ifndef KERNEL_USER_LAYOUT_H
#define KERNEL_USER_LAYOUT_H

/* The user address space above the kernel's identity map (canonical,
 * lower half). Each region has unmapped pages around it. */
#define USER_STACK_TOP 0x00007f0000100000UL
#define USER_STACK_PAGES 8 /* 32 KiB */
#define USER_HEAP_BASE 0x00007e0000000000UL
#define USER_HEAP_PAGES 256 /* 1 MiB */
#define USER_WINDOW_BASE 0x00007d0000000000UL
#define USER_WINDOW_PAGES 64
/* The physical window: host pages student code builds tables in (project
 * 3's EPT) or fills (guest memory), each at USER_PHYS_BASE + its host
 * address, so an address in a table entry and the page it names are one
 * addition apart (kev/ept.h: phys_to_virt). */
#define USER_PHYS_BASE 0x00007b0000000000UL
#define USER_PHYS_LIMIT (1UL << 39) /* host addresses below 512 GiB */
/* Handles: numbers the kernel gives student code for its objects (a VM, a
 * printer); they look like pointers into unmapped memory, so a student who
 * dereferences one faults with an address that says "handle". */
#define USER_HANDLE_BASE 0x00007c0000000000UL

#endif
