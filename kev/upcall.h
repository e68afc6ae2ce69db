/*
 * Calling student handlers from kev. A student's handler runs at CPL 3
 * (kernel/user.h): it gets a copy of the vCPU's state on its own stack, in
 * which `vm` is a handle and the VMCS is reached through syscalls, and its
 * changes to the guest's registers are copied back when it returns. A
 * project's controller calls its students' functions with these:
 *
 *   user_frame_reset();
 *   uint64_t us = upcall_push_vcpu(s);
 *   struct user_result r = user_call(hypercall_handle, us, hc, out, 0);
 *   if (r.status != USER_RETURNED)
 *       return upcall_stopped(s, &r);          the VM stops with KEV_ESTUDENT
 *   upcall_pull_regs(s, us);
 *   struct vmexit_result res = vmexit_result_from(r.ret[0], r.ret[1]);
 */
#ifndef KEV_UPCALL_H
#define KEV_UPCALL_H

#include "kernel/user.h"
#include "kev/exit.h"
#include "kev/vcpu.h"

/* Pushes the student's copy of s (registers, id, exit reason, vm handle). */
uint64_t upcall_push_vcpu(struct vcpu_state *s);
/* Copies the guest registers back from that copy. */
void upcall_pull_regs(struct vcpu_state *s, uint64_t ucopy);
/* Stops s's VM with KEV_ESTUDENT and the words of the stopped upcall. */
struct vmexit_result upcall_stopped(struct vcpu_state *s, const struct user_result *r);

#endif
