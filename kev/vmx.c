/*
 * Turning VMX on and asking the CPU what it allows. Intel SDM Vol. 3C,
 * 24.7 "Enabling and Entering VMX Operation" and 24.8 "Restrictions on VMX
 * Operation"; the capability MSRs: Vol. 3D, Appendix A "VMX Capability
 * Reporting Facility".
 *
 * VMX is enabled once per boot, lazily, by the first VM: VMXON stays on
 * between VMs (kev never needs VMXOFF).
 */
#include "kernel/mm.h"
#include "kernel/printk.h"
#include "kernel/x86.h"
#include "kev/vmx.h"

#define VMCS_VM_INSTRUCTION_ERROR 0x4400 /* vmcs_fields.h; vmx.h stays below vmcs.h */

static struct vmx_caps caps;
static enum kev_error enable_result;
static bool enable_tried;
static paddr_t vmxon_region;

/* The control MSRs without and with the TRUE_ prefix (A.3.1 to A.5). */
static const struct {
    const char *name;
    uint32_t msr, true_msr;
} control_sets[VMX_CONTROLS_COUNT] = {
    [VMX_PINBASED] = {"pin-based VM-execution controls", MSR_IA32_VMX_PINBASED_CTLS,
                      MSR_IA32_VMX_TRUE_PINBASED_CTLS},
    [VMX_PROCBASED] = {"primary processor-based VM-execution controls", MSR_IA32_VMX_PROCBASED_CTLS,
                       MSR_IA32_VMX_TRUE_PROCBASED_CTLS},
    [VMX_PROCBASED2] = {"secondary processor-based VM-execution controls",
                        MSR_IA32_VMX_PROCBASED_CTLS2, MSR_IA32_VMX_PROCBASED_CTLS2},
    [VMX_EXIT] = {"VM-exit controls", MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS},
    [VMX_ENTRY] = {"VM-entry controls", MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS},
};

const char *vmx_controls_name(enum vmx_controls which)
{
    return (unsigned)which < VMX_CONTROLS_COUNT ? control_sets[which].name : "?";
}

static void read_caps(void)
{
    caps.basic = rdmsr(MSR_IA32_VMX_BASIC);
    caps.revision = (uint32_t)(caps.basic & VMX_BASIC_REVISION_MASK);
    caps.true_ctls = (caps.basic & VMX_BASIC_TRUE_CTLS) != 0;
    for (int i = 0; i < VMX_CONTROLS_COUNT; i++) {
        if (i == VMX_PROCBASED2)
            continue;
        caps.ctls[i] = rdmsr(caps.true_ctls ? control_sets[i].true_msr : control_sets[i].msr);
    }
    /* The secondary controls exist only if the primary ones can activate
     * them (A.3.3 "Secondary Processor-Based VM-Execution Controls"). */
    if ((caps.ctls[VMX_PROCBASED] >> 32) & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS)
        caps.ctls[VMX_PROCBASED2] = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
    caps.cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
    caps.cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
    caps.cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
    caps.cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
    caps.misc = rdmsr(MSR_IA32_VMX_MISC);
    /* A.10: the MSR exists if the secondary controls may enable EPT or VPID. */
    if ((caps.ctls[VMX_PROCBASED2] >> 32) & (SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_ENABLE_VPID))
        caps.ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
}

const char *vmx_ept_missing(void)
{
    if (!vmx_control_allowed(VMX_PROCBASED, CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) ||
        !vmx_control_allowed(VMX_PROCBASED2, SECONDARY_EXEC_ENABLE_EPT))
        return "this CPU model has no EPT (Bochs: corei7_skylake_x has it; core2_penryn_t9600 "
               "and bx_generic do not)";
    if (!(caps.ept_vpid & EPT_CAP_WALK_4))
        return "this CPU's EPT has no 4-level walks (IA32_VMX_EPT_VPID_CAP bit 6)";
    if (!(caps.ept_vpid & EPT_CAP_MT_WB))
        return "this CPU's EPT has no write-back memory type (IA32_VMX_EPT_VPID_CAP bit 14)";
    if (!(caps.ept_vpid & EPT_CAP_INVEPT) ||
        !(caps.ept_vpid & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)))
        return "this CPU has no INVEPT (IA32_VMX_EPT_VPID_CAP bits 20, 25, 26)";
    return NULL;
}

const char *vmx_unrestricted_missing(void)
{
    if (vmx_ept_missing())
        return "this CPU model has no EPT, which unrestricted guest needs";
    if (!vmx_control_allowed(VMX_PROCBASED2, SECONDARY_EXEC_UNRESTRICTED_GUEST))
        return "this CPU model has no unrestricted guest (Bochs: corei7_skylake_x has it; "
               "core2_penryn_t9600, corei5_lynnfield_750 and bx_generic do not)";
    return NULL;
}

const char *vmx_ept_summary(void)
{
    static char buf[128];
    if (vmx_ept_missing())
        return "no EPT";
    uint64_t c = caps.ept_vpid;
    snprintf(buf, sizeof(buf), "EPT (4-level, WB%s%s%s%s), %s", c & EPT_CAP_AD ? ", A/D" : "",
             c & EPT_CAP_EXECUTE_ONLY ? ", execute-only" : "", c & EPT_CAP_2M ? ", 2M" : "",
             c & EPT_CAP_1G ? ", 1G" : "",
             vmx_unrestricted_missing() ? "no unrestricted guest" : "unrestricted guest");
    return buf;
}

/* A.7 "VMX-Fixed Bits in CR0" and A.8 "VMX-Fixed Bits in CR4". */
uint64_t vmx_fixed_cr0(uint64_t v)
{
    return (v | caps.cr0_fixed0) & caps.cr0_fixed1;
}

uint64_t vmx_fixed_cr4(uint64_t v)
{
    return (v | caps.cr4_fixed0) & caps.cr4_fixed1;
}

static enum kev_error enable(void)
{
    if (!(cpuid(1, 0).ecx & CPUID_1_ECX_VMX))
        return KEV_ENOVMX;

    /* Locked with VMX off is final until reset; unlocked, kev turns VMX on
     * and locks it. Writing a locked MSR would be a #GP. */
    uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
    if (fc & FEATURE_CONTROL_LOCKED) {
        if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX))
            return KEV_EVMXDISABLED;
    } else {
        wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
    }

    read_caps();
    /* GRUB leaves CR0.NE clear; VMXON needs every fixed bit (24.8). */
    write_cr0(vmx_fixed_cr0(read_cr0()));
    write_cr4(vmx_fixed_cr4(read_cr4() | CR4_VMXE));

    /* The VMXON region: a page with the revision identifier (24.11.5
     * "VMXON Region"). */
    vmxon_region = page_alloc();
    if (vmxon_region == 0)
        return KEV_ENOMEM;
    *(volatile uint32_t *)(uintptr_t)vmxon_region = caps.revision;
    enum vmx_status st = vmx_vmxon(vmxon_region);
    if (st != VMX_OK) {
        printk("kev: VMXON failed: %s\n", vmx_status_name(st));
        page_free(vmxon_region);
        vmxon_region = 0;
        return KEV_EVMXON;
    }
    printk("kev: VMX on (VMCS revision 0x%x, %s controls; %s)\n", caps.revision,
           caps.true_ctls ? "TRUE_*" : "default", vmx_ept_summary());
    return KEV_OK;
}

enum kev_error kev_vmx_enable(void)
{
    if (!enable_tried) {
        enable_tried = true;
        enable_result = enable();
    }
    return enable_result;
}

const struct vmx_caps *kev_vmx_caps(void)
{
    return &caps;
}

bool vmx_control_allowed(enum vmx_controls which, uint32_t bits)
{
    uint32_t allowed1 = (uint32_t)(caps.ctls[which] >> 32);
    return (bits & ~allowed1) == 0;
}

/* Allowed-0 settings (bits the CPU requires) in 31:0, allowed-1 settings
 * (bits the CPU permits) in 63:32: A.3.1 "Pin-Based VM-Execution Controls"
 * and the sections after it say the same for each set. */
enum kev_error vmx_adjust_controls(enum vmx_controls which, uint32_t required, uint32_t optional,
                                   uint32_t *out)
{
    uint32_t allowed0 = (uint32_t)caps.ctls[which];
    uint32_t allowed1 = (uint32_t)(caps.ctls[which] >> 32);
    uint32_t missing = required & ~allowed1;
    if (missing) {
        printk("kev: this CPU cannot set bits 0x%x of the %s (allowed: 0x%x; IA32_VMX_%s)\n",
               missing, control_sets[which].name, allowed1,
               caps.true_ctls && which != VMX_PROCBASED2 ? "TRUE_* MSR" : "capability MSR");
        return KEV_ECONTROL;
    }
    *out = (required | (optional & allowed1) | allowed0) & allowed1;
    return KEV_OK;
}

static const char *const insn_errors[] = {
#define VMX_INSN_ERROR_ROW(n, name, text) [n] = text,
    VMX_INSN_ERRORS(VMX_INSN_ERROR_ROW)
#undef VMX_INSN_ERROR_ROW
};

const char *vmx_insn_error_name(uint32_t n)
{
    if (n < ARRAY_SIZE(insn_errors) && insn_errors[n])
        return insn_errors[n];
    return "unknown VM-instruction error";
}

enum vmx_status vmx_failure_kind(void)
{
    uint64_t err;
    bool ok;
    __asm__ volatile("vmread %2, %1" : "=@cca"(ok), "=r"(err) : "r"((uint64_t)VMCS_VM_INSTRUCTION_ERROR));
    return ok ? VMX_FAIL_VALID : VMX_FAIL_INVALID;
}

const char *vmx_status_name(enum vmx_status s)
{
    switch (s) {
    case VMX_OK:
        return "VMsucceed";
    case VMX_FAIL_INVALID:
        return "VMfailInvalid (no current VMCS)";
    case VMX_FAIL_VALID:
        return "VMfailValid";
    }
    return "?";
}
