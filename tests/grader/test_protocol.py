"""The frame parser, the frame escaping and the protocol's strictness
(docs/protocol.md), on recorded serial logs and on crafted ones."""
import unittest

from grader import judge, scheduler
from grader import outcome as oc
from grader.protocol import MAX_LINES, Fault, LogParser, escape, parse, unescape
from helpers import fixture, p2_rubric, replayed_boot
from grader.scheduler import Planned

P2_NAMES = [t.name for t in p2_rubric().tests]  # the order of the recorded boots


def lines(*frames) -> bytes:
    return b"".join(f.encode() + b"\n" for f in frames)


class Escaping(unittest.TestCase):
    def test_every_byte_round_trips(self):
        data = bytes(range(256))
        text = escape(data)
        self.assertNotIn(" ", text)
        self.assertTrue(text.isascii() and text.isprintable())
        self.assertEqual(unescape(text), data)

    def test_empty_value_is_e(self):
        self.assertEqual(escape(b""), "\\e")
        self.assertEqual(unescape("\\e"), b"")

    def test_forms(self):
        self.assertEqual(escape(b"a b\\\n\xc3\xa9"), "a\\x20b\\\\\\x0a\\xc3\\xa9")
        self.assertEqual(unescape("Hi\\x21\\\\x"), b"Hi!\\x")
        self.assertEqual(unescape("\\X41\\x4G"), b"\\X41\\x4G")  # malformed: kept
        self.assertEqual(unescape("\\xC3\\xA9"), "é".encode())  # upper-case hex too
        self.assertEqual(unescape("a\\"), b"a\\")  # a lone backslash at the end


class RecordedBoots(unittest.TestCase):
    """Logs recorded from real boots of project 2 (fixtures/README.md)."""

    def test_the_solution_passes_every_case(self):
        log = parse(fixture("p2_solution.serial"), P2_NAMES)
        self.assertIsNone(log.violation)
        self.assertEqual(list(log.tests), P2_NAMES)
        self.assertTrue(log.cmdline.endswith(b" seed=3"))
        self.assertEqual(log.cmdline.split(b" ")[0], b"test=" + ",".join(P2_NAMES).encode())
        for rec in log.tests.values():
            self.assertEqual((rec.ended, rec.verdict, rec.faults), (True, "pass", []), rec.name)
            done, _, planned = rec.data["cases"].partition(b"/")
            self.assertEqual(done, planned, rec.name)
            self.assertEqual(list(rec.data), ["cases"], rec.name)
        self.assertEqual(log.tests["p2_halt_code"].data["cases"], b"14/14")
        self.assertEqual(log.done, {"passed": 18, "failed": 0, "skipped": 0})
        self.assertEqual(log.poweroff, "ok")
        self.assertEqual(log.panics, [])
        self.assertIn("guest| Hello, hypervisor!", log.tests["p2_print_hello"].lines)

    def test_the_skeleton_stops_at_its_todo_in_every_test(self):
        log = parse(fixture("p2_skeleton.serial"), P2_NAMES)
        self.assertIsNone(log.violation)
        self.assertEqual(list(log.tests), P2_NAMES)
        todo = ("TODO() in hypercall_resolve() at project2/hypercall.c:121: "
                "not yet implemented")
        for rec in log.tests.values():
            self.assertEqual(rec.verdict, "fail", rec.name)
            self.assertEqual(rec.faults, [Fault(todo, [
                "    backtrace (most recent call first):",
                "      #0  000000000011301f hypercall_resolve+0x1f"])], rec.name)
            self.assertEqual(rec.data["error"], b"KEV_ESTUDENT")
            self.assertEqual(rec.data["message"], todo.encode())  # \x20 unescaped
            self.assertEqual(rec.data["failed_case"], b"0")
            self.assertTrue(rec.data["cases"].startswith(b"0/"), rec.name)
        halt = log.tests["p2_halt_code"]
        self.assertEqual(halt.data, {
            "failed_case": b"0", "inputs": b"code=0x0", "error": b"KEV_ESTUDENT",
            "message": todo.encode(), "expect.exit_code": b"0", "exits": b"1",
            "cases": b"0/14"})
        self.assertEqual(halt.reason, "case 0 (code=0x0): the VM stopped with KEV_ESTUDENT, "
                                      "expected to exit with code 0")
        printing = log.tests["p2_print_exit_code"].data
        self.assertEqual(printing["capture"], b"")
        self.assertEqual(printing["capture.len"], b"0")
        self.assertEqual(printing["expect.capture.len"], b"55")
        self.assertEqual(len(printing["expect.capture"]), 55)
        self.assertEqual(printing["inputs"], b"buf=GUEST_BUF+116 size=55 code=0xffffffff")
        self.assertEqual(log.done, {"passed": 0, "failed": 18, "skipped": 0})
        self.assertEqual(log.panics, [])  # a student's stop is not a kernel panic

    def test_crlf_line_ends_are_the_same(self):
        for name in ("p2_skeleton.serial", "p2_solution.serial", "crash_panic.serial"):
            data = fixture(name)
            a, b = parse(data), parse(data.replace(b"\n", b"\r\n"))
            self.assertEqual(a.tests, b.tests, name)
            self.assertEqual(a.panics, b.panics, name)
            self.assertEqual(a.cmdline, b.cmdline)

    def test_feeding_byte_by_byte_is_the_same(self):
        for name in ("crash_panic.serial", "garbage.serial", "p2_skeleton.serial",
                     "p2_violation.serial"):
            data = fixture(name)
            expected = None if name == "garbage.serial" else parse(data).cmdline.split(b" ")[0][
                5:].decode().split(",")
            p = LogParser(expected)
            for i in range(len(data)):
                p.feed(data[i:i + 1], now=0.0)
            whole = parse(data, expected)
            self.assertEqual(p.log, whole, name)


class Frames(unittest.TestCase):
    def test_passing_self_tests(self):
        log = parse(fixture("selftests_pass.serial"))
        self.assertEqual(log.cmdline, b"test=printk_formats,string_functions,cmdline_params")
        self.assertEqual(list(log.tests), ["printk_formats", "string_functions", "cmdline_params"])
        for rec in log.tests.values():
            self.assertTrue(rec.ended and rec.verdict == "pass", rec)
        self.assertEqual(log.done, {"passed": 3, "failed": 0})
        self.assertEqual(log.poweroff, "ok")
        self.assertIsNone(log.running())
        self.assertEqual(log.tests["printk_formats"].lines,
                         ["printk: hello from the kernel self-test"])

    def test_a_test_the_kernel_does_not_have(self):
        log = parse(fixture("unknown_test.serial"), ["cmdline_params", "nosuch"])
        self.assertIsNone(log.violation)
        rec = log.tests["nosuch"]
        self.assertEqual((rec.verdict, rec.reason), ("fail", "there is no test with this name"))
        self.assertEqual(rec.lines, [])  # the list of known tests came after its end
        self.assertEqual(log.done, {"passed": 1, "failed": 1})

    def test_a_skip_ends_a_test(self):
        log = parse(lines("@@ boot kevlab cmdline=test=kev_hlt", "@@ test begin kev_hlt",
                          "@@ test end kev_hlt skip this CPU has no VMX",
                          "@@ done passed=0 failed=0 skipped=1", "@@ poweroff ok"))
        rec = log.tests["kev_hlt"]
        self.assertEqual((rec.ended, rec.verdict, rec.reason),
                         (True, "skip", "this CPU has no VMX"))
        self.assertEqual(log.done, {"passed": 0, "failed": 0, "skipped": 1})

    def test_panic_with_backtrace_halfway(self):
        log = parse(fixture("crash_panic.serial"))
        self.assertTrue(log.tests["printk_formats"].ended)
        crashed = log.tests["crash_panic"]
        self.assertTrue(crashed.crashed)
        self.assertIs(log.running(), crashed)
        self.assertNotIn("string_functions", log.tests)
        self.assertEqual(crashed.panic.message, "at kernel/tests.c:125 in ktest_fn_crash_panic(): "
                                                "the self-test panicked on purpose (code 7)")
        self.assertEqual(crashed.panic.test, "crash_panic")
        self.assertEqual(crashed.panic.details, [
            "    backtrace (most recent call first):",
            "      #0  0000000000103b25 ktest_fn_crash_panic+0x25",
            "      #1  0000000000100edc run+0x2c",
            "      #2  0000000000101168 ktest_main+0x138",
            "      #3  00000000001013b6 kmain+0xd6",
            "      #4  0000000000100121 long_mode+0x30"])
        self.assertIs(log.panics[0], crashed.panic)
        self.assertEqual(log.poweroff, "fail")
        self.assertIsNone(log.done)

    def test_a_kernel_panic_in_a_project_test(self):
        log = parse(fixture("p2_kernel_panic.serial"))
        rec = log.tests["p2_print_hello"]
        self.assertTrue(rec.crashed)
        self.assertEqual(rec.panic.message, "at kev/vcpu.c:212 in vcpu_run(): VMRESUME failed: "
                         "VM_INSTRUCTION_ERROR 12 (VMRESUME with a corrupted VMCS)")
        self.assertEqual(len(rec.panic.details), 4)
        self.assertEqual(rec.lines, ["guest| Hello, hypervisor!"])

    def test_cpu_exception_details(self):
        log = parse(fixture("crash_page_fault.serial"))
        p = log.panics[0]
        self.assertTrue(p.message.startswith("CPU exception 14 #PF (page fault) at rip 0x103b50"))
        self.assertEqual(p.details[0], "    cr2=0x100000000000: a write access to this address by "
                                       "kernel code, the page was not present")
        self.assertEqual(len(p.details), 13)
        self.assertEqual(p.details[-1], "      #5  0000000000100121 long_mode+0x30")

    def test_triple_fault_cuts_the_last_line(self):
        log = parse(fixture("crash_triple_fault.serial"))
        self.assertTrue(log.tests["printk_formats"].ended)
        self.assertNotIn("crash_triple_fault", log.tests)  # its begin line was cut off
        self.assertEqual(log.partial_line, b"@@ test begin crash_triple_fault")

    def test_garbage_and_malformed_frames(self):
        log = parse(fixture("garbage.serial"))
        self.assertEqual(list(log.tests), ["t1", "t2", "t3"])
        t1 = log.tests["t1"]
        self.assertEqual(t1.data, {"capture": b"Hello world\n"})
        self.assertEqual((t1.verdict, t1.reason), ("fail", "expected 3, got 4"))
        t2 = log.tests["t2"]
        self.assertEqual(t2.data["capture"], b"second")
        self.assertEqual(t2.repeated_keys, ["capture"])
        self.assertTrue(t2.crashed)
        self.assertNotIn("capture", log.tests["t3"].data)  # the cut-off line does not count
        self.assertEqual(log.partial_line, b"@@ test data t3 capture cut-of")
        # `@@` alone is not a frame; `@@ ` with nothing after it is an empty one.
        self.assertEqual(log.unknown_frames, ["", "nonsense frame", "test data t1 bad",
                                              "test end t1 maybe"])
        self.assertFalse(log.booted)
        self.assertIsNone(log.violation)

    def test_feed_reports_frames_and_times(self):
        p = LogParser()
        self.assertEqual(p.feed(b"@@ test begin a\n@@ test en", now=1.0), ["test begin a"])
        self.assertEqual(p.log.partial_line, b"@@ test en")
        self.assertEqual(p.feed(b"d a pass\r\n", now=3.0), ["test end a pass"])
        self.assertEqual(p.log.partial_line, b"")
        rec = p.log.tests["a"]
        self.assertEqual((rec.begin_time, rec.end_time), (1.0, 3.0))

    def test_panic_outside_a_test(self):
        log = parse(lines("@@ boot kevlab cmdline=\\e", "@@ panic out of memory", "  detail",
                          "not indented", "\tlater", "@@ poweroff fail"))
        self.assertEqual(log.cmdline, b"")
        self.assertEqual(log.panics[0].message, "out of memory")
        self.assertIsNone(log.panics[0].test)
        self.assertEqual(log.panics[0].details, ["  detail", "\tlater"])

    def test_a_panics_details_are_capped(self):
        log = parse(lines("@@ test begin a", "@@ panic loop") + b"    again\n" * (3 * MAX_LINES))
        self.assertEqual(len(log.tests["a"].panic.details), MAX_LINES)

    def test_a_tests_own_output_keeps_its_last_lines(self):
        log = parse(lines("@@ test begin a") + b"".join(b"line %d\n" % i for i in range(5000)))
        kept = log.tests["a"].lines
        self.assertLessEqual(len(kept), 2 * MAX_LINES)
        self.assertEqual(kept[-1], "line 4999")

    def test_faults_go_to_the_running_test_with_their_details(self):
        log = parse(lines(
            "@@ test begin a",
            "@@ fault CPU exception 14 #PF (page fault) in your code at rip 0x113020 in "
            "hypercall_handle+0x20, error code 0x4",
            "    cr2=0x0: NULL or a small offset from it: a NULL pointer dereferenced",
            "    backtrace (most recent call first):",
            "      #0  0000000000113020 hypercall_handle+0x20",
            "kev: VM print stopped: KEV_ESTUDENT: CPU exception 14 #PF",
            "@@ fault TODO() in hypercall_resolve() at project2/hypercall.c:121: "
            "not yet implemented",
            "\tone detail",
            "@@ test data a error KEV_ESTUDENT",
            "    not a detail: a frame came between",
            "@@ test end a fail",
            "@@ test begin b", "@@ test end b pass"), ["a", "b"])
        a = log.tests["a"]
        self.assertEqual([f.message for f in a.faults], [
            "CPU exception 14 #PF (page fault) in your code at rip 0x113020 in "
            "hypercall_handle+0x20, error code 0x4",
            "TODO() in hypercall_resolve() at project2/hypercall.c:121: not yet implemented"])
        self.assertEqual(a.faults[0].details, [
            "    cr2=0x0: NULL or a small offset from it: a NULL pointer dereferenced",
            "    backtrace (most recent call first):",
            "      #0  0000000000113020 hypercall_handle+0x20"])
        self.assertEqual(a.faults[1].details, ["\tone detail"])
        self.assertEqual(a.lines, ["kev: VM print stopped: KEV_ESTUDENT: CPU exception 14 #PF",
                                   "    not a detail: a frame came between"])
        self.assertIsNone(a.panic)
        self.assertEqual(log.panics, [])
        self.assertEqual(log.tests["b"].faults, [])
        self.assertIsNone(log.violation)

    def test_a_fault_outside_a_test_is_dropped_without_a_list(self):
        log = parse(lines("@@ fault stray", "  detail", "@@ test begin a", "@@ test end a pass"))
        self.assertEqual(log.tests["a"].faults, [])
        self.assertIsNone(log.violation)

    def test_empty_and_binary_input(self):
        self.assertEqual(parse(b"").tests, {})
        log = parse(bytes(range(256)) * 4)
        self.assertEqual(log.tests, {})
        log = parse(b"\xff\xfe@@ test begin x\n@@ test begin \xff\n")
        self.assertEqual(list(log.tests), ["\\xff"])  # shown, never fatal


# Each row: the log's frames, the tests asked for, the violation named.
# After each, a frame that would change the record shows it was ignored.
VIOLATIONS = [
    ("out of order", ["@@ test begin b"], ["a", "b"], "test b began, but a was next"),
    ("a begin while another runs", ["@@ test begin a", "@@ test begin b"], ["a", "b"],
     "test b began while a had not ended"),
    ("a test not asked for", ["@@ test begin a", "@@ test end a pass", "@@ test begin c"], ["a"],
     "test c began, but every test asked for had run"),
    ("a test begun twice", ["@@ test begin a", "@@ test end a pass", "@@ test begin a"],
     ["a", "a"], "test a began twice"),
    ("data for another test", ["@@ test begin a", "@@ test data b cases 1/1"], ["a", "b"],
     "`test data b` while test a was running"),
    ("data before any begin", ["@@ test data a cases 1/1"], ["a"],
     "`test data a` while no test was running"),
    ("a second end", ["@@ test begin a", "@@ test end a pass", "@@ test end a fail x"], ["a"],
     "`test end a` while no test was running"),
    ("the end of another test", ["@@ test begin a", "@@ test end b pass"], ["a", "b"],
     "`test end b` while test a was running"),
    ("a frame after the power-off", ["@@ test begin a", "@@ test end a pass", "@@ poweroff ok",
                                     "@@ test begin b"], ["a", "b"],
     "a frame after the power-off: 'test begin b'"),
    ("done after the power-off", ["@@ poweroff fail", "@@ done passed=0 failed=0"], [],
     "a frame after the power-off: 'done passed=0 failed=0'"),
    ("a second power-off", ["@@ poweroff fail", "@@ poweroff ok"], [],
     "a frame after the power-off: 'poweroff ok'"),
    ("a fault outside a test", ["@@ fault TODO() in f() at x.c:1: not yet implemented"], ["a"],
     "a fault frame while no test was running"),
]


class Strictness(unittest.TestCase):
    def test_each_violation_is_named_and_what_follows_ignored(self):
        for what, frames, expected, message in VIOLATIONS:
            with self.subTest(what):
                later = ["@@ test begin z", "@@ test data a late 1", "@@ test end a pass",
                         "@@ panic later", "@@ test begin q", "@@ done passed=9 failed=0",
                         "@@ poweroff ok"]
                before = parse(lines(*frames[:-1]), expected)
                self.assertIsNone(before.violation)
                log = parse(lines(*frames, *later), expected)
                self.assertEqual(log.violation, message)
                self.assertNotIn("z", log.tests)
                self.assertNotIn("q", log.tests)
                self.assertEqual(log.panics, [])
                self.assertEqual(log.done, before.done)
                self.assertEqual(log.poweroff, before.poweroff)
                if "a" in log.tests:
                    self.assertNotIn("late", log.tests["a"].data)
                    self.assertEqual(log.tests["a"].ended, before.tests.get("a") is not None
                                     and before.tests["a"].ended)

    def test_the_first_violation_is_kept(self):
        log = parse(lines("@@ test begin b", "@@ test end c pass", "@@ fault x"), ["a", "b"])
        self.assertEqual(log.violation, "test b began, but a was next")

    def test_without_a_list_nothing_is_enforced(self):
        for what, frames, expected, message in VIOLATIONS:
            with self.subTest(what):
                self.assertIsNone(parse(lines(*frames, "@@ test begin z")).violation)

    def test_malformed_frames_of_the_running_test_are_only_unknown(self):
        log = parse(lines("@@ test begin a", "@@ test data a bad", "@@ test end a maybe",
                          "@@ test end a pass"), ["a"])
        self.assertIsNone(log.violation)
        self.assertEqual(log.unknown_frames, ["test data a bad", "test end a maybe"])
        self.assertTrue(log.tests["a"].ended)

    def test_a_clean_boot_has_no_violation(self):
        log = parse(lines("@@ boot kevlab cmdline=test=a,b", "@@ test begin a",
                          "@@ test data a cases 1/1", "@@ test end a pass", "@@ test begin b",
                          "@@ test end b fail why", "@@ done passed=1 failed=1",
                          "@@ poweroff fail"), ["a", "b"])
        self.assertIsNone(log.violation)

    def test_a_violation_is_not_graded(self):
        names = ["p2_halt_code", "p2_print_hello", "p2_print_empty"]
        boot = replayed_boot(fixture("p2_violation.serial"), oc.SUCCESS, expected=names)
        self.assertEqual(boot.log.violation, "`test data p2_print_empty` while test "
                                             "p2_print_hello was running")
        done, leftover = scheduler.settle([Planned(n, 20, 1000) for n in names], boot)
        self.assertEqual(leftover, [])
        self.assertEqual([(r.name, r.outcome) for r in done], [
            ("p2_halt_code", oc.SUCCESS), ("p2_print_hello", oc.PROTOCOL_VIOLATION),
            ("p2_print_empty", oc.PROTOCOL_VIOLATION)])
        rub = p2_rubric()
        results = [judge.judge(rub.test(r.name), r, 2, 5.0) for r in done]
        self.assertTrue(results[0].passed)
        for r in results[1:]:
            self.assertEqual((r.passed, r.not_graded, r.score), (False, True, 0.0))
            self.assertEqual(r.summary, "not graded: protocol violation: `test data "
                                        "p2_print_empty` while test p2_print_hello was running")
            self.assertEqual(r.details, [oc.EXPLAIN[oc.PROTOCOL_VIOLATION]])


if __name__ == "__main__":
    unittest.main()
