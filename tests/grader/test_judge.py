"""Verdicts: what passes, and the first line and the details of every way
a test fails (grader/judge.py), on crafted records and recorded boots."""
import os
import unittest

from grader import judge, scheduler
from grader import outcome as oc
from grader.protocol import TestRecord
from grader.scheduler import Planned, Ran
from helpers import ROOT, data, fixture, p2_rubric, ran_with, replayed_boot

RUB = p2_rubric()
TODO = "TODO() in hypercall_resolve() at project2/hypercall.c:121: not yet implemented"
BACKTRACE = ["    backtrace (most recent call first):",
             "      #0  000000000011301f hypercall_resolve+0x1f"]


def verdict(name, values, verdict="fail", reason="", faults=(), max_score=10.0):
    return judge.judge(RUB.test(name), ran_with(name, values, verdict, reason, faults), 2,
                       max_score)


def crashed(name, serial, kind, detail="", **rec):
    """The Result of a test that began in this log and did not end."""
    boot = replayed_boot(serial, kind, detail)
    record = boot.log.tests.get(name) or TestRecord(name, began=True, **rec)
    for k, v in rec.items():
        setattr(record, k, v)
    return judge.judge(RUB.test(name), Ran(name, record, boot, kind, 1.5), 2, 5.0)


class Passing(unittest.TestCase):
    def test_every_case_passed(self):
        r = verdict("p2_halt_code", data(cases="14/14"), "pass")
        self.assertEqual((r.passed, r.score, r.max_score, r.summary, r.details, r.not_graded),
                         (True, 10.0, 10.0, "", [], False))
        self.assertEqual((r.name, r.category, r.time, r.hidden), ("p2_halt_code", "HaltCpu",
                                                                 0.25, False))
        self.assertTrue(verdict("p2_print_utf8", data(cases="1/1"), "pass").hidden)

    def test_a_pass_needs_every_planned_case(self):
        for values, summary in [
                (data(cases="13/14"), "failed without saying why (cases 13/14)"),
                (data(cases="0/0"), "failed without saying why (cases 0/0)"),
                (data(), "failed without saying why (the test reported no `cases n/n`)"),
                (data(cases="14"), "failed without saying why (the test reported no `cases n/n`)"),
                (data(cases="x/14"),
                 "failed without saying why (the test reported no `cases n/n`)"),
        ]:
            with self.subTest(values):
                r = verdict("p2_halt_code", values, "pass")
                self.assertEqual((r.passed, r.score, r.summary), (False, 0.0, summary))

    def test_a_reported_failed_case_is_never_a_pass(self):
        r = verdict("p2_halt_code", data(cases="14/14", failed_case=3, exit_code=1,
                                         expect_exit_code=2), "pass")
        self.assertFalse(r.passed)
        self.assertEqual(r.summary, "the VM exited with code 1 (0x1), expected 2 (0x2)")

    def test_a_skip_is_not_graded(self):
        r = verdict("p2_halt_code", data(), "skip", "this CPU has no VMX")
        self.assertEqual((r.passed, r.not_graded, r.score), (False, True, 0.0))
        self.assertEqual(r.summary, "not graded: the kernel skipped the test: this CPU has no VMX")
        r = verdict("p2_halt_code", data(cases="14/14"), "skip")
        self.assertEqual(r.summary, "not graded: the kernel skipped the test: no reason given")


class Summaries(unittest.TestCase):
    """The first line names the real cause, in this order: the student
    code's stop, a wrong ending, a wrong capture, the kernel's own reason."""

    def test_the_students_stop_comes_first_and_a_todo_is_shortened(self):
        values = data(failed_case=0, inputs="code=0x0", error="KEV_ESTUDENT", message=TODO,
                      expect_exit_code=0, exits=1, cases="0/14")
        r = verdict("p2_halt_code", values, faults=[(TODO, BACKTRACE)])
        self.assertEqual(r.summary, "TODO() in hypercall_resolve() at project2/hypercall.c:121")
        self.assertEqual(r.details, ["case 0 of 14 failed; its inputs: code=0x0",
                                     "your code stopped: " + TODO])
        self.assertEqual((r.fault, r.fault_details), (TODO, BACKTRACE))
        self.assertFalse(r.not_graded)

    def test_a_todo_shows_no_capture_diff(self):
        values = data(failed_case=0, inputs="x", error="KEV_ESTUDENT", message=TODO,
                      expect_exit_code=0, capture="", expect_capture="expected\n", capture_at=0,
                      capture_len=0, expect_capture_len=9, cases="0/3")
        r = verdict("p2_print_hello", values, faults=[(TODO, BACKTRACE)])
        self.assertEqual(r.details, ["case 0 of 3 failed; its inputs: x", "your code stopped: " + TODO])

    def test_other_stops_are_shown_whole(self):
        pf = ("CPU exception 14 #PF (page fault) in your code at rip 0x113020 in "
              "hypercall_handle+0x20, error code 0x4")
        values = data(failed_case=2, inputs="buf=GUEST_BUF+0 size=1", error="KEV_ESTUDENT",
                      message=pf, expect_exit_code=0, capture="", expect_capture="x",
                      capture_at=0, capture_len=0, expect_capture_len=1, cases="2/3")
        r = verdict("p2_print_hello", values, faults=[(pf, ["    cr2=0x0: NULL"])])
        self.assertEqual(r.summary, pf)
        self.assertEqual(r.fault, pf)
        self.assertEqual(r.details[:2], [
            "case 2 of 3 failed (the cases before it passed); its inputs: buf=GUEST_BUF+0 size=1",
            "your code stopped: " + pf])
        # the stop leads, and the capture it cut short is still shown
        self.assertEqual(r.details[2], "the capture (- expected, + printed): 0 bytes printed, "
                                       "1 expected, the first difference at byte 0")

    def test_fault_summary(self):
        for message, short in [
                (TODO, "TODO() in hypercall_resolve() at project2/hypercall.c:121"),
                ("TODO() in f() at a.c:1: not yet implemented", "TODO() in f() at a.c:1"),
                ("TODO() in f() at a.c:1: something else",
                 "TODO() in f() at a.c:1: something else"),
                ("panic in f() at a.c:9: bad size", "panic in f() at a.c:9: bad size"),
                ("hypercall_handle() ran longer than its budget", "hypercall_handle() ran longer "
                                                                  "than its budget")]:
            self.assertEqual(judge.fault_summary(message), short)

    def test_todo_message_is_the_kernels(self):
        with open(os.path.join(ROOT, "kernel", "panic.h")) as f:
            self.assertIn('#define PANIC_TODO_MESSAGE "%s"' % judge.TODO_MESSAGE, f.read())

    def test_wrong_endings(self):
        rows = [
            ("an exit where an error was expected",
             data(exit_code=2989, expect_error="KEV_EHYPERCALL"),
             "the VM exited with code 2989 (0xbad) where it should have stopped with "
             "KEV_EHYPERCALL"),
            ("an error where an exit was expected, with the VM's message",
             data(error="KEV_EGUEST_FAULT", message="the guest raised #UD (invalid opcode)",
                  expect_exit_code=7),
             "the VM stopped with KEV_EGUEST_FAULT where it should have exited with code 7 "
             "(0x7): the guest raised #UD (invalid opcode)"),
            ("an error where an exit was expected, no message",
             data(error="KEV_ENOMEM", expect_exit_code=0),
             "the VM stopped with KEV_ENOMEM where it should have exited with code 0 (0x0)"),
            ("two exit codes, decimal and hex",
             data(exit_code=765200, expect_exit_code=93),
             "the VM exited with code 765200 (0xbad10), expected 93 (0x5d)"),
            ("a negative exit code is its 64 bits",
             data(exit_code=-1, expect_exit_code=4294967295),
             "the VM exited with code 18446744073709551615 (0xffffffffffffffff), expected "
             "4294967295 (0xffffffff)"),
            ("an exit code that is not a number",
             data(exit_code="oops", expect_exit_code=93),
             "the VM exited with code oops, expected 93 (0x5d)"),
            ("two errors", data(error="KEV_EINVAL", message="m", expect_error="KEV_EUNMAPPED"),
             "the VM stopped with KEV_EINVAL, expected KEV_EUNMAPPED"),
            ("the kernel's own reason", data(cases="14/14"),
             "the kernel's own check failed: this test has 14 cases; p2_halt_code.case=20 "
             "names none"),
        ]
        for what, values, summary in rows:
            with self.subTest(what):
                r = verdict("p2_halt_code", values, reason="this test has 14 cases; "
                                                           "p2_halt_code.case=20 names none")
                self.assertEqual(r.summary, summary)
                self.assertEqual((r.passed, r.not_graded, r.fault), (False, False, ""))

    def test_the_vms_message_is_in_the_details_once(self):
        r = verdict("p2_print_unmapped", data(
            failed_case=1, inputs="buf=0x700000 size=0x10", error="KEV_EINVAL",
            message="probe_gva_to_host: the range crosses a page", expect_error="KEV_EUNMAPPED",
            exits=1, cases="1/6"))
        self.assertEqual(r.details, [
            "case 1 of 6 failed (the cases before it passed); its inputs: buf=0x700000 size=0x10",
            "the VM's message: probe_gva_to_host: the range crosses a page",
            "hint: KEV_EINVAL from probe_gva_to_host means the range crossed a page: call it "
            "once per page, never for a whole buffer."])
        r = verdict("p2_halt_code", data(error="KEV_EGUEST_FAULT", message="the guest raised #GP",
                                         expect_exit_code=7))
        self.assertNotIn("the VM's message: the guest raised #GP", r.details)  # in the summary

    def test_wrong_capture_names_the_byte(self):
        rows = [
            ("cut short", b"Hi ther", b"Hi there", 0,
             "7 bytes printed, 8 expected, the first difference at byte 7",
             ["--- expected capture", "+++ your capture", "@@ -1 +1 @@", "-Hi there", "+Hi ther"]),
            ("one byte wrong", b"abcXef", b"abcdef", 0,
             "6 bytes printed, 6 expected, the first difference at byte 3",
             ["--- expected capture", "+++ your capture", "@@ -1 +1 @@", "-abcdef", "+abcXef"]),
            ("windows far into the capture", b"x" * 32 + b"YZ", b"x" * 32 + b"yz", 4064,
             "4098 bytes printed, 4098 expected, the first difference at byte 4096",
             ["--- expected capture", "+++ your capture", "@@ -1 +1 @@", "-" + "x" * 32 + "yz",
              "+" + "x" * 32 + "YZ"]),
            ("nothing printed", b"", b"\x00\n", 0,
             "0 bytes printed, 2 expected, the first difference at byte 0",
             ["--- expected capture", "+++ your capture", "@@ -1 +1 @@", "-\\x00\\n",
              "+(nothing)"]),
        ]
        for what, got, want, at, sentence, diff_lines in rows:
            with self.subTest(what):
                n = at + len(got)
                m = at + len(want)
                r = verdict("p2_print_lengths", data(
                    failed_case=4, inputs="len=%d" % m, exit_code=0, expect_exit_code=0,
                    capture=got, expect_capture=want, capture_at=at, capture_len=n,
                    expect_capture_len=m, exits=2, cases="4/20"))
                self.assertEqual(r.summary, "wrong capture: " + sentence)
                head = "the capture%s (- expected, + printed): %s" % (
                    " from byte %d" % at if at else "", sentence)
                self.assertEqual(r.details[0], "case 4 of 20 failed (the cases before it passed); "
                                               "its inputs: len=%d" % m)
                self.assertEqual(r.details[1:2 + len(diff_lines)],
                                 [head] + ["    " + l for l in diff_lines])

    def test_a_wrong_ending_comes_before_a_wrong_capture(self):
        r = verdict("p2_print_hello", data(
            failed_case=0, inputs="buf=GUEST_BUF+0 size=2", error="KEV_EUNMAPPED", message="m",
            expect_exit_code=0, capture="", expect_capture="Hi", capture_at=0, capture_len=0,
            expect_capture_len=2, cases="0/3"))
        self.assertEqual(r.summary, "the VM stopped with KEV_EUNMAPPED where it should have "
                                    "exited with code 0 (0x0): m")
        self.assertIn("the capture (- expected, + printed): 0 bytes printed, 2 expected, the "
                      "first difference at byte 0", r.details)

    def test_a_right_capture_reported_with_a_wrong_ending_shows_no_diff(self):
        r = verdict("p2_print_hello", data(
            failed_case=0, inputs="i", exit_code=5, expect_exit_code=0, capture="Hi",
            expect_capture="Hi", capture_at=0, capture_len=2, expect_capture_len=2, cases="0/3"))
        self.assertEqual(r.summary, "the VM exited with code 5 (0x5), expected 0 (0x0)")
        self.assertEqual(r.details, ["case 0 of 3 failed; its inputs: i"])

    def test_the_case_line(self):
        for values, line in [
                (data(failed_case=0, inputs="a=1", cases="0/5"),
                 "case 0 of 5 failed; its inputs: a=1"),
                (data(failed_case=4, inputs="a=1", cases="4/5"),
                 "case 4 of 5 failed (the cases before it passed); its inputs: a=1"),
                (data(failed_case=10, inputs="", cases="10/12"),
                 "case 10 of 12 failed (the cases before it passed); its inputs: (none)"),
                (data(failed_case=0), "case 0 of ? failed; its inputs: (none)")]:
            values.update(data(exit_code=1, expect_exit_code=2))
            self.assertEqual(verdict("p2_halt_code", values).details[0], line)

    def test_malformed_numbers_do_not_stop_the_grader(self):
        r = verdict("p2_print_hello", data(exit_code=0, expect_exit_code=0, capture="a",
                                           expect_capture="b", capture_at="x", capture_len="?",
                                           expect_capture_len=1))
        self.assertEqual(r.summary, "wrong capture: ? bytes printed, 1 expected, the first "
                                    "difference at byte 0")


class Crashes(unittest.TestCase):
    def test_a_kernel_panic(self):
        names = ["p2_halt_code", "p2_print_hello", "p2_print_empty"]
        boot = replayed_boot(fixture("p2_kernel_panic.serial"), oc.PANIC, expected=names)
        done, leftover = scheduler.settle([Planned(n, 20, 1) for n in names], boot)
        self.assertEqual([t.name for t in leftover], ["p2_print_empty"])
        r = judge.judge(RUB.test("p2_print_hello"), done[1], 2, 4.6)
        self.assertEqual(r.summary, "the kernel panicked: VMRESUME failed: VM_INSTRUCTION_ERROR "
                                    "12 (VMRESUME with a corrupted VMCS) (vcpu_run() at "
                                    "kev/vcpu.c:212)")
        self.assertEqual(r.details, [
            "The kernel itself panicked while this test ran (a bug in the framework, or in code "
            "the project gives you, not a fault of your ring-3 code, which costs only its test):",
            "  at kev/vcpu.c:212 in vcpu_run(): VMRESUME failed: VM_INSTRUCTION_ERROR 12 "
            "(VMRESUME with a corrupted VMCS)",
            "      backtrace (most recent call first):",
            "        #0  0000000000104a10 vcpu_run+0x20",
            "        #1  0000000000104c88 vm_run+0x48",
            "        #2  0000000000103f10 p2_vm_run+0x1a0",
            oc.EXPLAIN[oc.PANIC],
            "The last lines this test printed:",
            "  | guest| Hello, hypervisor!"])
        self.assertEqual((r.passed, r.not_graded, r.score), (False, False, 0.0))
        self.assertEqual(r.serial_log, "/nonexistent/boot/serial.log")

    def test_panic_summaries(self):
        for message, summary in [
                ("at kernel/x.c:5 in f(): not yet implemented", "TODO() in f() at kernel/x.c:5"),
                ("at kev/vm.c:9 in vm_run(): bad state 3", "bad state 3 (vm_run() at kev/vm.c:9)"),
                ("CPU exception 13 #GP at rip 0x1", "CPU exception 13 #GP at rip 0x1")]:
            serial = ("@@ test begin p2_halt_code\n@@ panic %s\n" % message).encode()
            self.assertEqual(crashed("p2_halt_code", serial, oc.PANIC).summary,
                             "the kernel panicked: " + summary)

    def test_each_way_a_boot_ends_is_named(self):
        serial = b"@@ test begin p2_halt_code\nretrying\n\n@@ test data p2_halt_code x 1\n"
        for kind, summary, said in [
                (oc.TRIPLE_FAULT, "triple fault", True),
                (oc.BUDGET, "instruction budget exhausted", True),
                (oc.TIMEOUT, "wall-clock timeout: the detail", False),
                (oc.RUNAWAY_OUTPUT, "runaway output: the detail", False),
                (oc.EMULATOR_ERROR, "emulator error", True),
                (oc.NO_END_FRAME, "no end frame", True)]:
            with self.subTest(kind):
                r = crashed("p2_halt_code", serial, kind, "the detail")
                self.assertEqual(r.summary, summary)
                self.assertEqual(r.details, ["The test began and never ended: %s." % kind]
                                 + (["The emulator said: the detail"] if said else [])
                                 + [oc.EXPLAIN[kind], "The last lines this test printed:",
                                    "  | retrying"])
                self.assertEqual(r.not_graded, kind == oc.EMULATOR_ERROR)
                self.assertEqual(r.time, 1.5)

    def test_without_a_detail_the_kind_alone(self):
        r = crashed("p2_halt_code", b"@@ test begin p2_halt_code\n", oc.TIMEOUT)
        self.assertEqual(r.summary, "wall-clock timeout")
        self.assertEqual(r.details, ["The test began and never ended: wall-clock timeout.",
                                     oc.EXPLAIN[oc.TIMEOUT]])

    def test_the_log_tail_and_the_cut_off_line(self):
        serial = b"@@ test begin p2_halt_code\n" + b"".join(b"line %d\n" % i for i in range(30))
        r = crashed("p2_halt_code", serial + b"half a li", oc.TRIPLE_FAULT)
        tail = r.details[r.details.index("The last lines this test printed:") + 1:]
        self.assertEqual(tail, ["  | line %d" % i for i in range(30 - judge.LOG_TAIL, 30)]
                         + ["  | half a li   <- cut off here"])

    def test_a_lost_begin_frame_is_explained(self):
        names = ["printk_formats", "crash_triple_fault", "string_functions"]
        boot = replayed_boot(fixture("crash_triple_fault.serial"), oc.TRIPLE_FAULT,
                             "3rd (13) exception with no resolution", expected=names)
        done, _ = scheduler.settle([Planned(n, 20, 1) for n in names], boot)
        t = RUB.test("p2_halt_code")  # any graded test: judge reads the record only
        r = judge.judge(t, done[1], 2, 5.0)
        self.assertEqual(r.summary, "triple fault")
        self.assertIn("The crash cut off this test's `test begin` line (its bytes were still in "
                      "the serial port): it happened as this test started.", r.details)
        self.assertEqual(r.details[-1], "  | @@ test begin crash_triple_fault   <- cut off here")


class NotRun(unittest.TestCase):
    def judge_unrun(self, serial, kind, detail=""):
        boot = replayed_boot(serial, kind, detail)
        return judge.judge(RUB.test("p2_halt_code"), Ran("p2_halt_code", None, boot, kind, 0.0),
                           2, 5.0)

    def test_the_kernel_did_not_start_it(self):
        r = self.judge_unrun(fixture("none.serial"), oc.NOT_RUN)
        self.assertEqual(r.summary, "not run: the kernel did not start this test")
        self.assertEqual(r.details, ["The kernel finished its run without starting this test: "
                                     "is it built into this kernel (its name spelled the same)?"])
        self.assertEqual((r.passed, r.not_graded, r.score, r.max_score), (False, False, 0.0, 5.0))

    def test_the_emulator_failed_before_it(self):
        r = self.judge_unrun(b"", oc.EMULATOR_ERROR, "bochs is not installed")
        self.assertEqual(r.summary, "not run: the boot ended before it (emulator error)")
        self.assertEqual(r.details, ["The boot ended before this test began: emulator error: "
                                     "bochs is not installed.", oc.EXPLAIN[oc.EMULATOR_ERROR]])
        self.assertTrue(r.not_graded)

    def test_a_boot_that_died_before_it_says_how(self):
        r = self.judge_unrun(b"@@ boot kevlab cmdline=\\e\n@@ panic out of memory\n  at pmm.c:3\n",
                             oc.PANIC)
        self.assertEqual(r.summary, "not run: the boot ended before it (panic)")
        self.assertEqual(r.details, ["The boot ended before this test began: panic.",
                                     oc.EXPLAIN[oc.PANIC], "The kernel panicked: out of memory",
                                     "    at pmm.c:3"])
        self.assertFalse(r.not_graded)  # a boot that runs no test charges its tests


class RecordedBoots(unittest.TestCase):
    def judge_all(self, name, kind):
        names = [t.name for t in RUB.tests]
        boot = replayed_boot(fixture(name), kind, expected=names)
        done, leftover = scheduler.settle([Planned(n, 20, 1) for n in names], boot)
        self.assertEqual(leftover, [])
        maxes = RUB.max_scores(RUB.tests)
        return [judge.judge(RUB.test(r.name), r, 2, maxes[r.name]) for r in done]

    def test_the_solution_scores_everything(self):
        results = self.judge_all("p2_solution.serial", oc.SUCCESS)
        self.assertTrue(all(r.passed for r in results), [r.summary for r in results])
        self.assertEqual(round(sum(r.score for r in results), 1), 100)

    def test_the_skeleton_stops_at_one_todo(self):
        results = self.judge_all("p2_skeleton.serial", oc.KERNEL_FAILURE)
        for r in results:
            self.assertEqual(r.summary, "TODO() in hypercall_resolve() at project2/hypercall.c:121")
            self.assertEqual((r.fault, r.fault_details, r.score), (TODO, BACKTRACE, 0.0))
            self.assertEqual(r.details[1], "your code stopped: " + TODO)
            self.assertFalse(any(d.startswith("hint: ") for d in r.details), r.details)


if __name__ == "__main__":
    unittest.main()
