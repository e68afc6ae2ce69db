/*
 * VM exits: the reasons (one table, SDM names), the exit-reason word, and
 * the controller chain that handles an exit.
 *
 * The life of an exit: the guest does something the VMCS says to exit on;
 * the CPU saves the guest state and jumps to the host (kev/vmenter.asm),
 * which saves the guest's general-purpose registers and calls kev's
 * dispatcher. The dispatcher reads the exit reason once, checks bit 31
 * (failed VM entry) first, then asks each controller of the VM's chain in
 * order. A controller returns one of the four vmexit_result actions below;
 * "pass" asks the next one. Past the end of the chain the exit is
 * unhandled: the VM stops with an error that names the reason and the guest
 * RIP. Nothing a guest does stops the host.
 */
#ifndef KEV_EXIT_H
#define KEV_EXIT_H

#include "kernel/types.h"
#include "kev/error.h"

/*
 * Basic exit reasons: X(name, number, SDM description). Intel SDM Vol. 3D,
 * Appendix C "VMX Basic Exit Reasons", Table C-1. Numbers the SDM leaves
 * unused (35, 38, 42, 71) are not listed.
 */
#define EXIT_REASONS(X)                                                                 \
    X(EXCEPTION_NMI, 0, "Exception or non-maskable interrupt (NMI)")                    \
    X(EXTERNAL_INTERRUPT, 1, "External interrupt")                                      \
    X(TRIPLE_FAULT, 2, "Triple fault")                                                  \
    X(INIT_SIGNAL, 3, "INIT signal")                                                    \
    X(SIPI_SIGNAL, 4, "Start-up IPI (SIPI)")                                            \
    X(IO_SMI, 5, "I/O system-management interrupt (SMI)")                               \
    X(OTHER_SMI, 6, "Other SMI")                                                        \
    X(INTERRUPT_WINDOW, 7, "Interrupt window")                                          \
    X(NMI_WINDOW, 8, "NMI window")                                                      \
    X(TASK_SWITCH, 9, "Task switch")                                                    \
    X(CPUID, 10, "CPUID")                                                               \
    X(GETSEC, 11, "GETSEC")                                                             \
    X(HLT, 12, "HLT")                                                                   \
    X(INVD, 13, "INVD")                                                                 \
    X(INVLPG, 14, "INVLPG")                                                             \
    X(RDPMC, 15, "RDPMC")                                                               \
    X(RDTSC, 16, "RDTSC")                                                               \
    X(RSM, 17, "RSM")                                                                   \
    X(VMCALL, 18, "VMCALL")                                                             \
    X(VMCLEAR, 19, "VMCLEAR")                                                           \
    X(VMLAUNCH, 20, "VMLAUNCH")                                                         \
    X(VMPTRLD, 21, "VMPTRLD")                                                           \
    X(VMPTRST, 22, "VMPTRST")                                                           \
    X(VMREAD, 23, "VMREAD")                                                             \
    X(VMRESUME, 24, "VMRESUME")                                                         \
    X(VMWRITE, 25, "VMWRITE")                                                           \
    X(VMOFF, 26, "VMXOFF")                                                              \
    X(VMON, 27, "VMXON")                                                                \
    X(CR_ACCESS, 28, "Control-register accesses")                                       \
    X(DR_ACCESS, 29, "MOV DR")                                                          \
    X(IO_INSTRUCTION, 30, "I/O instruction")                                            \
    X(MSR_READ, 31, "RDMSR")                                                            \
    X(MSR_WRITE, 32, "WRMSR")                                                           \
    X(INVALID_STATE, 33, "VM-entry failure due to invalid guest state")                 \
    X(MSR_LOAD_FAIL, 34, "VM-entry failure due to MSR loading")                         \
    X(MWAIT_INSTRUCTION, 36, "MWAIT")                                                   \
    X(MONITOR_TRAP_FLAG, 37, "Monitor trap flag")                                       \
    X(MONITOR_INSTRUCTION, 39, "MONITOR")                                               \
    X(PAUSE_INSTRUCTION, 40, "PAUSE")                                                   \
    X(MCE_DURING_VMENTRY, 41, "VM-entry failure due to machine-check event")            \
    X(TPR_BELOW_THRESHOLD, 43, "TPR below threshold")                                   \
    X(APIC_ACCESS, 44, "APIC access")                                                   \
    X(EOI_INDUCED, 45, "Virtualized EOI")                                               \
    X(GDTR_IDTR, 46, "Access to GDTR or IDTR")                                          \
    X(LDTR_TR, 47, "Access to LDTR or TR")                                              \
    X(EPT_VIOLATION, 48, "EPT violation")                                               \
    X(EPT_MISCONFIG, 49, "EPT misconfiguration")                                        \
    X(INVEPT, 50, "INVEPT")                                                             \
    X(RDTSCP, 51, "RDTSCP")                                                             \
    X(PREEMPTION_TIMER, 52, "VMX-preemption timer expired")                             \
    X(INVVPID, 53, "INVVPID")                                                           \
    X(WBINVD, 54, "WBINVD or WBNOINVD")                                                 \
    X(XSETBV, 55, "XSETBV")                                                             \
    X(APIC_WRITE, 56, "APIC write")                                                     \
    X(RDRAND, 57, "RDRAND")                                                             \
    X(INVPCID, 58, "INVPCID")                                                           \
    X(VMFUNC, 59, "VMFUNC")                                                             \
    X(ENCLS, 60, "ENCLS")                                                               \
    X(RDSEED, 61, "RDSEED")                                                             \
    X(PML_FULL, 62, "Page-modification log full")                                       \
    X(XSAVES, 63, "XSAVES")                                                             \
    X(XRSTORS, 64, "XRSTORS")                                                           \
    X(PCONFIG, 65, "PCONFIG")                                                           \
    X(SPP_EVENT, 66, "SPP-related event")                                               \
    X(UMWAIT, 67, "UMWAIT")                                                             \
    X(TPAUSE, 68, "TPAUSE")                                                             \
    X(LOADIWKEY, 69, "LOADIWKEY")                                                       \
    X(ENCLV, 70, "ENCLV")                                                               \
    X(ENQCMD_PASID_FAIL, 72, "ENQCMD PASID translation failure")                        \
    X(ENQCMDS_PASID_FAIL, 73, "ENQCMDS PASID translation failure")                      \
    X(BUS_LOCK, 74, "Bus lock")                                                         \
    X(NOTIFY, 75, "Instruction timeout")                                                \
    X(SEAMCALL, 76, "SEAMCALL")                                                         \
    X(TDCALL, 77, "TDCALL")                                                             \
    X(RDMSRLIST, 78, "RDMSRLIST")                                                       \
    X(WRMSRLIST, 79, "WRMSRLIST")

enum exit_reason_basic {
#define EXIT_REASON_ENUM(name, num, sdm) EXIT_REASON_##name = num,
    EXIT_REASONS(EXIT_REASON_ENUM)
#undef EXIT_REASON_ENUM
};

/* "VMCALL"; "unknown" for a number the table does not have. */
const char *exit_reason_name(uint32_t basic);
/* Table C-1's description ("VM-entry failure due to invalid guest state"). */
const char *exit_reason_sdm_name(uint32_t basic);

/*
 * The exit-reason field (VMCS VM_EXIT_REASON). Vol. 3C, 28.2.1 "Basic
 * VM-Exit Information", table "Format of Exit Reason": bits 15:0 the basic
 * reason, bit 31 set when VM entry failed (then the guest never ran).
 */
union exit_reason {
    uint32_t full;
    struct {
        uint32_t basic : 16;
        uint32_t reserved0 : 11;
        uint32_t enclave_mode : 1;   /* 27 */
        uint32_t pending_mtf : 1;    /* 28 */
        uint32_t from_vmx_root : 1;  /* 29 */
        uint32_t reserved1 : 1;      /* 30 */
        uint32_t failed_vmentry : 1; /* 31 */
    };
};
_Static_assert(sizeof(union exit_reason) == 4, "exit reason is one 32-bit word");

/*
 * VM-exit interruption information (VM_EXIT_INTR_INFO), for exit reason
 * EXCEPTION_NMI: Vol. 3C, 25.9.2 "Information for VM Exits Due to Vectored
 * Events".
 */
#define INTR_INFO_VECTOR_MASK 0xffu            /* bits 7:0 */
#define INTR_INFO_TYPE_MASK 0x700u             /* bits 10:8 */
#define INTR_INFO_TYPE_SHIFT 8
#define INTR_INFO_ERROR_CODE_VALID (1u << 11)
#define INTR_INFO_VALID (1u << 31)

/* Interruption types (bits 10:8), for exits and for injection: X(number,
 * name, SDM words). Vol. 3C, 25.8.3 "VM-Entry Controls for Event
 * Injection", table "Format of the VM-Entry Interruption-Information Field". */
#define INTR_TYPES(X)                                                         \
    X(0, INTR_TYPE_EXT_INTR, "external interrupt")                            \
    X(2, INTR_TYPE_NMI, "non-maskable interrupt (NMI)")                       \
    X(3, INTR_TYPE_HARD_EXCEPTION, "hardware exception")                      \
    X(4, INTR_TYPE_SOFT_INTR, "software interrupt")                           \
    X(5, INTR_TYPE_PRIV_SW_EXCEPTION, "privileged software exception")        \
    X(6, INTR_TYPE_SOFT_EXCEPTION, "software exception")                      \
    X(7, INTR_TYPE_OTHER_EVENT, "other event")
enum intr_type {
#define INTR_TYPE_ENUM(n, name, text) name = n,
    INTR_TYPES(INTR_TYPE_ENUM)
#undef INTR_TYPE_ENUM
};
/* "hardware exception"; "reserved" for 1. */
const char *intr_type_name(unsigned type);

/*
 * Exception vectors, by their SDM mnemonics (Vol. 3A, 7.3 "Sources of
 * Interrupts", table "Protected-Mode Exceptions and Interrupts"), and
 * those that push an error code (Vol. 3A, 7.13 "Error Code"): #DF, #TS,
 * #NP, #SS, #GP, #PF, #AC, #CP. VM entry injects an error code for exactly
 * these (Vol. 3C, 27.2.1.3 "Checks on VM-Entry Control Fields").
 */
enum exception_vector {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5, EXC_UD = 6,
    EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12, EXC_GP = 13, EXC_PF = 14,
    EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19, EXC_VE = 20, EXC_CP = 21,
};
#define EXC_HAS_ERROR_CODE(v)                                                              \
    ((v) < 32 && ((1u << (v)) & ((1u << EXC_DF) | (1u << EXC_TS) | (1u << EXC_NP) |         \
                                 (1u << EXC_SS) | (1u << EXC_GP) | (1u << EXC_PF) |         \
                                 (1u << EXC_AC) | (1u << EXC_CP))))

/* Entry-failure exit qualification (exit reason 33 or 34 with bit 31):
 * Vol. 3C, 27.8 "VM-Entry Failures During or After Loading Guest State". */
#define ENTRY_FAIL_DEFAULT 0      /* no further information */
#define ENTRY_FAIL_PDPTE 2        /* a PDPTE failed its checks */
#define ENTRY_FAIL_NMI_INJECT 3   /* NMI injection with blocking by NMI */
#define ENTRY_FAIL_VMCS_LINK 4    /* the VMCS link pointer is invalid */

struct vcpu_state;
struct vmexit_controller;

/*
 * What a controller tells kev about one exit.
 *
 *   VMEXIT_CONTINUE  handled: resume the guest (the handler moved RIP on
 *                    with vmcs_forward_rip if it served an instruction)
 *   VMEXIT_PASS      not this controller's exit: ask the next one
 *   VMEXIT_EXIT      the VM ends; `code` is its exit code (use vm_exit)
 *   VMEXIT_ERROR     the VM stops with `error` (use vm_stop, which also
 *                    records a message naming the cause: the one way)
 */
enum vmexit_action { VMEXIT_CONTINUE, VMEXIT_PASS, VMEXIT_EXIT, VMEXIT_ERROR };

/* "vmexit_continue()", "vm_exit()", ...: how a handler's answer was made,
 * for messages about a student function's result. */
const char *vmexit_action_name(enum vmexit_action a);

struct vmexit_result {
    enum vmexit_action action;
    enum kev_error error; /* VMEXIT_ERROR */
    int64_t code;         /* VMEXIT_EXIT */
};

static inline struct vmexit_result vmexit_continue(void)
{
    return (struct vmexit_result){.action = VMEXIT_CONTINUE};
}
static inline struct vmexit_result vmexit_pass(void)
{
    return (struct vmexit_result){.action = VMEXIT_PASS};
}
/* A vmexit_result as an upcall returns it in rax:rdx (SysV: the first
 * eight bytes in rax, the code in rdx). */
_Static_assert(sizeof(struct vmexit_result) == 16, "a vmexit_result is two registers");
static inline struct vmexit_result vmexit_result_from(uint64_t rax, uint64_t rdx)
{
    return (struct vmexit_result){.action = (enum vmexit_action)(uint32_t)rax,
                                  .error = (enum kev_error)(uint32_t)(rax >> 32),
                                  .code = (int64_t)rdx};
}

/*
 * A link of a VM's chain. handle() gets the vCPU state (registers, active
 * VMCS, VM) and the exit reason (basic reason and flags; never one with
 * failed_vmentry set: kev handles those itself). `data` is the
 * controller's own.
 *
 *   static struct vmexit_result on_hlt(struct vmexit_controller *self,
 *                                      struct vcpu_state *s, union exit_reason r)
 *   {
 *       if (r.basic != EXIT_REASON_HLT)
 *           return vmexit_pass();
 *       return vm_exit(s->vm, 0);
 *   }
 *   static struct vmexit_controller hlt_ctl = {.name = "hlt", .handle = on_hlt};
 */
struct vmexit_controller {
    const char *name;
    struct vmexit_result (*handle)(struct vmexit_controller *self, struct vcpu_state *s,
                                   union exit_reason reason);
    void *data;
};

#endif
