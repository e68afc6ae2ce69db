/*
 * Stopping the kernel on purpose: panic for a broken invariant, assert for
 * a condition that must hold, TODO() for code a student has to write.
 * Each prints where it happened and a symbolized backtrace, then powers off
 * with a failure status.
 */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

#include "kernel/types.h"

__noreturn void panic_at(const char *file, int line, const char *func, const char *fmt, ...)
    __printf(4, 5);

#define panic(...) panic_at(__FILE__, __LINE__, __func__, __VA_ARGS__)

#define assert(cond)                                                         \
    do {                                                                     \
        if (!(cond))                                                         \
            panic_at(__FILE__, __LINE__, __func__, "assertion failed: %s",   \
                     #cond);                                                 \
    } while (0)

/* Marks code a student must write. The grader knows the words
 * (grader/judge.py TODO_MESSAGE; a test checks they agree). */
#define PANIC_TODO_MESSAGE "not yet implemented"
#define TODO() panic_at(__FILE__, __LINE__, __func__, PANIC_TODO_MESSAGE)

/* Ends a panic whose message was printed: "@@ poweroff fail", power off. */
__noreturn void panic_stop(void);

/*
 * Prints the backtrace that starts at frame pointer rbp, one line a frame,
 * numbering the frames from `first`.
 */
void backtrace_print(uint64_t rbp, int first);

/*
 * Symbolizes addr: sets *name to the function that contains it and
 * *offset to addr's distance from its start. Returns false when no
 * kernel function contains addr.
 */
bool ksym_lookup(uint64_t addr, const char **name, uint64_t *offset);

#endif
