/*
 * kmain: from the boot code to the test runner. The order matters: the
 * console first (so every later failure can be reported), the descriptor
 * tables (so a fault is reported instead of a triple fault), the command
 * line (GRUB's copy lives in memory the allocator will hand out), then
 * memory, the LAPIC (its timer is student code's CPU-time budget), ring 3
 * for student code, then the tests the command line names.
 */
#include "kernel/build_info.h"
#include "kernel/cmdline.h"
#include "kernel/gdt.h"
#include "kernel/ktest.h"
#include "kernel/lapic.h"
#include "kernel/mm.h"
#include "kernel/module.h"
#include "kernel/multiboot.h"
#include "kernel/paging.h"
#include "kernel/power.h"
#include "kernel/printk.h"
#include "kernel/serial.h"
#include "kernel/string.h"
#include "kernel/user.h"
#include "kernel/x86.h"

/* The CPU's brand string (CPUID leaves 0x80000002-4), for the banner. */
static void cpu_brand(char out[49])
{
    uint32_t *w = (uint32_t *)out;
    for (uint32_t leaf = 0; leaf < 3; leaf++) {
        struct cpuid_regs r = cpuid(0x80000002 + leaf, 0);
        w[leaf * 4 + 0] = r.eax, w[leaf * 4 + 1] = r.ebx;
        w[leaf * 4 + 2] = r.ecx, w[leaf * 4 + 3] = r.edx;
    }
    out[48] = '\0';
    char *p = out;
    while (*p == ' ')
        p++;
    memmove(out, p, strlen(p) + 1);
}

void kmain(uint32_t magic, uint64_t info)
{
    uint64_t t0 = rdtsc();
    serial_init();
    if (magic != MULTIBOOT2_BOOTLOADER_MAGIC) {
        printk_frame("panic the kernel was not booted by a multiboot2 loader (magic 0x%x)\n", magic);
        printk_frame("poweroff fail\n");
        power_off(false);
    }
    gdt_init();
    idt_init();

    const struct multiboot_info *mb = (const struct multiboot_info *)info;
    cmdline_init(multiboot_cmdline(mb));
    printk("\n"); /* the firmware may have left the console mid-line */
    printk_frame("boot kevlab cmdline=");
    printk_escaped(cmdline_raw(), strlen(cmdline_raw()));
    printk("\n");

    module_init(mb);
    pmm_init(mb);
    paging_init();
    lapic_init();
    user_init();

    char brand[49];
    cpu_brand(brand);
    printk("kevlab: project %d (projects %s in this kernel; reference solutions: %s)\n",
           build_info.project, build_info.projects, build_info.solutions[0] ? build_info.solutions : "none");
    printk("kevlab: %zu MiB of memory, %zu pages free; CPU: %s\n",
           pmm_total_pages() * PAGE_SIZE >> 20, pmm_free_pages(), brand);
    for (size_t i = 0; i < module_count(); i++)
        printk("kevlab: boot module %s: %zu bytes at 0x%lx\n", module_at(i)->name,
               module_at(i)->size, (unsigned long)module_at(i)->start);
    char budget[128] = "no LAPIC: no CPU-time budget for student code";
    if (lapic_present()) {
        int n = snprintf(budget, sizeof(budget), "at most %lu TSC ticks between two calls to kev",
                         user_budget_ticks());
        if (user_budget_ticks() != USER_BUDGET_TICKS)
            snprintf(budget + n, sizeof(budget) - (size_t)n, " (a hypervisor below: %d times more)",
                     USER_BUDGET_HV_SCALE);
    }
    printk("kevlab: student code runs in ring 3 with %s; %s\n", user_protection(), budget);
    printk("kevlab: booted at tick %lu (the kernel's start: %lu)\n", rdtsc(), rdtsc() - t0);
    ktest_main();
}
