/*
 * Traps: the one C entry of every exception and interrupt (trap.asm).
 * The syscall gate and the LAPIC timer go to kernel/user.c; an exception
 * in ring 3 is student code faulting, which costs its upcall (user_trap).
 * An exception in ring 0 is a bug in the kernel (guests' exceptions arrive
 * as VM exits, not here), so the report is a panic with everything a
 * student needs to find it: the exception's name, the error code decoded,
 * all registers, CR2 for a page fault, and the backtrace. Inside
 * ktest_try() the report is printed and the test resumes instead.
 */
#include "kernel/trap.h"
#include "kernel/ktest.h"
#include "kernel/lapic.h"
#include "kernel/user.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/x86.h"

/* Intel SDM Vol. 3A, 7.3 "Sources of Interrupts", Table 7-1. */
#define EXCEPTIONS(X)                                  \
    X(0, "#DE", "divide error")                        \
    X(1, "#DB", "debug exception")                     \
    X(2, "NMI", "non-maskable interrupt")              \
    X(3, "#BP", "breakpoint")                          \
    X(4, "#OF", "overflow")                            \
    X(5, "#BR", "bound range exceeded")                \
    X(6, "#UD", "invalid opcode")                      \
    X(7, "#NM", "device not available")                \
    X(8, "#DF", "double fault")                        \
    X(9, "CSO", "coprocessor segment overrun")         \
    X(10, "#TS", "invalid TSS")                        \
    X(11, "#NP", "segment not present")                \
    X(12, "#SS", "stack-segment fault")                \
    X(13, "#GP", "general protection")                 \
    X(14, "#PF", "page fault")                         \
    X(16, "#MF", "x87 floating-point error")           \
    X(17, "#AC", "alignment check")                    \
    X(18, "#MC", "machine check")                      \
    X(19, "#XM", "SIMD floating-point exception")      \
    X(20, "#VE", "virtualization exception")           \
    X(21, "#CP", "control protection exception")

#define MNEMONIC(v, m, n) [v] = m,
#define NAME(v, m, n) [v] = n,
static const char *const mnemonics[32] = {EXCEPTIONS(MNEMONIC)};
static const char *const names[32] = {EXCEPTIONS(NAME)};

const char *exception_mnemonic(unsigned v)
{
    return v < 32 && mnemonics[v] ? mnemonics[v] : "#??";
}

const char *exception_name(unsigned v)
{
    return v < 32 && names[v] ? names[v] : "reserved exception";
}

/* Page-fault error code bits: Vol. 3A, 5.7 "Page-Fault Exceptions". */
static void describe_pf(uint64_t err)
{
    printk("    cr2=0x%lx: %s access to this address by %s code, the page was %s%s\n",
           read_cr2(), err & 16 ? "an instruction fetch" : err & 2 ? "a write" : "a read",
           err & 4 ? "user" : "kernel", err & 1 ? "present (a protection violation)" : "not present",
           err & 8 ? ", reserved bit set in a page-table entry" : "");
}

static void dump_registers(const struct trap_frame *tf)
{
    printk("    rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx\n", tf->rax, tf->rbx, tf->rcx, tf->rdx);
    printk("    rsi=%016lx rdi=%016lx rbp=%016lx rsp=%016lx\n", tf->rsi, tf->rdi, tf->rbp, tf->rsp);
    printk("    r8 =%016lx r9 =%016lx r10=%016lx r11=%016lx\n", tf->r8, tf->r9, tf->r10, tf->r11);
    printk("    r12=%016lx r13=%016lx r14=%016lx r15=%016lx\n", tf->r12, tf->r13, tf->r14, tf->r15);
    printk("    rip=%016lx rflags=%016lx cs=%lx ss=%lx cr0=%lx cr3=%lx cr4=%lx\n", tf->rip,
           tf->rflags, tf->cs, tf->ss, read_cr0(), read_cr3(), read_cr4());
}

/*
 * gcc leaves out the frame of some leaf functions even with frame pointers
 * on. When the faulting function does not start with "push %rbp; mov
 * %rsp,%rbp", its return address is still on top of the stack: print it so
 * the backtrace does not skip the caller.
 */
static bool print_leaf_caller(const struct trap_frame *tf, const char *fn, uint64_t off)
{
    static const uint8_t prologue[] = {0x55, 0x48, 0x89, 0xe5};
    const uint8_t *start = (const uint8_t *)(tf->rip - off);
    const char *caller;
    uint64_t coff;
    bool stack_ok = !(tf->rsp & 7) && tf->rsp >= 0x100000 && tf->rsp < (4UL << 30);
    if (fn[0] == '?' || !stack_ok || memcmp(start, prologue, sizeof(prologue)) == 0)
        return false;
    uint64_t ret = *(const uint64_t *)tf->rsp;
    if (!ksym_lookup(ret - 1, &caller, &coff))
        return false;
    printk("      #1  %016lx %s+0x%lx\n", ret, caller, coff + 1);
    return true;
}

void trap(struct trap_frame *tf)
{
    bool from_user = (tf->cs & 3) == 3;
    if (tf->vector == USER_SYSCALL_VECTOR) {
        user_syscall(tf);
        return;
    }
    if (tf->vector == LAPIC_SPURIOUS_VECTOR)
        return;
    if (tf->vector == LAPIC_TIMER_VECTOR) {
        lapic_eoi();
        if (from_user && user_budget_spent())
            user_trap(tf); /* the upcall's budget ran out */
        return; /* a late tick once the upcall had ended, or budget left: nothing to do */
    }
    if (from_user)
        user_trap(tf);

    const char *fn = "?";
    uint64_t off = 0;
    ksym_lookup(tf->rip, &fn, &off);

    bool recover = ktest_try_armed();
    if (!recover)
        printk_frame("panic ");
    printk("%sCPU exception %lu %s (%s) at rip 0x%lx in %s+0x%lx, error code 0x%lx\n",
           recover ? "caught " : "", tf->vector, exception_mnemonic(tf->vector),
           exception_name(tf->vector), tf->rip, fn, off, tf->error_code);
    if (tf->vector == 14)
        describe_pf(tf->error_code);
    if (tf->vector == 13 && tf->error_code)
        printk("    the error code names segment selector 0x%lx\n", tf->error_code & ~7UL);
    dump_registers(tf);
    printk("    backtrace (most recent call first):\n");
    printk("      #0  %016lx %s+0x%lx\n", tf->rip, fn, off);
    backtrace_print(tf->rbp, print_leaf_caller(tf, fn, off) ? 2 : 1);

    if (recover)
        kjmp_jump(&ktest_recover, (int)tf->vector + 1);
    panic_stop();
}
