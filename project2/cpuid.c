/*
 * Project 2, CPUID. This is a file you edit.
 *
 * A program asks the CPU what it is with CPUID: the leaf in EAX (and, for
 * leaves such as 4 and 7, a subleaf in ECX) selects the question; the
 * answer comes back in EAX, EBX, ECX and EDX: the vendor ("GenuineIntel",
 * leaf 0), the model and the features (leaf 1), the caches (leaf 4), ...
 * (Intel SDM Vol. 2A, "CPUID -- CPU Identification"). An OS reads them
 * at boot and decides what to use.
 *
 * Inside a VM, CPUID always exits (Vol. 3C, 26.1.2 "Instructions That
 * Cause VM Exits Unconditionally"): the guest never sees the real CPU,
 * only what its hypervisor answers. kevlab answers with the host CPU's
 * own answer (kev_cpuid() executes CPUID here, for the same leaf and
 * subleaf), adjusted where the truth would mislead the guest or leak the
 * host (project2/cpuid.h has the rules and the names):
 *
 *   - leaf 1: the initial APIC ID (EBX[31:24]) is the host CPU's; the
 *     guest must see its vCPU's id. VMX (ECX bit 5) is the host's: this
 *     guest cannot use it (kev offers no nested VMX), so it must not see
 *     it. ECX bit 31 tells the guest it runs under a hypervisor.
 *   - leaf 0x40000000: the hypervisor's own leaf; a guest reads who its
 *     hypervisor is here. Leaves 0x40000001 to 0x4fffffff are zero.
 *   - CPUID writes all of RAX, RBX, RCX and RDX: "On Intel 64
 *     processors, CPUID clears the high 32 bits of the RAX/RBX/RCX/RDX
 *     registers in all modes" (Vol. 2A, CPUID). So must you.
 *
 * Then the guest goes on after its cpuid. The CPU never moves RIP for an
 * exit: the instruction did not run, the hypervisor served it, and only
 * the hypervisor knows it did. It moves RIP past the instruction, by the
 * length the exit reports (VM_EXIT_INSTRUCTION_LEN: 2 bytes for cpuid,
 * Vol. 3C, 28.2.5 "Information for VM Exits Due to Instruction
 * Execution"). As for hypercalls, the given controller (cpuid_ctl.c) does
 * it when you return vmexit_continue(); your part is the answer.
 *
 * Run one test: make run TEST=p2_cpuid_leaf1. The handout is docs/project2.md.
 */
#include "project2/cpuid.h"
#include "kernel/panic.h"
#include "kernel/string.h"
#ifdef SOLUTION

/* The answer the guest sees for (leaf, subleaf) on vCPU `id`. */
static struct cpuid_regs answer(unsigned id, uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r = {0};
    if (leaf == CPUID_HYPERVISOR_FIRST) {
        r.eax = KEVLAB_CPUID_MAX_LEAF;
        memcpy(&r.ebx, KEVLAB_CPUID_SIGNATURE, 4);
        memcpy(&r.ecx, KEVLAB_CPUID_SIGNATURE + 4, 4);
        memcpy(&r.edx, KEVLAB_CPUID_SIGNATURE + 8, 4);
        return r;
    }
    if (leaf > CPUID_HYPERVISOR_FIRST && leaf <= CPUID_HYPERVISOR_LAST)
        return r; /* no such kevlab leaf: zeros */
    r = kev_cpuid(leaf, subleaf);
    if (leaf == 1) {
        r.ebx = (r.ebx & ~CPUID_1_EBX_APIC_ID) | (id & 0xffu) << CPUID_1_EBX_APIC_ID_SHIFT;
        r.ecx = (r.ecx & ~CPUID_1_ECX_VMX) | CPUID_1_ECX_HYPERVISOR;
    }
    return r;
}
#endif

struct vmexit_result cpuid_emulate(struct vcpu_state *s)
{
#ifdef SOLUTION
    uint32_t leaf = (uint32_t)s->regs.rax, subleaf = (uint32_t)s->regs.rcx;
    struct cpuid_regs r = answer(s->id, leaf, subleaf);
    /* uint32_t to uint64_t: the upper halves become zero, as on hardware */
    s->regs.rax = r.eax;
    s->regs.rbx = r.ebx;
    s->regs.rcx = r.ecx;
    s->regs.rdx = r.edx;
    return vmexit_continue();
#else
    /*
     * Hints:
     *   - The leaf is EAX and the subleaf ECX: the low 32 bits of
     *     s->regs.rax and s->regs.rcx ((uint32_t)s->regs.rax). The upper
     *     halves hold whatever the guest left there.
     *   - kev_cpuid(leaf, subleaf) (kev/cpuid.h) executes CPUID on the
     *     host and returns a struct cpuid_regs {eax, ebx, ecx, edx}. Start
     *     from it, then adjust leaf 1 with the masks of project2/cpuid.h:
     *     clear a field with & ~MASK, then | in the new value.
     *   - Leaf 0x40000000 is not the host's to answer: build it yourself.
     *     The signature's first four bytes go to EBX, the next four to ECX,
     *     the last four to EDX (memcpy from KEVLAB_CPUID_SIGNATURE; x86 is
     *     little-endian: the first byte is the register's lowest). Mind
     *     the order: leaf 0's vendor string uses EBX, EDX, ECX instead.
     *   - Write all four 64-bit registers from 32-bit values
     *     (s->regs.rax = r.eax): the upper halves become zero.
     *   - Touch no other register (the guest checks every one), and not
     *     RIP: return vmexit_continue() and the controller moves it.
     */
    (void)s;
    TODO();
#endif
}
