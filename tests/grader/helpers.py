"""Shared pieces of the grader's tests: the fixtures, ELF files and builds
made on the spot, the fake emulator, and test records as the kernel
reports them (see fixtures/README.md for where each fixture comes from)."""
import functools
import json
import os
import stat
import struct
import sys

from grader import backends, image
from grader import outcome as oc
from grader import protocol, runner
from grader import rubric as R
from grader.protocol import Fault, TestRecord
from grader.scheduler import Ran

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(HERE, "fixtures")
# A recorded project-2 build: its build.json, and its kernel.elf cut down to
# the section ktest_info (the tests' table as `make SOLUTION=2` linked it).
P2_BUILD = os.path.join(FIXTURES, "build-p2")


def fixture(name: str) -> bytes:
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


@functools.lru_cache(maxsize=None)
def p2_rubric() -> R.Rubric:
    """Project 2's rubric with the recorded build's tests (and its rubric)."""
    return R.load(P2_BUILD, rubric_path=os.path.join(P2_BUILD, "rubric.py"))


# --- ELF files and builds ------------------------------------------------

def info_record(name, project=2, category="Print", weight=1, hidden=0, description="d",
                file="project2/tests.c") -> bytes:
    """One test's record in ktest_info, laid out as KTEST_INFO (kernel/ktest.h) lays it."""
    return ("test=%s\nproject=%s\ncategory=%s\nweight=%s\nhidden=%s\ndescription=%s\nfile=%s\n"
            % (name, project, category, weight, hidden, description, file)).encode() + b"\0"


def write_elf(path: str, sections: dict):
    """A minimal ELF64 little-endian file holding `sections` (name -> bytes)
    and the section-name table: enough for grader/kernelinfo.py."""
    names = [""] + list(sections) + [".shstrtab"]
    shstrtab, offsets = b"", []
    for n in names:
        offsets.append(len(shstrtab))
        shstrtab += n.encode() + b"\0"
    body, where = b"", []
    for data in list(sections.values()) + [shstrtab]:
        where.append((64 + len(body), len(data)))
        body += data
    shoff = 64 + len(body)
    header = (b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
              + struct.pack("<HHIQQQIHHHHHH", 1, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64,
                            len(names), len(names) - 1))
    shdrs = bytes(64)  # the null section
    for i, (off, size) in enumerate(where, start=1):
        kind = 3 if i == len(names) - 1 else 1  # SHT_STRTAB, SHT_PROGBITS
        shdrs += struct.pack("<IIQQQQIIQQ", offsets[i], kind, 0, 0, off, size, 0, 0, 1, 0)
    with open(path, "wb") as f:
        f.write(header + body + shdrs)


def fake_iso(marker_count=1, suite=None) -> bytes:
    """Bytes shaped like the ISO around grub.cfg's command-line placeholder;
    suite (project, names) is the pretend kernel's table, which `test=@N`
    runs (fake_emulator.py)."""
    region = image.MARKER + b" " * (image.CMDLINE_SPACE - len(image.MARKER))
    cfg = b"multiboot2 /boot/kernel.elf " + region + b"\n    boot\n"
    table = b"#fake-suite %d %s\n" % (suite[0], ",".join(suite[1]).encode()) if suite else b""
    return b"\0" * 5000 + cfg * marker_count + table + b"\1" * 3000


def make_build(d: str, tests, project=2, student_files=("project2/hypercall.c",)) -> str:
    """A build directory for grade.py: build.json, a kernel.elf whose
    ktest_info holds `tests` ((name, category, weight[, hidden])) and a
    fake kevlab.iso (booted by fake_emulator.py). Returns d."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "build.json"), "w") as f:
        json.dump({"project": project, "projects": [project], "solutions": [],
                   "build": d, "student_files": {str(project): list(student_files)}}, f)
    info = b"".join(info_record(t[0], project, t[1], t[2], t[3] if len(t) > 3 else 0)
                    for t in tests)
    write_elf(os.path.join(d, "kernel.elf"), {".text": b"\x90" * 16, "ktest_info": info})
    write_iso(d, suite=(project, [t[0] for t in tests]))
    return d


def write_iso(d: str, suite=None) -> str:
    path = os.path.join(d, "kevlab.iso")
    with open(path, "wb") as f:
        f.write(fake_iso(suite=suite))
    return path


# --- the fake emulator -----------------------------------------------------

FAKE = os.path.join(HERE, "fake_emulator.py")


class FakeBackend(backends.Qemu):
    """Runs tests/grader/fake_emulator.py; exit statuses as QEMU's."""
    name = "fake"
    program = sys.executable

    def __init__(self):
        super().__init__()

    def command(self, run_dir, image, serial, budget):
        return [sys.executable, FAKE, serial], dict(os.environ)


def fake_bochs_env(d: str) -> dict:
    """The environment with a `bochs` on PATH that is fake_emulator.py."""
    bindir = os.path.join(d, "fakebin")
    os.makedirs(bindir, exist_ok=True)
    path = os.path.join(bindir, "bochs")
    with open(path, "w") as f:
        f.write("#!/bin/sh\nexec '%s' '%s' --bochs \"$@\"\n" % (sys.executable, FAKE))
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    env = dict(os.environ)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env.pop("BACKEND", None)
    env.pop("BUILD", None)
    env["NO_COLOR"] = "1"
    return env


# --- records and boots as the kernel reports them ----------------------------

def data(**kw) -> dict:
    """Test data as the parser keeps it (bytes); `expect_exit_code=7` is
    the key expect.exit_code, `capture_len` capture.len."""
    out = {}
    for k, v in kw.items():
        key = k.replace("expect_", "expect.").replace("capture_", "capture.")
        out[key] = v if isinstance(v, bytes) else str(v).encode()
    return out


def replayed_boot(serial: bytes, kind: str, detail: str = "", expected=None) -> runner.BootResult:
    """A BootResult as a real boot with this serial output would give."""
    log = protocol.parse(serial, expected)
    return runner.BootResult(oc.BootOutcome(kind, detail), log, "/nonexistent/boot",
                             "", 0.0, 1.0)


def ran_with(name, values=None, verdict="pass", reason="", faults=(), time=0.25) -> Ran:
    """A Ran of a test that ended with this data, its boot clean."""
    rec = TestRecord(name, began=True, ended=True, verdict=verdict, reason=reason,
                     data=dict(values or {}), faults=[Fault(m, list(d)) for m, d in faults])
    boot = replayed_boot(b"", oc.SUCCESS)
    return Ran(name, rec, boot, oc.SUCCESS, time)


def graded_test(name, category="Print", weight=1, hidden=False) -> R.Test:
    return R.Test(name, category, weight, hidden, "", 2, "project2/tests.c")
