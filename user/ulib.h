/*
 * The user runtime's own declarations (user/): what student code runs on at
 * CPL 3. Student files never include this; they include the same headers as
 * kernel code (kernel/printk.h, kev/kev.h, ...), whose functions the runtime
 * implements here on top of the syscalls of user/syscalls.tbl.
 */
#ifndef USER_ULIB_H
#define USER_ULIB_H

#include "kernel/types.h"
#include "kev/error.h"

/* user/entry.asm: syscall nr with up to six arguments (int 0x80). */
uint64_t ulib_syscall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                      uint64_t a4, uint64_t a5);

/* The generated stubs of the runtime's own rows (user/syscalls.tbl). */
void ulib_console_write(const char *buf, size_t n);
__noreturn void ulib_panic(const char *file, int line, const char *func, const char *msg);
uint64_t ulib_heap_grow(size_t npages);
struct vm;
void ulib_vm_stop(struct vm *vm, enum kev_error error, const char *msg);

#endif
