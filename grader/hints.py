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
MSR_BAD_RIP = 0xBAD20


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
                                or b"resumed at the wrong RIP" in c.data.get("capture", b""))),
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
