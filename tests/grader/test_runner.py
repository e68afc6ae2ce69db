"""Boots through the runner with a fake emulator; backends' exit mapping;
choosing the backend."""
import contextlib
import os
import subprocess
import tempfile
import time
import unittest
import unittest.mock

from grader import backends, runner
from grader import outcome as oc
from grader.protocol import Log, parse
from helpers import FakeBackend, fake_bochs_env, fixture, write_iso


def gone(pid) -> bool:
    """The process is no more (or a zombie nobody reaped yet)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@contextlib.contextmanager
def path_with_fake_bochs(d):
    old = os.environ["PATH"]
    os.environ["PATH"] = fake_bochs_env(d)["PATH"]
    try:
        yield
    finally:
        os.environ["PATH"] = old


class Runner(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name
        self.iso = write_iso(self.d)

    def tearDown(self):
        self.tmp.cleanup()

    def boot(self, line, limits=None, **kw):
        limits = limits or runner.Limits(boot=20, tests={})
        return runner.boot(FakeBackend(), self.iso, line, os.path.join(self.d, "run"), limits, **kw)

    def test_success_and_live_output(self):
        seen = []
        res = self.boot("test=a,b seed=5", on_output=seen.append, expected=["a", "b"])
        self.assertEqual(res.outcome.kind, oc.SUCCESS)
        self.assertIsNone(res.log.violation)
        self.assertEqual(res.log.cmdline, b"test=a,b seed=5")
        self.assertEqual(res.log.tests["a"].data, {"cases": b"3/3"})
        self.assertEqual(res.log.tests["b"].lines, ["guest| hello from b"])
        self.assertEqual(b"".join(seen), open(res.serial_path, "rb").read())
        self.assertEqual(open(os.path.join(res.run_dir, "cmdline")).read(), "test=a,b seed=5\n")
        self.assertFalse(os.path.exists(os.path.join(res.run_dir, "kevlab.iso")))
        self.assertTrue(gone(int(open(os.path.join(res.run_dir, "fake.pid")).read())))
        self.assertGreaterEqual(res.wall, 0)

    def test_the_image_is_kept_when_asked(self):
        res = self.boot("test=none", keep_image=True)
        with open(os.path.join(res.run_dir, "kevlab.iso"), "rb") as f:
            self.assertIn(b"multiboot2 /boot/kernel.elf test=none    ", f.read())

    def test_failure_and_panic(self):
        res = self.boot("test=a_wrong")
        self.assertEqual(res.outcome.kind, oc.KERNEL_FAILURE)
        self.assertEqual(res.log.tests["a_wrong"].verdict, "fail")
        res = self.boot("test=a,crash_b")
        self.assertEqual(res.outcome.kind, oc.PANIC)
        self.assertTrue(res.log.tests["crash_b"].crashed)

    def test_a_students_stop_costs_its_test_only(self):
        res = self.boot("test=a_todo,b", expected=["a_todo", "b"])
        self.assertEqual(res.outcome.kind, oc.KERNEL_FAILURE)
        self.assertEqual(len(res.log.tests["a_todo"].faults), 1)
        self.assertEqual(res.log.tests["b"].verdict, "pass")

    def test_a_violation_is_recorded(self):
        res = self.boot("test=a_rogue,b", expected=["a_rogue", "b"])
        self.assertEqual(res.log.violation, "`test data someone_else` while test a_rogue was "
                                            "running")
        self.assertNotIn("b", res.log.tests)

    @unittest.skipUnless(hasattr(os, "pidfd_open"), "no pidfd on this OS")
    def test_the_exit_is_awaited_through_a_pidfd(self):
        proc = subprocess.Popen(["sleep", "0.05"])
        with runner._exit_fd(proc) as exit_fd:
            self.assertIsNotNone(exit_fd)
            self.assertFalse(runner._wait(proc, exit_fd, 0))
            for _ in range(500):  # 10 s at the most: a broken wait fails, never hangs
                if runner._wait(proc, exit_fd, 0.02):
                    break
            else:
                self.fail("the exit of `sleep 0.05` was not seen through its pidfd")
        self.assertEqual(proc.returncode, 0)

    def test_the_same_without_pidfd(self):
        """Where the OS has no pidfd the runner polls for the exit instead:
        the same outcomes."""
        with unittest.mock.patch.object(runner, "_exit_fd", lambda proc: contextlib.nullcontext(None)):
            self.test_success_and_live_output()
            self.test_a_students_stop_costs_its_test_only()
            self.test_hanging_test_is_killed_and_named()

    def test_reset_is_a_triple_fault(self):
        self.assertEqual(self.boot("test=tf").outcome.kind, oc.TRIPLE_FAULT)

    def test_hanging_test_is_killed_and_named(self):
        res = self.boot("test=a,hang_b,c", runner.Limits(boot=20, tests={"a": 20, "hang_b": 0.3}))
        self.assertEqual(res.outcome.kind, oc.TIMEOUT)
        self.assertTrue(gone(int(open(os.path.join(res.run_dir, "fake.pid")).read())))
        self.assertIn("test hang_b ran longer than its 0.3 s limit", res.outcome.detail)
        self.assertTrue(res.log.tests["a"].ended)
        self.assertIs(res.log.running(), res.log.tests["hang_b"])

    def test_boot_that_never_starts_a_test_is_killed(self):
        res = self.boot("test=hang_a", runner.Limits(boot=0.3, tests={}))
        # hang_a has no limit of its own here: the boot's total limit applies.
        self.assertEqual(res.outcome.kind, oc.TIMEOUT)
        self.assertIn("limit", res.outcome.detail)

    def test_whole_run_limit(self):
        res = self.boot("test=hang_a", runner.Limits(boot=20, tests={"hang_a": 20},
                                                     not_after=time.monotonic() + 0.3))
        self.assertEqual(res.outcome.kind, oc.TIMEOUT)
        self.assertIn("whole run", res.outcome.detail)

    def test_output_is_capped(self):
        old = runner.MAX_OUTPUT
        runner.MAX_OUTPUT = 1 << 20
        try:
            res = self.boot("test=spam", runner.Limits(boot=20, tests={"spam": 20}))
        finally:
            runner.MAX_OUTPUT = old
        self.assertEqual(res.outcome.kind, oc.RUNAWAY_OUTPUT)
        self.assertIn("grew past 1 MB", res.outcome.detail)
        self.assertLessEqual(len(res.log.tests["spam"].lines), 2000)

    def test_missing_program_or_image(self):
        class Missing(FakeBackend):
            program = "no-such-emulator-kevlab"
        res = runner.boot(Missing(), self.iso, "test=none", os.path.join(self.d, "r2"),
                          runner.Limits())
        self.assertEqual(res.outcome.kind, oc.EMULATOR_ERROR)
        self.assertIn("not installed", res.outcome.detail)
        res = runner.boot(FakeBackend(), os.path.join(self.d, "none.iso"), "test=none",
                          os.path.join(self.d, "r3"), runner.Limits())
        self.assertEqual(res.outcome.kind, oc.EMULATOR_ERROR)
        self.assertIn("make", res.outcome.detail)


class FakeBochs(unittest.TestCase):
    """The Bochs backend end to end, with fake_emulator.py as `bochs`."""

    def test_each_ending(self):
        with tempfile.TemporaryDirectory() as d, path_with_fake_bochs(d):
            image = write_iso(d)
            for line, kind in (("test=a,b", oc.SUCCESS), ("test=a_wrong", oc.KERNEL_FAILURE),
                               ("test=crash_a", oc.PANIC), ("test=a,tf", oc.TRIPLE_FAULT)):
                with self.subTest(line):
                    res = runner.boot(backends.Bochs(), image, line, os.path.join(d, "run"),
                                      runner.Limits(boot=20), expected=line[5:].split(","))
                    self.assertEqual(res.outcome.kind, kind, res.outcome.describe())
                    self.assertEqual(res.log.cmdline, line.encode())  # read from the image
                    self.assertTrue(os.path.exists(os.path.join(res.run_dir, "bochsrc")))


class BochsExit(unittest.TestCase):
    def classify(self, status, out="", blog="", log=None):
        with tempfile.TemporaryDirectory() as d:
            open(os.path.join(d, "emulator.out"), "w").write(out)
            open(os.path.join(d, "bochs.log"), "w").write(blog)
            return backends.Bochs().classify(status, d, log or Log())

    def test_statuses(self):
        self.assertEqual(self.classify(0).kind, oc.SUCCESS)
        self.assertEqual(self.classify(0, "(0) Caught time breakpoint\n").kind, oc.BUDGET)
        shutdown = "00036524224p[UNMAP ] >>PANIC<< Shutdown port: shutdown requested\n"
        self.assertEqual(self.classify(1, blog=shutdown).kind, oc.KERNEL_FAILURE)
        log = parse(fixture("crash_panic.serial"))
        self.assertEqual(self.classify(1, blog=shutdown, log=log).kind, oc.PANIC)
        triple = fixture("crash_triple_fault.bochs.log").decode()
        out = self.classify(1, blog=triple)
        self.assertEqual(out.kind, oc.TRIPLE_FAULT)
        self.assertIn("3rd (13) exception", out.detail)
        other = self.classify(1, blog="00000000000p[HD    ] >>PANIC<< ata0-0: could not open "
                                      "hard drive image file 'x.iso'\n")
        self.assertEqual(other.kind, oc.EMULATOR_ERROR)
        self.assertIn("could not open", other.detail)

    def test_config(self):
        with tempfile.TemporaryDirectory() as d:
            argv, env = backends.Bochs("tigerlake").command(d, "k.iso", "serial.log", 12345)
            rc = open(os.path.join(d, "bochsrc")).read()
            self.assertIn("cpu: model=tigerlake,", rc)
            self.assertIn("reset_on_triple_fault=0", rc)
            self.assertIn("path=k.iso, mode=flat", rc)
            self.assertIn("com1: enabled=1, mode=file, dev=serial.log", rc)
            self.assertIn("display_library: term", rc)
            self.assertIn("options=fastboot", rc)
            self.assertEqual(open(os.path.join(d, "run.rc")).read(), "sba 12345\nc\nq\n")
            self.assertEqual(argv, ["bochs", "-q", "-f", "bochsrc", "-rc", "run.rc"])
            self.assertTrue(env["TERM"])


class QemuExit(unittest.TestCase):
    def test_statuses(self):
        q = backends.Qemu()
        with tempfile.TemporaryDirectory() as d:
            self.assertEqual(q.classify(33, d, Log()).kind, oc.SUCCESS)
            self.assertEqual(q.classify(35, d, Log()).kind, oc.KERNEL_FAILURE)
            self.assertEqual(q.classify(0, d, Log()).kind, oc.TRIPLE_FAULT)
            self.assertEqual(q.classify(1, d, Log()).kind, oc.EMULATOR_ERROR)

    def test_command(self):
        argv, _ = backends.Qemu(kvm=True, gdb=True).command("/r", "k.iso", "serial.log", None)
        line = " ".join(argv)
        for part in ("-no-reboot", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-m 128",
                     "-enable-kvm -cpu host", "-s -S", "-display none", "file:serial.log"):
            self.assertIn(part, line)


class Choosing(unittest.TestCase):
    def host(self, cpuinfo, nested=None, kvm=True, usable=True):
        d = tempfile.mkdtemp()
        os.makedirs(os.path.join(d, "proc"))
        open(os.path.join(d, "proc/cpuinfo"), "w").write(cpuinfo)
        if kvm:
            os.makedirs(os.path.join(d, "dev"))
            open(os.path.join(d, "dev/kvm"), "w").close()
        if nested is not None:
            os.makedirs(os.path.join(d, "sys/module/kvm_intel/parameters"))
            open(os.path.join(d, "sys/module/kvm_intel/parameters/nested"), "w").write(nested)
        h = backends.Host()
        h.root = d
        h.kvm_usable = lambda: usable
        return h

    INTEL = "vendor_id\t: GenuineIntel\nflags\t\t: fpu vme vmx sse\n"
    AMD = "vendor_id\t: AuthenticAMD\nflags\t\t: fpu svm sse\n"

    def test_auto(self):
        be, why = backends.choose("auto", host=self.host(self.INTEL, "Y"))
        self.assertEqual((be.name, why), ("qemu-kvm", "auto: KVM with nested VMX is available"))
        be, why = backends.choose("auto", host=self.host(self.AMD))
        self.assertEqual((be.name, why), ("bochs", "auto: this CPU has no VMX: it is AMD"))
        be, why = backends.choose("auto", host=self.host(self.INTEL, "N"))
        self.assertEqual(be.name, "bochs")
        self.assertIn("nested", why)
        be, why = backends.choose("auto", host=self.host(self.INTEL, "Y", kvm=False))
        self.assertIn("no /dev/kvm", why)
        be, why = backends.choose("auto", host=self.host(self.INTEL, "Y", usable=False))
        self.assertIn("not usable", why)
        be, why = backends.choose("auto", host=self.host("flags: fpu sse\n", "Y"))
        self.assertIn("shows no VMX", why)

    def test_named(self):
        be, why = backends.choose("bochs", "corei3_cnl")
        self.assertEqual((be.name, be.cpu_model), ("bochs", "corei3_cnl"))
        self.assertEqual(backends.choose("qemu-tcg")[0].name, "qemu-tcg")
        self.assertTrue(backends.choose("qemu-kvm")[0].kvm)
        with self.assertRaises(ValueError):
            backends.choose("vmware")


if __name__ == "__main__":
    unittest.main()
