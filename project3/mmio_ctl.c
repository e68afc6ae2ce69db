/*
 * The MMIO controller (given code: students write mmio_handle in mmio.c,
 * which runs at CPL 3 through an upcall, kev/upcall.h). An MMIO VM's EPT
 * leaves the printer's page (MMIO_PRINTER_BASE) out, so each guest access
 * there is an EPT violation (Intel SDM Vol. 3C, 29.3.3.2 "EPT
 * Violations"). On one, this controller
 *
 *   1. reads the instruction at guest RIP through the probe (CS's base is
 *      0 in 64-bit mode: RIP is the instruction's guest-virtual address)
 *      and decodes it (project3/mmio_insn.c: MOV forms only);
 *   2. checks the decode against what the CPU reported: the direction
 *      (exit qualification bits 1:0) and, when bit 7 says it is valid, the
 *      guest-linear address (Vol. 3C, 28.2.1 "Basic VM-Exit Information",
 *      table "Exit Qualification for EPT Violations");
 *   3. calls mmio_handle() with the request and the VM's printer state
 *      (the guest's registers are the controller's to change, not its);
 *   4. on vmexit_continue(): a load's value goes into the destination
 *      register with the CPU's rules (Vol. 1, 3.4.1.1 "General-Purpose
 *      Registers in 64-Bit Mode": an 8- or 16-bit destination keeps the
 *      register's other bits, a 32-bit one zero-extends into 63:32), and
 *      RIP moves by the decoded length (the VM-exit instruction length is
 *      not defined for EPT violations: Vol. 3C, 28.2.5 "Information for VM
 *      Exits Due to Instruction Execution").
 *
 * Violations elsewhere, and instruction fetches from the page, pass: kev
 * stops the VM with its own description of the violation. Steps 1, 2 and 4
 * are mmio_exit_decode and mmio_exit_finish (mmio_exit.h), which project
 * 4's virtio device reuses for its own page.
 */
#include "project3/vm.h"
#include "project3/mmio_exit.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kev/upcall.h"

/* Exit qualification of an EPT violation (Table "Exit Qualification for
 * EPT Violations"). */
#define EPTQ_READ (1ULL << 0)       /* a data read */
#define EPTQ_WRITE (1ULL << 1)      /* a data write */
#define EPTQ_FETCH (1ULL << 2)      /* an instruction fetch */
#define EPTQ_GLA_VALID (1ULL << 7)  /* GUEST_LINEAR_ADDRESS is valid */
#define EPTQ_GLA_ACCESS (1ULL << 8) /* (with bit 7) the access was to that address, not a
                                       guest paging-structure entry on its walk */

/* Guest register `reg` (x86 numbering); rsp lives in the VMCS. */
static uint64_t *gpr(struct vcpu_state *s, int reg)
{
    struct guest_regs *r = &s->regs;
    uint64_t *const by_number[16] = {&r->rax, &r->rcx, &r->rdx, &r->rbx, NULL, &r->rbp, &r->rsi,
                                     &r->rdi, &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13,
                                     &r->r14, &r->r15};
    return by_number[reg];
}

static uint64_t reg_value(struct vcpu_state *s, int reg)
{
    uint64_t v = 0;
    if (reg == 4)
        vmcs_readl(&s->vmcs, GUEST_RSP, &v);
    else
        v = *gpr(s, reg);
    return v;
}

static uint64_t size_mask(unsigned size)
{
    return size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

/* The instruction's bytes at guest RIP: up to MMIO_INSN_MAX, fewer when
 * the next page cannot be read (the decoder then says what it missed). */
static enum kev_error fetch(struct vcpu_state *s, uint64_t rip, uint8_t *bytes, size_t *n)
{
    size_t first = PAGE_SIZE - (rip & (PAGE_SIZE - 1));
    if (first > MMIO_INSN_MAX)
        first = MMIO_INSN_MAX;
    KEV_TRY(probe_copy_from_guest(s, bytes, GVA(rip), first));
    *n = first;
    if (first < MMIO_INSN_MAX &&
        probe_copy_from_guest(s, bytes + first, GVA(rip + first), MMIO_INSN_MAX - first) == KEV_OK)
        *n = MMIO_INSN_MAX;
    return KEV_OK;
}

static void hex(const uint8_t *b, size_t n, char *buf, size_t size)
{
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && k + 4 < size; i++)
        k += (size_t)snprintf(buf + k, size - k, "%s%02x", i ? " " : "", b[i]);
}

/* The decoded access's guest-linear address: base + index * scale + disp. */
static uint64_t linear_address(struct vcpu_state *s, const struct mmio_insn *in, uint64_t rip)
{
    uint64_t a = (uint64_t)in->disp;
    if (in->base == MMIO_REG_RIP)
        a += rip + in->len;
    else if (in->base != MMIO_REG_NONE)
        a += reg_value(s, in->base);
    if (in->index != MMIO_REG_NONE)
        a += reg_value(s, in->index) * in->scale;
    return a;
}

/* A load's value into its register, as the CPU writes a destination. */
static enum kev_error put_register(struct vcpu_state *s, const struct mmio_insn *in, uint64_t value)
{
    value &= size_mask(in->size);
    if (in->high8) { /* AH, CH, DH, BH: bits 15:8 of rax, rcx, rdx, rbx */
        uint64_t *r = gpr(s, in->reg - 4);
        *r = (*r & ~0xff00ULL) | value << 8;
        return KEV_OK;
    }
    uint64_t old = reg_value(s, in->reg);
    uint64_t v = in->size >= 4 ? value : (old & ~size_mask(in->size)) | value;
    if (in->reg == 4)
        return vmcs_writel(&s->vmcs, GUEST_RSP, v);
    *gpr(s, in->reg) = v;
    return KEV_OK;
}

struct vmexit_result mmio_exit_decode(struct vcpu_state *s, union exit_reason reason, uint64_t base,
                                     struct mmio_exit *x)
{
    if (reason.basic != EXIT_REASON_EPT_VIOLATION)
        return vmexit_pass();
    uint64_t gpa, qual, rip, gla = 0;
    enum kev_error e;
    if ((e = vmcs_read64(&s->vmcs, GUEST_PHYSICAL_ADDRESS, &gpa)) ||
        (e = vmcs_exit_qualification(&s->vmcs, &qual)) || (e = vmcs_readl(&s->vmcs, GUEST_RIP, &rip)) ||
        ((qual & EPTQ_GLA_VALID) && (e = vmcs_readl(&s->vmcs, GUEST_LINEAR_ADDRESS, &gla))))
        return vm_stop(s->vm, e, "reading the EPT violation's exit information: %s", kev_strerror(e));
    if (ALIGN_DOWN(gpa, PAGE_SIZE) != base || (qual & EPTQ_FETCH) ||
        ((qual & EPTQ_GLA_VALID) && !(qual & EPTQ_GLA_ACCESS)))
        return vmexit_pass(); /* not a data access to the device's page */

    uint8_t bytes[MMIO_INSN_MAX];
    size_t n;
    e = fetch(s, rip, bytes, &n);
    if (e != KEV_OK)
        return vm_stop(s->vm, e, "an access to the MMIO page at guest-physical 0x%lx: reading the "
                       "instruction at guest RIP 0x%lx: %s", gpa, rip, kev_strerror(e));
    struct mmio_insn *in = &x->in;
    const char *why = mmio_insn_decode(bytes, n, in);
    char text[3 * MMIO_INSN_MAX + 1];
    hex(bytes, why ? n : in->len, text, sizeof(text));
    if (why)
        return vm_stop(s->vm, KEV_EUNHANDLED, "an access to the MMIO page at guest-physical 0x%lx "
                       "by the instruction at guest RIP 0x%lx (%s): %s; kev emulates MOV between "
                       "memory and a register or an immediate only (88, 89, 8A, 8B, C6, C7, A0-A3)",
                       gpa, rip, text, why);
    /* The decode must be the access the CPU reported. A MOV store
     * is a write only, a load a read only. */
    bool cpu_write = qual & EPTQ_WRITE;
    uint64_t ea = linear_address(s, in, rip);
    uint64_t off = (qual & EPTQ_GLA_VALID) ? gla - ea : 0;
    if (cpu_write != in->store || off >= in->size)
        return vm_stop(s->vm, KEV_EUNHANDLED, "kev's decode of the instruction at guest RIP 0x%lx "
                       "(%s: a %u-byte %s at guest-linear 0x%lx) is not the access the CPU "
                       "reported (a %s at guest-linear 0x%lx, guest-physical 0x%lx)", rip, text,
                       in->size, in->store ? "store" : "load", ea, cpu_write ? "write" : "read", gla,
                       gpa);

    x->rip = rip;
    x->req = (struct mmio_request){
        .gpa = GPA(gpa - off), /* an access that began in the page below starts there */
        .size = in->size,
        .write = in->store,
    };
    if (in->store) {
        uint64_t v = in->has_imm ? in->imm : reg_value(s, in->high8 ? in->reg - 4 : in->reg);
        x->req.value = (in->high8 ? v >> 8 : v) & size_mask(in->size);
    }
    return vmexit_continue();
}

struct vmexit_result mmio_exit_finish(struct vcpu_state *s, const struct mmio_exit *x)
{
    enum kev_error e;
    if (!x->in.store && (e = put_register(s, &x->in, x->req.value)) != KEV_OK)
        return vm_stop(s->vm, e, "writing %s after the MMIO load at guest RIP 0x%lx: %s",
                       mmio_reg_name(x->in.reg, x->in.size, x->in.high8), x->rip, kev_strerror(e));
    e = vmcs_writel(&s->vmcs, GUEST_RIP, x->rip + x->in.len);
    return e == KEV_OK ? vmexit_continue()
                       : vm_stop(s->vm, e, "moving RIP past the MMIO access: %s", kev_strerror(e));
}

static struct vmexit_result mmio_controller_handle(struct vmexit_controller *self,
                                                   struct vcpu_state *s, union exit_reason reason)
{
    struct mmio_state *st = self->data;
    struct mmio_exit x;
    struct vmexit_result r = mmio_exit_decode(s, reason, MMIO_PRINTER_BASE, &x);
    if (r.action != VMEXIT_CONTINUE || vm_stopped(s->vm))
        return r;
    struct mmio_request req = x.req;
    user_frame_reset();
    uint64_t us = upcall_push_vcpu(s);
    uint64_t udev = user_push(&st->dev, sizeof(st->dev));
    uint64_t ureq = user_push(&req, sizeof(req));
    uint64_t uout = user_handle(st->out, "printer");
    struct user_result u = user_call(mmio_handle, us, udev, ureq, uout);
    if (u.status != USER_RETURNED)
        return upcall_stopped(s, &u);
    user_pull(&st->dev, udev, sizeof(st->dev));
    user_pull(&req, ureq, sizeof(req));
    r = vmexit_result_from(u.ret[0], u.ret[1]);
    if (vm_stopped(s->vm))
        return r; /* mmio_handle stopped it (vm_stop): it stays stopped */
    if (r.action != VMEXIT_CONTINUE)
        return vm_stop(s->vm, KEV_EINVAL, "mmio_handle() returned neither vmexit_continue() nor "
                       "vm_stop() for a %u-byte %s at guest-physical 0x%lx, but %s", req.size,
                       req.write ? "write" : "read", req.gpa.addr, vmexit_action_name(r.action));
    st->accesses++;
    x.req.value = req.value;
    return mmio_exit_finish(s, &x);
}

void mmio_controller_init(struct vmexit_controller *c, struct mmio_state *st, struct printer *out)
{
    memset(st, 0, sizeof(*st));
    st->out = out;
    *c = (struct vmexit_controller){.name = "mmio", .handle = mmio_controller_handle, .data = st};
}
