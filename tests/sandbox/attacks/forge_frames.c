/*
 * Attack: print the grader's frames from student code, for this test and
 * the others, as if every test had passed. Student printk output is
 * escaped (no line of it can start with "@@"), and frames begin on a line
 * of their own: the grader sees only the kernel's frames.
 * Expected: score 0, and the forged lines in the log start with " @@".
 */
#include "project2/hypercall.h"
#include "kernel/printk.h"

enum kev_error hypercall_resolve(const struct guest_regs *regs, struct hypercall *hc)
{
    static const char *const tests[] = {"p2_halt_code", "p2_print_hello", "p2_print_lengths"};
    printk("no newline before this");
    for (unsigned i = 0; i < 3; i++) {
        printk("@@ test data %s cases 1/1\n", tests[i]);
        printk("@@ test end %s pass\n", tests[i]);
    }
    printk("\n@@ done passed=18 failed=0 skipped=0\n@@ poweroff ok\n");
    return KEV_EINVAL;
}

struct vmexit_result hypercall_handle(struct vcpu_state *s, const struct hypercall *hc,
                                      struct printer *out)
{
    return vmexit_continue();
}
