/*
 * A vCPU's deadline and interrupt window (kev/timer.h), on the one
 * VMX-preemption timer the vCPU has.
 *
 * That timer is first the guest's budget (kev/vcpu.c): kev writes the
 * budget's counts once, and the CPU saves what is left on every exit
 * ("save VMX-preemption timer value"), so it counts the guest's own time
 * only. A deadline is a TSC value instead, and the TSC runs on while the
 * host handles an exit. So, while a deadline is armed, kev writes the
 * timer before every entry with whichever comes first,
 *
 *     min(the budget's counts left, the counts until the deadline),
 *
 * and after every exit takes what the guest used off the budget (the
 * value it wrote minus the value the CPU saved). On the timer's exit the
 * two are told apart: the budget is spent (kev stops the VM, KEV_ETIMEOUT,
 * as without a deadline), or the deadline passed (the exit goes to the
 * VM's controllers), or neither (the timer fired a little early: the next
 * entry waits for the rest).
 *
 * The timer counts down by 1 every time bit X of the TSC changes, X being
 * IA32_VMX_MISC bits 4:0 (Vol. 3C, 26.5.1 "VMX-Preemption Timer"); from
 * an entry at TSC t, n counts end at the n-th change, which is at
 * ((t >> X) + n) << X or later. Counts for a deadline are rounded up to
 * that grid, so the exit never comes before it.
 */
#include "kernel/cmdline.h"
#include "kernel/x86.h"
#include "kev/internal.h"

static unsigned rate(void)
{
    return (unsigned)(kev_vmx_caps()->misc & 0x1f);
}

static struct vcpu *vcpu_of(struct vcpu_state *s)
{
    return container_of(s, struct vcpu, state);
}

const char *vmx_timer_missing(void)
{
    if (!vmx_control_allowed(VMX_PINBASED, PIN_BASED_VMX_PREEMPTION_TIMER))
        return "this CPU model has no VMX-preemption timer (Bochs: corei7_skylake_x has it; "
               "core2_penryn_t9600 and bx_generic do not)";
    if (cmdline_flag("kev.no_preemption_timer"))
        return "the command line turned the VMX-preemption timer off (kev.no_preemption_timer=1)";
    if (!vmx_control_allowed(VMX_EXIT, VM_EXIT_SAVE_VMX_PREEMPTION_TIMER))
        return "this CPU cannot save the VMX-preemption timer's value on VM exits (the exit "
               "control \"save VMX-preemption timer value\")";
    if (!vmx_control_allowed(VMX_PROCBASED, CPU_BASED_INTR_WINDOW_EXITING))
        return "this CPU has no interrupt-window exiting";
    return NULL;
}

/* Brings budget_left up to date: what the guest ran since the timer was
 * last written comes off it. */
void timer_sync(struct vcpu *v)
{
    if (!v->save_timer)
        return; /* the CPU reloads the same value on every entry: nothing to count */
    uint64_t left = vmcs_read_diag(VMX_PREEMPTION_TIMER_VALUE);
    if (!v->timer_split)
        v->budget_left = left; /* the timer was the budget's alone */
    else
        v->budget_left -= v->timer_value > left ? v->timer_value - left : 0;
    v->timer_value = (uint32_t)left;
}

/* Counts from now until the deadline, rounded up to the timer's grid
 * (0: it has passed). */
static uint64_t counts_until(uint64_t deadline)
{
    uint64_t now = rdtsc();
    if (deadline <= now)
        return 0;
    unsigned x = rate();
    return (((deadline - 1) >> x) + 1) - (now >> x);
}

/* Writes the timer for the next entry: the budget, or the deadline when
 * that comes first. */
enum kev_error timer_program(struct vcpu *v)
{
    uint64_t n = v->budget_left;
    if (v->deadline) {
        uint64_t d = counts_until(v->deadline);
        if (d < n)
            n = d;
    }
    if (n > 0xffffffffULL)
        n = 0xffffffffULL;
    enum kev_error e = vmcs_write32(&v->state.vmcs, VMX_PREEMPTION_TIMER_VALUE, (uint32_t)n);
    v->timer_value = (uint32_t)n;
    v->timer_split = v->deadline != 0;
    v->timer_dirty = false;
    return e;
}

enum timer_exit timer_exit_kind(struct vcpu *v)
{
    if (v->timer_split)
        timer_sync(v);
    else if (v->save_timer)
        v->budget_left = 0; /* the budget's own exit */
    if (v->budget_left == 0 || !v->deadline)
        return TIMER_EXIT_BUDGET;
    if (rdtsc() < v->deadline)
        return TIMER_EXIT_EARLY;
    v->deadline = 0;
    v->timer_dirty = true; /* the budget alone from now on */
    return TIMER_EXIT_DEADLINE;
}

enum kev_error vcpu_set_deadline(struct vcpu_state *s, uint64_t tsc)
{
    struct vcpu *v = vcpu_of(s);
    if (!s->vm->timer || !v->save_timer)
        return KEV_ECONTROL;
    timer_sync(v);
    v->deadline = tsc;
    v->timer_dirty = true; /* programmed right before the next entry */
    return KEV_OK;
}

uint64_t vcpu_deadline(const struct vcpu_state *s)
{
    return container_of(s, struct vcpu, state)->deadline;
}

enum kev_error vcpu_interrupt_window(struct vcpu_state *s, bool open)
{
    struct vcpu *v = vcpu_of(s);
    if (!s->vm->timer)
        return KEV_ECONTROL;
    uint32_t proc = open ? v->proc | CPU_BASED_INTR_WINDOW_EXITING
                         : v->proc & ~CPU_BASED_INTR_WINDOW_EXITING;
    if (proc == v->proc)
        return KEV_OK;
    KEV_TRY(vmcs_write32(&s->vmcs, CPU_BASED_VM_EXEC_CONTROL, proc));
    v->proc = proc;
    return KEV_OK;
}

/* --- syscalls (user/syscalls.tbl) --------------------------------------------------- */

enum kev_error sys_vcpu_set_deadline(struct vcpu_state *s, uint64_t tsc)
{
    return vcpu_set_deadline(s, tsc);
}

uint64_t sys_vcpu_deadline(const struct vcpu_state *s)
{
    return vcpu_deadline(s);
}

enum kev_error sys_vcpu_interrupt_window(struct vcpu_state *s, bool open)
{
    return vcpu_interrupt_window(s, open);
}
