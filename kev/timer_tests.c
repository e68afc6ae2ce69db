/*
 * kev's own tests of a guest's deadline and the interrupt window
 * (kev/timer.h). Each test is one row: a tiny guest (kev/timer_guests.asm)
 * that asks the tests' controller to arm, disarm or open, and what must
 * happen: the deadline's exit at or after the deadline and before the
 * guest runs on past a deadline already passed, none after a disarm, the
 * budget still stopping a guest whatever deadline it armed, the window's
 * exit at the first instruction boundary where the guest can take an
 * interrupt. The controller ends the VM on the exit a test waits for, with
 * an exit code that says what it saw. On a CPU without the VMX-preemption
 * timer each test is skipped with the reason.
 */
#include "kernel/ktest.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/x86.h"
#include "kev/internal.h"

#define GUEST_DECL(n) extern const uint8_t kev_tt_##n[], kev_tt_##n##_end[];
GUEST_DECL(deadline_spin)
GUEST_DECL(deadline_past)
GUEST_DECL(deadline_disarm)
GUEST_DECL(deadline_far)
GUEST_DECL(deadline_rearm)
GUEST_DECL(window_sti)
GUEST_DECL(window_open)
GUEST_DECL(inject_if0)
GUEST_DECL(inject_movss)
GUEST_DECL(inject_sti)
GUEST_DECL(window_movss)
GUEST_DECL(ask_deadline)
GUEST_DECL(inject_on)

#define CODE 0x400000UL
#define GOOD 0x600d
#define EARLY 0xea41

/* What the controller does on the deadline's exit. */
enum on_deadline {
    DEADLINE_LATENESS, /* exit with how many ticks past the deadline it came (EARLY if before) */
    DEADLINE_RIP,      /* exit with the guest's RIP */
    DEADLINE_REARM,    /* arm again 10000 ticks ahead, `rearms` times, then exit with the count */
    DEADLINE_BAD,      /* exit with 0xbad: no deadline should come */
};

struct tt_case {
    const uint8_t *code, *code_end;
    uint64_t rdi;
    enum on_deadline on_deadline;
    unsigned rearms;
    uint64_t budget;
    bool no_timer;              /* the VM does not ask for kev/timer.h */
    bool strict_error_code;     /* skipped where IA32_VMX_BASIC bit 56 relaxes the error-code check */
    enum vm_outcome_kind kind;
    int64_t exit_code;          /* VM_EXITED */
    bool any_exit_code;         /* VM_EXITED: a measurement, reported */
    enum kev_error error;       /* VM_FAILED */
    const char *says[2];        /* VM_FAILED: words the message must contain */
};

struct tt_vm {
    const struct tt_case *c;
    uint64_t deadline;          /* the last armed */
    uint64_t window_at;         /* where the window's exit must come */
    unsigned deadlines, rearms;
    uint64_t inject;            /* request 3's interruption information */
};

static struct vmexit_result forward(struct vcpu_state *s)
{
    enum kev_error e = vmcs_forward_rip(&s->vmcs);
    return e == KEV_OK ? vmexit_continue() : vm_stop(s->vm, e, "moving RIP past vmcall failed");
}

static struct vmexit_result on_vmcall(struct vcpu_state *s, struct tt_vm *t)
{
    switch (s->regs.rax) {
    case 0:
        return vm_exit(s->vm, (int64_t)s->regs.rdi);
    case 1:
        t->deadline = s->regs.rdi;
        s->regs.rax = vcpu_set_deadline(s, s->regs.rdi);
        return forward(s);
    case 2:
        t->window_at = s->regs.rsi;
        s->regs.rax = vcpu_interrupt_window(s, s->regs.rdi != 0);
        return forward(s);
    case 3: {
        /* The event exactly as asked: the VM-entry checks decide. */
        uint32_t info = (uint32_t)(s->regs.rdi & 0x7fffffff) | INTR_INFO_VALID;
        struct vmexit_result r = forward(s);
        if (vmcs_write32(&s->vmcs, VM_ENTRY_INTR_INFO_FIELD, info) != KEV_OK)
            return vm_stop(s->vm, KEV_EVMFAIL, "writing VM_ENTRY_INTR_INFO_FIELD failed");
        return r;
    }
    case 4:
        return forward(s);
    }
    return vm_stop(s->vm, KEV_EHYPERCALL, "unknown request %lu", s->regs.rax);
}

static struct vmexit_result on_deadline(struct vcpu_state *s, struct tt_vm *t)
{
    uint64_t now = rdtsc();
    t->deadlines++;
    if (vcpu_deadline(s) != 0)
        return vm_stop(s->vm, KEV_EINVAL, "the deadline's exit came with the deadline still armed");
    switch (t->c->on_deadline) {
    case DEADLINE_LATENESS:
        return vm_exit(s->vm, now < t->deadline ? EARLY : (int64_t)(now - t->deadline));
    case DEADLINE_RIP:
        return vm_exit(s->vm, (int64_t)vmcs_read_diag(GUEST_RIP));
    case DEADLINE_REARM:
        if (now < t->deadline)
            return vm_exit(s->vm, EARLY);
        if (t->rearms == t->c->rearms)
            return vm_exit(s->vm, t->rearms);
        t->rearms++;
        t->deadline = now + 10000;
        if (vcpu_set_deadline(s, t->deadline) != KEV_OK)
            return vm_stop(s->vm, KEV_EINVAL, "arming again failed");
        return vmexit_continue();
    case DEADLINE_BAD:
        break;
    }
    return vm_exit(s->vm, 0xbad);
}

static struct vmexit_result tt_handle(struct vmexit_controller *self, struct vcpu_state *s,
                                      union exit_reason r)
{
    struct tt_vm *t = s->data;
    switch (r.basic) {
    case EXIT_REASON_VMCALL:
        return on_vmcall(s, t);
    case EXIT_REASON_PREEMPTION_TIMER:
        return on_deadline(s, t);
    case EXIT_REASON_INTERRUPT_WINDOW: {
        uint64_t rip = vmcs_read_diag(GUEST_RIP);
        vcpu_interrupt_window(s, false);
        return vm_exit(s->vm, rip == t->window_at ? GOOD : (int64_t)rip);
    }
    }
    return vmexit_pass();
}

static struct vmexit_controller tt_ctl = {.name = "timer-test", .handle = tt_handle};
static struct vmexit_controller *const tt_chain[] = {&tt_ctl, NULL};

static const struct tt_case *current;

static enum kev_error tt_setup(struct vm *vm, struct vcpu_state *s)
{
    struct kev_guest_image img = {.code = current->code,
                                  .code_size = (size_t)(current->code_end - current->code)};
    KEV_TRY(kev_guest_build(s, &img));
    s->regs.rdi = current->rdi;
    return KEV_OK;
}

static enum kev_error tt_vcpu_create(struct vm *vm, unsigned id, void **data)
{
    *data = vm_data(vm);
    return KEV_OK;
}

static const struct vm_state_ops tt_ops = {.vcpu_create = tt_vcpu_create, .setup_bsp = tt_setup};

static enum ktest_result run_tt(const struct tt_case *c)
{
    enum kev_error e = kev_vmx_enable();
    if (e != KEV_OK)
        return ktest_skip("%s", kev_strerror(e));
    const char *why = vmx_timer_missing();
    if (why)
        return ktest_skip("%s", why);
    if (c->strict_error_code && (kev_vmx_caps()->basic & VMX_BASIC_ANY_ERROR_CODE))
        return ktest_skip("this CPU model sets IA32_VMX_BASIC bit 56, and Bochs then accepts an "
                          "error code with any injected event (the SDM only with a hardware exception)");
    struct tt_vm t = {.c = c};
    current = c;
    struct vm_config cfg = {.name = ktest_current(), .ops = &tt_ops, .data = &t,
                            .controllers = tt_chain, .budget_ticks = c->budget, .timer = !c->no_timer};
    struct vm_outcome out;
    kev_run_vm(&cfg, &out);
    char got[KEV_MESSAGE_MAX + 64];
    vm_outcome_describe(&out, got, sizeof(got));
    printk("%s: %lu VM exits, %u deadline exits; the VM %s\n", ktest_current(), out.exits,
           t.deadlines, got);
    if (out.kind != c->kind)
        return ktest_fail("the VM %s; expected it to %s", got, c->kind == VM_EXITED ? "exit" : "fail");
    if (c->kind == VM_EXITED && c->any_exit_code) {
        if (out.exit_code == EARLY)
            return ktest_fail("the deadline's exit came before the deadline");
        ktest_data_int("ticks_late", out.exit_code);
        ktest_data_int("preemption_timer_rate", (int64_t)(kev_vmx_caps()->misc & 0x1f));
        return KTEST_PASS;
    }
    if (c->kind == VM_EXITED && out.exit_code != c->exit_code)
        return ktest_fail("the VM %s; expected exit code 0x%lx", got, c->exit_code);
    if (c->kind == VM_FAILED) {
        if (out.error != c->error)
            return ktest_fail("the VM %s; expected %s", got, kev_error_name(c->error));
        for (int i = 0; i < 2 && c->says[i]; i++)
            if (strstr(out.message, c->says[i]) == NULL)
                return ktest_fail("the message \"%s\" does not say \"%s\"", out.message, c->says[i]);
    }
    return KTEST_PASS;
}

#define GUEST(n) .code = kev_tt_##n, .code_end = kev_tt_##n##_end
#define TT_CASE(test, ...)                                                                  \
    static const struct tt_case tt_##test = {__VA_ARGS__};                                  \
    KTEST(test, 0)                                                                          \
    {                                                                                       \
        return run_tt(&tt_##test);                                                          \
    }

/* The deadline's exit comes, not before the deadline. */
TT_CASE(kev_deadline_fires, GUEST(deadline_spin), .rdi = 50000, .kind = VM_EXITED, .any_exit_code = true)
/* A deadline already passed: the exit comes before the guest's next
 * instruction (the ud2 at CODE + 8, after "mov eax, 1; vmcall"). */
TT_CASE(kev_deadline_past, GUEST(deadline_past), .rdi = 1, .on_deadline = DEADLINE_RIP,
        .kind = VM_EXITED, .exit_code = CODE + 8)
/* Disarmed: no exit. */
TT_CASE(kev_deadline_disarm, GUEST(deadline_disarm), .on_deadline = DEADLINE_BAD,
        .kind = VM_EXITED, .exit_code = GOOD)
/* A deadline past the budget: the budget stops the guest, counting its own
 * time only across its exits. */
TT_CASE(kev_deadline_budget, GUEST(deadline_far), .rdi = ~0ULL, .budget = 2000000,
        .on_deadline = DEADLINE_BAD, .kind = VM_FAILED, .error = KEV_ETIMEOUT,
        .says = {"never stops", "2000000"})
/* Armed again: the later deadline replaces the first. */
TT_CASE(kev_deadline_rearm, GUEST(deadline_rearm), .kind = VM_EXITED, .any_exit_code = true)
/* Armed again from the deadline's own exit, 20 times. */
TT_CASE(kev_deadline_again, GUEST(deadline_spin), .rdi = 10000, .on_deadline = DEADLINE_REARM,
        .rearms = 20, .kind = VM_EXITED, .exit_code = 20)
/* The window's exit: after the instruction that follows STI. */
TT_CASE(kev_window_sti, GUEST(window_sti), .kind = VM_EXITED, .exit_code = GOOD)
/* The window opened while the guest can take an interrupt: at once. */
TT_CASE(kev_window_open, GUEST(window_open), .kind = VM_EXITED, .exit_code = GOOD)

/* Blocking by MOV SS left in the interruptibility state by the vmcall's
 * exit covers the guest's next instruction too. */
TT_CASE(kev_window_movss, GUEST(window_movss), .kind = VM_EXITED, .exit_code = GOOD)
/* A VM that did not ask for the timer cannot arm a deadline. */
TT_CASE(kev_deadline_not_asked, GUEST(ask_deadline), .no_timer = true, .kind = VM_EXITED,
        .exit_code = KEV_ECONTROL)

/* Injecting an external interrupt the guest cannot take fails the VM entry,
 * and kev's message names the rule (Vol. 3C, 27.3.1.4 and 27.3.1.5). */
TT_CASE(kev_inject_if0, GUEST(inject_if0), .kind = VM_FAILED, .error = KEV_EENTRY,
        .says = {"IF = 0", "27.3.1.4"})
TT_CASE(kev_inject_movss, GUEST(inject_movss), .kind = VM_FAILED, .error = KEV_EENTRY,
        .says = {"blocking by MOV SS", "27.3.1.5"})
TT_CASE(kev_inject_sti, GUEST(inject_sti), .kind = VM_FAILED, .error = KEV_EENTRY,
        .says = {"blocking by STI", "27.3.1.5"})
/* A malformed interruption information fails the entry as an invalid
 * control field, named by kev (Vol. 3C, 27.2.1.3): an NMI's vector must
 * be 2; an external interrupt never delivers an error code. */
TT_CASE(kev_inject_bad_nmi, GUEST(inject_on), .rdi = 0x205, .kind = VM_FAILED, .error = KEV_EENTRY,
        .says = {"VM_ENTRY_INTR_INFO_FIELD", "27.2.1.3"})
TT_CASE(kev_inject_bad_code, GUEST(inject_on), .rdi = 0x830, .strict_error_code = true,
        .kind = VM_FAILED, .error = KEV_EENTRY,
        .says = {"error code", "27.2.1.3"})
