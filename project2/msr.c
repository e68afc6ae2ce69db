/*
 * Project 2, the MSRs: RDMSR and WRMSR emulated. This is a file you edit.
 *
 * An MSR (model-specific register) is a CPU register named by a 32-bit
 * index: RDMSR reads MSR[ECX] into EDX:EAX, WRMSR writes EDX:EAX into
 * MSR[ECX] (Intel SDM Vol. 2B, "RDMSR" and "WRMSR"). In 64-bit mode:
 *
 *   - the index is ECX: the upper 32 bits of RCX are ignored;
 *   - RDMSR puts the value's high 32 bits in EDX and its low 32 bits in
 *     EAX, and clears the upper 32 bits of RAX and of RDX;
 *   - WRMSR writes EDX[31:0]:EAX[31:0] and ignores the upper halves;
 *   - an index the CPU does not implement raises #GP(0): the instruction
 *     does not happen, and the guest's #GP handler finds RIP still at it.
 *
 * Whether an RDMSR or WRMSR makes a VM exit is up to the VM's MSR bitmap
 * (Vol. 3C, 25.6.9 "MSR-Bitmap Address"), a 4 KiB page of four bitmaps of
 * 8192 bits (1 KiB) each:
 *
 *   bytes    0 - 1023   RDMSR of MSRs 0x00000000 - 0x00001fff
 *   bytes 1024 - 2047   RDMSR of MSRs 0xc0000000 - 0xc0001fff
 *   bytes 2048 - 3071   WRMSR of MSRs 0x00000000 - 0x00001fff
 *   bytes 3072 - 4095   WRMSR of MSRs 0xc0000000 - 0xc0001fff
 *
 * The bit of MSR m in its bitmap is bit k % 8 of byte k / 8, k being m's
 * offset from the first MSR of its range; a set bit makes the instruction
 * exit, a clear one lets it run on the CPU. An MSR outside the two ranges
 * always exits (Vol. 3C, 26.1.3 "Instructions That Cause VM Exits
 * Conditionally").
 *
 * What you write (the contracts are in msr.h):
 *
 *   1. msr_register() and msr_find(): the VM's registry of emulated MSRs,
 *      an index and the device that emulates it per entry. An index is
 *      registered once: a second registration is an error.
 *   2. msr_bitmap_setup(): every MSR exits but the passthrough ones, which
 *      the CPU switches on VM entry and exit by itself (msr_dev.h).
 *   3. msr_handle(): on an RDMSR or WRMSR exit, find the device and let it
 *      read or write, as the instruction would, then move RIP past the
 *      instruction. An MSR nobody emulates gets the guest a #GP(0), as on a
 *      CPU without it: inject it, and leave RIP where it is.
 *
 * The framework (msr_ctl.c and msr_dev.c, given) registers each VM's
 * devices with your msr_register() and calls msr_bitmap_setup() before the
 * VM runs, and msr_handle() on every RDMSR or WRMSR exit.
 *
 * Run one test: make run TEST=p2_msr_stack_order. The handout is
 * docs/project2.md, "MSRs".
 */
#include "project2/msr.h"
#include "kernel/panic.h"
#include "kernel/string.h"

enum kev_error msr_register(struct msr_registry *r, uint32_t index, const struct msr_ops *ops,
                            void *dev)
{
#ifdef SOLUTION
    if (msr_find(r, index) != NULL)
        return KEV_EEXIST;
    if (r->count == MSR_REGISTRY_MAX)
        return KEV_ENOMEM;
    r->entries[r->count++] = (struct msr_entry){.index = index, .ops = ops, .dev = dev};
    return KEV_OK;
#else
    /*
     * Hints:
     *   - The entries in use are r->entries[0] to r->entries[r->count - 1].
     *   - An index registered already: KEV_EEXIST, and change nothing. The
     *     index is all 32 bits: 0xabc and 0x80000abc are two MSRs.
     *   - No room left (MSR_REGISTRY_MAX entries): KEV_ENOMEM.
     */
    (void)r;
    (void)index;
    (void)ops;
    (void)dev;
    TODO();
#endif
}

const struct msr_entry *msr_find(const struct msr_registry *r, uint32_t index)
{
#ifdef SOLUTION
    for (size_t i = 0; i < r->count; i++)
        if (r->entries[i].index == index)
            return &r->entries[i];
    return NULL;
#else
    /* Hint: look at the entries in use only; NULL when none has `index`. */
    (void)r;
    (void)index;
    TODO();
#endif
}

#ifdef SOLUTION
/* The bit of MSR m in the RDMSR bitmaps (add 2048 bytes for WRMSR's):
 * false for an MSR outside both ranges, which has none. */
static bool bitmap_bit(uint32_t m, size_t *byte, unsigned *bit)
{
    uint32_t k;
    size_t base;
    if (m <= 0x1fff) {
        k = m, base = 0;
    } else if (m >= 0xc0000000u && m <= 0xc0001fffu) {
        k = m - 0xc0000000u, base = 1024;
    } else {
        return false;
    }
    *byte = base + k / 8;
    *bit = k % 8;
    return true;
}
#endif

void msr_bitmap_setup(uint8_t *bitmap, const uint32_t *passthrough, size_t n)
{
#ifdef SOLUTION
    memset(bitmap, 0xff, MSR_BITMAP_SIZE); /* every MSR exits... */
    for (size_t i = 0; i < n; i++) {       /* ...but these, read or written */
        size_t byte;
        unsigned bit;
        if (!bitmap_bit(passthrough[i], &byte, &bit))
            continue; /* outside the bitmaps: it exits whatever we do */
        bitmap[byte] &= (uint8_t)~(1u << bit);
        bitmap[byte + 2048] &= (uint8_t)~(1u << bit);
    }
#else
    /*
     * Hints:
     *   - Start from "everything exits": every bit set (memset).
     *   - Then clear each passthrough MSR's bit, in the RDMSR bitmap and in
     *     the WRMSR bitmap, with the offset of its range (the table at the
     *     top of this file): 0xc0000100 is bit 0x100 of the bitmaps that
     *     start at byte 1024 and at byte 3072.
     *   - Clear that one bit only (&= ~(1 << bit)): its byte's other bits
     *     are other MSRs, which must still exit.
     */
    (void)bitmap;
    (void)passthrough;
    (void)n;
    TODO();
#endif
}

struct vmexit_result msr_handle(struct vcpu_state *s, const struct msr_registry *r, bool write)
{
#ifdef SOLUTION
    const char *insn = write ? "WRMSR" : "RDMSR";
    uint32_t index = (uint32_t)s->regs.rcx; /* ECX: the upper half of RCX does not count */
    const struct msr_entry *m = msr_find(r, index);
    enum kev_error e;
    if (m == NULL) {
        /* No such MSR: the guest takes #GP(0) at the instruction, as on a
         * CPU without it. A fault does not complete: RIP stays. */
        e = vmcs_inject_exception(&s->vmcs, EXC_GP, true, 0);
        if (e != KEV_OK)
            return vm_stop(s->vm, e, "%s of MSR 0x%x: injecting #GP(0): %s", insn, index,
                           kev_strerror(e));
        return vmexit_continue();
    }
    if (write) {
        uint64_t value = (s->regs.rdx & 0xffffffffULL) << 32 | (s->regs.rax & 0xffffffffULL);
        e = m->ops->write(m->dev, index, value);
    } else {
        uint64_t value;
        e = m->ops->read(m->dev, index, &value);
        if (e == KEV_OK) {
            s->regs.rax = value & 0xffffffffULL; /* the upper halves are cleared */
            s->regs.rdx = value >> 32;
        }
    }
    if (e != KEV_OK)
        return vm_stop(s->vm, e, "%s of MSR 0x%x (%s): %s", insn, index, m->ops->name,
                       kev_strerror(e));
    e = vmcs_forward_rip(&s->vmcs);
    if (e != KEV_OK)
        return vm_stop(s->vm, e, "after %s of MSR 0x%x: moving RIP past it: %s", insn, index,
                       kev_strerror(e));
    return vmexit_continue();
#else
    /*
     * Hints:
     *   - The index is the low 32 bits of s->regs.rcx; find its entry.
     *   - Nobody emulates it: vmcs_inject_exception(&s->vmcs, EXC_GP, true, 0)
     *     (kev/vmcs.h) makes the next VM entry deliver #GP(0) to the guest;
     *     then return vmexit_continue() without moving RIP: the guest's
     *     handler must see the RIP of the instruction that faulted.
     *   - WRMSR: the value is EDX[31:0]:EAX[31:0], m->ops->write(m->dev,
     *     index, value). RDMSR: m->ops->read(m->dev, index, &value), then
     *     the high half into rdx and the low half into rax, each with its
     *     upper 32 bits zero. Change no other register.
     *   - A device's error stops the VM with that very error, and the
     *     message names the MSR: return vm_stop(s->vm, e, "RDMSR of MSR
     *     0x%x (%s): %s", index, m->ops->name, kev_strerror(e)).
     *   - Emulated: vmcs_forward_rip(&s->vmcs) moves RIP past the
     *     instruction (by the exit's instruction length: an RDMSR may be
     *     longer than 2 bytes), then vmexit_continue(). Every kev call
     *     returns an enum kev_error: stop the VM on anything but KEV_OK.
     */
    (void)s;
    (void)r;
    (void)write;
    TODO();
#endif
}
