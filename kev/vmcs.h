/*
 * The VMCS: one per vCPU, loaded (VMPTRLD) while the vCPU runs. A VMCS
 * that is current on this CPU is an "active VMCS" (struct active_vmcs);
 * field accesses, forward_rip and the exit reason are made through it, so
 * a function that takes one says by its type that the VMCS is loaded.
 *
 * Field accessors are width-checked at compile time: vmcs_read32 of a
 * 64-bit field does not compile (the width is in the encoding's bits 14:13;
 * Linux's vmcs_check16/32/64/l do the same). Every accessor returns
 * KEV_OK or, after one line naming the instruction, the field, the value
 * and the SDM name of the error, KEV_EVMFAIL.
 *
 *   uint64_t rip;
 *   if (vmcs_readl(&s->vmcs, GUEST_RIP, &rip) != KEV_OK) ...
 *   vmcs_write32(&s->vmcs, EXCEPTION_BITMAP, 1u << 6);
 *   vmcs_write32(&s->vmcs, GUEST_RIP, 0);   <- compile error: GUEST_RIP is natural-width
 */
#ifndef KEV_VMCS_H
#define KEV_VMCS_H

#include "kernel/types.h"
#include "kev/error.h"
#include "kev/exit.h"
#include "kev/vmcs_fields.h"
#include "kev/vmx.h"

enum vmcs_field {
#define VMCS_FIELD_ENUM(name, enc, width, sdm) name = enc,
    VMCS_FIELDS(VMCS_FIELD_ENUM)
#undef VMCS_FIELD_ENUM
};

/* Ends a list of fields (no encoding has all bits set). */
#define VMCS_FIELD_END 0xffffffffu

/* The width an encoding carries in bits 14:13. */
enum vmcs_width { VMCS_W16 = 0, VMCS_W64 = 1, VMCS_W32 = 2, VMCS_WNATURAL = 3 };
#define VMCS_FIELD_WIDTH(enc) (((enc) >> 13) & 3)
/* The field's type in bits 11:10. */
enum vmcs_type { VMCS_CONTROL = 0, VMCS_EXIT_INFO = 1, VMCS_GUEST = 2, VMCS_HOST = 3 };
#define VMCS_FIELD_TYPE(enc) (((enc) >> 10) & 3)

/* "GUEST_RIP"; NULL for an encoding the table does not know. */
const char *vmcs_field_name(uint32_t enc);
/* The SDM's words ("Guest RIP"); NULL when unknown. */
const char *vmcs_field_sdm_name(uint32_t enc);

struct active_vmcs;

/* A VMCS region (Vol. 3C, 25.2 "Format of the VMCS Region"). */
struct vmcs {
    paddr_t region;  /* one 4 KiB page, revision identifier in its first word */
    bool launched;   /* VMLAUNCH succeeded since the last VMCLEAR */
};

/* Allocates and VMCLEARs a VMCS with this CPU's revision identifier. */
enum kev_error vmcs_alloc(struct vmcs *vmcs);
/* VMCLEARs (so no CPU holds it) and frees the region. */
void vmcs_free(struct vmcs *vmcs);
enum kev_error vmcs_clear(struct vmcs *vmcs);
/* VMPTRLD: makes vmcs the current VMCS and fills *active. */
enum kev_error vmcs_load(struct vmcs *vmcs, struct active_vmcs *active);

/*
 * The VMCS that is current on this CPU, and the exit reason kev read from
 * it once for the exit being handled.
 */
struct active_vmcs {
    struct vmcs *vmcs;
    union exit_reason exit_reason; /* of the exit being handled */
};

/*
 * The one failure path, called right after a VMREAD or VMWRITE failed:
 * prints "kev: VMREAD of GUEST_RIP (0x681e) failed: VMfailValid,
 * VM-instruction error 12 (VMREAD/VMWRITE from/to unsupported VMCS
 * component)" and returns KEV_EVMFAIL. insn is "VMREAD" or "VMWRITE".
 */
enum kev_error vmcs_failed(const char *insn, uint32_t field, uint64_t value)
    __attribute__((cold, noinline));

#ifdef KEVLAB_USER
/* Student code: the same accessors, made as syscalls (user/syscalls.tbl);
 * kev checks the field against what the VM lets student code read and
 * write (kev/upcall.h). */
enum kev_error ulib_vmcs_read(struct active_vmcs *v, uint32_t field, uint64_t *out);
enum kev_error ulib_vmcs_write(struct active_vmcs *v, uint32_t field, uint64_t value);
static inline enum kev_error vmcs_read(struct active_vmcs *v, uint32_t field, uint64_t *out)
{
    return ulib_vmcs_read(v, field, out);
}
static inline enum kev_error vmcs_write(struct active_vmcs *v, uint32_t field, uint64_t value)
{
    return ulib_vmcs_write(v, field, value);
}
#else
/* Any width, the field known only at run time (dumps, tables). */
static inline enum kev_error vmcs_read(struct active_vmcs *v, uint32_t field, uint64_t *out)
{
    (void)v;
    if (__builtin_expect(!vmx_vmread_ok(field, out), 0))
        return vmcs_failed("VMREAD", field, 0);
    return KEV_OK;
}

static inline enum kev_error vmcs_write(struct active_vmcs *v, uint32_t field, uint64_t value)
{
    (void)v;
    if (__builtin_expect(!vmx_vmwrite_ok(field, value), 0))
        return vmcs_failed("VMWRITE", field, value);
    return KEV_OK;
}
#endif

/* Compile-time width check; field must be a constant (an enum vmcs_field). */
#define VMCS_CHECK_WIDTH(field, w)                                                          \
    ((void)sizeof(struct {                                                                  \
        _Static_assert(VMCS_FIELD_WIDTH(field) == (w),                                      \
                       "VMCS field used with an accessor of another width (bits 14:13 of "  \
                       "its encoding: 0 = 16-bit, 1 = 64-bit, 2 = 32-bit, 3 = natural)");   \
        int dummy;                                                                          \
    }))

static inline enum kev_error vmcs_read_u16_(struct active_vmcs *v, uint32_t f, uint16_t *out)
{
    uint64_t x;
    enum kev_error e = vmcs_read(v, f, &x);
    *out = (uint16_t)x;
    return e;
}
static inline enum kev_error vmcs_read_u32_(struct active_vmcs *v, uint32_t f, uint32_t *out)
{
    uint64_t x;
    enum kev_error e = vmcs_read(v, f, &x);
    *out = (uint32_t)x;
    return e;
}

#define vmcs_read16(v, field, out) (VMCS_CHECK_WIDTH(field, VMCS_W16), vmcs_read_u16_(v, field, out))
#define vmcs_read32(v, field, out) (VMCS_CHECK_WIDTH(field, VMCS_W32), vmcs_read_u32_(v, field, out))
#define vmcs_read64(v, field, out) (VMCS_CHECK_WIDTH(field, VMCS_W64), vmcs_read(v, field, out))
#define vmcs_readl(v, field, out) (VMCS_CHECK_WIDTH(field, VMCS_WNATURAL), vmcs_read(v, field, out))

#define vmcs_write16(v, field, val) (VMCS_CHECK_WIDTH(field, VMCS_W16), vmcs_write(v, field, (uint16_t)(val)))
#define vmcs_write32(v, field, val) (VMCS_CHECK_WIDTH(field, VMCS_W32), vmcs_write(v, field, (uint32_t)(val)))
#define vmcs_write64(v, field, val) (VMCS_CHECK_WIDTH(field, VMCS_W64), vmcs_write(v, field, (uint64_t)(val)))
#define vmcs_writel(v, field, val) (VMCS_CHECK_WIDTH(field, VMCS_WNATURAL), vmcs_write(v, field, (uint64_t)(val)))

/* The reason of the exit being handled (cached by kev when the exit came). */
static inline union exit_reason vmcs_exit_reason(const struct active_vmcs *v)
{
    return v->exit_reason;
}

/* VM_EXIT_INSTRUCTION_LEN of this exit. */
static inline enum kev_error vmcs_exit_insn_len(struct active_vmcs *v, uint32_t *len)
{
    return vmcs_read32(v, VM_EXIT_INSTRUCTION_LEN, len);
}

/*
 * Moves the guest past the instruction that caused this exit: GUEST_RIP +=
 * VM-exit instruction length. Call it on purpose, only for exits caused by
 * an instruction the handler emulated or served (vmcall, cpuid, hlt, ...):
 * the length is undefined for other exits (Vol. 3C, 28.2.5 "Information for
 * VM Exits Due to Instruction Execution").
 */
static inline enum kev_error vmcs_forward_rip(struct active_vmcs *v)
{
    uint32_t len;
    uint64_t rip;
    if (vmcs_read32(v, VM_EXIT_INSTRUCTION_LEN, &len) != KEV_OK || vmcs_readl(v, GUEST_RIP, &rip) != KEV_OK)
        return KEV_EVMFAIL;
    return vmcs_writel(v, GUEST_RIP, rip + len);
}

/*
 * Makes the next VM entry deliver exception `vector` to the guest, through
 * the guest's own IDT, as if the instruction at GUEST_RIP had raised it
 * (Vol. 3C, 25.8.3 "VM-Entry Controls for Event Injection" and 27.6.1
 * "Vectored-Event Injection"): VM_ENTRY_INTR_INFO_FIELD gets the vector
 * (bits 7:0), the type hardware exception (bits 10:8), "deliver error
 * code" (bit 11) and valid (bit 31); VM_ENTRY_EXCEPTION_ERROR_CODE gets
 * `code`. The CPU clears the valid bit on the next VM exit: one injection,
 * one delivery.
 *
 * has_code must be true exactly for the exceptions that push an error code
 * (EXC_HAS_ERROR_CODE: #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP), and the
 * code must fit 16 bits, or VM entry would fail (Vol. 3C, 27.2.1.3 "Checks
 * on VM-Entry Control Fields"): KEV_EINVAL, nothing written, for those and
 * for a vector that is no exception (32 or more, or 2, the NMI, which has a
 * type of its own).
 * GUEST_RIP is left alone: a fault is reported at the instruction that
 * faulted, so do not move RIP past it.
 *
 *   vmcs_inject_exception(&s->vmcs, EXC_GP, true, 0);    #GP(0)
 */
static inline enum kev_error vmcs_inject_exception(struct active_vmcs *v, unsigned vector,
                                                   bool has_code, uint32_t code)
{
    if (vector >= 32 || vector == EXC_NMI || has_code != EXC_HAS_ERROR_CODE(vector) ||
        code > 0xffff)
        return KEV_EINVAL;
    uint32_t info = vector | (uint32_t)INTR_TYPE_HARD_EXCEPTION << INTR_INFO_TYPE_SHIFT |
                    (has_code ? INTR_INFO_ERROR_CODE_VALID : 0) | INTR_INFO_VALID;
    enum kev_error e = KEV_OK;
    if (has_code)
        e = vmcs_write32(v, VM_ENTRY_EXCEPTION_ERROR_CODE, code);
    return e != KEV_OK ? e : vmcs_write32(v, VM_ENTRY_INTR_INFO_FIELD, info);
}

/* The exit qualification of this exit (meaning depends on the reason). */
static inline enum kev_error vmcs_exit_qualification(struct active_vmcs *v, uint64_t *q)
{
    return vmcs_readl(v, EXIT_QUALIFICATION, q);
}

/* A VMREAD for messages and dumps: the value, or 0 after vmcs_failed said
 * the read failed (the caller goes on: it is reporting something else). */
uint64_t vmcs_read_diag(uint32_t field);

/* Prints the guest-state area field by field (for entry failures). */
void vmcs_dump_guest_state(struct active_vmcs *v);

#endif
