"""The emulators a boot can run under, and how each reports how it ended.

A backend writes its configuration into the boot's run directory, gives the
command to run, and maps the emulator's exit status and logs to an outcome
(grader/outcome.py). Choosing `auto` looks at this host (choose()).
See docs/debugging.md (Bochs) and docs/protocol.md for the facts used.
"""

import os
import shutil

from grader import outcome as oc

INSTALL_HINT = ("run `sudo scripts/install-deps` (Debian/Ubuntu: "
                "apt-get install bochs bochsbios vgabios bochs-term qemu-system-x86)")


class Backend:
    """One emulator. Subclasses set name and program."""
    name = "?"
    program = "?"
    has_budget = False  # can stop a boot after N emulated instructions

    def missing(self) -> str | None:
        """Why this backend cannot run here, or None."""
        if shutil.which(self.program) is None:
            return "%s is not installed: %s" % (self.program, INSTALL_HINT)
        return None

    def command(self, run_dir: str, image: str, serial: str, budget: int | None):
        """Writes config files; returns (argv, env) run with cwd=run_dir."""
        raise NotImplementedError

    def classify(self, status: int, run_dir: str, log) -> oc.BootOutcome:
        """Maps how the emulator exited (log: the parsed serial log)."""
        raise NotImplementedError


BOCHSRC = """\
# Written by grader/backends.py for one boot (see docs/debugging.md).
megs: 128
romimage: file=/usr/share/bochs/BIOS-bochs-latest, options=fastboot
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
cpu: model={cpu_model}, count=1, ips=1000000, reset_on_triple_fault=0
clock: sync=none, time0=946684800
display_library: term
ata0-master: type=disk, path={image}, mode=flat
boot: disk
com1: enabled=1, mode=file, dev={serial}
speaker: enabled=0
sound: driver=dummy
usb_uhci: enabled=0
log: bochs.log
panic: action=fatal
error: action=ignore, cpu0=report
info: action=ignore
debug: action=ignore
"""
# Only the CPU's errors are logged (every failed VM-entry check, as VMFAIL or
# VMENTER FAIL lines): a runaway guest hammering devices can otherwise write
# hundreds of MB of device errors (notes/bochs.md).

# Bochs ends every boot with status 0 or 1; these tell the cases apart.
BOCHS_BUDGET = "Caught time breakpoint"  # on stdout
BOCHS_SHUTDOWN = "Shutdown port: shutdown requested"  # the kernel asked to fail
BOCHS_TRIPLE = "exception with no resolution"  # "3rd (13) exception with no resolution"
DEFAULT_BUDGET = 2_000_000_000  # instructions, when the caller gives none


class Bochs(Backend):
    name = "bochs"
    program = "bochs"
    has_budget = True

    def __init__(self, cpu_model: str = "corei7_skylake_x"):
        self.cpu_model = cpu_model

    def command(self, run_dir, image, serial, budget):
        with open(os.path.join(run_dir, "bochsrc"), "w") as f:
            f.write(BOCHSRC.format(cpu_model=self.cpu_model, image=image, serial=serial))
        # sba: a time breakpoint at an absolute tick; the debugger then runs
        # `q`. A kernel's 'D' on port 0x8900 also breaks into it: `q` again.
        with open(os.path.join(run_dir, "run.rc"), "w") as f:
            f.write("sba %d\nc\nq\n" % (budget or DEFAULT_BUDGET))
        env = dict(os.environ)
        if not env.get("TERM") or env.get("TERM") == "unknown":
            env["TERM"] = "dumb"  # the term display needs one; any will do
        argv = [self.program, "-q", "-f", "bochsrc", "-rc", "run.rc"]
        return argv, env

    def classify(self, status, run_dir, log):
        stdout = _read(os.path.join(run_dir, "emulator.out"))
        blog = _read(os.path.join(run_dir, "bochs.log"))
        if status == 0:
            if BOCHS_BUDGET in stdout:
                return oc.BootOutcome(oc.BUDGET, exit_status=status)
            return oc.BootOutcome(oc.SUCCESS, exit_status=status)
        if status == 1:
            if BOCHS_SHUTDOWN in blog:
                kind = oc.PANIC if log.panics else oc.KERNEL_FAILURE
                return oc.BootOutcome(kind, exit_status=status)
            if BOCHS_TRIPLE in blog:
                return oc.BootOutcome(oc.TRIPLE_FAULT, _panic_line(blog), status)
        detail = _panic_line(blog) or _tail(_read(os.path.join(run_dir, "emulator.err")))
        return oc.BootOutcome(oc.EMULATOR_ERROR,
                              "bochs exited with status %d: %s (see %s/bochs.log)"
                              % (status, detail or "no message", run_dir), status)


class Qemu(Backend):
    name = "qemu-tcg"
    program = "qemu-system-x86_64"

    def __init__(self, kvm: bool = False, gdb: bool = False):
        self.kvm = kvm
        self.gdb = gdb
        if kvm:
            self.name = "qemu-kvm"

    def command(self, run_dir, image, serial, budget):
        argv = [self.program,
                "-drive", "file=%s,format=raw,if=ide,media=disk" % image,
                "-serial", "file:%s" % serial,
                "-display", "none", "-monitor", "none", "-no-reboot",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                "-m", "128"]
        if self.kvm:
            argv += ["-enable-kvm", "-cpu", "host"]
        if self.gdb:
            argv += ["-s", "-S"]
        return argv, dict(os.environ)

    def classify(self, status, run_dir, log):
        # isa-debug-exit: QEMU exits (value << 1) | 1; the kernel writes 0x10
        # for success and 0x11 for failure. With -no-reboot a reset (a
        # triple fault) exits 0.
        if status == 33:
            return oc.BootOutcome(oc.SUCCESS, exit_status=status)
        if status == 35:
            kind = oc.PANIC if log.panics else oc.KERNEL_FAILURE
            return oc.BootOutcome(kind, exit_status=status)
        if status == 0:
            return oc.BootOutcome(oc.TRIPLE_FAULT, "the machine reset", status)
        err = _tail(_read(os.path.join(run_dir, "emulator.err")))
        return oc.BootOutcome(oc.EMULATOR_ERROR, "%s exited with status %d: %s"
                              % (self.program, status, err or "no message"), status)


def _read(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _panic_line(blog: str) -> str:
    for line in blog.splitlines():
        if ">>PANIC<<" in line:
            return line.split(">>PANIC<<", 1)[1].strip()
    return ""


def _tail(text: str, lines: int = 3) -> str:
    kept = [l.strip() for l in text.splitlines() if l.strip()]
    return " | ".join(kept[-lines:])


# --- choosing -------------------------------------------------------------

NAMES = ("auto", "bochs", "qemu-tcg", "qemu-kvm")


class Host:
    """The facts about this machine that `auto` looks at (a class so tests
    can give other facts)."""
    root = "/"

    def path(self, p: str) -> str:
        return os.path.join(self.root, p.lstrip("/"))

    def read(self, p: str) -> str | None:
        try:
            with open(self.path(p)) as f:
                return f.read()
        except OSError:
            return None

    def kvm_usable(self) -> bool:
        return os.access(self.path("/dev/kvm"), os.R_OK | os.W_OK)


def kvm_nested_vmx(host: Host) -> tuple:
    """(True, why) when qemu-kvm can give the kernel VMX, else (False, why)."""
    if not os.path.exists(host.path("/dev/kvm")):
        return False, "there is no /dev/kvm (KVM is not available here)"
    if not host.kvm_usable():
        return False, "/dev/kvm is not usable by this user (is it in group kvm?)"
    cpuinfo = host.read("/proc/cpuinfo") or ""
    flags = set()
    vendor = ""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            flags.update(value.split())
        elif key.strip() == "vendor_id" and not vendor:
            vendor = value.strip()
    if "vmx" not in flags:
        if vendor == "AuthenticAMD" or "svm" in flags:
            return False, "this CPU has no VMX: it is AMD"
        return False, "this CPU shows no VMX (a VM without nested virtualization?)"
    nested = (host.read("/sys/module/kvm_intel/parameters/nested") or "").strip()
    if nested not in ("Y", "y", "1"):
        return False, "kvm_intel's nested VMX is off (modprobe kvm_intel nested=1)"
    return True, "KVM with nested VMX is available"


def choose(name: str, cpu_model: str | None = None, host: Host | None = None,
           source: str = "--backend") -> tuple:
    """Returns (backend, reason) for a backend name or `auto`."""
    # KEVLAB_BOCHS_CPU lets a whole `make test` run on another CPU model.
    cpu_model = cpu_model or os.environ.get("KEVLAB_BOCHS_CPU") or "corei7_skylake_x"
    if name == "auto":
        ok, why = kvm_nested_vmx(host or Host())
        if ok:
            return Qemu(kvm=True), "auto: " + why
        return Bochs(cpu_model), "auto: " + why
    if name == "bochs":
        return Bochs(cpu_model), "chosen with " + source
    if name == "qemu-tcg":
        return Qemu(), "chosen with %s; QEMU's TCG has no VMX, so kev cannot run" % source
    if name == "qemu-kvm":
        return Qemu(kvm=True), "chosen with " + source
    raise ValueError("unknown backend %r (choose one of %s)" % (name, ", ".join(NAMES)))
