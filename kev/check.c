/*
 * kev's own checks of the guest-state area, run before the first VM entry
 * and again after an entry failed, so a student reads which rule the guest
 * state broke ("guest RFLAGS 0x0: bit 1 must be 1") instead of only "invalid
 * guest state". They cover what a flat 64-bit guest can get wrong, not
 * every rule: Intel SDM Vol. 3C, 27.3.1 "Checks on the Guest State Area"
 * (27.3.1.1 control registers and MSRs, 27.3.1.2 segment registers,
 * 27.3.1.3 descriptor-table registers, 27.3.1.4 RIP and RFLAGS, 27.3.1.5
 * non-register state). kev uses no unrestricted guest and no virtual-8086
 * mode, so the rules for those are the strict ones.
 *
 * Real hardware enforces all of these. Bochs 2.7 skips a few: it enters a
 * 64-bit guest whose RIP is not canonical (the guest then takes a #GP; a
 * real CPU fails the entry), and it does not check reserved IA32_DEBUGCTL
 * bits. Checking here makes such a mistake fail under Bochs as it would
 * on hardware.
 */
#include "kernel/printk.h"
#include "kernel/x86.h"
#include "kev/internal.h"

#define S1 "(Vol. 3C, 27.3.1.1 \"Checks on Guest Control Registers, Debug Registers, and MSRs\")"
#define S2 "(Vol. 3C, 27.3.1.2 \"Checks on Guest Segment Registers\")"
#define S3 "(Vol. 3C, 27.3.1.3 \"Checks on Guest Descriptor-Table Registers\")"
#define S4 "(Vol. 3C, 27.3.1.4 \"Checks on Guest RIP, RFLAGS, and SSP\")"
#define S5 "(Vol. 3C, 27.3.1.5 \"Checks on Guest Non-Register State\")"

/* Segment access rights (Vol. 3C, 25.4.1 "Guest Register State", table
 * "Format of Access Rights"). */
#define AR_TYPE(ar) ((ar) & 0xf)     /* 3:0 */
#define AR_S (1u << 4)               /* 4: code or data (1), system (0) */
#define AR_DPL(ar) (((ar) >> 5) & 3) /* 6:5 */
#define AR_P (1u << 7)
#define AR_L (1u << 13)              /* 64-bit code segment */
#define AR_DB (1u << 14)
#define AR_G (1u << 15)
#define AR_UNUSABLE (1u << 16)
#define AR_RESERVED 0xfffe0f00u      /* 11:8 and 31:17 */

#define RFLAGS_RESERVED_ZERO 0xffffffffffc08028ULL /* 63:22, 15, 5, 3 */
#define RFLAGS_FIXED1 (1ULL << 1)
#define RFLAGS_IF (1ULL << 9)
#define RFLAGS_VM (1ULL << 17)

/* IA32_DEBUGCTL: bits 5:2 and 63:16 reserved (Vol. 3B, 18.4.1 "IA32_DEBUGCTL MSR"). */
#define DEBUGCTL_RESERVED 0xffffffffffff003cULL
/* Pending debug exceptions: B3-B0, enabled breakpoint (12), BS (14), RTM (16). */
#define PENDING_DBG_ALLOWED 0x1500fULL

#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_ALLOWED ((1ULL << 0) | (1ULL << 8) | (1ULL << 10) | (1ULL << 11))

static uint64_t rd(uint32_t field)
{
    return vmcs_read_diag(field);
}

static bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

#define FAIL(...)                                                                           \
    do {                                                                                    \
        snprintf(msg, size, __VA_ARGS__);                                                   \
        return false;                                                                       \
    } while (0)

struct seg {
    const char *name;
    uint32_t sel, base, limit, ar;
};

static const struct seg segs[] = {
    {"ES", GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES},
    {"CS", GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES},
    {"SS", GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES},
    {"DS", GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES},
    {"FS", GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES},
    {"GS", GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES},
    {"TR", GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_AR_BYTES},
    {"LDTR", GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT, GUEST_LDTR_AR_BYTES},
};
enum { ES, CS, SS, DS, FS, GS, TR, LDTR };

/* Rules every usable segment shares: reserved bits, P, and G against the limit. */
static bool check_common(const struct seg *g, uint32_t ar, uint32_t limit, char *msg, size_t size)
{
    if (ar & AR_RESERVED)
        FAIL("guest %s access rights 0x%x: reserved bits 11:8 and 31:17 must be 0 %s", g->name, ar, S2);
    if (!(ar & AR_P))
        FAIL("guest %s access rights 0x%x: a usable segment must be present (P, bit 7) %s", g->name, ar, S2);
    if ((limit & 0xfff) != 0xfff && (ar & AR_G))
        FAIL("guest %s limit 0x%x with G = 1 in access rights 0x%x: G must be 0 unless limit bits "
             "11:0 are all 1 %s", g->name, limit, ar, S2);
    if ((limit >> 20) != 0 && !(ar & AR_G))
        FAIL("guest %s limit 0x%x with G = 0 in access rights 0x%x: G must be 1 when limit bits "
             "31:20 are not 0 %s", g->name, limit, ar, S2);
    return true;
}

static bool check_segments(bool ia32e, char *msg, size_t size)
{
    uint32_t ar[8], limit[8], sel[8];
    uint64_t base[8];
    for (int i = 0; i < 8; i++) {
        ar[i] = (uint32_t)rd(segs[i].ar);
        limit[i] = (uint32_t)rd(segs[i].limit);
        sel[i] = (uint32_t)rd(segs[i].sel);
        base[i] = rd(segs[i].base);
    }
    /* TR: always usable, a busy TSS. */
    if (sel[TR] & 4)
        FAIL("guest TR selector 0x%x: TI (bit 2) must be 0 %s", sel[TR], S2);
    if (ar[TR] & AR_UNUSABLE)
        FAIL("guest TR access rights 0x%x: TR must be usable (bit 16 = 0) %s", ar[TR], S2);
    if (AR_TYPE(ar[TR]) != 11 && (ia32e || AR_TYPE(ar[TR]) != 3))
        FAIL("guest TR access rights 0x%x: type must be 11 (busy 64-bit TSS), so 0x8b is usual %s",
             ar[TR], S2);
    if (ar[TR] & AR_S)
        FAIL("guest TR access rights 0x%x: S (bit 4) must be 0, a system segment %s", ar[TR], S2);
    if (!check_common(&segs[TR], ar[TR], limit[TR], msg, size))
        return false;
    if (!canonical(base[TR]))
        FAIL("guest TR base 0x%lx is not canonical %s", base[TR], S2);
    /* LDTR: unusable (0x10000) or an LDT. */
    if (!(ar[LDTR] & AR_UNUSABLE)) {
        if (sel[LDTR] & 4)
            FAIL("guest LDTR selector 0x%x: TI (bit 2) must be 0 %s", sel[LDTR], S2);
        if (AR_TYPE(ar[LDTR]) != 2 || (ar[LDTR] & AR_S))
            FAIL("guest LDTR access rights 0x%x: type must be 2 (LDT) with S = 0, or the LDTR "
                 "unusable (0x10000) %s", ar[LDTR], S2);
        if (!check_common(&segs[LDTR], ar[LDTR], limit[LDTR], msg, size))
            return false;
        if (!canonical(base[LDTR]))
            FAIL("guest LDTR base 0x%lx is not canonical %s", base[LDTR], S2);
    }
    /* CS: always usable, accessed code. */
    uint32_t t = AR_TYPE(ar[CS]);
    if (ar[CS] & AR_UNUSABLE)
        FAIL("guest CS access rights 0x%x: CS must be usable (bit 16 = 0) %s", ar[CS], S2);
    if (t != 9 && t != 11 && t != 13 && t != 15)
        FAIL("guest CS access rights 0x%x: type %u must be 9, 11, 13 or 15 (code, accessed) %s",
             ar[CS], t, S2);
    if (!(ar[CS] & AR_S))
        FAIL("guest CS access rights 0x%x: S (bit 4) must be 1 %s", ar[CS], S2);
    if (!check_common(&segs[CS], ar[CS], limit[CS], msg, size))
        return false;
    if (ia32e && (ar[CS] & AR_L) && (ar[CS] & AR_DB))
        FAIL("guest CS access rights 0x%x: L and D/B must not both be 1 in IA-32e mode %s", ar[CS], S2);
    if ((sel[SS] & 3) != (sel[CS] & 3))
        FAIL("guest SS selector 0x%x and CS selector 0x%x: their RPLs must be equal %s", sel[SS],
             sel[CS], S2);
    if ((t == 9 || t == 11) && !(ar[SS] & AR_UNUSABLE) && AR_DPL(ar[CS]) != AR_DPL(ar[SS]))
        FAIL("guest CS access rights 0x%x: DPL must equal SS's (0x%x) for non-conforming code %s",
             ar[CS], ar[SS], S2);
    /* SS and the data segments, when usable. */
    if (!(ar[SS] & AR_UNUSABLE)) {
        if (AR_TYPE(ar[SS]) != 3 && AR_TYPE(ar[SS]) != 7)
            FAIL("guest SS access rights 0x%x: type must be 3 or 7 (read/write data, accessed) %s",
                 ar[SS], S2);
        if (AR_DPL(ar[SS]) != (sel[SS] & 3))
            FAIL("guest SS access rights 0x%x: DPL must equal the selector's RPL %s", ar[SS], S2);
    }
    static const int data[] = {SS, DS, ES, FS, GS};
    for (size_t i = 0; i < ARRAY_SIZE(data); i++) {
        int s = data[i];
        if (ar[s] & AR_UNUSABLE)
            continue;
        if (!(AR_TYPE(ar[s]) & 1))
            FAIL("guest %s access rights 0x%x: the accessed bit (type bit 0) must be 1, e.g. 0xc093 "
                 "%s", segs[s].name, ar[s], S2);
        if ((AR_TYPE(ar[s]) & 8) && !(AR_TYPE(ar[s]) & 2))
            FAIL("guest %s access rights 0x%x: a code segment here must be readable %s",
                 segs[s].name, ar[s], S2);
        if (!(ar[s] & AR_S))
            FAIL("guest %s access rights 0x%x: S (bit 4) must be 1 %s", segs[s].name, ar[s], S2);
        if (s != SS && AR_TYPE(ar[s]) <= 11 && AR_DPL(ar[s]) < (sel[s] & 3))
            FAIL("guest %s access rights 0x%x: DPL must not be less than the selector's RPL (0x%x) "
                 "for data and non-conforming code %s", segs[s].name, ar[s], sel[s], S2);
        if (!check_common(&segs[s], ar[s], limit[s], msg, size))
            return false;
    }
    if (!canonical(base[FS]) || !canonical(base[GS]))
        FAIL("guest FS base 0x%lx or GS base 0x%lx is not canonical %s", base[FS], base[GS], S2);
    return true;
}

/* Guest CR0 or CR4 against the CPU's IA32_VMX_CRn_FIXED0 (bits that must
 * be 1; `usual` names them) and IA32_VMX_CRn_FIXED1 (bits that may be 1). */
static bool check_fixed(const char *cr, uint64_t val, uint64_t fixed0, uint64_t fixed1,
                        const char *usual, char *msg, size_t size)
{
    if ((val & fixed0) != fixed0)
        FAIL("guest %s 0x%lx: bits 0x%lx must be 1 (IA32_VMX_%s_FIXED0 = 0x%lx: %s) %s", cr, val,
             fixed0 & ~val, cr, fixed0, usual, S1);
    if (val & ~fixed1)
        FAIL("guest %s 0x%lx: bits 0x%lx must be 0 (IA32_VMX_%s_FIXED1 = 0x%lx) %s", cr, val,
             val & ~fixed1, cr, fixed1, S1);
    return true;
}

bool vcpu_check_guest_state(struct active_vmcs *vmcs, char *msg, size_t size)
{
    (void)vmcs;
    const struct vmx_caps *caps = kev_vmx_caps();
    uint64_t cr0 = rd(GUEST_CR0), cr4 = rd(GUEST_CR4), cr3 = rd(GUEST_CR3);
    uint32_t entry = (uint32_t)rd(VM_ENTRY_CONTROLS);
    bool ia32e = entry & VM_ENTRY_IA32E_MODE;

    /* 27.3.1.1: control registers and MSRs. */
    if (!check_fixed("CR0", cr0, caps->cr0_fixed0, caps->cr0_fixed1, "PE, NE, PG", msg, size) ||
        !check_fixed("CR4", cr4, caps->cr4_fixed0, caps->cr4_fixed1, "VMXE", msg, size))
        return false;
    if (ia32e && (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE)))
        FAIL("guest CR0 0x%lx, CR4 0x%lx: an IA-32e mode guest needs CR0.PG = 1 and CR4.PAE = 1 %s",
             cr0, cr4, S1);
    uint32_t maxphy = cpuid(0x80000008, 0).eax & 0xff;
    if (maxphy >= 32 && maxphy < 64 && (cr3 >> maxphy))
        FAIL("guest CR3 0x%lx: bits above the physical-address width (%u) must be 0 %s", cr3, maxphy, S1);
    if (entry & VM_ENTRY_LOAD_IA32_EFER) {
        uint64_t efer = rd(GUEST_IA32_EFER);
        if (efer & ~EFER_ALLOWED)
            FAIL("guest IA32_EFER 0x%lx: reserved bits must be 0 %s", efer, S1);
        if (!!(efer & EFER_LMA) != ia32e)
            FAIL("guest IA32_EFER 0x%lx: LMA must equal the \"IA-32e mode guest\" entry control (%d) %s",
                 efer, ia32e, S1);
        if ((cr0 & CR0_PG) && !!(efer & EFER_LME) != !!(efer & EFER_LMA))
            FAIL("guest IA32_EFER 0x%lx: with CR0.PG = 1, LME must equal LMA %s", efer, S1);
    }
    if (entry & VM_ENTRY_LOAD_DEBUG_CONTROLS) {
        uint64_t debugctl = rd(GUEST_IA32_DEBUGCTL), dr7 = rd(GUEST_DR7);
        if (debugctl & DEBUGCTL_RESERVED)
            FAIL("guest IA32_DEBUGCTL 0x%lx: reserved bits must be 0 %s", debugctl, S1);
        if (dr7 >> 32)
            FAIL("guest DR7 0x%lx: bits 63:32 must be 0 %s", dr7, S1);
    }
    if (!canonical(rd(GUEST_SYSENTER_ESP)) || !canonical(rd(GUEST_SYSENTER_EIP)))
        FAIL("guest IA32_SYSENTER_ESP/EIP must be canonical %s", S1);

    /* 27.3.1.2 and 27.3.1.3. */
    if (!check_segments(ia32e, msg, size))
        return false;
    uint64_t gdtr = rd(GUEST_GDTR_BASE), idtr = rd(GUEST_IDTR_BASE);
    if (!canonical(gdtr) || !canonical(idtr))
        FAIL("guest GDTR base 0x%lx or IDTR base 0x%lx is not canonical %s", gdtr, idtr, S3);
    if ((rd(GUEST_GDTR_LIMIT) >> 16) || (rd(GUEST_IDTR_LIMIT) >> 16))
        FAIL("guest GDTR or IDTR limit: bits 31:16 must be 0 %s", S3);

    /* 27.3.1.4: RIP and RFLAGS. */
    uint64_t rip = rd(GUEST_RIP), rflags = rd(GUEST_RFLAGS);
    bool cs_l = rd(GUEST_CS_AR_BYTES) & AR_L;
    if (!(ia32e && cs_l) && (rip >> 32))
        FAIL("guest RIP 0x%lx: bits 63:32 must be 0 unless the guest runs 64-bit code (IA-32e mode "
             "and CS.L = 1) %s", rip, S4);
    if (ia32e && cs_l && !canonical(rip))
        FAIL("guest RIP 0x%lx is not canonical %s", rip, S4);
    if (!(rflags & RFLAGS_FIXED1))
        FAIL("guest RFLAGS 0x%lx: bit 1 must be 1 (write 0x2 for a guest with interrupts off) %s",
             rflags, S4);
    if (rflags & RFLAGS_RESERVED_ZERO)
        FAIL("guest RFLAGS 0x%lx: reserved bits 63:22, 15, 5 and 3 must be 0 %s", rflags, S4);
    if (ia32e && (rflags & RFLAGS_VM))
        FAIL("guest RFLAGS 0x%lx: VM (bit 17) must be 0 in IA-32e mode %s", rflags, S4);

    /* 27.3.1.5: non-register state. */
    uint64_t activity = rd(GUEST_ACTIVITY_STATE), intr = rd(GUEST_INTERRUPTIBILITY_INFO);
    if (activity > 3)
        FAIL("guest activity state %lu: must be 0 (active) to 3 %s", activity, S5);
    if (intr >> 5)
        FAIL("guest interruptibility state 0x%lx: bits 31:5 must be 0 %s", intr, S5);
    if ((intr & 3) == 3)
        FAIL("guest interruptibility state 0x%lx: blocking by STI and by MOV SS must not both be "
             "set %s", intr, S5);
    if ((intr & 1) && !(rflags & RFLAGS_IF))
        FAIL("guest interruptibility state 0x%lx: blocking by STI needs RFLAGS.IF = 1 %s", intr, S5);
    uint64_t pending = rd(GUEST_PENDING_DBG_EXCEPTIONS);
    if (pending & ~PENDING_DBG_ALLOWED)
        FAIL("guest pending debug exceptions 0x%lx: reserved bits must be 0 %s", pending, S5);
    if (rd(VMCS_LINK_POINTER) != ~0ULL)
        FAIL("VMCS link pointer 0x%lx: must be 0xffffffffffffffff (kev uses no shadow VMCS) %s",
             rd(VMCS_LINK_POINTER), S5);
    return true;
}

/*
 * The controls that name memory (Vol. 3C, 27.2.1.1 "VM-Execution Control
 * Fields"): the I/O and MSR bitmaps' addresses and the EPT pointer. A VM's
 * config gives them (struct vm_controls), so these are checked like the
 * guest state: before the first entry, and to explain a failed one.
 */
#define S6 "(Vol. 3C, 27.2.1.1 \"VM-Execution Control Fields\")"

static bool check_address(const char *what, uint64_t a, unsigned maxphy, char *msg, size_t size)
{
    if (a & 0xfff)
        FAIL("%s 0x%lx: must be 4 KiB-aligned %s", what, a, S6);
    if (maxphy < 64 && (a >> maxphy))
        FAIL("%s 0x%lx: bits above the physical-address width (%u) must be 0 %s", what, a, maxphy, S6);
    return true;
}

bool vcpu_check_controls(struct active_vmcs *vmcs, char *msg, size_t size)
{
    (void)vmcs;
    const struct vmx_caps *caps = kev_vmx_caps();
    unsigned maxphy = cpuid(0x80000008, 0).eax & 0xff;
    if (maxphy < 32 || maxphy > 52)
        maxphy = 52;
    uint64_t proc = rd(CPU_BASED_VM_EXEC_CONTROL);
    uint64_t proc2 = (proc & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) ? rd(SECONDARY_VM_EXEC_CONTROL) : 0;
    if ((proc & CPU_BASED_USE_IO_BITMAPS) &&
        (!check_address("I/O bitmap A", rd(IO_BITMAP_A), maxphy, msg, size) ||
         !check_address("I/O bitmap B", rd(IO_BITMAP_B), maxphy, msg, size)))
        return false;
    if ((proc & CPU_BASED_USE_MSR_BITMAPS) && !check_address("MSR bitmap", rd(MSR_BITMAP), maxphy, msg, size))
        return false;
    if ((proc2 & SECONDARY_EXEC_UNRESTRICTED_GUEST) && !(proc2 & SECONDARY_EXEC_ENABLE_EPT))
        FAIL("the \"unrestricted guest\" control needs \"enable EPT\" %s", S6);
    if (!(proc2 & SECONDARY_EXEC_ENABLE_EPT))
        return true;
    uint64_t eptp = rd(EPT_POINTER), mt = eptp & 7, walk = (eptp >> 3) & 7;
    if (!((mt == 0 && (caps->ept_vpid & EPT_CAP_MT_UC)) || (mt == 6 && (caps->ept_vpid & EPT_CAP_MT_WB))))
        FAIL("EPT pointer 0x%lx: memory type %lu (bits 2:0) is not one this CPU allows (IA32_VMX_EPT_VPID_CAP "
             "0x%lx: bit 8 UC = 0, bit 14 WB = 6) %s", eptp, mt, caps->ept_vpid, S6);
    if (walk != 3)
        FAIL("EPT pointer 0x%lx: bits 5:3 must be 3 (a 4-level walk, minus one) %s", eptp, S6);
    if ((eptp & (1ULL << 6)) && !(caps->ept_vpid & EPT_CAP_AD))
        FAIL("EPT pointer 0x%lx: bit 6 (accessed and dirty flags) needs IA32_VMX_EPT_VPID_CAP bit 21 %s",
             eptp, S6);
    if (eptp & 0xf80)
        FAIL("EPT pointer 0x%lx: bits 11:7 must be 0 %s", eptp, S6);
    if (maxphy < 64 && (eptp >> maxphy))
        FAIL("EPT pointer 0x%lx: bits above the physical-address width (%u) must be 0 %s", eptp, maxphy, S6);
    return true;
}
