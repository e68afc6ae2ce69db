/*
 * The user runtime: printk, panic/assert/TODO and vm_stop for student code
 * at CPL 3, written on the syscalls (the formatter itself is kernel/printf.c,
 * compiled into the runtime too). Each keeps the kernel's prototype, so a
 * student file reads as if it ran in the kernel.
 */
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kev/vm.h"
#include "user/ulib.h"

#define LINE_MAX 256

int vprintk(const char *fmt, va_list ap)
{
    char buf[LINE_MAX];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    ulib_console_write(buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
    return n;
}

int printk(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintk(fmt, ap);
    va_end(ap);
    return n;
}

__noreturn void panic_at(const char *file, int line, const char *func, const char *fmt, ...)
{
    char msg[LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ulib_panic(file, line, func, msg);
}

struct vmexit_result vm_stop(struct vm *vm, enum kev_error error, const char *fmt, ...)
{
    char msg[LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ulib_vm_stop(vm, error, msg);
    return (struct vmexit_result){.action = VMEXIT_ERROR, .error = error};
}
