/*
 * panic, assert, TODO: say where, print a symbolized backtrace, power off
 * with a failure status. The backtrace follows the frame-pointer chain
 * (the kernel is built with -fno-omit-frame-pointer) and names each return
 * address with the symbol table that the second link pass embeds
 * (scripts/mksyms.py).
 */
#include "kernel/panic.h"
#include "kernel/ksyms.h"
#include "kernel/power.h"
#include "kernel/printk.h"
#include "kernel/x86.h"

extern char __text_end[];

#define BACKTRACE_MAX 32

bool ksym_lookup(uint64_t addr, const char **name, uint64_t *offset)
{
    if (ksyms_count == 0 || addr < ksyms[0].addr || addr >= (uint64_t)__text_end)
        return false;
    unsigned long lo = 0, hi = ksyms_count; /* last symbol with addr <= target */
    while (hi - lo > 1) {
        unsigned long mid = (lo + hi) / 2;
        if (ksyms[mid].addr <= addr)
            lo = mid;
        else
            hi = mid;
    }
    *name = ksyms[lo].name;
    *offset = addr - ksyms[lo].addr;
    return true;
}

/* A frame pointer we may follow: aligned and inside the identity map above 1 MiB. */
static bool frame_ok(uint64_t rbp)
{
    return !(rbp & 7) && rbp >= 0x100000 && rbp + 16 <= (4UL << 30);
}

void backtrace_print(uint64_t rbp, int first)
{
    for (int depth = first; depth < first + BACKTRACE_MAX && frame_ok(rbp); depth++) {
        uint64_t *frame = (uint64_t *)rbp;
        uint64_t ret = frame[1];
        const char *name;
        uint64_t off;
        if (!ksym_lookup(ret - 1, &name, &off))
            break;
        /* ret - 1 lies inside the call instruction, which names the caller's line */
        printk("      #%-2d %016lx %s+0x%lx\n", depth, ret, name, off + 1);
        if (frame[0] <= rbp) /* stacks grow down: callers' frames are above */
            break;
        rbp = frame[0];
    }
}

static bool panicking;

__noreturn void panic_stop(void)
{
    printk_frame("poweroff fail\n");
    power_off(false);
}

__noreturn void panic_at(const char *file, int line, const char *func, const char *fmt, ...)
{
    cli();
    if (panicking) { /* a panic while panicking: do not recurse */
        printk_frame("panic (again, while reporting a panic) at %s:%d in %s()\n", file, line, func);
        panic_stop();
    }
    panicking = true;

    printk_frame("panic at %s:%d in %s(): ", file, line, func);
    va_list ap;
    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
    printk("\n    backtrace (most recent call first):\n");
    backtrace_print(read_rbp(), 0);
    panic_stop();
}
