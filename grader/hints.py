"""Patterns of failure the grader recognizes, each with a one-line hint.

One table for every project: a hint names the project it is for, when it
applies (a function of the failed case's data), and the sentence a student
reads under the failure. Each project's handout repeats its hints word for
word under "Common causes" (tests/grader/test_hints.py checks that), so a
student who reads one finds the explanation in the other.
"""

import re
from dataclasses import dataclass

CHUNK = 256  # the copy size the handouts suggest
PAGE = 4096

REGS = {1: "rcx", 2: "rdx", 3: "rbx", 4: "rsp", 5: "rbp", 6: "rsi", 7: "rdi", 8: "r8",
        9: "r9", 10: "r10", 11: "r11", 12: "r12", 13: "r13", 14: "r14", 15: "r15"}


@dataclass
class Case:
    """The failed case as the kernel reported it (grader/judge.py fills it)."""
    test: str
    data: dict  # key -> bytes

    def text(self, key) -> str | None:
        v = self.data.get(key)
        return v.decode("utf-8", "replace") if v is not None else None

    def int(self, key) -> int | None:
        v = self.text(key)
        try:
            return int(v) if v is not None else None
        except ValueError:
            return None

    @property
    def fault(self) -> str:
        return self.text("fault") or ""


@dataclass(frozen=True)
class Hint:
    name: str
    project: int
    text: str  # may hold {} fields that detail() fills
    applies: object  # Case -> bool
    detail: object = None  # Case -> dict for text.format

    def render(self, case: Case) -> str:
        return self.text.format(**self.detail(case)) if self.detail else self.text


def _u64(n):
    return n & 0xFFFFFFFFFFFFFFFF if n is not None else None


def _low32_only(c):
    got, want = _u64(c.int("exit_code")), _u64(c.int("expect.exit_code"))
    if got is None or want is None or got == want:
        return False
    low = want & 0xFFFFFFFF
    return got in (low, _u64(low - (1 << 32)) if low & 0x80000000 else low)


def _capture_short_at_boundary(c):
    n, m = c.int("capture.len"), c.int("expect.capture.len")
    return n is not None and m is not None and 0 < n < m and (n % CHUNK == 0 or n % PAGE == 0)


def _wrong_from_chunk(c):
    n, m = c.int("capture.len"), c.int("expect.capture.len")
    at, window = c.int("capture.at"), c.data.get("capture", b"")
    want = c.data.get("expect.capture", b"")
    if n is None or n != m or at is None:
        return False
    diff = next((i for i in range(min(len(window), len(want))) if window[i] != want[i]), None)
    return diff is not None and (at + diff) > 0 and (at + diff) % CHUNK == 0


# --- project 3: the line of the script where the capture first differs ---

def _lines_at_difference(c):
    """(expected line, printed line) around the first difference of a
    line-by-line capture (the EPT tests' script), or (None, None)."""
    got, want = c.data.get("capture"), c.data.get("expect.capture")
    if got is None or want is None:
        return None, None
    i = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]), min(len(got), len(want)))
    start = max(want.rfind(b"\n", 0, i), got.rfind(b"\n", 0, i)) + 1
    def line(b):
        end = b.find(b"\n", i)
        return b[start:end if end >= 0 else len(b)].decode("utf-8", "replace")
    return line(want), line(got)


_MAPS_TO = re.compile(r"maps it to 0x([0-9a-f]+) ([r-][w-][x-]) WB$")
_RESULT = re.compile(r"\) = (KEV_[A-Z_]+)")


def _ept_fewer_perms(c):
    want, got = _lines_at_difference(c)
    if not want or not got:
        return False
    w, g = _MAPS_TO.search(want), _MAPS_TO.search(got)
    if not w or not g or w.group(1) != g.group(1) or w.group(2) == g.group(2):
        return False
    return all(gc == "-" or gc == wc for gc, wc in zip(g.group(2), w.group(2)))


def _ept_memtype(c):
    got = _lines_at_difference(c)[1]
    return bool(got) and "memory type" in got


def _ept_not_table(c):
    got = _lines_at_difference(c)[1]
    return bool(got) and "not a table page of this EPT" in got


def _ept_wrong_error(c):
    want, got = _lines_at_difference(c)
    if not want or not got or not want.startswith("ept_"):
        return False
    w, g = _RESULT.search(want), _RESULT.search(got)
    return bool(w and g and w.group(1) != g.group(1))


def _ept_offset_lost(c):
    want, got = _lines_at_difference(c)
    m = re.compile(r"hpa 0x([0-9a-f]+)")
    w, g = (m.search(want or ""), m.search(got or ""))
    return bool(w and g) and int(w.group(1), 16) >> 12 == int(g.group(1), 16) >> 12 and w.group(1) != g.group(1)


def _gva_large_page(c):
    want, got = _lines_at_difference(c)
    m = re.compile(r"hpa 0x([0-9a-f]+)")
    w, g = (m.search(want or ""), m.search(got or ""))
    return c.test.startswith("p3_ept_gva") and bool(w and g) and w.group(1) != g.group(1)


def _nul_capture(c):
    got, want = c.data.get("capture", b""), c.data.get("expect.capture", b"")
    return len(got) > 0 and got == b"\0" * len(got) and want != b"\0" * len(want)


def _printed_on_error(c):
    return c.text("expect.error") is not None and (c.int("capture.len") or 0) > (
        c.int("expect.capture.len") or 0)


# The hypercall tests (the other parts' tests have hints of their own).
HYPERCALL_TESTS = ("p2_halt_", "p2_print_", "p2_unknown_hypercall", "p2_regs_")


def _hc(test):
    """applies() for a hint of the hypercall tests only."""
    return lambda c: c.test.startswith(HYPERCALL_TESTS) and test(c)


# The MSR tests: the values in the guest's lines (project2/guest.h) as the
# capture's windows hold them (which may begin or end inside a line), and
# the VM's message.
MSR_TOKEN = re.compile(rb"(rdx=|rax=|#|error=|rip\+)0x([0-9a-f]+)")
MSR_BAD_RIP = 0xBAD50  # guests/project2/msr.asm (project2/guest.h)


def _msr(c):
    return c.test.startswith("p2_msr_")


def _msr_tokens(b):
    return [(k, v) for k, v in MSR_TOKEN.findall(b) if len(v) == (2 if k == b"#" else 16)]


def _msr_pairs(c):
    """(printed, expected) values of the capture's windows side by side,
    each (kind, hex digits): the windows start at the same byte."""
    return list(zip(_msr_tokens(c.data.get("capture", b"")),
                    _msr_tokens(c.data.get("expect.capture", b""))))


def _msr_pair(c, test):
    pairs = _msr_pairs(c)
    return _msr(c) and any(test(pairs, i) for i in range(len(pairs)))


def _msr_fault_at(c, want_rip_zero):
    """A #GP line printed where a value line was due: at the instruction
    itself (RIP + 0: a lookup that missed) or elsewhere (the guest went
    astray after it)."""
    got = _msr_tokens(c.data.get("capture", b""))
    want = _msr_tokens(c.data.get("expect.capture", b""))
    for i, ((gk, _), (wk, _)) in enumerate(zip(got, want)):
        if gk == b"#" and wk == b"rdx=" and i + 2 < len(got) and got[i + 2][0] == b"rip+":
            return _msr(c) and (got[i + 2][1] == b"0" * 16) == want_rip_zero
    return False


ZERO32 = b"0" * 8


def _upper_kept(p, i):
    (gk, g), (wk, w) = p[i]
    return gk == wk and gk in (b"rdx=", b"rax=") and g[:8] != ZERO32 and w[:8] == ZERO32 \
        and g[8:] == w[8:]


def _wrmsr_upper_used(p, i):
    """A value written with all ones in rax's upper half, read back: its
    high half came out all ones (EAX's upper half or-ed into EDX's)."""
    if i + 1 >= len(p):
        return False
    (gk, gd), (wk, wd) = p[i]
    (gk2, ga), (wk2, wa) = p[i + 1]
    return (gk, gk2) == (wk, wk2) == (b"rdx=", b"rax=") and gd == ZERO32 + b"f" * 8 \
        and wd != gd and ga == wa


def _halves_swapped(p, i):
    if i + 1 >= len(p):
        return False
    (gk, gd), (wk, wd) = p[i]
    (gk2, ga), (wk2, wa) = p[i + 1]
    return (gk, gk2) == (wk, wk2) == (b"rdx=", b"rax=") and gd == wa and ga == wd and gd != ga


def _rip_moved_on_fault(p, i):
    (gk, g), (wk, w) = p[i]
    return gk == wk == b"rip+" and g != w


def _wrong_exception(p, i):
    (gk, g), (wk, w) = p[i]
    return gk == wk and gk in (b"#", b"error=") and g != w


def _value_for_fault(p, i):
    (gk, _), (wk, _) = p[i]
    return gk == b"rdx=" and wk == b"#"


def _msg(c, words):
    return words in (c.text("message") or "")


# --- port I/O (project 2's PortIO tests, guests/project2/pio.asm) ---

# pio.asm's exit code for a wrong register: 0xBAD20 + its number + (the step << 24),
# the step PIO_STEPS_MAX (8) meaning at the end, after the last step.
PIO_BAD_REG = 0xBAD20
PIO_STEPS_MAX = 8


def _pio(c):
    return c.test.startswith("p2_pio_")


def _pio_reg(c):
    """The number of the register pio.asm found wrong, or None."""
    code = c.int("exit_code")
    if not _pio(c) or code is None or code < 0 or code >> 24 > PIO_STEPS_MAX \
            or c.text("expect.exit_code") is None:  # the VM had to stop: see pio_error_lost
        return None
    reg = (code & 0xFFFFFF) - PIO_BAD_REG
    return reg if 0 <= reg < 16 else None


def _pio_where(c):
    """{reg}: the wrong register and the step after which it was wrong."""
    step = c.int("exit_code") >> 24
    when = "at the end" if step == PIO_STEPS_MAX else "after step #%d" % step
    return {"reg": "%s (%s)" % (REGS.get(_pio_reg(c), "rax"), when)}


def _first_line_diff(c):
    """The first line that differs between the capture's and the expected
    capture's windows (same start), as (got, want) strings, or None."""
    got, want = c.data.get("capture", b""), c.data.get("expect.capture", b"")
    for g, w in zip(got.split(b"\n"), want.split(b"\n")):
        if g != w:
            return g.decode("utf-8", "replace"), w.decode("utf-8", "replace")
    return None


def _trace_operand_wrong(c):
    """A line of the tracer (port 3) whose only wrong word is imm8 or dx (the
    window may start inside the line)."""
    lines = _first_line_diff(c) if _pio(c) else None
    if lines is None:
        return False
    g, w = lines[0].split(), lines[1].split()
    return len(g) == len(w) and {a for a, b in zip(g, w) if a != b} in ({"imm8"}, {"dx"})


HINTS = [
    Hint("register_changed", 2,
         "The guest found {reg} changed across the hypercall: only rax may change (does your "
         "handler write to s->regs?).",
         lambda c: c.test == "p2_regs_preserved" and 0xBAD01 <= (c.int("exit_code") or 0) <= 0xBAD0F,
         lambda c: {"reg": REGS[c.int("exit_code") - 0xBAD00]}),
    Hint("rip_not_moved", 2,
         "The guest did not go on right after vmcall: the controller moves RIP past it once, "
         "on vmexit_continue(); never move it yourself.",
         lambda c: c.int("exit_code") == 0xBAD10),
    Hint("halt_returned", 2,
         "The guest ran on after HaltCpu (into the ud2 that follows it): HaltCpu must end the VM, "
         "return vm_exit(s->vm, code).",
         _hc(lambda c: c.text("error") == "KEV_EGUEST_FAULT" and "#UD" in (c.text("message") or "")
             and c.text("expect.exit_code") is not None)),
    Hint("low32_exit_code", 2,
         "Only the low 32 bits of the exit code arrived: keep it in 64 bits (int64_t) all the "
         "way to vm_exit().",
         _low32_only),
    Hint("unknown_as_known", 2,
         "A number that is not in the table was served as a hypercall: compare all 64 bits of "
         "rax (2^32 + 1 is not Print).",
         lambda c: c.test == "p2_unknown_hypercall" and c.text("error") != "KEV_ESTUDENT"
         and (c.text("exit_code") is not None or (c.int("capture.len") or 0) > 0)),
    Hint("printed_on_error", 2,
         "A Print that fails must print nothing: check the whole buffer (no wrap, every page "
         "readable, room in the capture) before you print its first byte.",
         _hc(_printed_on_error)),
    Hint("size_cut", 2,
         "Print's size is 64 bits: a size of 2^32 or more must not be cut to 32 bits.",
         lambda c: c.test == "p2_print_huge_size" and (c.int("capture.len") or 0) > 0),
    Hint("einval_cross_page", 2,
         "KEV_EINVAL from probe_gva_to_host means the range crossed a page: call it once per "
         "page, never for a whole buffer.",
         _hc(lambda c: c.text("error") == "KEV_EINVAL" and c.text("expect.error") != "KEV_EINVAL")),
    Hint("wrong_error", 2,
         "Each bad input has one error (the handout's table): KEV_EHYPERCALL for an unknown "
         "number; for Print KEV_EOVERFLOW when buf + size - 1 wraps, the probe's error for the "
         "first bad page, KEV_ENOMEM when the capture has no room.",
         _hc(lambda c: c.text("expect.error") is not None and c.text("error") not in (
             None, "KEV_ESTUDENT", "KEV_EINVAL", c.text("expect.error")))),
    Hint("loops_in_handler", 2,
         "Your code ran past its time budget on the guest's first VM exit: a loop that never "
         "ends (does it move on to the next chunk or page?).",
         _hc(lambda c: "ran longer than its budget" in c.fault and c.int("exits") == 1)),
    Hint("nul_capture", 2,
         "The capture holds NUL bytes where the guest wrote data: were the bytes copied from "
         "the guest at all (check the probe's result), or from the right address?",
         _hc(_nul_capture)),
    Hint("cut_at_boundary", 2,
         "The capture stops at a 256-byte or page boundary: the last, partial chunk (or page) "
         "of the buffer is dropped.",
         _hc(_capture_short_at_boundary)),
    Hint("wrong_from_chunk", 2,
         "The capture is right up to a 256-byte boundary and wrong from there: does each "
         "chunk's copy start at buf + the bytes done so far (is the first chunk repeated)?",
         _hc(_wrong_from_chunk)),
    # --- MSRs (project2/msr.c) ---
    Hint("msr_passthrough_exits", 2,
         "A passthrough MSR made a VM exit: clear its bit in the RDMSR and in the WRMSR bitmap of "
         "its range (an MSR from 0xc0000000 has its bits 1024 bytes further on), that bit alone.",
         lambda c: _msr(c) and _msg(c, "it is a passthrough MSR")),
    Hint("msr_missing_exit", 2,
         "An MSR that must exit ran on the CPU without a VM exit: msr_bitmap_setup() sets every "
         "bit of the four bitmaps (all MSRs exit) and then clears the passthrough MSRs' bits only.",
         lambda c: _msr(c) and _msg(c, "ran on the CPU without one")),
    Hint("msr_upper_kept", 2,
         "RDMSR clears the upper 32 bits of rax and rdx: rax = the value's low half, rdx = its "
         "high half, nothing kept of what they held (and WRMSR uses only EDX[31:0]:EAX[31:0]).",
         lambda c: _msr_pair(c, _upper_kept) or _msr_pair(c, _wrmsr_upper_used)),
    Hint("msr_halves_swapped", 2,
         "RDMSR returned the value's halves the wrong way round: the high 32 bits go to edx, the "
         "low 32 bits to eax (and WRMSR's value is edx:eax).",
         lambda c: _msr_pair(c, _halves_swapped)),
    Hint("msr_rip_moved_on_gp", 2,
         "The guest's #GP handler found RIP past the RDMSR or WRMSR: a fault does not complete "
         "the instruction, so when you inject #GP, leave RIP where it is.",
         lambda c: _msr_pair(c, _rip_moved_on_fault)),
    Hint("msr_wrong_exception", 2,
         "The guest took another exception than #GP(0): inject vector 13 (EXC_GP), a hardware "
         "exception with the error code 0: vmcs_inject_exception(&s->vmcs, EXC_GP, true, 0).",
         lambda c: _msr_pair(c, _wrong_exception)),
    Hint("msr_value_for_unknown", 2,
         "An MSR nobody emulates got a value instead of a #GP(0): does msr_find() compare all 32 "
         "bits of the index, and only the entries in use?",
         lambda c: _msr_pair(c, _value_for_fault)),
    Hint("msr_gp_for_emulated", 2,
         "An emulated MSR gave the guest a #GP: msr_find() missed its entry (look at every "
         "entry in use; the index is ECX, the upper half of RCX does not count).",
         lambda c: _msr_fault_at(c, True)),
    Hint("msr_bad_rip", 2,
         "After an emulated RDMSR or WRMSR the guest did not go on right after it: move RIP once, "
         "with vmcs_forward_rip(), which adds the exit's instruction length (3 bytes with a REX "
         "prefix, not always 2).",
         lambda c: _msr(c) and (c.int("exit_code") == MSR_BAD_RIP or _msr_fault_at(c, False)
                                or b"resumed at the wrong RIP" in c.data.get("capture", b"")
                                or (c.text("error") == "KEV_EGUEST_FAULT"  # ran into garbage
                                    and c.text("expect.exit_code") is not None))),
    Hint("msr_registered_twice", 2,
         "msr_register() took an index the registry has already: look it up first (all 32 bits) "
         "and return KEV_EEXIST, changing nothing.",
         lambda c: _msr(c) and _msg(c, "returned KEV_OK for MSR")),
    Hint("msr_register_refused", 2,
         "msr_register() refused an MSR a right registry takes: 0xabc and 0x80000abc are two "
         "MSRs, and the registry holds MSR_REGISTRY_MAX (16) of them.",
         lambda c: _msr(c) and _msg(c, "but a right registry takes it")),
    Hint("msr_device_error", 2,
         "A device's error (KEV_EEMPTY for an RDMSR of the empty stack, KEV_ENOMEM for a full "
         "one) stops the VM with that very error: return vm_stop(s->vm, e, ...), naming the MSR.",
         lambda c: _msr(c) and c.text("expect.error") in ("KEV_EEMPTY", "KEV_ENOMEM")
         and c.text("error") not in ("KEV_ESTUDENT", c.text("expect.error"))),
    Hint("msr_unknown_stops", 2,
         "An MSR nobody emulates is the guest's #GP(0), not the end of the VM: inject the #GP "
         "and return vmexit_continue().",
         lambda c: c.test in ("p2_msr_unknown_gp", "p2_msr_rip_after_gp", "p2_msr_passthrough")
         and c.text("expect.exit_code") is not None and c.text("error") not in (
             None, "KEV_ESTUDENT", "KEV_EUNHANDLED", "KEV_ETIMEOUT", "KEV_EEMPTY", "KEV_ENOMEM",
             "KEV_EGUEST_FAULT", "KEV_EENTRY")),
    Hint("msr_repeated", 2,
         "An RDMSR or WRMSR ran again and again (too many VM exits, or the stack ran over or "
         "empty where the case never lets it): move RIP past an emulated one, and inject the #GP "
         "of one nobody emulates.",
         lambda c: _msr(c) and c.text("expect.exit_code") is not None and (
             (c.text("error") == "KEV_ETIMEOUT" and _msg(c, "VM exits"))
             or c.text("error") in ("KEV_EEMPTY", "KEV_ENOMEM"))),
    Hint("ept_fewer_perms", 3,
         "Your tables allow less than the leaf asked for: the CPU ANDs the permissions of all "
         "four entries on the walk, so every entry above a leaf must allow EPT_RWX.",
         _ept_fewer_perms),
    Hint("ept_memtype", 3,
         "A leaf entry needs the memory type write-back in bits 5:3: hpa | perm | EPT_MT_WB.",
         _ept_memtype),
    Hint("ept_not_table", 3,
         "An entry above a leaf must hold the host-physical address of a table that "
         "ept_table_alloc() gave you, with EPT_RWX and nothing in bits 7:3; follow it with "
         "phys_to_virt(entry & EPT_ADDR_MASK).",
         _ept_not_table),
    Hint("ept_wrong_error", 3,
         "The first line that differs returned another error: ept.h lists each function's "
         "errors in the order to check them (ept_map: KEV_EALIGN for either address, then "
         "KEV_EINVAL, KEV_EPERM, KEV_EEXIST, KEV_ENOMEM), and the first that applies wins.",
         _ept_wrong_error),
    Hint("ept_offset_lost", 3,
         "The page is right but the offset is not: the host-physical address is the page's "
         "address plus the low bits of the address you translate (12 for a 4 KiB page).",
         _ept_offset_lost),
    Hint("gva_large_page", 3,
         "A wrong host address from ept_gva_to_hpa: a 2 MiB page's address is bits 51:21 of "
         "its entry and keeps 21 bits of the gva as offset, a 1 GiB page's bits 51:30 and 30; "
         "bit 12 of a large entry is PAT, and bits 62:52 are not address.",
         _gva_large_page),
    Hint("pio_rax_wrong", 2,
         "The guest found {reg} wrong: an 8- or 16-bit IN writes AL or AX and keeps the rest of "
         "RAX, a 32-bit IN writes EAX and clears bits 63:32; OUT, INS and OUTS leave RAX as it "
         "was.",
         lambda c: _pio_reg(c) == 0, _pio_where),
    Hint("pio_rcx_wrong", 2,
         "The guest found {reg} wrong: a REP INS or OUTS decrements RCX once per element, down to "
         "0 (RCX = 0: no element at all); without REP, RCX does not change.",
         lambda c: _pio_reg(c) == 1, _pio_where),
    Hint("pio_pointer_wrong", 2,
         "The guest found {reg} wrong: INS steps RDI and OUTS steps RSI by the element's size "
         "(1, 2 or 4) after each element, downwards when RFLAGS.DF is set; IN and OUT change "
         "neither.",
         lambda c: _pio_reg(c) in (6, 7), _pio_where),
    Hint("pio_register_changed", 2,
         "The guest found {reg} changed: IN, OUT, INS and OUTS change only RAX, RSI, RDI and RCX "
         "(does your code write to another field of s->regs?).",
         lambda c: _pio_reg(c) in (2, 3, 4, 5) or (_pio_reg(c) or 0) >= 8, _pio_where),
    Hint("pio_operand_bit", 2,
         "Port 3's line names the port operand wrong (imm8 or dx): pio_decode() reads it from "
         "bit 6 of the exit qualification, 1 for an immediate port, 0 for DX.",
         _trace_operand_wrong),
    Hint("pio_unknown_port", 2,
         "The controller found no device at the port your pio_decode() read: the port is bits "
         "31:16 of the exit qualification, all 16 of them (0x3f8 is not 0xf8).",
         lambda c: _pio(c) and c.text("error") == "KEV_EIOPORT"
         and c.text("expect.error") != "KEV_EIOPORT"),
    Hint("pio_bad_size", 2,
         "pio_decode() must give a size of 1, 2 or 4: bits 2:0 of the exit qualification hold "
         "the size minus one (0, 1 or 3).",
         lambda c: _pio(c) and c.text("error") == "KEV_EINVAL"
         and "pio_decode() read exit qualification" in (c.text("message") or "")),
    Hint("pio_sent_bad_element", 2,
         "An OUTS element that cannot be read must send none of its bytes to the device: copy the "
         "whole element from the guest (probe_copy_from_guest of req->size bytes) before you call "
         "pio_device_out().",
         lambda c: _pio(c) and _printed_on_error(c)),
    Hint("pio_wrong_error", 2,
         "A bad INS or OUTS buffer stops the VM with the probe's own error (KEV_EUNMAPPED, "
         "KEV_EREADONLY, KEV_ENONCANONICAL, KEV_EOVERFLOW), a device's error with the device's "
         "(KEV_EEMPTY, KEV_ENOMEM): return vm_stop(s->vm, e, ...) with the e the call returned.",
         lambda c: _pio(c) and c.text("expect.error") is not None and c.text("error") not in (
             None, "KEV_ESTUDENT", "KEV_EIOPORT", c.text("expect.error"))),
    Hint("pio_error_lost", 2,
         "The guest went on where the VM had to stop: an error of the probe or of "
         "pio_device_in()/pio_device_out() (an empty queue: KEV_EEMPTY) must stop the VM, and "
         "REP's count is all 64 bits of RCX.",
         lambda c: _pio(c) and c.text("expect.error") is not None
         and c.text("exit_code") is not None),
]


def for_case(project: int, case: Case) -> list:
    """The hints that apply to a failed case, as sentences."""
    out = []
    for h in HINTS:
        if h.project != project:
            continue
        try:
            if h.applies(case):
                out.append(h.render(case))
        except (KeyError, TypeError, ValueError):
            continue
    return out
