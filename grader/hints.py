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
    if not _print_test(c):
        return False
    n, m = c.int("capture.len"), c.int("expect.capture.len")
    return n is not None and m is not None and 0 < n < m and (n % CHUNK == 0 or n % PAGE == 0)


def _wrong_from_chunk(c):
    if not _print_test(c):
        return False
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


def _print_test(c):
    """The hints about copying a Print's buffer are for the tests of Print."""
    return c.test.startswith("p2_print") or c.test == "p2_regs_preserved"


def _printed_on_error(c):
    return c.text("expect.error") is not None and (c.int("capture.len") or 0) > (
        c.int("expect.capture.len") or 0)


# The CPUID tests' lines (guests/project2/cpuid.asm, project2/tests.c's
# cpuid_expect_line): "LLLLLLLL.SSSSSSSS: rax rbx rcx rdx\n", each register
# in 8 hex digits, or 16 when its upper half is not zero; the expected lines
# are all CPUID_LINE bytes. Line k answers ask k of the case's inputs
# ("asks=1.0,40000000.0,..."): the leaf and subleaf in hex.
CPUID_LINE = 55
CPUID_FIELDS = ((19, "rax"), (28, "rbx"), (37, "rcx"), (46, "rdx"))  # the column each starts at
SUBLEAF_LEAVES = {4, 7, 0xB, 0xD, 0xF, 0x10, 0x12, 0x14, 0x17, 0x18, 0x1D, 0x1F, 0x20, 0x23, 0x24}
HYPERVISOR_LEAVES = range(0x40000000, 0x50000000)
HEX = re.compile(rb"[0-9a-f]+")


@dataclass(frozen=True)
class CpuidDiff:
    """The register a CPUID test's capture first differs in, with its CPUID."""
    leaf: int
    subleaf: int
    reg: str
    got: int
    want: int
    digits: int  # how many hex digits the guest printed for it (16: its upper half was set)


def _cpuid_diff(c) -> CpuidDiff | None:
    if not c.test.startswith("p2_cpuid"):
        return None
    got, want, at = c.data.get("capture", b""), c.data.get("expect.capture", b""), c.int("capture.at")
    d = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]), None)
    if d is None or at is None:
        return None
    k, col = divmod(at + d, CPUID_LINE)
    fields = [(start, reg) for start, reg in CPUID_FIELDS if start <= col]
    asks = re.search(r"asks=(\S+)", c.text("inputs") or "")
    if not fields or not asks:
        return None  # the leaf or subleaf printed differs: not the answer
    start, reg = fields[-1]
    at_field = d - (col - start)
    g, w = HEX.match(got, max(at_field, 0)), HEX.match(want, max(at_field, 0))
    ask = asks.group(1).split(",")
    if at_field < 0 or g is None or w is None or len(w.group()) != 8 or k >= len(ask):
        return None
    leaf, _, subleaf = ask[k].partition(".")
    return CpuidDiff(int(leaf, 16), int(subleaf, 16), reg, int(g.group(), 16), int(w.group(), 16),
                     len(g.group()))


def _cpuid_wrong(c, pick) -> bool:
    """The first difference is in a register printed in 8 digits, of a CPUID pick() names."""
    x = _cpuid_diff(c)
    return x is not None and x.digits == 8 and pick(x)


def _cpuid_host_answer(x) -> bool:
    """Not one of the adjusted answers, nor a subleaf's."""
    adjusted = x.leaf == 1 and x.reg in ("rbx", "rcx")
    return not adjusted and x.leaf not in HYPERVISOR_LEAVES and not (
        x.leaf in SUBLEAF_LEAVES and x.subleaf != 0)


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
         lambda c: c.text("error") == "KEV_EGUEST_FAULT" and "#UD" in (c.text("message") or "")
         and c.text("expect.exit_code") is not None),
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
         _printed_on_error),
    Hint("size_cut", 2,
         "Print's size is 64 bits: a size of 2^32 or more must not be cut to 32 bits.",
         lambda c: c.test == "p2_print_huge_size" and (c.int("capture.len") or 0) > 0),
    Hint("einval_cross_page", 2,
         "KEV_EINVAL from probe_gva_to_host means the range crossed a page: call it once per "
         "page, never for a whole buffer.",
         lambda c: _print_test(c) and c.text("error") == "KEV_EINVAL"
         and c.text("expect.error") != "KEV_EINVAL"),
    Hint("wrong_error", 2,
         "Each bad input has one error (the handout's table): KEV_EHYPERCALL for an unknown "
         "number; for Print KEV_EOVERFLOW when buf + size - 1 wraps, the probe's error for the "
         "first bad page, KEV_ENOMEM when the capture has no room.",
         lambda c: c.text("expect.error") is not None and c.text("error") not in (
             None, "KEV_ESTUDENT", "KEV_EINVAL", c.text("expect.error"))),
    Hint("loops_in_handler", 2,
         "Your code ran past its time budget on the guest's first VM exit: a loop that never "
         "ends (does it move on to the next chunk or page?).",
         lambda c: "ran longer than its budget" in c.fault and c.int("exits") == 1),
    Hint("nul_capture", 2,
         "The capture holds NUL bytes where the guest wrote data: were the bytes copied from "
         "the guest at all (check the probe's result), or from the right address?",
         _nul_capture),
    Hint("cut_at_boundary", 2,
         "The capture stops at a 256-byte or page boundary: the last, partial chunk (or page) "
         "of the buffer is dropped.",
         _capture_short_at_boundary),
    Hint("wrong_from_chunk", 2,
         "The capture is right up to a 256-byte boundary and wrong from there: does each "
         "chunk's copy start at buf + the bytes done so far (is the first chunk repeated)?",
         _wrong_from_chunk),
]


HINTS += [
    Hint("cpuid_upper_half", 2,
         "CPUID must clear the upper half of {reg} (the guest printed it in 16 hex digits): "
         "store the 32-bit answer whole, s->regs.rbx = r.ebx, which zero-extends.",
         lambda c: _cpuid_diff(c) is not None and _cpuid_diff(c).digits == 16,
         lambda c: {"reg": _cpuid_diff(c).reg}),
    Hint("cpuid_apic_id", 2,
         "Leaf 1's EBX[31:24] is the vCPU's id, s->id, in place of the host's APIC ID, and its "
         "other bits stay the host's: clear the field (& ~CPUID_1_EBX_APIC_ID), then | in the id.",
         lambda c: _cpuid_wrong(c, lambda x: x.leaf == 1 and x.reg == "rbx")),
    Hint("cpuid_leaf1_ecx", 2,
         "Leaf 1's ECX: clear bit 5 (VMX: the guest has none) and set bit 31 (a hypervisor is "
         "present); every other bit is the host's.",
         lambda c: _cpuid_wrong(c, lambda x: x.leaf == 1 and x.reg == "rcx")),
    Hint("cpuid_signature", 2,
         "Leaf 0x40000000 is kevlab's own: EAX = 0x40000000, then \"kevlabkevlab\" four bytes "
         "each in EBX, ECX, EDX, in this order (leaf 0's vendor uses EBX, EDX, ECX), the first "
         "byte the lowest.",
         lambda c: _cpuid_wrong(c, lambda x: x.leaf == 0x40000000)),
    Hint("cpuid_hypervisor_zeros", 2,
         "Leaves 0x40000001 to 0x4fffffff answer zero in all four registers: kevlab has no such "
         "leaf, and what a hypervisor below would answer must not show.",
         lambda c: _cpuid_wrong(c, lambda x: 0x40000000 < x.leaf <= 0x4FFFFFFF)),
    Hint("cpuid_subleaf", 2,
         "A leaf with subleaves (4, 7, 0xb, 0xd, ...) answered wrong for a subleaf but 0: pass "
         "the guest's ECX (the low half of rcx) to kev_cpuid() as the subleaf.",
         lambda c: _cpuid_wrong(c, lambda x: x.leaf in SUBLEAF_LEAVES and x.subleaf != 0)),
    Hint("cpuid_host_answer", 2,
         "A register kevlab does not adjust differs from the host's answer: all but leaf 1's EBX "
         "and ECX and the leaves 0x40000000 to 0x4fffffff are kev_cpuid()'s answer for the "
         "guest's EAX and ECX (the low halves of rax and rcx), unchanged.",
         lambda c: _cpuid_wrong(c, _cpuid_host_answer)),
    Hint("cpuid_register_changed", 2,
         "The guest found {reg} changed across CPUID: cpuid_emulate() writes rax, rbx, rcx and "
         "rdx, no other register.",
         lambda c: c.test.startswith("p2_cpuid") and 0xBAD04 <= (c.int("exit_code") or 0) <= 0xBAD0F,
         lambda c: {"reg": REGS[c.int("exit_code") - 0xBAD00]}),
    Hint("cpuid_answer_changed", 2,
         "A CPUID answered otherwise than the same leaf did the first time (the capture's last "
         "line): does cpuid_emulate() keep something from one exit to the next, or use something "
         "up (memory it never frees)?",
         lambda c: c.test.startswith("p2_cpuid") and 0xBAD1000 <= (c.int("exit_code") or 0) <= 0xBAD1FFF),
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
