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


# --- project 3's MMIO (guests/project3/mmio.asm) ---

# mmio.asm's exit code for a wrong register: P3_MMIO_BAD + its number + (the step << 24).
MMIO_BAD_REG = 0xBAD40
MMIO_DOORBELL_ERRORS = ("KEV_EINVAL", "KEV_ENOTGUESTMEM", "KEV_EOVERFLOW", "KEV_ENOMEM")


def _mmio(c):
    return c.test.startswith("p3_mmio_")


def _mmio_reg(c):
    """The number of the register mmio.asm found wrong, or None."""
    code = c.int("exit_code")
    if not _mmio(c) or code is None or code < 0 or c.text("expect.exit_code") is None:
        return None
    reg = (code & 0xFFFFFF) - MMIO_BAD_REG
    return reg if 0 <= reg < 16 and reg != 4 else None


def _mmio_where(c):
    return {"reg": "%s (after step #%d)" % (REGS.get(_mmio_reg(c), "rax"), c.int("exit_code") >> 24)}


# --- project 3's loader (p3_loader_*: one line per call, minos's own lines) ---

def _loader(c, *tests):
    return c.test in tests if tests else c.test.startswith("p3_loader_")


_FAULT_LINE = re.compile(r"^loader_fault\(.*\) = (KEV_[A-Z_]+); page 0x[0-9a-f]+: (.*)$")


def _fault_lines(c):
    """(expected, printed) regex matches of p3_loader_fault's first different line."""
    want, got = _lines_at_difference(c) if _loader(c, "p3_loader_fault") else (None, None)
    return _FAULT_LINE.match(want or ""), _FAULT_LINE.match(got or "")


def _fault_error_wrong(c):
    w, g = _fault_lines(c)
    return bool(w and g) and w.group(1) != g.group(1)


def _fault_bytes_wrong(c):
    w, g = _fault_lines(c)
    return bool(w and g) and w.group(1) == g.group(1) and w.group(2)[:3] == g.group(2)[:3] \
        and w.group(2) != g.group(2)


def _fault_perm_wrong(c):
    w, g = _fault_lines(c)
    return bool(w and g) and w.group(1) == g.group(1) and w.group(2)[:3] != g.group(2)[:3] \
        and "not mapped" not in (w.group(2), g.group(2))


def _fault_pages_wrong(c):
    want, got = _lines_at_difference(c) if _loader(c, "p3_loader_fault", "p3_loader_boot") else (None, None)
    return bool(want and got) and ("pages mapped: " in want or "pages of the image mapped" in want
                                   or "EPT violations served" in want) and want != got


def _bad_elf_accepted(c):
    return _loader(c, "p3_loader_bad_elf") and b"loader_parse = KEV_OK" in c.data.get("capture", b"")


def _bad_elf_fault(c):
    m = re.search(r'fault="([^"]*)"', c.text("inputs") or "")
    return {"fault": m.group(1) if m else "the fault this case names"}


def _bad_elf_wrong_error(c):
    m = re.search(rb"loader_parse = (KEV_[A-Z_]+)", c.data.get("capture", b""))
    return _loader(c, "p3_loader_bad_elf") and bool(m) and m.group(1) not in (b"KEV_OK", b"KEV_EELF")


def _valid_elf_refused(c):
    return _loader(c, "p3_loader_parse") and b"loader_parse = KEV_EELF" in c.data.get("capture", b"")


def _segment_wrong(c):
    want, got = _lines_at_difference(c) if _loader(c, "p3_loader_parse") else (None, None)
    return bool(want and got) and (want.startswith("segment ") or want.startswith("entry ")) \
        and want != got


def _minos_test_failed(c):
    m = re.search(rb"minos: test (\w+) FAILED", c.data.get("capture", b""))
    return m is not None and _loader(c)


def _minos_test(c):
    m = re.search(rb"minos: test (\w+) FAILED", c.data.get("capture", b""))
    return {"test": m.group(1).decode() if m else "?"}



# --- project 4: the timer (guests/project4/timer.asm's log, one line per event) ---

def _timer(c):
    return c.test.startswith("p4_timer")


def _timer_lines(c):
    """(expected line, printed line) where the timer's log first differs, or
    (None, None) outside project 4's tests."""
    return _lines_at_difference(c) if _timer(c) else (None, None)


_INTERRUPT = re.compile(r"^interrupt \d+: vector 0x([0-9a-f]{2}), (.*)$")


def _entry_refused(c, *words):
    msg = c.text("message") or ""
    return _timer(c) and c.text("error") == "KEV_EENTRY" and any(w in msg for w in words)


def _timer_spot_wrong(c):
    want, got = _timer_lines(c)
    w, g = _INTERRUPT.match(want or ""), _INTERRUPT.match(got or "")
    return bool(w and g) and w.group(1) == g.group(1) and w.group(2) != g.group(2) \
        and "before its deadline" not in g.group(2)


def _timer_vector_wrong(c):
    want, got = _timer_lines(c)
    w, g = _INTERRUPT.match(want or ""), _INTERRUPT.match(got or "")
    return bool(w and g) and w.group(1) != g.group(1)


def _timer_extra_interrupt(c):
    want, got = _timer_lines(c)
    return got is not None and got.startswith("interrupt ") and not (want or "").startswith("interrupt ")


def _timer_missing_interrupt(c):
    want, got = _timer_lines(c)
    return bool(want) and want.startswith("interrupt ") and not (got or "").startswith("interrupt ")


def _timer_gp_missing(c):
    want, got = _timer_lines(c)
    return bool(want) and want.endswith(": #GP") and got is not None and got != want


def _timer_lvt_reads(c):
    want, got = _timer_lines(c)
    return bool(want and got) and want.startswith("rdmsr(LVT timer) = ") \
        and got.startswith("rdmsr(LVT timer) = ") and want != got


def _timer_gp_extra(c):
    want, got = _timer_lines(c)
    return bool(got) and got.endswith(": #GP") and not (want or "").endswith(": #GP")


def _timer_deadline_reads(c):
    want, got = _timer_lines(c)
    return bool(want and got) and want.startswith("rdmsr(IA32_TSC_DEADLINE) = ") \
        and got.startswith("rdmsr(IA32_TSC_DEADLINE) = ") and want != got

# --- project 4: the virtio device (guests/project4/virtio.asm: register reads and
# interrupts logged, then dumps of the used ring, the status bytes and the data
# read, each after a label line) ---

def _virtio(c):
    return c.test.startswith("p4_virtio")


def _virtio_lines(c):
    return _lines_at_difference(c) if _virtio(c) else (None, None)


def _virtio_section(c):
    """The label of the dump the first difference is in ("used ring",
    "status bytes", "request "), or None."""
    if not _virtio(c):
        return None
    got, want = c.data.get("capture"), c.data.get("expect.capture")
    if got is None or want is None:
        return None
    i = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]), min(len(got), len(want)))
    best, label = -1, None
    for name in (b"used ring", b"status bytes", b"request "):
        k = want.rfind(name, 0, i)
        if k > best:
            best, label = k, name.decode()
    return label


def _virtio_register_wrong(c):
    want, got = _virtio_lines(c)
    return bool(want and got) and want.startswith("read 0x") and got.startswith("read 0x") and want != got


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
         lambda c: _print_test(c) and c.text("error") == "KEV_EINVAL"
         and c.text("expect.error") != "KEV_EINVAL"),
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
    Hint("mmio_register_wrong", 3,
         "The guest found {reg} wrong: a load from a printer register returns what it last "
         "held (0 before any write; the doorbell always 0) in req->value, and nothing else "
         "changes; the controller puts it into the register.",
         lambda c: _mmio_reg(c) is not None, _mmio_where),
    Hint("mmio_bad_access_served", 3,
         "An access the printer does not take was served: it must be exactly one register, at "
         "its address and of its size (8 bytes at 0x00, 4 at 0x08, 1 at 0x10); anything else "
         "is vm_stop(s->vm, KEV_EMMIO, ...).",
         lambda c: _mmio(c) and c.text("expect.error") == "KEV_EMMIO"
         and c.text("exit_code") is not None),
    Hint("mmio_wrong_error", 3,
         "A bad access to the printer stops the VM with KEV_EMMIO (kev/error.h), a size other "
         "than the register's as well as an address where no register starts.",
         lambda c: _mmio(c) and c.text("expect.error") == "KEV_EMMIO"
         and c.text("error") not in (None, "KEV_ESTUDENT", "KEV_EMMIO")),
    Hint("mmio_buffer_not_gpa", 3,
         "KEV_EUNMAPPED comes from a walk of the guest's page tables: the buffer register holds a "
         "guest-physical address, so copy it with probe_copy_from_gpa(s->vm, ...).",
         lambda c: _mmio(c) and c.text("error") == "KEV_EUNMAPPED"
         and c.text("expect.error") != "KEV_EUNMAPPED"),
    Hint("mmio_doorbell_error", 3,
         "A doorbell that cannot print stops the VM with the error of what failed: KEV_EINVAL "
         "for a length above 4096, probe_copy_from_gpa's own (KEV_ENOTGUESTMEM, KEV_EOVERFLOW), "
         "printer_write's (KEV_ENOMEM).",
         lambda c: _mmio(c) and c.text("expect.error") in MMIO_DOORBELL_ERRORS
         and c.text("error") not in ("KEV_ESTUDENT", "KEV_EUNMAPPED", c.text("expect.error"))),
    Hint("mmio_printed_on_error", 3,
         "A doorbell that fails must print nothing: copy the whole buffer with "
         "probe_copy_from_gpa before you call printer_write.",
         lambda c: _mmio(c) and _printed_on_error(c)),
    Hint("loader_bad_elf_accepted", 3,
         "loader_parse accepted a malformed file ({fault}): check every field of loader.h's "
         "list before you trust it, and every sum for wrapping (start <= size && n <= size - "
         "start, never start + n <= size).",
         _bad_elf_accepted, _bad_elf_fault),
    Hint("loader_bad_elf_wrong_error", 3,
         "loader_parse refused a bad file with another error than KEV_EELF: every fault of "
         "loader.h's list, a file too short included, is KEV_EELF (with img->why saying which).",
         _bad_elf_wrong_error),
    Hint("loader_no_progress", 3,
         "The guest kernel made a thousand VM exits without getting on: an EPT violation served "
         "with KEV_OK but nothing mapped (or a page mapped without the access the guest made), "
         "so the same instruction faults again and again.",
         lambda c: _loader(c, "p3_loader_boot") and c.text("error") == "KEV_ETIMEOUT"
         and "VM exits" in (c.text("message") or "")),
    Hint("loader_valid_elf_refused", 3,
         "loader_parse refused a valid file: skip program headers that are not PT_LOAD or have "
         "p_memsz 0 (they count for nothing, not even for the limit of 8), and two segments "
         "overlap only if their bytes do (sharing a page is fine).",
         _valid_elf_refused),
    Hint("loader_segment_wrong", 3,
         "A segment or the entry point is not the file's: p_paddr is at offset 24 of a program "
         "header (p_vaddr, at 16, is not the loader's), p_filesz at 32, p_memsz at 40, p_offset "
         "at 8; PF_R (4) is EPT_R, PF_W (2) EPT_W, PF_X (1) EPT_X.",
         _segment_wrong),
    Hint("loader_fault_wrong_error", 3,
         "loader_fault returned the wrong result: KEV_EUNMAPPED when no segment overlaps the page, "
         "then KEV_EREADONLY (a write) or KEV_ENOEXEC (a fetch) when none of its segments allows "
         "it, and KEV_OK for a page mapped already (check with ept_translate first; never return "
         "ept_map's KEV_EEXIST).",
         _fault_error_wrong),
    Hint("loader_page_bytes_wrong", 3,
         "A page holds the wrong bytes: loader_page_alloc's page is not zeroed (clear it first); "
         "copy only [p_paddr, p_paddr + p_filesz) from p_offset on, and a page two segments share "
         "holds both segments' bytes.",
         _fault_bytes_wrong),
    Hint("loader_page_perm_wrong", 3,
         "A page allows the wrong accesses: map it with the OR of the permissions of every segment "
         "that overlaps it (a page shared by a read-only and a writable segment is writable).",
         _fault_perm_wrong),
    Hint("loader_page_count_wrong", 3,
         "The number of pages mapped or violations served is wrong: map exactly the page of the "
         "violation (demand paging: one page per violation, none ahead), and nothing for an "
         "error or a page mapped already.",
         _fault_pages_wrong),
    Hint("loader_minos_test_failed", 3,
         "minos's test named on the failing line ({test}) failed: text and rodata must be the file's bytes, data the "
         "file's bytes and writable, bss (past p_filesz) zeros; the page's permissions are its "
         "segment's.",
         _minos_test_failed, _minos_test),
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
    Hint("timer_inject_if_clear", 4,
         "VM entry refused your injection: the guest's RFLAGS.IF was 0. Before you inject, read "
         "GUEST_RFLAGS; with IF clear, open the interrupt window (vcpu_interrupt_window(s, true)) "
         "and inject on its exit.",
         lambda c: _entry_refused(c, "IF = 0")),
    Hint("timer_inject_in_shadow", 4,
         "VM entry refused your injection: the guest was in the shadow of STI or MOV SS (bits 0 "
         "and 1 of GUEST_INTERRUPTIBILITY_INFO), where the next instruction runs before any "
         "interrupt. Open the interrupt window instead; its exit comes once the guest can take it.",
         lambda c: _entry_refused(c, "blocking by STI", "blocking by MOV SS")),
    Hint("timer_inject_malformed", 4,
         "VM entry refused VM_ENTRY_INTR_INFO_FIELD itself: an external interrupt is the vector "
         "in bits 7:0, type 0 (INTR_TYPE_EXT_INTR) in bits 10:8 and the valid bit 31, nothing "
         "else (no error code, not the hardware-exception type).",
         lambda c: _entry_refused(c, "VM_ENTRY_INTR_INFO_FIELD 0x") and not _entry_refused(
             c, "IF = 0", "blocking by")),
    Hint("timer_no_interrupt", 4,
         "The guest waited for an interrupt that never came: timer_wrmsr must arm the host's "
         "timer (vcpu_set_deadline), timer_expired make the LVT's vector pending, and "
         "timer_deliver inject it.",
         lambda c: _timer(c) and c.int("exit_code") == 1 and c.int("expect.exit_code") == 0),
    Hint("timer_early", 4,
         "An interrupt arrived before its deadline: inject only an interrupt that timer_expired "
         "made pending; the WRMSR that arms a deadline ahead raises none.",
         lambda c: _timer(c) and "before its deadline" in (_timer_lines(c)[1] or "")),
    Hint("timer_wrong_spot", 4,
         "The interrupt came at the wrong place (the line says where it had to come): a passed "
         "deadline fires at once, right after its WRMSR; one that must wait (interrupts off, "
         "another in service, the instruction after STI or MOV SS) comes through the interrupt "
         "window or right after the EOI that lets it in.",
         _timer_spot_wrong),
    Hint("timer_missing_interrupt", 4,
         "An interrupt that had to come here did not: one the guest cannot take yet needs the "
         "interrupt window (vcpu_interrupt_window(s, true)), whose exit calls timer_deliver "
         "again; one held back by another in service goes in after the EOI.",
         _timer_missing_interrupt),
    Hint("timer_wrong_vector", 4,
         "An interrupt with the wrong vector: it is bits 7:0 of the LVT timer register when the "
         "timer fires.",
         _timer_vector_wrong),
    Hint("timer_unwanted_interrupt", 4,
         "An interrupt came where none may: a masked LVT (bit 16) or a vector below 16 raises "
         "none, a disarmed deadline never fires, and none is delivered while another is in "
         "service (before its EOI) or twice.",
         _timer_extra_interrupt),
    Hint("timer_gp_missing", 4,
         "The guest had to take #GP here: return timer_gp(s) for a reserved LVT bit (63:19, "
         "15:13, 11:8), the LVT mode 11b, a non-zero EOI and a RDMSR of EOI.",
         _timer_gp_missing),
    Hint("timer_gp_wrong", 4,
         "A #GP where the access is fine: bit 12 of the LVT is read-only (a write ignores it), a "
         "masked one-shot or periodic LVT is allowed, EOI takes 0, and IA32_TSC_DEADLINE takes "
         "any value.",
         _timer_gp_extra),
    Hint("timer_lvt_reads", 4,
         "The LVT timer read back wrong: it holds bits 7:0, 16 and 18:17 of the last write that "
         "took no #GP, nothing else (bit 12, delivery status, is read-only and reads 0).",
         _timer_lvt_reads),
    Hint("timer_window_left_open", 4,
         "timer_deliver() left the interrupt window open when the guest could take an interrupt: "
         "close it (vcpu_interrupt_window(s, false)) when you inject, and when nothing is to be "
         "delivered.",
         lambda c: _timer(c) and "left the window open" in (c.text("message") or "")),
    Hint("timer_deadline_reads", 4,
         "IA32_TSC_DEADLINE read back wrong: it reads the deadline armed, and 0 once the timer "
         "fired, after a write of 0, after leaving TSC-deadline mode (which disarms), and in the "
         "other modes, where a write is ignored.",
         _timer_deadline_reads),
    Hint("timer_unsupported", 4,
         "An unmasked LVT in one-shot or periodic mode must stop the VM: return vm_stop(s->vm, "
         "KEV_ENOTSUP, ...); masked, either mode is accepted.",
         lambda c: _timer(c) and (c.text("expect.error") == "KEV_ENOTSUP") != (
             c.text("error") == "KEV_ENOTSUP")),
    Hint("timer_exits_loop", 4,
         "The VM made thousands of exits: an interrupt injected again and again (it must leave "
         "pending once injected), or an interrupt window that never closes.",
         lambda c: _timer(c) and c.text("error") == "KEV_ETIMEOUT"
         and "VM exits" in (c.text("message") or "")),
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
    Hint("virtio_no_interrupt", 4,
         "The guest waited in vain for the device's interrupt after a notification: vblk_notify "
         "must serve the new avail entries and set VIRTIO_MMIO_INT_VRING in interrupt_status, "
         "InterruptACK must clear it (else no later completion interrupts), and your "
         "timer_deliver injects the interrupt.",
         lambda c: _virtio(c) and "no interrupt came after the notification" in (_virtio_lines(c)[1] or "")),
    Hint("virtio_register_wrong", 4,
         "A register read back wrong (its offset is on the line): virtio_blk.h's table says what "
         "each reads; DeviceFeatures shows the half DeviceFeaturesSel picks, Status keeps "
         "FEATURES_OK only for offered features with VIRTIO_F_VERSION_1, write-only registers and "
         "queues other than 0 read 0.",
         _virtio_register_wrong),
    Hint("virtio_used_ring", 4,
         "The used ring differs: each chain served is one entry (id: its head descriptor, len: "
         "the bytes written into it, the status byte included), at ring[used_idx % num], then "
         "the new idx at offset 2; after a reset both indices start again from 0.",
         lambda c: _virtio_section(c) == "used ring"),
    Hint("virtio_status_byte", 4,
         "A request's status byte differs (0xff: never written): OK 0; IOERR 1 for a bad "
         "header, a data buffer in the wrong direction, not whole sectors or not memory the probe "
         "lets you use, a sector range past the capacity; UNSUPP 2 for an unknown type or FLUSH "
         "without VIRTIO_BLK_F_FLUSH negotiated.",
         lambda c: _virtio_section(c) == "status bytes"),
    Hint("virtio_data", 4,
         "The data of a read differs (the label names the request): sector s is the disk's bytes "
         "from s * 512; the data may be split over several descriptors (follow next, each "
         "one's len), and an earlier write in the same VM changed what it reads; a GET_ID's data "
         "is the 20 bytes of VBLK_ID.",
         lambda c: _virtio_section(c) == "request "),
    Hint("virtio_give_up", 4,
         "The device had to give up: vm_stop(s->vm, KEV_EVIRTIO, ...) for a queue size that is "
         "not a power of 2 up to QueueNumMax or rings not aligned (at QueueReady = 1), a chain "
         "without a device-writable status byte or of one descriptor, a next past the table or "
         "a loop, an avail idx more than num ahead, a ring the probe refuses.",
         lambda c: _virtio(c) and c.text("expect.error") == "KEV_EVIRTIO" and c.text("error") != "KEV_EVIRTIO"),
    Hint("virtio_emmio", 4,
         "Every register is 4 bytes at an offset of virtio_blk.h's table: any other access (1 "
         "byte, an offset with no register) is vm_stop(s->vm, KEV_EMMIO, ...).",
         lambda c: _virtio(c) and c.text("expect.error") == "KEV_EMMIO" and c.text("error") != "KEV_EMMIO"),
    Hint("virtio_wrong_vector", 4,
         "An interrupt or exception reached the guest with a vector other than VBLK_VECTOR: the "
         "controller makes VBLK_VECTOR pending in your timer's APIC and timer_deliver injects it "
         "as an external interrupt.",
         lambda c: _virtio(c) and "vector other than the device's" in (_virtio_lines(c)[1] or "")),
    Hint("minos_driver", 4,
         "minos's own drivers say on the line that differs what they found: its ticks (an early "
         "one is an interrupt timer_expired never made pending; too few, one that never came), or "
         "the step of its disk that failed (the handshake, no interrupt after a notification, the "
         "used ring, the status). Make the timer and virtio tests pass first: minos drives the same "
         "code without a script.",
         lambda c: c.test == "p4_minos" and (_lines_at_difference(c)[1] or "").startswith(
             ("minos: timer:", "minos: vblk:"))),
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
