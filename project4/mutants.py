"""Project 4's mutants and alternatives (tests/mutants/README.md): wrong
timer functions a student would write, each of which must fail a public
test under every seed, and correct ones built another way, each of which
must score every public point. Each entry is a list of exact text
replacements in the student file, made in order on the reference solution;
each text to find must occur exactly once. `python3 tests/mutants/run.py
--project 4` builds and grades them all.
"""

from tests.mutants.mutation import Alternative, Mutant

TIMER = "project4/timer.c"


def M(name, bug, *replace):
    return Mutant(name, TIMER, list(replace), bug)


def A(name, how, *replace):
    return Alternative(name, TIMER, list(replace), how)


BLOCKED = "    if (!(rflags & RFLAGS_IF) || (blocking & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS))) {\n"
RESERVED = ("    if ((value & ~(uint64_t)(LVT_TIMER_WRITABLE | LVT_DELIVERY_STATUS)) || "
            "mode == LVT_TIMER_MODE_RESERVED)\n")
NOTHING = "    if (t->pending == TIMER_NONE || t->in_service != TIMER_NONE) {\n"
INFO = "    uint32_t info = (uint32_t)t->pending | (uint32_t)INTR_TYPE_EXT_INTR << INTR_INFO_TYPE_SHIFT |\n"

MUTANTS = [
    # --- delivery: when the guest can take an interrupt ---------------------------------
    M("inject_with_if_clear", "injects whatever RFLAGS.IF says: VM entry refuses an external "
      "interrupt to a guest with interrupts off.",
      (BLOCKED, "    if (blocking & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)) {\n")),
    M("inject_in_sti_shadow", "blocking by STI ignored: the injection after sti; wrmsr fails the "
      "VM entry.",
      (BLOCKED, "    if (!(rflags & RFLAGS_IF) || (blocking & GUEST_INTR_STATE_MOV_SS)) {\n")),
    M("inject_in_movss_shadow", "blocking by MOV SS ignored: the injection after mov ss; wrmsr "
      "fails the VM entry.",
      (BLOCKED, "    if (!(rflags & RFLAGS_IF) || (blocking & GUEST_INTR_STATE_STI)) {\n")),
    M("no_window", "a blocked interrupt waits for the next exit that happens to come instead of "
      "opening the interrupt window.",
      ("        e = vcpu_interrupt_window(s, true);\n", "        e = KEV_OK;\n")),
    M("window_never_closed", "the window is opened and never closed: its exit comes again and "
      "again once the guest can take interrupts.",
      ("        e = vcpu_interrupt_window(s, false);\n        return e == KEV_OK ? vmexit_continue() : "
       "vm_stop(s->vm, e, \"closing the interrupt window failed\");\n",
       "        return vmexit_continue();\n"),
      ("        (e = vcpu_interrupt_window(s, false)))\n", "        false)\n")),
    M("ignores_in_service", "delivers while another interrupt is in service: the EOI no longer "
      "gates the next one.",
      (NOTHING, "    if (t->pending == TIMER_NONE) {\n")),
    M("inject_as_exception", "the interrupt injected as a hardware exception (type 3): VM entry "
      "refuses a vector above 31 of that type.",
      (INFO, "    uint32_t info = (uint32_t)t->pending | (uint32_t)INTR_TYPE_HARD_EXCEPTION << "
             "INTR_INFO_TYPE_SHIFT |\n")),
    M("pending_kept", "the injected interrupt stays pending: it is delivered again after its EOI.",
      ("    t->pending = TIMER_NONE;\n    return vmexit_continue();\n#else",
       "    return vmexit_continue();\n#else")),
    M("not_in_service", "an injected interrupt is not put in service: the next one is delivered "
      "before the handler's EOI.",
      ("    t->in_service = t->pending;\n", "")),

    # --- the deadline -------------------------------------------------------------------
    M("host_timer_not_armed", "IA32_TSC_DEADLINE remembered but the host's timer never armed: "
      "no interrupt ever comes.",
      ("    enum kev_error e = vcpu_set_deadline(s, deadline);\n", "    enum kev_error e = KEV_OK;\n")),
    M("disarm_ignored", "a write of 0 to IA32_TSC_DEADLINE leaves the deadline armed.",
      ("        return arm(s, t, value);      /* 0 disarms */\n",
       "        return value ? arm(s, t, value) : vmexit_continue();\n")),
    M("deadline_written_in_any_mode", "IA32_TSC_DEADLINE taken outside TSC-deadline mode (the SDM "
      "ignores it there).",
      ("        if (!tsc_deadline_mode(t))\n            return vmexit_continue(); /* ignored in the other modes */\n",
       "")),
    M("mode_switch_keeps_deadline", "leaving TSC-deadline mode does not disarm the timer.",
      ("    if (mode != LVT_TIMER_TSC_DEADLINE && t->deadline)\n        return arm(s, t, 0);\n", "")),
    M("expired_keeps_deadline", "IA32_TSC_DEADLINE still reads the deadline after it fired.",
      ("    t->deadline = 0; /* the timer fired: disarmed */\n", "")),
    M("masked_delivered", "a masked LVT still raises its interrupt.",
      ("    if (!(t->lvt & LVT_MASKED) && vector >= APIC_VECTOR_MIN)\n",
       "    if (vector >= APIC_VECTOR_MIN)\n")),
    M("illegal_vector_delivered", "vectors 0 to 15 delivered (the APIC drops them).",
      ("    if (!(t->lvt & LVT_MASKED) && vector >= APIC_VECTOR_MIN)\n",
       "    if (!(t->lvt & LVT_MASKED))\n")),

    # --- the registers --------------------------------------------------------------------
    M("lvt_reserved_accepted", "reserved LVT bits accepted (no #GP), the reserved mode too.",
      (RESERVED, "    if (false)\n")),
    M("lvt_reserved_low_half", "reserved LVT bits checked in the low 32 bits only.",
      (RESERVED, "    if (((uint32_t)value & ~(uint32_t)(LVT_TIMER_WRITABLE | LVT_DELIVERY_STATUS)) || "
                 "mode == LVT_TIMER_MODE_RESERVED)\n")),
    M("lvt_delivery_status_kept", "the read-only delivery-status bit (12) kept as written.",
      ("    t->lvt = value & LVT_TIMER_WRITABLE;\n",
       "    t->lvt = value & (LVT_TIMER_WRITABLE | LVT_DELIVERY_STATUS);\n")),
    M("unsupported_accepted", "an unmasked one-shot or periodic LVT accepted: the guest's timer "
      "would never count.",
      ("    if (mode != LVT_TIMER_TSC_DEADLINE && !(value & LVT_MASKED))\n", "    if (false)\n")),
    M("masked_one_shot_refused", "a masked one-shot or periodic LVT (the reset value) stops the "
      "VM too.",
      ("    if (mode != LVT_TIMER_TSC_DEADLINE && !(value & LVT_MASKED))\n",
       "    if (mode != LVT_TIMER_TSC_DEADLINE)\n")),
    M("eoi_nonzero_accepted", "a non-zero EOI accepted (no #GP): it ends the interrupt in service.",
      ("        if (value != 0)\n            return timer_gp(s);\n        t->in_service = TIMER_NONE;\n",
       "        t->in_service = TIMER_NONE;\n")),
    M("eoi_read_zero", "EOI reads 0 instead of #GP (it is write-only).",
      ("        return timer_gp(s); /* write-only */\n",
       "        *value = 0;\n        return vmexit_continue();\n")),
]

ALTERNATIVES = [
    A("blocking_low_bits", "the interruptibility state tested against 3, its two low bits, "
      "instead of the two names.",
      (BLOCKED, "    if (!(rflags & RFLAGS_IF) || (blocking & 3)) {\n")),
    A("disarm_always", "every LVT write out of TSC-deadline mode disarms the host's timer, armed "
      "or not.",
      ("    if (mode != LVT_TIMER_TSC_DEADLINE && t->deadline)\n", "    if (mode != LVT_TIMER_TSC_DEADLINE)\n")),
    A("window_before_reads", "timer_deliver opens the window before it reads the guest's state, "
      "and closes it again on injection.",
      ("    uint64_t rflags;\n    uint32_t blocking;\n",
       "    uint64_t rflags;\n    uint32_t blocking;\n    if ((e = vcpu_interrupt_window(s, true)))\n"
       "        return vm_stop(s->vm, e, \"opening the interrupt window failed\");\n")),
]
