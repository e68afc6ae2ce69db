"""Project 4's mutants and alternatives (tests/mutants/README.md): wrong
timer and virtio functions a student would write, each of which must fail a public
test under every seed, and correct ones built another way, each of which
must score every public point. Each entry is a list of exact text
replacements in the student file, made in order on the reference solution;
each text to find must occur exactly once. `python3 tests/mutants/run.py
--project 4` builds and grades them all.
"""

from tests.mutants.mutation import Alternative, Mutant

TIMER = "project4/timer.c"
VIRTIO = "project4/virtio_blk.c"


def M(name, bug, *replace):
    return Mutant(name, TIMER, list(replace), bug)


def A(name, how, *replace):
    return Alternative(name, TIMER, list(replace), how)


def VM(name, bug, *replace):
    return Mutant(name, VIRTIO, list(replace), bug)


def VA(name, how, *replace):
    return Alternative(name, VIRTIO, list(replace), how)


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

MUTANTS += [
    # --- the registers and the handshake ------------------------------------------------
    VM("virtio_magic_swapped", "MagicValue with its bytes the other way round (\"triv\"): the "
       "driver does not find a virtio device.",
       ("        return VIRTIO_MMIO_MAGIC;\n", "        return 0x76697274;\n")),
    VM("virtio_features_no_sel", "DeviceFeatures always shows bits 31:0, whatever "
       "DeviceFeaturesSel says: VIRTIO_F_VERSION_1 (bit 32) is never offered.",
       ("        return half(VBLK_FEATURES, dev->device_features_sel);\n",
        "        return half(VBLK_FEATURES, 0);\n")),
    VM("virtio_driver_features_halves_swapped", "DriverFeaturesSel 0 and 1 swapped: the driver's "
       "features land in the wrong half, and FEATURES_OK is refused.",
       ("            set_half(&dev->driver_features, dev->driver_features_sel == 1, value);\n",
        "            set_half(&dev->driver_features, dev->driver_features_sel == 0, value);\n")),
    VM("virtio_features_ok_always", "FEATURES_OK kept whatever the driver asked for, features "
       "the device never offered included.",
       ("    if ((value & VIRTIO_STATUS_FEATURES_OK) &&\n", "    if (false &&\n")),
    VM("virtio_version_1_not_required", "FEATURES_OK kept for a driver that did not accept "
       "VIRTIO_F_VERSION_1.",
       ("        ((dev->driver_features & ~VBLK_FEATURES) || !(dev->driver_features & VIRTIO_F_VERSION_1)))\n",
        "        (dev->driver_features & ~VBLK_FEATURES))\n")),
    VM("virtio_capacity_high_is_low", "the capacity's high half reads the low half again.",
       ("        return (uint32_t)(dev->capacity >> 32);\n", "        return (uint32_t)dev->capacity;\n")),
    VM("virtio_mmio_size_unchecked", "a 1-byte access served as if it were 4 bytes, instead of "
       "KEV_EMMIO.",
       ("    if (req->size != 4 || !is_register(off))\n", "    if (!is_register(off))\n")),
    VM("virtio_queue_size_not_power_of_2", "QueueReady accepts a queue size that is not a power "
       "of 2 (or past QueueNumMax).",
       ("        if (q->num == 0 || q->num > VBLK_QUEUE_NUM_MAX || (q->num & (q->num - 1)))\n",
        "        if (q->num == 0)\n")),
    VM("virtio_alignment_unchecked", "QueueReady accepts rings that are not aligned.",
       ("        if (q->desc % VIRTQ_DESC_ALIGN || q->driver % VIRTQ_AVAIL_ALIGN || q->device % VIRTQ_USED_ALIGN)\n",
        "        if (false)\n")),
    VM("virtio_reset_keeps_queue", "a reset (Status = 0) clears the registers but keeps queue 0 "
       "with its indices: the next setup's rings start where the old ones stopped.",
       ("    uint64_t capacity = dev->capacity;\n    memset(dev, 0, sizeof(*dev));\n",
        "    uint64_t capacity = dev->capacity;\n    struct vblk_queue q = dev->q;\n"
        "    memset(dev, 0, sizeof(*dev));\n    dev->q = q;\n    dev->q.ready = 0;\n")),
    VM("virtio_ack_ignored", "InterruptACK clears nothing: InterruptStatus stays set, and no "
       "later completion raises an interrupt.",
       ("        dev->interrupt_status &= ~value;\n", "        (void)value;\n")),

    # --- the virtqueue -------------------------------------------------------------------
    VM("virtio_no_interrupt_status", "requests served but VIRTIO_MMIO_INT_VRING never set: no "
       "interrupt comes.",
       ("        dev->interrupt_status |= VIRTIO_MMIO_INT_VRING;\n", "        (void)used;\n")),
    VM("virtio_avail_ring_no_wrap", "the avail ring's slot is the free-running counter itself, "
       "not modulo the queue's size: past num entries it reads past the ring.",
       ("        uint64_t at = q->driver + 4 + 2 * (q->last_avail % q->num);\n",
        "        uint64_t at = q->driver + 4 + 2 * (uint64_t)q->last_avail;\n")),
    VM("virtio_used_ring_no_wrap", "the used ring's slot not taken modulo the queue's size.",
       ("        at = q->device + 4 + 8 * (q->used_idx % q->num);\n",
        "        at = q->device + 4 + 8 * (uint64_t)q->used_idx;\n")),
    VM("virtio_used_idx_not_written", "the used ring's entries written but never its idx: the "
       "driver sees nothing done.",
       ("        if ((e = probe_copy_to_gpa(s->vm, GPA(q->device + 2), &q->used_idx, 2)) != KEV_OK)\n",
        "        if (false)\n")),
    VM("virtio_one_per_notify", "one avail entry served per notification: the rest of a batch "
       "waits for a notification that never comes.",
       ("        used = true;\n    }\n", "        used = true;\n        break;\n    }\n")),
    VM("virtio_chain_consecutive", "the chain followed as consecutive descriptors (head, head + "
       "1, ...) instead of through `next`.",
       ("        i = x.next;\n", "        i = (uint16_t)(i + 1);\n")),
    VM("virtio_used_len_no_status", "the used entry's len leaves out the status byte.",
       ("    *written += 1;\n    return vmexit_continue();\n", "    return vmexit_continue();\n")),
    VM("virtio_status_writable_unchecked", "a chain whose last descriptor is device-readable "
       "taken as one with a status byte.",
       ("    if (n < 2 || n > CHAIN_MAX || !(last->flags & VIRTQ_DESC_F_WRITE) || last->len < 1)\n",
        "    if (n < 2 || n > CHAIN_MAX || last->len < 1)\n")),
    VM("virtio_loop_unchecked", "a chain that loops is followed forever (the device never gives "
       "up).",
       ("        if (i >= dev->q.num || k == dev->q.num)\n", "        if (i >= dev->q.num)\n")),

    # --- the requests --------------------------------------------------------------------
    VM("virtio_direction_unchecked", "data buffers taken in either direction (a read into a "
       "device-readable buffer served).",
       ("        if (!!(d[k].flags & VIRTQ_DESC_F_WRITE) != to_guest || d[k].len % VIRTIO_BLK_SECTOR_SIZE)\n",
        "        if (d[k].len % VIRTIO_BLK_SECTOR_SIZE)\n")),
    VM("virtio_partial_sectors", "a data buffer that is not a whole number of sectors served "
       "(rounded down) instead of IOERR.",
       ("        if (!!(d[k].flags & VIRTQ_DESC_F_WRITE) != to_guest || d[k].len % VIRTIO_BLK_SECTOR_SIZE)\n",
        "        if (!!(d[k].flags & VIRTQ_DESC_F_WRITE) != to_guest)\n")),
    VM("virtio_header_writable_accepted", "a device-writable header read as if it were the "
       "driver's.",
       ("    if ((d[0].flags & VIRTQ_DESC_F_WRITE) || d[0].len < sizeof(h) ||\n",
        "    if (d[0].len < sizeof(h) ||\n")),
    VM("virtio_unknown_type_ioerr", "an unknown request type answered IOERR, not UNSUPP.",
       ("    return VIRTIO_BLK_S_UNSUPP;\n}\n#endif", "    return VIRTIO_BLK_S_IOERR;\n}\n#endif")),
    VM("virtio_flush_always", "FLUSH served OK without VIRTIO_BLK_F_FLUSH negotiated.",
       ("        return dev->driver_features & VIRTIO_BLK_F_FLUSH ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_UNSUPP;\n",
        "        return VIRTIO_BLK_S_OK;\n")),
    VM("virtio_get_id_len", "GET_ID's used len counts the status byte only.",
       ("        *written += VIRTIO_BLK_ID_BYTES;\n", "")),
    VM("virtio_sector_not_advanced", "every step of a request moves the same sectors: a "
       "transfer of more than one step repeats its first sectors.",
       ("            sector += count;\n", "")),
    VM("virtio_bad_buffer_ignored", "a data buffer the probe refuses skipped (status OK) "
       "instead of IOERR.",
       ("            if (e != KEV_OK)\n                return VIRTIO_BLK_S_IOERR;\n",
        "            (void)e;\n")),
]

ALTERNATIVES_VIRTIO = [
    VA("virtio_range_by_sum", "the sector range checked as sector + sectors <= capacity, with "
       "the wrap-around checked apart.",
       ("    return sector <= dev->capacity && sectors <= dev->capacity - sector;\n",
        "    return sector + sectors >= sector && sector + sectors <= dev->capacity;\n")),
    VA("virtio_used_idx_once", "the used ring's idx written once after the batch, not after "
       "every entry.",
       ("        if ((e = probe_copy_to_gpa(s->vm, GPA(q->device + 2), &q->used_idx, 2)) != KEV_OK)\n"
        "            return ring_error(s, \"writing the used ring's idx\", q->device + 2, e);\n        used = true;\n    }\n",
        "        used = true;\n    }\n"
        "    if (used && (e = probe_copy_to_gpa(s->vm, GPA(q->device + 2), &q->used_idx, 2)) != KEV_OK)\n"
        "        return ring_error(s, \"writing the used ring's idx\", q->device + 2, e);\n")),
    VA("virtio_features_by_or", "the offered-features check as (features | offered) == offered.",
       ("        ((dev->driver_features & ~VBLK_FEATURES) || !(dev->driver_features & VIRTIO_F_VERSION_1)))\n",
        "        ((dev->driver_features | VBLK_FEATURES) != VBLK_FEATURES ||\n"
        "         (dev->driver_features & VIRTIO_F_VERSION_1) == 0))\n")),
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

ALTERNATIVES += ALTERNATIVES_VIRTIO
