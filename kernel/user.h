/*
 * Student code runs deprivileged: at CPL 3, in sections of its own, on a
 * stack of its own, and reaches the kernel only through the syscalls of
 * user/syscalls.tbl. This is how a VMM's device model runs in user space
 * above KVM: the code that decides runs with the privilege it needs and no
 * more, so a bug (or a forged verdict) in it cannot reach the kernel, the
 * grader's frames or the next test.
 *
 * The kernel calls a student function with an upcall:
 *
 *   user_frame_reset();
 *   uint64_t regs = user_push(&s->regs, sizeof(s->regs));     copied to the user stack
 *   uint64_t hc = user_push(NULL, sizeof(struct hypercall));  room for a result
 *   struct user_result r = user_call(hypercall_resolve, regs, hc, 0, 0);
 *   if (r.status != USER_RETURNED) ... r's message says what happened
 *   user_pull(&decoded, hc, sizeof(decoded));
 *
 * user_call enters ring 3 at the function with the arguments in rdi, rsi,
 * rdx, rcx (user_call5: and r8) and returns when it returns (rax:rdx in r.ret). When the student
 * code faults (#PF, #GP, #UD, #DE, a stack overflow into a guard page),
 * calls panic(), TODO() or assert(), passes a bad pointer to a syscall or
 * runs past its CPU-time budget, the kernel prints the report (an `@@ fault`
 * frame: what, where, the student's backtrace) and user_call returns
 * USER_STOPPED with the same words in r.message: the caller ends that test's
 * VM with them, and the boot goes on.
 *
 * Memory a student may use (everything else is supervisor-only):
 *   the user image   .user.text, .user.rodata, .user.data, .user.bss
 *   the user stack   USER_STACK_PAGES below USER_STACK_TOP, unmapped guard pages
 *                    below and above
 *   the user heap    kmalloc's arena, grown page by page by a syscall
 *   the window       guest pages probe_gva_to_host mapped for this upcall
 *   the phys window  host pages kev lent for a test (user_phys_map)
 * user_reset() puts the image's data and bss back as they were at boot, and
 * empties the stack and the heap: the kernel calls it as every test begins,
 * so no test sees what an earlier one left.
 */
#ifndef KERNEL_USER_H
#define KERNEL_USER_H

#include "kernel/types.h"
#include "kernel/user_layout.h"

struct trap_frame;

enum user_status {
    USER_RETURNED, /* the function returned: r.ret holds rax, rdx */
    USER_STOPPED,  /* it faulted, panicked, hit TODO(), passed a bad pointer or ran too long */
};

#define USER_MESSAGE_MAX 320

struct user_result {
    enum user_status status;
    uint64_t ret[2];
    const char *message; /* USER_STOPPED: "TODO() in hypercall_resolve() at project2/hypercall.c:111" */
};

/* Called once at boot, after paging_init: maps the user image, stack, heap. */
void user_init(void);
/* Back to the state at boot (every test begins with it). */
void user_reset(void);

/* The upcall frame: argument blocks on the user stack, below its top. */
void user_frame_reset(void);
/* Copies n bytes (zeros when src is NULL) onto the user stack; returns
 * their user address (16-byte aligned). Panics past the frame's room. */
uint64_t user_push(const void *src, size_t n);
/* Copies n bytes back from a block user_push returned. */
void user_pull(void *dst, uint64_t uaddr, size_t n);

/* Calls fn, a student function, at CPL 3 (see above), with a fifth
 * argument (in r8). */
struct user_result user_call5(const void *fn, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                              uint64_t a4);
/* The same with four (inline: every exit a student handler serves comes
 * through here, and a call less is a dozen emulated instructions less). */
static inline struct user_result user_call(const void *fn, uint64_t a0, uint64_t a1, uint64_t a2,
                                           uint64_t a3)
{
    return user_call5(fn, a0, a1, a2, a3, 0);
}
/* The student function being run, NULL outside an upcall. */
bool user_active(void);

/*
 * Handles: how student code names a kernel object. kind is the object's
 * struct name ("vm", "printer"), as user/syscalls.tbl's handle arguments
 * have it. user_handle makes a number valid until user_reset or until the
 * object's owner calls user_forget as it frees it (a handle student code
 * kept from an earlier case then names nothing: numbers are never reused
 * within a test); user_bind lets a user address stand for the object (the
 * copy of a struct vcpu_state the upcall gave) until the upcall ends.
 */
uint64_t user_handle(void *object, const char *kind);
void user_bind(uint64_t uaddr, void *object, const char *kind);
void user_forget(const void *object);
/* The object behind a handle or bound address of this kind, or NULL. */
void *user_handle_object(uint64_t handle, const char *kind);

/*
 * Pointer checks for syscalls: whether [p, p+n) lies in memory the student
 * may read (the image, stack, heap, window) or write (all but text and
 * rodata). n = 0 is always fine.
 */
bool user_readable(uint64_t p, size_t n);
bool user_writable(uint64_t p, size_t n);
/* A NUL-terminated string of at most max bytes the student may read:
 * returns its length, or -1. */
long user_string(uint64_t p, size_t max);

/*
 * Stops the running upcall from inside a syscall: prints the `@@ fault`
 * report (headline fmt..., then the student's backtrace) and returns to
 * user_call's caller with USER_STOPPED. Never returns.
 */
__noreturn void user_stop(const char *fmt, ...) __printf(1, 2);
/* The same for a CPU exception or the budget timer in ring 3 (trap.c). */
__noreturn void user_trap(struct trap_frame *tf);
/* The LAPIC timer went off in ring 3: true when the upcall's budget has run
 * out (then user_trap stops it); false when it has not, the timer started
 * again for the rest. */
bool user_budget_spent(void);

/* Maps a host page into this upcall's window; returns its user address or 0
 * when the window is full. The window empties when the upcall ends. */
uint64_t user_window_map(paddr_t page, bool writable);
/* Writable window pages student code wrote to, counted since boot as the
 * window empties: a caller that reuses what was lent (kev's kept VMs)
 * compares it with what it saw before. */
uint64_t user_window_writes(void);

/*
 * The physical window (USER_PHYS_BASE): lends the host page at pa to
 * student code, read-only or writable, until user_phys_unmap. Returns its
 * user address, or 0 when pa is past USER_PHYS_LIMIT or lent already.
 */
uint64_t user_phys_map(paddr_t pa, bool writable);
void user_phys_unmap(paddr_t pa);
/* Whether student code wrote to the lent page since the last call. */
bool user_phys_written(paddr_t pa);
/* Upcalls made since boot: a caller that must notice student code having
 * run (kev's EPT checks) compares it with what it saw last. */
extern uint64_t user_calls;
/* `@@ fault` frames printed since boot (student code stopped). */
extern uint64_t user_faults;

/* Syscall entry (trap.c, vector USER_SYSCALL_VECTOR). */
void user_syscall(struct trap_frame *tf);
#define USER_SYSCALL_VECTOR 0x80
/* The trampoline's gate: the student function returned (user/entry.asm). */
#define USER_RETURN_VECTOR 0x81

/* Budgets, in TSC ticks (under Bochs a tick is one emulated instruction):
 * how long student code may run in ring 3 without making a syscall (an
 * endless loop costs this much; a loop that makes progress calls kev), and
 * how long one upcall may take in all, its syscalls included (a loop that
 * only calls kev). The reference solutions of every project run under 4,000
 * ticks between two calls to kev; an endless loop costs its test this whole
 * budget (make bench's looping suite pays it once a test). Under a
 * hypervisor (CPUID.1:ECX[31]: QEMU with KVM) a tick is a fraction of a
 * nanosecond and the vCPU may be descheduled for milliseconds, so both are
 * USER_BUDGET_HV_SCALE times longer there. */
#define USER_BUDGET_TICKS 100000UL
#define USER_TOTAL_TICKS 200000000UL
#define USER_BUDGET_HV_SCALE 50
/* The budgets this boot uses (USER_BUDGET_TICKS, or scaled). */
uint64_t user_budget_ticks(void);

/* The boot banner's words about SMEP and SMAP ("SMEP, SMAP" / "no SMEP..."). */
const char *user_protection(void);

#endif
