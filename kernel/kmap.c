/*
 * The kernel's own page table: the identity map of the first 4 GiB that
 * the kernel runs on, with each section of the kernel image mapped with
 * its rights (kernel/paging.h has the helpers; this file the policy).
 */
#include "kernel/mm.h"
#include "kernel/paging.h"
#include "kernel/panic.h"

#define SIZE_2M (1UL << 21)
#define SIZE_4G (1UL << 32)

/* kernel/linker.ld's sections and boot.asm's stack guard. */
extern char __kernel_start[], __text_end[], __rodata_start[], __data_start[], __kernel_end[];
extern char __user_text_start[], __user_text_end[], __user_rodata_start[], __user_rodata_end[];
extern char __user_data_start[], __user_data_end[], __user_bss_start[], __user_bss_end[];
extern char boot_stack_guard[];

static bool in(uint64_t va, const char *start, const char *end)
{
    return va >= (uint64_t)start && va < (uint64_t)end;
}

/* The flags of a 4 KiB page of the first 2 MiB-aligned stretch that holds
 * the kernel image; false for a page left unmapped. */
static bool image_page_flags(uint64_t va, uint64_t *flags)
{
    if (va == 0 || va == (uint64_t)boot_stack_guard)
        return false; /* NULL, and the page below the boot stack: faults */
    if (in(va, __user_text_start, __user_text_end))
        *flags = PTE_U;
    else if (in(va, __user_rodata_start, __user_rodata_end))
        *flags = PTE_U | PTE_NX;
    else if (in(va, __user_data_start, __user_data_end) || in(va, __user_bss_start, __user_bss_end))
        *flags = PTE_U | PTE_W | PTE_NX;
    else if (in(va, __kernel_start, __text_end))
        *flags = 0;                 /* kernel text: read-only, executable */
    else if (in(va, __rodata_start, __data_start))
        *flags = PTE_NX;            /* read-only data, the tests' table, .ksyms */
    else
        *flags = PTE_W | PTE_NX;
    return true;
}

/*
 * The kernel's table maps 0..4 GiB to itself, like the boot code's, with
 * 2 MiB pages, except around the kernel image: there 4 KiB pages give each
 * section its rights (text read-only, data not executable, the user
 * image's sections user-accessible), page 0 stays unmapped (a NULL
 * dereference faults instead of reading the real-mode IVT) and so does the
 * guard page below the boot stack (an overflow faults instead of
 * overwriting the kernel's data).
 */
void paging_init(void)
{
    paddr_t pml4 = pt_create();
    if (pml4 == 0)
        panic("paging_init: no memory for the kernel's page table");
    uint64_t small_end = ALIGN_UP((uint64_t)__kernel_end, SIZE_2M);
    for (uint64_t va = 0; va < small_end; va += PAGE_SIZE) {
        uint64_t flags;
        if (!image_page_flags(va, &flags))
            continue;
        int err = pt_map(pml4, va, va, flags);
        if (err < 0)
            panic("paging_init: mapping 0x%lx: %s", va, paging_strerror(err));
    }
    for (uint64_t va = small_end; va < SIZE_4G; va += SIZE_2M) {
        int err = pt_map_2m(pml4, va, va, PTE_W | PTE_NX);
        if (err < 0)
            panic("paging_init: mapping 0x%lx: %s", va, paging_strerror(err));
    }
    paging_use(pml4);
}
