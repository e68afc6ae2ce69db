/*
 * The GDT with its TSS, and the IDT. kev reads the selectors and bases to
 * fill the VMCS host-state area.
 */
#ifndef KERNEL_GDT_H
#define KERNEL_GDT_H

#include "kernel/types.h"

#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define KERNEL_TSS 0x18
#define USER_DS (0x28 | 3) /* with RPL 3 */
#define USER_CS (0x30 | 3)

void gdt_init(void);
void idt_init(void);
/* The TSS's linear base address (for the VMCS host TR base). */
uint64_t tss_base(void);
/* The stack the CPU switches to when ring 3 traps (kernel/user.c). */
void tss_set_rsp0(uint64_t rsp);

#endif
