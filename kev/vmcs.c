/*
 * VMCS regions and fields: allocation, VMCLEAR/VMPTRLD, the names of
 * fields (from the table in kev/vmcs_fields.h), the one path that reports
 * a failed VMREAD/VMWRITE, and a dump of the guest-state area.
 * Intel SDM Vol. 3C, 25.11 "Software Use of the VMCS and Related
 * Structures".
 */
#include "kernel/mm.h"
#include "kernel/printk.h"
#include "kev/vmcs.h"

/* Each row's width column must agree with bits 14:13 of its encoding. */
#define WIDTH_CODE(w) ((w) == 16 ? VMCS_W16 : (w) == 64 ? VMCS_W64 : (w) == 32 ? VMCS_W32 : VMCS_WNATURAL)
#define CHECK_ROW(name, enc, width, sdm)                                                    \
    _Static_assert(VMCS_FIELD_WIDTH(enc) == WIDTH_CODE(width), #name ": width column disagrees with its encoding"); \
    _Static_assert(((enc) & 1) == 0, #name ": list the full encoding, not the high half");
VMCS_FIELDS(CHECK_ROW)
#undef CHECK_ROW

struct field_info {
    uint32_t enc;
    const char *name, *sdm;
};

static const struct field_info fields[] = {
#define FIELD_ROW(name, enc, width, sdm) {enc, #name, sdm},
    VMCS_FIELDS(FIELD_ROW)
#undef FIELD_ROW
};

/* The table's rows by encoding, sorted once: a lookup is a binary search
 * (student code's every VMCS access makes one). */
static const struct field_info *sorted[ARRAY_SIZE(fields)];

static const struct field_info *field_info(uint32_t enc)
{
    if (sorted[0] == NULL) {
        for (size_t i = 0; i < ARRAY_SIZE(fields); i++) { /* insertion sort */
            size_t j = i;
            for (; j > 0 && sorted[j - 1]->enc > fields[i].enc; j--)
                sorted[j] = sorted[j - 1];
            sorted[j] = &fields[i];
        }
    }
    size_t lo = 0, hi = ARRAY_SIZE(fields);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid]->enc == enc)
            return sorted[mid];
        if (sorted[mid]->enc < enc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *vmcs_field_name(uint32_t enc)
{
    const struct field_info *f = field_info(enc);
    return f ? f->name : NULL;
}

const char *vmcs_field_sdm_name(uint32_t enc)
{
    const struct field_info *f = field_info(enc);
    return f ? f->sdm : NULL;
}

enum kev_error vmcs_failed(const char *insn, uint32_t field, uint64_t value)
{
    enum vmx_status st = vmx_failure_kind(); /* before anything else runs VMX instructions */
    const char *name = vmcs_field_name(field);
    printk("kev: %s of %s (0x%x)", insn, name ? name : "an unknown field", field);
    if (insn[2] == 'W') /* VMWRITE: the value matters */
        printk(" = 0x%lx", value);
    printk(" failed: %s", vmx_status_name(st));
    if (st == VMX_FAIL_VALID) {
        uint64_t err = 0;
        if (vmx_vmread(VM_INSTRUCTION_ERROR, &err) == VMX_OK)
            printk(", VM-instruction error %lu (%s)", err, vmx_insn_error_name((uint32_t)err));
        else
            printk(" (and reading VM_INSTRUCTION_ERROR failed too)");
    }
    printk("\n");
    return KEV_EVMFAIL;
}

enum kev_error vmcs_alloc(struct vmcs *vmcs)
{
    vmcs->launched = false;
    vmcs->region = page_alloc();
    if (vmcs->region == 0)
        return KEV_ENOMEM;
    /* Bits 30:0 of the first word: the revision identifier; bit 31 = 0 (not
     * a shadow VMCS). Vol. 3C, 25.2 "Format of the VMCS Region". */
    *(volatile uint32_t *)(uintptr_t)vmcs->region = kev_vmx_caps()->revision;
    enum kev_error e = vmcs_clear(vmcs);
    if (e != KEV_OK) {
        page_free(vmcs->region);
        vmcs->region = 0;
    }
    return e;
}

enum kev_error vmcs_clear(struct vmcs *vmcs)
{
    enum vmx_status st = vmx_vmclear(vmcs->region);
    if (st != VMX_OK) {
        printk("kev: VMCLEAR of the VMCS at 0x%lx failed: %s\n", vmcs->region, vmx_status_name(st));
        return KEV_EVMFAIL;
    }
    vmcs->launched = false;
    return KEV_OK;
}

void vmcs_free(struct vmcs *vmcs)
{
    if (vmcs->region == 0)
        return;
    vmcs_clear(vmcs);
    page_free(vmcs->region);
    vmcs->region = 0;
}

enum kev_error vmcs_load(struct vmcs *vmcs, struct active_vmcs *active)
{
    enum vmx_status st = vmx_vmptrld(vmcs->region);
    if (st != VMX_OK) {
        uint64_t err = 0;
        if (st == VMX_FAIL_VALID && vmx_vmread(VM_INSTRUCTION_ERROR, &err) != VMX_OK)
            err = 0; /* no current VMCS to read it from: VMPTRLD failed */
        printk("kev: VMPTRLD of the VMCS at 0x%lx failed: %s%s%s\n", vmcs->region,
               vmx_status_name(st), err ? ", " : "", err ? vmx_insn_error_name((uint32_t)err) : "");
        return KEV_EVMFAIL;
    }
    active->vmcs = vmcs;
    active->exit_reason.full = 0;
    return KEV_OK;
}

void vmcs_dump_guest_state(struct active_vmcs *v)
{
    printk("kev: guest-state area (Vol. 3C, 25.4 \"Guest-State Area\"):\n");
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        const struct field_info *f = &fields[i];
        if (VMCS_FIELD_TYPE(f->enc) != VMCS_GUEST)
            continue;
        uint64_t val;
        /* Fields this CPU lacks fail with error 12: skip them quietly. */
        if (vmx_vmread(f->enc, &val) != VMX_OK)
            continue;
        printk("    %-28s 0x%lx\n", f->name, val);
    }
}

uint64_t vmcs_read_diag(uint32_t field)
{
    uint64_t v = 0;
    enum vmx_status st = vmx_vmread(field, &v);
    if (st != VMX_OK) {
        vmcs_failed("VMREAD", field, 0);
        return 0;
    }
    return v;
}
