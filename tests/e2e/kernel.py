#!/usr/bin/env python3
"""The kernel's end-to-end tests: boots the kernel under Bochs and QEMU TCG.

Checks, under both emulators: a bare boot prints the banner with the memory
found and powers off with success; `test=all` runs the self-tests (on
kevlab-test.iso, the image with the modules they read; the graded image,
kevlab.iso, has none of them) and
succeeds (under QEMU TCG, which has no VMX, kev's tests that need it are
skipped with kev's no-VMX message); a failing assertion, a panic, a TODO(), a page
fault and a NULL dereference each end the boot with a failure status and a
symbolized backtrace; a triple fault and a hang end the boot too, each with
its own reason.

Usage: tests/e2e/kernel.py [--build build/p2] [--backends bochs,qemu-tcg]
Ends with `N passed, N failed`.
"""
import argparse
import concurrent.futures
import os
import re
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from grader import backends, runner  # noqa: E402
from grader import outcome as oc  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks  # noqa: E402

# crash test -> (text its panic message must contain, a function its backtrace must name)
CRASHES = {
    "crash_assert": ("assertion failed: answer == 42", "ktest_fn_crash_assert"),
    "crash_panic": ("the self-test panicked on purpose (code 7)", "ktest_fn_crash_panic"),
    "crash_todo": ("kernel/tests.c:", "ktest_fn_crash_todo"),  # and "not yet implemented"
    "crash_page_fault": ("#PF (page fault)", "write_unmapped"),
    "crash_null": ("#PF (page fault)", "write_unmapped"),
    "crash_page_double_free": ("a page is free already", "pages_free"),
    "crash_kfree_bad_pointer": ("not a pointer kmalloc returned", "kfree"),
}
VMX_PREFIXES = ("kev_", "p2_")  # tests that need VMX
FALLBACK_TESTS = "kev_guest_spins_sti,kev_guest_spins,kev_guest_exits_forever,kev_hlt,kev_cr3_attack"




def boot(backend, iso, cmdline, tmp, tag, budget=None, limit=60.0):
    limits = runner.Limits(boot=limit, budget=budget)
    return runner.boot(backend, iso, cmdline, os.path.join(tmp, tag), limits)


def serial_text(res):
    try:
        with open(res.serial_path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def check_bare(c, name, res):
    text = serial_text(res)
    c.check("%s: test=none powers off with success" % name, res.outcome.ok,
            res.outcome.describe())
    c.check("%s: the banner says how student code is walled off" % name,
            re.search(r"student code runs in ring 3 with (SMEP and SMAP|no SMEP)", text), text[-800:])
    m = re.search(r"kevlab: (\d+) MiB of memory, (\d+) pages free", text)
    c.check("%s: the banner names the memory found" % name,
            bool(m) and int(m.group(1)) > 0 and int(m.group(2)) > 0,
            "no banner with a non-zero memory size in:\n" + text[-800:])


def check_all(c, name, has_vmx, res):
    log = res.log
    recs = list(log.tests.values())
    c.check("%s: test=all ran tests" % name, len(recs) >= 5,
            "only %d tests ran" % len(recs))
    for rec in recs:
        needs_vmx = rec.name.startswith(VMX_PREFIXES)
        if has_vmx or not needs_vmx:
            c.check("%s: self-test %s passes" % (name, rec.name),
                    rec.verdict == "pass", rec.reason or "no end frame")
        else:  # a kev test that needs no VMX may pass; the others skip, saying why
            c.check("%s: %s passes, or skips for want of VMX" % (name, rec.name),
                    rec.verdict == "pass" or (rec.verdict == "skip" and "no VMX" in rec.reason),
                    "expected a pass or a skip naming the missing VMX, got %s %s"
                    % (rec.verdict, rec.reason))
    c.check("%s: test=all powers off with success" % name, res.outcome.ok,
            res.outcome.describe())
    skipped = (log.done or {}).get("skipped")
    c.check("%s: every kev test that needs VMX is skipped %s" % (name, "never" if has_vmx else "and counted"),
            skipped == (0 if has_vmx else sum(r.verdict == "skip" for r in recs)) and
            (has_vmx or skipped > 0), "done frame: %s" % log.done)


def check_crash(c, name, test, res):
    want_msg, want_fn = CRASHES[test]
    c.check("%s: %s ends the boot as a panic" % (name, test),
            res.outcome.kind == oc.PANIC, res.outcome.describe())
    panics = res.log.panics
    msg = panics[0].message if panics else ""
    details = "\n".join(panics[0].details) if panics else ""
    if test == "crash_todo":
        want_msg_2 = "not yet implemented"
        c.check("%s: TODO() says it is not yet implemented" % name, want_msg_2 in msg,
                "panic message %r lacks %r" % (msg, want_msg_2))
    c.check("%s: %s's panic names its cause" % (name, test), want_msg in msg,
            "panic message %r lacks %r" % (msg, want_msg))
    c.check("%s: %s's backtrace is symbolized" % (name, test),
            "backtrace" in details and re.search(r"\b%s\+0x[0-9a-f]+" % want_fn, details) is not None,
            "no frame naming %s in:\n%s" % (want_fn, details))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build/p2")
    ap.add_argument("--backends", default="bochs,qemu-tcg")
    ap.add_argument("-j", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    # The self-tests' image: the kernel with the modules they read (Makefile's TEST_MODULES).
    iso = os.path.join(ROOT, args.build, "kevlab-test.iso")
    if not os.path.exists(iso):
        print("no ISO at %s: run make test-iso first" % iso)
        print("0 passed, 1 failed")
        return 1
    graded_iso = os.path.join(ROOT, args.build, "kevlab.iso")

    c = Checks()
    tmp = tempfile.mkdtemp(prefix="kevlab-kernel-e2e-")
    jobs = []  # (checker, args, boot args)
    for name in args.backends.split(","):
        backend, _ = backends.choose(name)
        has_vmx = name != "qemu-tcg"
        jobs.append((check_bare, (name,), (backend, iso, "test=none", tmp, name + "-none")))
        jobs.append((check_all, (name, has_vmx),
                     (backend, iso, "test=all cmdline_params.text=a%20b%25c%E2%82%AC%0A",
                      tmp, name + "-all")))
        for test in CRASHES:
            jobs.append((check_crash, (name, test), (backend, iso, "test=" + test, tmp,
                                                     "%s-%s" % (name, test))))
        jobs.append(("triple", (name,), (backend, iso, "test=crash_triple_fault", tmp,
                                         name + "-triple")))
        for echo in ("", " kev.echo=0"):
            jobs.append(("echo", (name, echo), (backend, iso, "test=kev_printer" + echo, tmp,
                                                "%s-echo%s" % (name, echo.strip()))))
        if name == "bochs":
            # The graded image (kevlab.iso) does without the test modules.
            jobs.append(("graded-image", (name,),
                         (backend, graded_iso, "test=boot_modules", tmp, name + "-graded-image")))
            jobs.append(("budget", (name,), (backend, iso, "test=crash_hang", tmp,
                                             name + "-hang", 200_000_000)))
            # The guest budget without the VMX-preemption timer: the LAPIC
            # fallback, forced, and a CPU model that has no such timer.
            jobs.append(("fallback", (name + ", kev.no_preemption_timer=1",),
                         (backend, iso, "test=%s kev.no_preemption_timer=1" % FALLBACK_TESTS,
                          tmp, name + "-fallback")))
            penryn, _ = backends.choose("bochs", "core2_penryn_t9600")
            jobs.append(("fallback", ("bochs core2_penryn_t9600",),
                         (penryn, iso, "test=" + FALLBACK_TESTS, tmp, "penryn")))
        else:
            jobs.append(("timeout", (name,), (backend, iso, "test=crash_hang", tmp,
                                              name + "-hang", None, 5.0)))

    with concurrent.futures.ThreadPoolExecutor(args.j) as pool:
        futures = [(chk, cargs, pool.submit(boot, *bargs)) for chk, cargs, bargs in jobs]
        for chk, cargs, fut in futures:
            res = fut.result()
            name = cargs[0]
            if chk == "triple":
                c.check("%s: a triple fault ends the boot, named as such" % name,
                        res.outcome.kind == oc.TRIPLE_FAULT, res.outcome.describe())
            elif chk == "graded-image":
                rec = res.log.tests.get("boot_modules")
                c.check("%s: the graded image loads no test module (boot_modules skips, saying why)"
                        % name, res.outcome.ok and rec is not None and rec.verdict == "skip"
                        and "only the self-tests' image" in (rec.reason or ""),
                        "%s: %s" % (res.outcome.describe(), rec and (rec.verdict, rec.reason)))
            elif chk == "budget":
                c.check("%s: a hang ends when the instruction budget runs out" % name,
                        res.outcome.kind == oc.BUDGET, res.outcome.describe())
            elif chk == "fallback":
                text = serial_text(res)
                ends = re.findall(r"@@ test end \S+ (\w+)", text)
                c.check("%s: kev's guest budget without the VMX-preemption timer" % name,
                        res.outcome.ok and "fail" not in ends
                        and len(ends) == len(FALLBACK_TESTS.split(",")), text[-2000:])
            elif chk == "echo":
                text = serial_text(res)
                lines = [l.rstrip("\r") for l in text.split("\n") if l.startswith("guest| ")]
                # kev/tests.c's kev_printer: 34 bytes of two lines, then 200 letters,
                # of which the echo shows what fits in PRINTER_ECHO_MAX (128).
                want = [] if cargs[1] else [
                    "guest| printer self-test", "guest| @@ not a frame\\x01",
                    "guest| " + ("abcdefghijklmnopqrstuvwxyz" * 4)[:128 - 34],
                    "guest| [the echo stopped after 128 bytes; the capture holds all 234]"]
                c.check("%s: kev_printer passes%s, and the console shows %s" % (
                    name, " with" + cargs[1] if cargs[1] else "", "no echo" if cargs[1] else "its echo, escaped and cut at 128 bytes"),
                    re.search(r"@@ test end kev_printer pass", text) and lines == want,
                    "echo lines %r, expected %r; log:\n%s" % (lines, want, text[-1500:]))
            elif chk == "timeout":
                c.check("%s: a hang ends at the wall-clock limit" % name,
                        res.outcome.kind == oc.TIMEOUT, res.outcome.describe())
            else:
                chk(c, *cargs, res)
    print("logs: %s" % tmp)
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
