"""The frame parser and the frame escaping (docs/protocol.md)."""
import unittest

from grader.protocol import LogParser, escape, parse, unescape
from helpers import fixture


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

    def test_a_skip_ends_a_test(self):
        log = parse(b"@@ boot kevlab cmdline=test=kev_hlt\n@@ test begin kev_hlt\n"
                    b"@@ test end kev_hlt skip this CPU has no VMX\n"
                    b"@@ done passed=0 failed=0 skipped=1\n@@ poweroff ok\n")
        rec = log.tests["kev_hlt"]
        self.assertEqual((rec.ended, rec.verdict, rec.reason), (True, "skip", "this CPU has no VMX"))
        self.assertEqual(log.done, {"passed": 0, "failed": 0, "skipped": 1})

    def test_panic_with_backtrace_halfway(self):
        log = parse(fixture("crash_panic.serial"))
        self.assertTrue(log.tests["printk_formats"].ended)
        crashed = log.tests["crash_panic"]
        self.assertTrue(crashed.crashed)
        self.assertIs(log.running(), crashed)
        self.assertNotIn("string_functions", log.tests)
        self.assertIn("panicked on purpose (code 7)", crashed.panic.message)
        self.assertTrue(crashed.panic.message.startswith("at kernel/tests.c:"))
        self.assertEqual(crashed.panic.test, "crash_panic")
        self.assertEqual(crashed.panic.details[0].strip(), "backtrace (most recent call first):")
        self.assertTrue(any("ktest_fn_crash_panic+0x" in d for d in crashed.panic.details))
        self.assertEqual(log.poweroff, "fail")
        self.assertIsNone(log.done)

    def test_cpu_exception_details(self):
        log = parse(fixture("crash_page_fault.serial"))
        p = log.panics[0]
        self.assertIn("#PF (page fault)", p.message)
        self.assertTrue(any(d.strip().startswith("cr2=") for d in p.details))
        self.assertTrue(any("write_unmapped" in d for d in p.details))

    def test_triple_fault_cuts_the_last_line(self):
        log = parse(fixture("crash_triple_fault.serial"))
        self.assertTrue(log.tests["printk_formats"].ended)
        self.assertNotIn("crash_triple_fault", log.tests)  # its begin line was cut off
        self.assertTrue(log.partial_line.startswith(b"@@ test begin"))

    def test_project_test_data(self):
        log = parse(fixture("batch_crash.serial"))
        halt = log.tests["p2_halt_code"]
        self.assertEqual(halt.data, {"capture": b"", "exit_code": b"7"})
        self.assertEqual(log.cmdline.split(b" ")[2], b"p2_print_hello.msg=Hi%20there")
        self.assertIn("not yet implemented", log.tests["p2_print_hello"].panic.message)

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
        self.assertIn("nonsense frame", log.unknown_frames)
        self.assertIn("test data t1 bad", log.unknown_frames)
        self.assertIn("test end t1 maybe", log.unknown_frames)
        self.assertFalse(log.booted)

    def test_feeding_byte_by_byte_is_the_same(self):
        for name in ("crash_panic.serial", "garbage.serial", "batch_crash.serial"):
            data = fixture(name)
            p = LogParser()
            for i in range(len(data)):
                p.feed(data[i:i + 1], now=float(i))
            whole = parse(data)
            self.assertEqual(list(p.log.tests), list(whole.tests), name)
            for n, rec in whole.tests.items():
                self.assertEqual(p.log.tests[n].data, rec.data)
                self.assertEqual(p.log.tests[n].verdict, rec.verdict)
            self.assertEqual(p.log.partial_line, whole.partial_line)

    def test_feed_reports_frames_and_times(self):
        p = LogParser()
        self.assertEqual(p.feed(b"@@ test begin a\n@@ test en", now=1.0), ["test begin a"])
        self.assertEqual(p.feed(b"d a pass\r\n", now=3.0), ["test end a pass"])
        rec = p.log.tests["a"]
        self.assertEqual((rec.begin_time, rec.end_time), (1.0, 3.0))

    def test_panic_outside_a_test(self):
        log = parse(b"@@ boot kevlab cmdline=\\e\n@@ panic out of memory\n  detail\n"
                    b"not indented\n  later\n@@ poweroff fail\n")
        self.assertEqual(log.cmdline, b"")
        self.assertEqual(log.panics[0].message, "out of memory")
        self.assertIsNone(log.panics[0].test)
        self.assertEqual(log.panics[0].details, ["  detail", "  later"])

    def test_empty_and_binary_input(self):
        self.assertEqual(parse(b"").tests, {})
        log = parse(bytes(range(256)) * 4)
        self.assertEqual(log.tests, {})


if __name__ == "__main__":
    unittest.main()
