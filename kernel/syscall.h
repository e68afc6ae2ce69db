/*
 * The kernel's side of the student ABI: the syscall table that
 * scripts/syscalls.py generates from user/syscalls.tbl, and the checks its
 * generated code makes on every argument before calling the row's
 * sys_<name>. A failed check stops the upcall (kernel/user.h) with a
 * message naming the syscall and the argument: a bad pointer is the
 * student's error, never a kernel fault.
 */
#ifndef KERNEL_SYSCALL_H
#define KERNEL_SYSCALL_H

#include "kernel/types.h"

struct syscall_entry {
    const char *name;
    uint64_t (*fn)(const uint64_t *args); /* NULL for 0, the upcall's return */
};
extern const struct syscall_entry syscall_table[];
extern const size_t syscall_count;

#define SYSCALL_STRING_MAX 1024

/* Each returns its argument as a kernel pointer, or stops the upcall. */
void *syscall_arg_read(uint64_t p, uint64_t n, const char *arg);
void *syscall_arg_write(uint64_t p, uint64_t n, const char *arg);
const char *syscall_arg_string(uint64_t p, const char *arg);
/* The object behind a handle (kernel/user.h) of this kind ("printer"). */
void *syscall_arg_handle(uint64_t h, const char *kind, const char *arg);

#endif
