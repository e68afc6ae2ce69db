/*
 * Project 2's hypercalls: the ABI a guest uses to call its hypervisor, and
 * the two functions you write in hypercall.c.
 *
 * A guest asks for a hypercall by executing `vmcall` with the hypercall's
 * number in rax and its arguments in rdi, rsi, rdx, r10, r9, r8 (first to
 * sixth). The table below is the whole ABI: the enum, the names in error
 * messages and the guests' constants (guests/hypercall.inc) are all made
 * from it, so a new hypercall is one new line here.
 */
#ifndef PROJECT2_HYPERCALL_H
#define PROJECT2_HYPERCALL_H

#include "kernel/types.h"
#include "kev/kev.h"
#include "kev/printer.h"

/*     rax  enum constant  name       arguments */
#define HYPERCALL_TABLE(X)                                                   \
    X(0, HC_HALT_CPU, "HaltCpu", 1) /* rdi = exit code */                    \
    X(1, HC_PRINT, "Print", 2)      /* rdi = buffer (guest virtual), rsi = size */

enum hypercall_nr {
#define HC_ENUM(nr, id, name, nargs) id = nr,
    HYPERCALL_TABLE(HC_ENUM)
#undef HC_ENUM
};

/* The hypercall's name in the table ("HaltCpu"), or NULL for an unknown number. */
const char *hypercall_name(uint64_t nr);
/* How many argument registers it takes, or -1 for an unknown number. */
int hypercall_nargs(uint64_t nr);

/*
 * One decoded hypercall: `nr` says which member of the union holds its
 * arguments (a "tagged union"; read only the member nr names).
 */
struct hypercall {
    enum hypercall_nr nr;
    union {
        struct {
            int64_t exit_code;
        } halt_cpu; /* HC_HALT_CPU */
        struct {
            gva_t buf;     /* the first byte, a guest-virtual address */
            uint64_t size; /* the number of bytes */
        } print; /* HC_PRINT */
    };
};

/*
 * hypercall_resolve: decodes the guest's registers at a vmcall exit into
 * *hc. Returns KEV_OK, or KEV_EHYPERCALL when rax holds a number the table
 * does not have (the controller then stops the VM with that error). Only
 * reads: no guest memory, no VM operations.
 */
enum kev_error hypercall_resolve(const struct guest_regs *regs, struct hypercall *hc);

/*
 * hypercall_handle: serves one resolved hypercall for the vCPU s; guest
 * output goes through the PrinterProxy `out`. Returns what the VM does next:
 *
 *   vmexit_continue()                 served: the controller moves RIP past
 *                                     vmcall and the guest goes on
 *   vm_exit(s->vm, code)              the VM ends with this exit code (HaltCpu)
 *   vm_stop(s->vm, e, "fmt", ...)     the hypercall failed with kev error e;
 *                                     the message says what and where
 */
struct vmexit_result hypercall_handle(struct vcpu_state *s, const struct hypercall *hc,
                                      struct printer *out);

#endif
