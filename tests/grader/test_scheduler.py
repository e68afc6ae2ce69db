"""Spreading tests over boots; resuming after a crash (recorded logs
replayed by a fake boot, and real processes of the fake emulator)."""
import dataclasses
import os
import tempfile
import threading
import unittest

from grader import outcome as oc
from grader import runner, scheduler
from grader.protocol import LogParser
from grader.scheduler import Planned
from helpers import FakeBackend, fixture, replayed_boot, write_iso


def planned(*names):
    return [Planned(n, 5, 1000) for n in names]


class Replay:
    """boot_fn that answers each batch with a recorded serial log."""

    def __init__(self, table):
        self.table = table  # tuple of names -> (fixture name or bytes, outcome kind)
        self.boots = []
        self.lock = threading.Lock()

    def __call__(self, batch):
        key = tuple(t.name for t in batch)
        with self.lock:
            self.boots.append(key)
        serial, kind = self.table[key]
        return replayed_boot(fixture(serial) if isinstance(serial, str) else serial, kind,
                             expected=list(key))


class Split(unittest.TestCase):
    def test_split(self):
        self.assertEqual(scheduler.split([1, 2, 3, 4, 5], 2), [[1, 2, 3], [4, 5]])
        self.assertEqual(scheduler.split([1], 4), [[1]])
        self.assertEqual(scheduler.split([], 2), [])

    def test_cap(self):
        self.assertEqual(scheduler._cap([1, 2, 3], 2, None), [[1, 2], [3]])
        self.assertEqual(scheduler._cap([1, 2, 3], None, lambda b: sum(b) <= 3), [[1, 2], [3]])


class Resume(unittest.TestCase):
    def test_crash_resumes_the_rest_in_a_fresh_boot(self):
        names = ("p2_halt_code", "p2_print_hello", "p2_print_empty")
        replay = Replay({
            names: ("p2_kernel_panic.serial", oc.PANIC),
            ("p2_print_empty",): ("p2_resume.serial", oc.SUCCESS),
        })
        ran = scheduler.run(planned(*names), replay, jobs=1)
        self.assertEqual(replay.boots, [names, ("p2_print_empty",)])
        self.assertEqual([r.name for r in ran], list(names))
        self.assertEqual([r.outcome for r in ran], [oc.SUCCESS, oc.PANIC, oc.SUCCESS])
        self.assertIn("VMRESUME failed", ran[1].record.panic.message)
        self.assertEqual(ran[2].record.data["cases"], b"5/5")
        self.assertIs(ran[0].boot, ran[1].boot)
        self.assertIsNot(ran[1].boot, ran[2].boot)

    def test_boot_that_runs_nothing_charges_everyone(self):
        replay = Replay({("a", "b"): ("no_boot.serial", oc.TRIPLE_FAULT)})
        ran = scheduler.run(planned("a", "b"), replay, jobs=1)
        self.assertEqual(len(replay.boots), 1)
        self.assertEqual([(r.record, r.outcome) for r in ran],
                         [(None, oc.TRIPLE_FAULT), (None, oc.TRIPLE_FAULT)])

    def test_lost_begin_frame_is_charged_to_the_next_test(self):
        # crash_triple_fault's begin line was cut off by the triple fault.
        replay = Replay({
            ("printk_formats", "crash_triple_fault", "string_functions"):
                ("crash_triple_fault.serial", oc.TRIPLE_FAULT),
            ("string_functions",): (b"@@ boot kevlab cmdline=\\e\n@@ test begin string_functions\n"
                                    b"@@ test end string_functions pass\n@@ done\n", oc.SUCCESS),
        })
        ran = scheduler.run(planned("printk_formats", "crash_triple_fault", "string_functions"),
                            replay, jobs=1)
        self.assertEqual([r.outcome for r in ran], [oc.SUCCESS, oc.TRIPLE_FAULT, oc.SUCCESS])
        self.assertTrue(ran[1].record.lost_begin)

    def test_tests_the_kernel_skipped_are_not_run(self):
        log = (b"@@ boot kevlab cmdline=\\e\n@@ test begin a\n@@ test end a pass\n"
               b"@@ done passed=1 failed=0\n")
        ran = scheduler.run(planned("a", "b"), Replay({("a", "b"): (log, oc.SUCCESS)}), jobs=1)
        self.assertEqual([r.outcome for r in ran], [oc.SUCCESS, oc.NOT_RUN])

    def test_began_but_never_ended_in_a_clean_boot(self):
        log = b"@@ boot kevlab cmdline=\\e\n@@ test begin a\n@@ done passed=0 failed=0\n"
        ran = scheduler.run(planned("a"), Replay({("a",): (log, oc.SUCCESS)}), jobs=1)
        self.assertEqual(ran[0].outcome, oc.NO_END_FRAME)


class Settle(unittest.TestCase):
    def settle(self, serial, kind, names, detail=""):
        boot = replayed_boot(serial, kind, detail, expected=names)
        return scheduler.settle(planned(*names), boot)

    def test_planned_holds_limits_only(self):
        self.assertEqual([f.name for f in dataclasses.fields(Planned)],
                         ["name", "timeout", "budget"])

    def test_a_violation_ends_the_boots_grading(self):
        log = (b"@@ boot kevlab cmdline=\\e\n@@ test begin a\n@@ test end a pass\n"
               b"@@ test begin b\n@@ test end c pass\n@@ test end b pass\n@@ done\n")
        done, leftover = self.settle(log, oc.SUCCESS, ["a", "b", "c"])
        self.assertEqual(leftover, [])
        self.assertEqual([(r.name, r.outcome, r.record is None) for r in done], [
            ("a", oc.SUCCESS, False), ("b", oc.PROTOCOL_VIOLATION, False),
            ("c", oc.PROTOCOL_VIOLATION, True)])
        self.assertEqual(done[1].boot.log.violation, "`test end c` while test b was running")

    def test_a_timeout_charges_the_running_test_and_resumes_the_rest(self):
        log = (b"@@ boot kevlab cmdline=\\e\n@@ test begin a\n@@ test end a pass\n"
               b"@@ test begin b\nloop\n")
        done, leftover = self.settle(log, oc.TIMEOUT, ["a", "b", "c", "d"], "test b ran longer")
        self.assertEqual([(r.name, r.outcome) for r in done],
                         [("a", oc.SUCCESS), ("b", oc.TIMEOUT)])
        self.assertEqual([t.name for t in leftover], ["c", "d"])

    def test_times_come_from_the_frames(self):
        p = LogParser(["a", "b"])
        p.feed(b"@@ boot kevlab cmdline=\\e\n", now=0.0)
        p.feed(b"@@ test begin a\n", now=1.0)
        p.feed(b"@@ test end a pass\n@@ test begin b\n", now=3.5)
        boot = runner.BootResult(oc.BootOutcome(oc.PANIC), p.log, "/r", "", 0.0, 10.0)
        done, _ = scheduler.settle(planned("a", "b"), boot)
        self.assertEqual([r.time for r in done], [2.5, 6.5])

    def test_an_emulator_that_never_started_charges_every_test(self):
        done, leftover = self.settle(b"", oc.EMULATOR_ERROR, ["a", "b"], "bochs is not installed")
        self.assertEqual(leftover, [])
        self.assertEqual([(r.record, r.outcome) for r in done],
                         [(None, oc.EMULATOR_ERROR), (None, oc.EMULATOR_ERROR)])

    def test_a_kernel_failure_with_a_test_unended_is_no_end_frame(self):
        log = b"@@ boot kevlab cmdline=\\e\n@@ test begin a\n@@ poweroff fail\n"
        done, leftover = self.settle(log, oc.KERNEL_FAILURE, ["a", "b"])
        self.assertEqual([(r.name, r.outcome) for r in done], [("a", oc.NO_END_FRAME)])
        self.assertEqual([t.name for t in leftover], ["b"])


class Parallel(unittest.TestCase):
    def test_every_test_runs_once_with_real_processes(self):
        # The fake emulator panics on `crash*` tests: each crash ends a boot
        # and the tests after it resume in another.
        names = ["t1", "crash2", "t3", "t4", "crash5", "t6", "t7", "t8", "wrong9"]
        with tempfile.TemporaryDirectory() as d:
            image = write_iso(d)
            counter = iter(range(100))
            lock = threading.Lock()
            boots = []

            def boot_fn(batch):
                with lock:
                    n = next(counter)
                    boots.append([t.name for t in batch])
                line = "test=" + ",".join(t.name for t in batch)
                return runner.boot(FakeBackend(), image, line, os.path.join(d, "b%d" % n),
                                   runner.Limits(boot=20, tests={t.name: 20 for t in batch}),
                                   expected=[t.name for t in batch])
            done = []
            ran = scheduler.run(planned(*names), boot_fn, jobs=3, on_done=done.append)
        self.assertEqual([r.name for r in ran], names)
        self.assertEqual(sorted(r.name for r in done), sorted(names))
        kinds = {r.name: r.outcome for r in ran}
        self.assertEqual(kinds["crash2"], oc.PANIC)
        self.assertEqual(kinds["crash5"], oc.PANIC)
        self.assertEqual(kinds["wrong9"], oc.SUCCESS)  # ended: its own check failed
        self.assertEqual(ran[-1].record.verdict, "fail")
        self.assertTrue(all(kinds[n] == oc.SUCCESS for n in names if n.startswith("t")))
        ran_in = [n for b in boots for n in b]
        for n in names:  # a test is never given to two boots that both start it
            self.assertGreaterEqual(ran_in.count(n), 1)
        self.assertLessEqual(len(boots), 3 + 2 + 2)

    def test_an_error_in_a_boot_is_raised(self):
        def boot_fn(batch):
            raise RuntimeError("boom")
        with self.assertRaises(RuntimeError):
            scheduler.run(planned("a", "b", "c"), boot_fn, jobs=2)


if __name__ == "__main__":
    unittest.main()
