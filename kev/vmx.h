/*
 * VMX itself: the capability MSRs, the control bits kev uses, turning VMX
 * on, adjusting controls to what the CPU allows, and the VMX instructions.
 *
 * Every instruction wrapper returns its status (Intel SDM Vol. 3C, 31.2
 * "Conventions": VMsucceed clears CF and ZF, VMfailInvalid sets CF -- there
 * is no current VMCS to hold an error number -- and VMfailValid sets ZF with
 * the reason in the VMCS field VM_INSTRUCTION_ERROR). The numbers' names
 * are the table VMX_INSN_ERRORS (Vol. 3C, 31.4 "VM Instruction Error
 * Numbers").
 */
#ifndef KEV_VMX_H
#define KEV_VMX_H

#include "kernel/types.h"
#include "kev/error.h"

/* Capability MSRs: Vol. 3D, Appendix A "VMX Capability Reporting Facility". */
#define MSR_IA32_VMX_BASIC 0x480
#define MSR_IA32_VMX_PINBASED_CTLS 0x481
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482
#define MSR_IA32_VMX_EXIT_CTLS 0x483
#define MSR_IA32_VMX_ENTRY_CTLS 0x484
#define MSR_IA32_VMX_MISC 0x485
#define MSR_IA32_VMX_CR0_FIXED0 0x486
#define MSR_IA32_VMX_CR0_FIXED1 0x487
#define MSR_IA32_VMX_CR4_FIXED0 0x488
#define MSR_IA32_VMX_CR4_FIXED1 0x489
#define MSR_IA32_VMX_VMCS_ENUM 0x48a
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490

/* IA32_VMX_BASIC (Vol. 3D, A.1 "Basic VMX Information"). */
#define VMX_BASIC_REVISION_MASK 0x7fffffffUL /* bits 30:0: VMCS revision identifier */
#define VMX_BASIC_TRUE_CTLS (1UL << 55)      /* the TRUE_* control MSRs exist */

/* IA32_FEATURE_CONTROL (Vol. 3C, 24.7 "Enabling and Entering VMX Operation"). */
#define FEATURE_CONTROL_LOCKED (1UL << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1UL << 2)

#define CPUID_1_ECX_VMX (1U << 5)

/* Pin-based VM-execution controls (Vol. 3C, 25.6.1). */
#define PIN_BASED_EXT_INTR_MASK (1U << 0)
#define PIN_BASED_NMI_EXITING (1U << 3)
#define PIN_BASED_VIRTUAL_NMIS (1U << 5)
#define PIN_BASED_VMX_PREEMPTION_TIMER (1U << 6)

/* Primary processor-based VM-execution controls (Vol. 3C, 25.6.2). */
#define CPU_BASED_INTR_WINDOW_EXITING (1U << 2)
#define CPU_BASED_USE_TSC_OFFSETTING (1U << 3)
#define CPU_BASED_HLT_EXITING (1U << 7)
#define CPU_BASED_INVLPG_EXITING (1U << 9)
#define CPU_BASED_MWAIT_EXITING (1U << 10)
#define CPU_BASED_RDPMC_EXITING (1U << 11)
#define CPU_BASED_RDTSC_EXITING (1U << 12)
#define CPU_BASED_CR3_LOAD_EXITING (1U << 15)
#define CPU_BASED_CR3_STORE_EXITING (1U << 16)
#define CPU_BASED_CR8_LOAD_EXITING (1U << 19)
#define CPU_BASED_CR8_STORE_EXITING (1U << 20)
#define CPU_BASED_TPR_SHADOW (1U << 21)
#define CPU_BASED_NMI_WINDOW_EXITING (1U << 22)
#define CPU_BASED_MOV_DR_EXITING (1U << 23)
#define CPU_BASED_UNCOND_IO_EXITING (1U << 24)
#define CPU_BASED_USE_IO_BITMAPS (1U << 25)
#define CPU_BASED_MONITOR_TRAP_FLAG (1U << 27)
#define CPU_BASED_USE_MSR_BITMAPS (1U << 28)
#define CPU_BASED_MONITOR_EXITING (1U << 29)
#define CPU_BASED_PAUSE_EXITING (1U << 30)
#define CPU_BASED_ACTIVATE_SECONDARY_CONTROLS (1U << 31)

/* Secondary processor-based VM-execution controls (Vol. 3C, 25.6.2). */
#define SECONDARY_EXEC_ENABLE_EPT (1U << 1)
#define SECONDARY_EXEC_DESC_TABLE_EXITING (1U << 2)
#define SECONDARY_EXEC_ENABLE_RDTSCP (1U << 3)
#define SECONDARY_EXEC_ENABLE_VPID (1U << 5)
#define SECONDARY_EXEC_UNRESTRICTED_GUEST (1U << 7)

/* Primary VM-exit controls (Vol. 3C, 25.7.1 "VM-Exit Controls"). */
#define VM_EXIT_SAVE_DEBUG_CONTROLS (1U << 2)
#define VM_EXIT_HOST_ADDR_SPACE_SIZE (1U << 9)
#define VM_EXIT_ACK_INTR_ON_EXIT (1U << 15)
#define VM_EXIT_SAVE_IA32_PAT (1U << 18)
#define VM_EXIT_LOAD_IA32_PAT (1U << 19)
#define VM_EXIT_SAVE_IA32_EFER (1U << 20)
#define VM_EXIT_SAVE_VMX_PREEMPTION_TIMER (1U << 22)
#define VM_EXIT_LOAD_IA32_EFER (1U << 21)

/* VM-entry controls (Vol. 3C, 25.8.1 "VM-Entry Controls"). */
#define VM_ENTRY_LOAD_DEBUG_CONTROLS (1U << 2)
#define VM_ENTRY_IA32E_MODE (1U << 9)
#define VM_ENTRY_LOAD_IA32_PAT (1U << 14)
#define VM_ENTRY_LOAD_IA32_EFER (1U << 15)

/* The five sets of 32-bit controls, each with its capability MSR. */
enum vmx_controls {
    VMX_PINBASED,    /* PIN_BASED_VM_EXEC_CONTROL */
    VMX_PROCBASED,   /* CPU_BASED_VM_EXEC_CONTROL */
    VMX_PROCBASED2,  /* SECONDARY_VM_EXEC_CONTROL */
    VMX_EXIT,        /* VM_EXIT_CONTROLS */
    VMX_ENTRY,       /* VM_ENTRY_CONTROLS */
    VMX_CONTROLS_COUNT
};

/* What the CPU says about VMX, read once when VMX is enabled. */
/* IA32_VMX_EPT_VPID_CAP (Vol. 3D, A.10 "VPID and EPT Capabilities"); read
 * only where the secondary controls allow EPT or VPID, else 0. */
#define EPT_CAP_EXECUTE_ONLY (1ULL << 0)  /* an EPT entry may allow X without R */
#define EPT_CAP_WALK_4 (1ULL << 6)        /* 4-level walks */
#define EPT_CAP_MT_UC (1ULL << 8)         /* the EPTP may say uncacheable */
#define EPT_CAP_MT_WB (1ULL << 14)        /* the EPTP may say write-back */
#define EPT_CAP_2M (1ULL << 16)           /* 2 MiB EPT pages */
#define EPT_CAP_1G (1ULL << 17)           /* 1 GiB EPT pages */
#define EPT_CAP_INVEPT (1ULL << 20)
#define EPT_CAP_AD (1ULL << 21)           /* accessed and dirty flags */
#define EPT_CAP_INVEPT_SINGLE (1ULL << 25)
#define EPT_CAP_INVEPT_ALL (1ULL << 26)

struct vmx_caps {
    uint64_t basic;           /* IA32_VMX_BASIC */
    uint32_t revision;        /* VMCS revision identifier (bits 30:0 of basic) */
    bool true_ctls;           /* basic bit 55: the TRUE_* MSRs are used */
    uint64_t ctls[VMX_CONTROLS_COUNT]; /* allowed-0 settings in 31:0, allowed-1 in 63:32 */
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    uint64_t misc;
    uint64_t ept_vpid;        /* IA32_VMX_EPT_VPID_CAP, or 0 */
};

/*
 * Turns VMX on, once per boot (later calls return the first result):
 * checks CPUID.1:ECX.VMX, IA32_FEATURE_CONTROL, sets CR0/CR4 to the fixed
 * bits and executes VMXON. KEV_ENOVMX names the backends that have VMX.
 */
enum kev_error kev_vmx_enable(void);
/* The capabilities (valid after kev_vmx_enable returned KEV_OK). */
const struct vmx_caps *kev_vmx_caps(void);
/* Applies the fixed-bit MSRs: (v | fixed0) & fixed1. */
uint64_t vmx_fixed_cr0(uint64_t v);
uint64_t vmx_fixed_cr4(uint64_t v);

/*
 * Adjusts a set of controls to the CPU: the result has every bit the CPU
 * requires, every bit of `required` and of `optional` the CPU allows.
 * When a bit of `required` is not allowed, prints which control set and
 * bits, and returns KEV_ECONTROL. (Vol. 3D, A.3 to A.5; with basic bit 55
 * the TRUE_* MSRs: A.2 "Reserved Controls and Default Settings".)
 */
enum kev_error vmx_adjust_controls(enum vmx_controls which, uint32_t required, uint32_t optional,
                                   uint32_t *out);
bool vmx_control_allowed(enum vmx_controls which, uint32_t bits);
/* What this CPU gives of EPT and unrestricted guest, in words for the boot
 * banner ("EPT (4-level, WB, A/D, 2M pages), unrestricted guest"), and
 * whether a VM may use them at all (NULL, or why not). */
const char *vmx_ept_summary(void);
const char *vmx_ept_missing(void);
const char *vmx_unrestricted_missing(void);
const char *vmx_controls_name(enum vmx_controls which);

/* VM-instruction error numbers: X(number, name (Linux's), SDM description). Vol. 3C, 31.4. */
#define VMX_INSN_ERRORS(X)                                                                          \
    X(1, VMXERR_VMCALL_IN_ROOT,                                                                     \
      "VMCALL executed in VMX root operation")                                                      \
    X(2, VMXERR_VMCLEAR_INVALID_ADDRESS,                                                            \
      "VMCLEAR with invalid physical address")                                                      \
    X(3, VMXERR_VMCLEAR_VMXON_POINTER,                                                              \
      "VMCLEAR with VMXON pointer")                                                                 \
    X(4, VMXERR_VMLAUNCH_NONCLEAR_VMCS,                                                             \
      "VMLAUNCH with non-clear VMCS")                                                               \
    X(5, VMXERR_VMRESUME_NONLAUNCHED_VMCS,                                                          \
      "VMRESUME with non-launched VMCS")                                                            \
    X(6, VMXERR_VMRESUME_AFTER_VMXOFF,                                                              \
      "VMRESUME after VMXOFF (VMXOFF and VMXON between VMLAUNCH and VMRESUME)")                     \
    X(7, VMXERR_ENTRY_INVALID_CONTROL_FIELD,                                                        \
      "VM entry with invalid control field(s)")                                                     \
    X(8, VMXERR_ENTRY_INVALID_HOST_STATE_FIELD,                                                     \
      "VM entry with invalid host-state field(s)")                                                  \
    X(9, VMXERR_VMPTRLD_INVALID_ADDRESS,                                                            \
      "VMPTRLD with invalid physical address")                                                      \
    X(10, VMXERR_VMPTRLD_VMXON_POINTER,                                                             \
      "VMPTRLD with VMXON pointer")                                                                 \
    X(11, VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID,                                                \
      "VMPTRLD with incorrect VMCS revision identifier")                                            \
    X(12, VMXERR_UNSUPPORTED_VMCS_COMPONENT,                                                        \
      "VMREAD/VMWRITE from/to unsupported VMCS component")                                          \
    X(13, VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT,                                                  \
      "VMWRITE to read-only VMCS component")                                                        \
    X(15, VMXERR_VMXON_IN_VMX_ROOT_OPERATION,                                                       \
      "VMXON executed in VMX root operation")                                                       \
    X(16, VMXERR_ENTRY_INVALID_EXECUTIVE_VMCS_POINTER,                                              \
      "VM entry with invalid executive-VMCS pointer")                                               \
    X(17, VMXERR_ENTRY_NONLAUNCHED_EXECUTIVE_VMCS,                                                  \
      "VM entry with non-launched executive VMCS")                                                  \
    X(18, VMXERR_ENTRY_EXECUTIVE_VMCS_POINTER_NOT_VMXON_POINTER,                                    \
      "VM entry with executive-VMCS pointer not VMXON pointer")                                     \
    X(19, VMXERR_VMCALL_NONCLEAR_VMCS,                                                              \
      "VMCALL with non-clear VMCS")                                                                 \
    X(20, VMXERR_VMCALL_INVALID_VM_EXIT_CONTROL_FIELDS,                                             \
      "VMCALL with invalid VM-exit control fields")                                                 \
    X(22, VMXERR_VMCALL_INCORRECT_MSEG_REVISION_ID,                                                 \
      "VMCALL with incorrect MSEG revision identifier")                                             \
    X(23, VMXERR_VMXOFF_UNDER_DUAL_MONITOR_TREATMENT,                                               \
      "VMXOFF under dual-monitor treatment of SMIs and SMM")                                        \
    X(24, VMXERR_VMCALL_INVALID_SMM_MONITOR_FEATURES,                                               \
      "VMCALL with invalid SMM-monitor features")                                                   \
    X(25, VMXERR_ENTRY_INVALID_VM_EXECUTION_CONTROL_FIELDS_IN_EXECUTIVE_VMCS,                       \
      "VM entry with invalid VM-execution control fields in executive VMCS")                        \
    X(26, VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS,                                                    \
      "VM entry with events blocked by MOV SS")                                                     \
    X(28, VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID,                                                 \
      "Invalid operand to INVEPT/INVVPID")

/* The SDM's description of VM-instruction error n ("unknown ..." otherwise). */
enum vmx_insn_error {
#define VMX_INSN_ERROR_ENUM(n, name, text) name = n,
    VMX_INSN_ERRORS(VMX_INSN_ERROR_ENUM)
#undef VMX_INSN_ERROR_ENUM
};
const char *vmx_insn_error_name(uint32_t n);

/* The outcome of one VMX instruction. */
enum vmx_status {
    VMX_OK = 0,           /* VMsucceed */
    VMX_FAIL_INVALID = 1, /* VMfailInvalid: CF = 1, no current VMCS */
    VMX_FAIL_VALID = 2,   /* VMfailValid: ZF = 1, see VM_INSTRUCTION_ERROR */
};
const char *vmx_status_name(enum vmx_status s);

/*
 * On failure, which kind: VMfailInvalid exactly when there is no current
 * VMCS (Vol. 3C, 31.2), i.e. when even VM_INSTRUCTION_ERROR cannot be read.
 * Kept out of line so the success path is one instruction and one branch.
 */
enum vmx_status vmx_failure_kind(void) __attribute__((cold, noinline));

/* "=@cca" is the "above" condition (CF = 0 and ZF = 0): VMsucceed. */
#define VMX_STATUS(ok) (__builtin_expect((ok), 1) ? VMX_OK : vmx_failure_kind())

static inline enum vmx_status vmx_vmxon(paddr_t region)
{
    bool ok;
    __asm__ volatile("vmxon %1" : "=@cca"(ok) : "m"(region) : "memory");
    return VMX_STATUS(ok);
}

static inline enum vmx_status vmx_vmclear(paddr_t vmcs)
{
    bool ok;
    __asm__ volatile("vmclear %1" : "=@cca"(ok) : "m"(vmcs) : "memory");
    return VMX_STATUS(ok);
}

static inline enum vmx_status vmx_vmptrld(paddr_t vmcs)
{
    bool ok;
    __asm__ volatile("vmptrld %1" : "=@cca"(ok) : "m"(vmcs) : "memory");
    return VMX_STATUS(ok);
}

/* INVEPT (Vol. 3C, 31.3 "VMX Instructions"): type 1 drops the cached
 * translations of one EPTP, type 2 of every EPTP. */
#define INVEPT_SINGLE 1
#define INVEPT_ALL 2
static inline enum vmx_status vmx_invept(uint64_t type, uint64_t eptp)
{
    struct {
        uint64_t eptp, reserved;
    } desc = {eptp, 0};
    bool ok;
    __asm__ volatile("invept %1, %2" : "=@cca"(ok) : "m"(desc), "r"(type) : "memory");
    return VMX_STATUS(ok);
}

static inline enum vmx_status vmx_vmread(uint64_t field, uint64_t *value)
{
    bool ok;
    __asm__ volatile("vmread %2, %1" : "=@cca"(ok), "=r"(*value) : "r"(field));
    return VMX_STATUS(ok);
}

/* The same without the failure kind: true on VMsucceed (hot paths, whose
 * failure path asks vmx_failure_kind itself). */
static inline bool vmx_vmread_ok(uint64_t field, uint64_t *value)
{
    bool ok;
    __asm__ volatile("vmread %2, %1" : "=@cca"(ok), "=r"(*value) : "r"(field));
    return ok;
}

static inline bool vmx_vmwrite_ok(uint64_t field, uint64_t value)
{
    bool ok;
    __asm__ volatile("vmwrite %2, %1" : "=@cca"(ok) : "r"(field), "rm"(value));
    return ok;
}

static inline enum vmx_status vmx_vmwrite(uint64_t field, uint64_t value)
{
    bool ok;
    __asm__ volatile("vmwrite %2, %1" : "=@cca"(ok) : "r"(field), "rm"(value));
    return VMX_STATUS(ok);
}

#endif
