/*
 * Project 2, CPUID: what a guest learns about its CPU, and the function you
 * write in cpuid.c.
 *
 * CPUID (Intel SDM Vol. 2A, "CPUID -- CPU Identification") takes a leaf in
 * EAX and, for the leaves that have them, a subleaf in ECX, and answers in
 * EAX, EBX, ECX and EDX. In VMX non-root operation it always causes a VM
 * exit (Vol. 3C, 26.1.2 "Instructions That Cause VM Exits
 * Unconditionally"): the hypervisor decides every answer the guest sees.
 * kevlab's answer is the host CPU's own, with what must not leak adjusted.
 * The rules, the names below stand for:
 *
 *   leaf 1            EBX[31:24], the initial APIC ID, is the vCPU's id;
 *                     ECX bit 5 (VMX) is clear: the guest has no VMX;
 *                     ECX bit 31 is set: "a hypervisor is present"
 *   leaf 0x40000000   kevlab's own: EAX = the highest hypervisor leaf
 *                     (0x40000000: there is no other), EBX, ECX, EDX = the
 *                     signature "kevlabkevlab", four bytes each, in this order
 *   0x40000001 to     zero in all four registers: no such kevlab leaf, and
 *   0x4fffffff        whatever a hypervisor below us answers must not show
 *   every other leaf  the host's answer for that leaf and subleaf, unchanged
 *
 * In every case the upper 32 bits of RAX, RBX, RCX and RDX are zero after
 * CPUID, as on hardware, and every other register is as it was.
 */
#ifndef PROJECT2_CPUID_H
#define PROJECT2_CPUID_H

#include "kev/cpuid.h"
#include "kev/kev.h"

/* Leaf 1 ("Feature Information"), Vol. 2A, CPUID, Table "Feature
 * Information Returned in the ECX Register"; CPUID_1_ECX_VMX (bit 5) is
 * kev's, in kev/vmx.h. */
#define CPUID_1_EBX_APIC_ID_SHIFT 24
#define CPUID_1_EBX_APIC_ID (0xffu << CPUID_1_EBX_APIC_ID_SHIFT) /* bits 31:24 */
#define CPUID_1_ECX_HYPERVISOR (1u << 31) /* always 0 on hardware: a hypervisor sets it */

/* The leaves 0x40000000 to 0x4fffffff are the hypervisor's: the SDM
 * promises no CPU will ever use them. */
#define CPUID_HYPERVISOR_FIRST 0x40000000u
#define CPUID_HYPERVISOR_LAST 0x4fffffffu
/* kevlab's answer to leaf 0x40000000: EAX, then the signature's bytes
 * 0-3 in EBX, 4-7 in ECX, 8-11 in EDX (lowest byte first). */
#define KEVLAB_CPUID_MAX_LEAF 0x40000000u
#define KEVLAB_CPUID_SIGNATURE "kevlabkevlab"

/*
 * cpuid_emulate: serves the CPUID the vCPU s exited on. Reads the leaf
 * and subleaf from s->regs (EAX and ECX, the low halves of rax and rcx),
 * writes the answer by the rules above into s->regs.rax, .rbx, .rcx and
 * .rdx, and returns vmexit_continue(): every leaf has an answer. The
 * controller (cpuid_ctl.c, given) then moves GUEST_RIP past the cpuid
 * instruction and the guest goes on.
 *
 * Called on every CPUID exit; the vCPU's id is s->id.
 */
struct vmexit_result cpuid_emulate(struct vcpu_state *s);

#endif
