"""grade.py: its options and their errors, its choices (tests, limits,
notes), and whole runs as a program from another directory against a
made-up build, booted by the fake emulator installed as `bochs`; a
SIGTERM or SIGHUP stops every emulator it started."""
import contextlib
import io
import json
import os
import re
import signal
import tempfile
import time
import unittest

import grade_cli
from grader import image
from grader.scheduler import Planned
from helpers import ROOT, fake_bochs_env, make_build, p2_rubric

grade = grade_cli.grade
RUB = p2_rubric()
TESTS = [("t_pass", "HaltCpu", 2), ("t_other", "HaltCpu", 1), ("t_wrong", "Print", 1),
         ("t_todo_a", "Robustness", 1), ("t_todo_b", "Robustness", 1, 1)]
TODO = "TODO() in hypercall_resolve() at project2/hypercall.c:121"


def args_for(*argv):
    return grade.parse_args(list(argv))


@contextlib.contextmanager
def environ(**values):
    old = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class Options(unittest.TestCase):
    def test_defaults(self):
        with environ(BUILD=None, BACKEND=None):
            a = args_for()
        self.assertEqual((a.command, a.backend, a.public_only, a.tests, a.out, a.project),
                         ("grade", "auto", False, None, None, None))
        self.assertEqual(a.jobs, os.cpu_count() or 1)
        self.assertRegex(a.seed, r"^\d+$")
        self.assertEqual(a.build, os.path.join(ROOT, "build/p%d" % grade.course_project()))
        self.assertEqual(grade.course_project(), 2)

    def test_choices(self):
        with environ(BUILD=None, BACKEND=None):
            a = args_for("-j", "3", "--seed", "9", "--public-only", "--backend", "bochs",
                         "--cpu-model", "tigerlake", "--tests", "a,b", "--per-boot", "4")
            self.assertEqual((a.jobs, a.seed, a.public_only, a.backend, a.cpu_model, a.tests,
                              a.per_boot), (3, "9", True, "bochs", "tigerlake", "a,b", 4))
            self.assertEqual(args_for("--project", "3").build, os.path.join(ROOT, "build/p3"))
            self.assertEqual(args_for("--build", "/x/y").build, "/x/y")
            self.assertEqual(args_for("--build", "build/p2-sol2").build,
                             os.path.join(ROOT, "build/p2-sol2"))
            self.assertEqual(args_for("run").test, "none")
            self.assertIsNone(args_for("check").test)
            self.assertEqual(args_for("check", "--test", "x").test, "x")
            self.assertEqual(args_for("run", "--tests", "a,b", "--args", "k=v").args, "k=v")
        with environ(BUILD="/b/p9", BACKEND="bochs"):
            a = args_for()
            self.assertEqual((a.build, a.backend), ("/b/p9", "bochs"))

    def test_seeds(self):
        self.assertEqual(args_for("--seed", "0").seed, "0")
        self.assertEqual(args_for("--seed", "9" * 19).seed, "9" * 19)
        for bad in ("x", "-1", "1.5", "9" * 20, "", "0x10", "1 2"):
            with self.assertRaises(SystemExit) as cm:
                args_for("--seed", bad)
            self.assertEqual(str(cm.exception.code), "--seed must be a number (it was %r)" % bad)


class Choices(unittest.TestCase):
    def test_tests_chosen_and_public_only(self):
        a = args_for("--tests", "p2_print_hello,p2_halt_code")
        self.assertEqual([t.name for t in grade.select_tests(a, RUB)],
                         ["p2_print_hello", "p2_halt_code"])
        public = grade.select_tests(args_for("--public-only"), RUB)
        self.assertEqual([t.name for t in public], [t.name for t in RUB.tests if not t.hidden])
        self.assertEqual(len(grade.select_tests(args_for(), RUB)), 18)
        self.assertEqual(grade.select_tests(args_for("--tests", "p2_print_utf8", "--public-only"),
                                            RUB), [])
        with self.assertRaises(SystemExit) as cm:
            grade.select_tests(args_for("--tests", "p2_nope,p2_halt_code,p2_no"), RUB)
        self.assertEqual(str(cm.exception.code), "unknown test(s) p2_nope, p2_no; project 2 has: "
                         + ", ".join(t.name for t in RUB.tests))

    def test_plan_and_limits(self):
        batch = grade.plan(RUB, ["p2_halt_code", "printk_formats"])
        self.assertEqual(batch, [Planned("p2_halt_code", RUB.test("p2_halt_code").timeout,
                                         grade.TEST_BUDGET),
                                 Planned("printk_formats", grade.SELF_TEST_TIMEOUT,
                                         grade.TEST_BUDGET)])
        lim = grade.limits_for(batch, not_after=123.0)
        self.assertEqual((lim.boot, lim.tests, lim.budget, lim.not_after), (
            grade.BOOT_LIMIT, {"p2_halt_code": 20.0, "printk_formats": 20.0},
            grade.BOOT_BUDGET + 2 * grade.TEST_BUDGET, 123.0))
        self.assertIsNone(grade.limits_for(batch, no_timeout=True).budget)

    def test_command_lines(self):
        batch = grade.plan(RUB, ["p2_halt_code", "p2_print_hello"])
        self.assertEqual(grade.command_line(batch, "3"), "test=p2_halt_code,p2_print_hello seed=3")
        self.assertEqual(grade.command_line([], "3", [("kev.trace", "1")]),
                         "test=none seed=3 kev.trace=1")
        every = grade.plan(RUB, [t.name for t in RUB.tests])
        self.assertLessEqual(len(grade.command_line(every, "9" * 19)), image.CMDLINE_SPACE)
        # The whole suite in the kernel's order is `@N`; anything else is named test by test.
        self.assertEqual(grade.command_line(every, "3", [("kev.echo", 0)], RUB),
                         "test=@%d seed=3 kev.echo=0" % RUB.project)
        for other in (every[:-1], every[1:], every[::-1], every + every[:1], batch):
            self.assertEqual(grade.command_line(other, "3", (), RUB),
                             grade.command_line(other, "3"))
        self.assertEqual(grade.command_line([], "3", (), RUB), "test=none seed=3")

    def test_user_args(self):
        a = args_for("run", "--seed", "5", "--args", "seed=7 p2_halt_code.case=3 kev.trace=1")
        self.assertEqual(grade.user_args(a), [("p2_halt_code.case", "3"), ("kev.trace", "1")])
        self.assertEqual(a.seed, "7")
        with self.assertRaises(SystemExit) as cm:
            grade.user_args(args_for("run", "--args", "nonsense"))
        self.assertIn("ARGS: ARGS word 'nonsense' is not key=value", str(cm.exception.code))

    def test_the_hidden_tests_note(self):
        with tempfile.TemporaryDirectory() as d:
            old = grade.ROOT
            grade.ROOT = d
            try:
                self.assertEqual(grade.hidden_note(RUB), "")  # an instructor's tree
                os.makedirs(os.path.join(d, ".kevlab"))
                path = os.path.join(d, grade.HIDDEN_NOTE)
                for content, note in [
                        ({"2": 2}, "2 hidden tests of project 2 are graded by the autograder only: "
                                   "this score counts the public tests (docs/grader.md)"),
                        ({"2": 1}, "1 hidden test of project 2 is graded by the autograder only: "
                                   "this score counts the public tests (docs/grader.md)"),
                        ({"3": 4}, ""), ({"2": 0}, ""), ([1, 2], ""), ("not json", "")]:
                    with open(path, "w") as f:
                        f.write(content if isinstance(content, str) else json.dumps(content))
                    self.assertEqual(grade.hidden_note(RUB), note, content)
            finally:
                grade.ROOT = old

    def test_the_compilers_warnings(self):
        with tempfile.TemporaryDirectory() as d:
            a = args_for("--build", d)
            self.assertEqual(grade.warnings_note(a, RUB), "")
            os.makedirs(os.path.join(d, "student", "project2"))
            with open(os.path.join(d, "student", "project2", "hypercall.warnings"), "w") as f:
                f.write("project2/hypercall.c:12:5: warning: unused variable 'x'\n\n")
            self.assertEqual(grade.warnings_note(a, RUB),
                             "project2/hypercall.c:12:5: warning: unused variable 'x'")


class Program(unittest.TestCase):
    """grade.py as a program, run from /tmp: the build is found by its
    absolute path and every file goes where --out says."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name
        self.build = make_build(os.path.join(self.d, "build"), TESTS)
        self.env = fake_bochs_env(self.d)
        self.out = os.path.join(self.d, "out")

    def tearDown(self):
        self.tmp.cleanup()

    def grade(self, *argv):
        return grade_cli.run(["grade", "--build", self.build, "--backend", "bochs", "--seed", "4",
                              "--out", self.out] + list(argv), env=self.env)

    def test_help(self):
        p = grade_cli.run(["--help"], env=self.env)
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        for word in ("grade", "run", "check", "gdb", "bench", "It works from any directory."):
            self.assertIn(word, p.stdout)
        p = grade_cli.run(["grade", "--help"], env=self.env)
        self.assertEqual(p.returncode, 0)
        for option in ("--public-only", "--project", "--build", "--seed", "--tests", "--out"):
            self.assertIn(option, p.stdout)
        self.assertIn("--rubric RUBRIC", p.stdout)  # the framework's own tests (project 0)

    def test_argument_errors(self):
        for argv, status, said in [
                (["--seed", "abc"], 1, "--seed must be a number (it was 'abc')\n"),
                (["-j", "many"], 2, "grade.py grade: error: argument -j/--jobs: invalid int "
                                    "value: 'many'\n"),
                (["--backend", "vmware"], 2, "grade.py grade: error: argument --backend: invalid "
                                             "choice: 'vmware'"),
                (["--frobnicate"], 2, "grade.py: error: unrecognized arguments: --frobnicate\n"),
                (["--tests", "t_nope"], 1, "unknown test(s) t_nope; project 2 has: t_pass, "
                                           "t_other, t_wrong, t_todo_a, t_todo_b\n")]:
            with self.subTest(argv):
                p = self.grade(*argv)
                self.assertEqual(p.returncode, status, p.stderr)
                self.assertIn(said, p.stderr)
                self.assertFalse(os.path.exists(os.path.join(self.out, "results.json")))

    def test_a_missing_build_is_named(self):
        p = grade_cli.run(["grade", "--build", os.path.join(self.d, "nowhere"), "--backend",
                           "bochs"], env=self.env)
        self.assertEqual(p.returncode, 1)
        self.assertTrue(p.stderr.startswith("grade.py: %s/nowhere/build.json is missing or "
                                            "unreadable (" % self.d), p.stderr)
        os.unlink(os.path.join(self.build, "kevlab.iso"))
        p = self.grade()
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot read the kernel image %s/kevlab.iso" % self.build, p.stderr)

    def test_a_whole_run_from_another_directory(self):
        p = self.grade()
        self.assertEqual(p.returncode, 1, p.stderr)
        out = p.stdout
        self.assertIn("project 2, backend: bochs (chosen with --backend)\n", out)
        for name, points, why in [("t_pass", "13.3/13.3", ""), ("t_other", "6.7/6.7", ""),
                                  ("t_wrong", "0/50", "the VM exited with code 8 (0x8), "
                                                      "expected 7 (0x7)"),
                                  ("t_todo_a", "0/15", TODO), ("t_todo_b", "0/15", TODO)]:
            self.assertRegex(out, r"\n%s  %s +\d+\.\d\d s +%s[ \w]*%s\n" % (
                "PASS" if not why else "FAIL", name, re.escape(points), re.escape(why)))
        for line in ("HaltCpu         20 / 20    (2 of 2 tests)",
                     "Print            0 / 50    (0 of 1 tests)",
                     "Robustness       0 / 30    (0 of 2 tests)",
                     "total           20 / 100   (2 of 5 tests passed)",
                     "--- t_todo_a: " + TODO,
                     "The same stop ended 1 more test: t_todo_b",
                     "case 2 of 3 failed (the cases before it passed); its inputs: code=0x7"):
            self.assertIn("\n" + line + "\n", out)
        self.assertNotIn("--- t_todo_b", out)
        self.assertRegex(out, r"\nseed 4 \(make grade SEED=4 reproduces this test data\); ")
        with open(os.path.join(self.out, "results.json")) as f:
            res = json.load(f)
        self.assertEqual((res["score"], res["max_score"]), (20.0, 100.0))
        self.assertEqual(res["output"], "project 2, backend bochs, seed 4")
        self.assertEqual([t["status"] for t in res["tests"]],
                         ["passed", "passed", "failed", "failed", "failed"])
        self.assertEqual(res["tests"][4]["visibility"], "after_published")
        self.assertTrue(os.path.exists(os.path.join(self.out, "junit.xml")))
        # No echo (kev/printer.h); the whole suite in one word (docs/protocol.md's `@N`).
        with open(os.path.join(self.out, "boot-01", "cmdline")) as f:
            self.assertEqual(f.read(), "test=@2 seed=4 kev.echo=0\n")
        self.assertFalse(os.path.exists(os.path.join(self.out, "boot-02")))  # one boot

    def test_every_test_passing_exits_0(self):
        p = self.grade("--tests", "t_pass,t_other")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("\ntotal           20 / 20    (2 of 2 tests passed)\n", p.stdout)

    def test_public_only_and_a_rerun_in_the_same_folder(self):
        self.grade()
        p = self.grade("--public-only", "--tests", "t_todo_a,t_todo_b,t_pass")
        self.assertEqual(p.returncode, 1)
        with open(os.path.join(self.out, "results.json")) as f:
            res = json.load(f)
        self.assertEqual([t["name"] for t in res["tests"]], ["t_todo_a", "t_pass"])
        self.assertEqual((res["score"], res["max_score"]), (20.0, 50.0))

    def test_restore_without_a_manifest(self):
        p = self.grade("--restore")
        self.assertEqual((p.returncode, p.stdout),
                         (0, "no MANIFEST.sha256 here: nothing to restore (an instructor's "
                             "tree)\n"))


class Check(unittest.TestCase):
    """make check, in this process (its folder is the test's, not build/check)."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name
        self.build = make_build(os.path.join(self.d, "build"), TESTS)
        self.old = (grade.own_dir, os.environ.get("PATH"), signal.getsignal(signal.SIGTERM),
                    signal.getsignal(signal.SIGHUP))
        grade.own_dir = lambda name: os.path.join(self.d, name)
        os.environ["PATH"] = fake_bochs_env(self.d)["PATH"]

    def tearDown(self):
        grade.own_dir = self.old[0]
        os.environ["PATH"] = self.old[1]
        signal.signal(signal.SIGTERM, self.old[2])
        signal.signal(signal.SIGHUP, self.old[3])
        self.tmp.cleanup()

    def check(self, *argv):
        out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
        with environ(NO_COLOR="1"), contextlib.redirect_stdout(out):
            status = grade.main(["check", "--rubric", grade_cli.RUBRIC, "--build", self.build,
                                 "--backend", "bochs",
                                 "--seed", "4"] + list(argv))
        out.flush()
        return status, out.buffer.getvalue().decode()

    def test_a_failing_test_in_full(self):
        status, text = self.check("--test", "t_todo_a")
        self.assertEqual(status, 1)
        self.assertIn("@@ test begin t_todo_a\r\n", text)  # the serial log, live
        self.assertIn("\n--- boot ended: kernel reported failure", text)
        self.assertIn("\nFAIL t_todo_a: %s\n--- t_todo_a: %s\ncase 0 of 3 failed; its inputs: "
                      "code=0x0\n" % (TODO, TODO), text)
        for line in text.split("\n")[text.split("\n").index("FAIL t_todo_a: " + TODO):]:
            self.assertLessEqual(len(line), grade.report.CHECK_WIDTH, line)

    def test_a_passing_test(self):
        status, text = self.check("--test", "t_pass")
        self.assertEqual(status, 0)
        self.assertRegex(text, r"\nPASS t_pass \(\d+\.\d\d s\)\n")

    def test_exactly_one_test(self):
        for argv in ([], ["--test", "t_pass,t_other"], ["--test", "none"]):
            with self.assertRaises(SystemExit) as cm:
                self.check(*argv)
            self.assertEqual(cm.exception.code, "check takes exactly one test: make check "
                                                "TEST=<name>")


def processes_in(folder) -> list:
    """Live processes whose working directory is inside folder."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cwd = os.readlink("/proc/%s/cwd" % pid)
            with open("/proc/%s/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if (cwd == folder or cwd.startswith(folder + "/")) and state != "Z":
            found.append(int(pid))
    return found


class Signals(unittest.TestCase):
    def stop_with(self, sig):
        with tempfile.TemporaryDirectory() as d:
            build = make_build(os.path.join(d, "build"), [("t_hang", "Print", 1)])
            out = os.path.join(d, "out")
            proc = grade_cli.start(["grade", "--build", build, "--backend", "bochs", "--out", out],
                                   env=fake_bochs_env(d))
            pid_file = os.path.join(out, "boot-01", "fake.pid")
            fake = None
            try:
                for _ in range(600):  # the fake emulator is running once it says its pid
                    if os.path.exists(pid_file) and open(pid_file).read().endswith("\n"):
                        fake = int(open(pid_file).read())
                        break
                    time.sleep(0.05)
                self.assertIsNotNone(fake, "the fake emulator did not start")
                self.assertIn(fake, processes_in(d))
                proc.send_signal(sig)
                stdout, stderr = proc.communicate(timeout=60)
                self.assertEqual(proc.returncode, 128 + sig, stderr)
                self.assertIn("stopped by signal %d" % sig, stderr)
                for _ in range(200):  # SIGKILL was sent; it takes a moment to land
                    if not processes_in(d):
                        break
                    time.sleep(0.05)
                self.assertEqual(processes_in(d), [])
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                if fake is not None and fake in processes_in(d):
                    os.kill(fake, signal.SIGKILL)

    def test_sigterm_stops_the_emulators(self):
        self.stop_with(signal.SIGTERM)

    def test_sighup_stops_the_emulators(self):
        self.stop_with(signal.SIGHUP)


if __name__ == "__main__":
    unittest.main()
