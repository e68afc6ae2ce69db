#!/usr/bin/env python3
"""A stand-in emulator for the grader's tests: a pretend kernel.

Run in a boot's run directory, it writes the frames of docs/protocol.md to
the serial file the way the kernel and kev/gtest.c would, for each test of
the command line's test=, by what the test's name holds:

  hang    begins, then hangs          spam   begins, then prints forever
  crash   the kernel panics           tf     triple fault (its begin line cut off)
  todo    student code stops at a TODO() (an `@@ fault` frame; the boot goes on)
  wrong   case 2 exits with the wrong code
  rogue   also reports data for another test (a protocol violation)
  else    3 cases, all passed

Two ways to run it:
  fake_emulator.py SERIAL       like QEMU: the command line from ./cmdline;
                                exits 33 (success), 35 (failure), 0 (reset)
  fake_emulator.py --bochs ...  like Bochs (installed as `bochs` on PATH,
                                helpers.fake_bochs_env): the serial file and
                                the image from ./bochsrc, the command line
                                from the image; exits 0, or 1 with the
                                reason in ./bochs.log
Either way it writes its process id to ./fake.pid first.
"""
import os
import re
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
from grader.image import CMDLINE_SPACE  # noqa: E402
from grader.protocol import escape  # noqa: E402

SHUTDOWN = "00036524224p[UNMAP ] >>PANIC<< Shutdown port: shutdown requested\n"
TRIPLE = "00041503970p[CPU0  ] >>PANIC<< exception(): 3rd (13) exception with no resolution\n"
TODO = "TODO() in hypercall_resolve() at project2/hypercall.c:121: not yet implemented"


def bochs_setup():
    """(serial path, command line, image) from the bochsrc and image of a Bochs boot."""
    rc = open("bochsrc").read()
    serial = re.search(r"^com1: .*dev=(\S+)", rc, re.M).group(1)
    image = re.search(r"^ata0-master: .*path=([^,\s]+)", rc, re.M).group(1)
    data = open(image, "rb").read()
    at = data.index(b"multiboot2 /boot/kernel.elf ") + len(b"multiboot2 /boot/kernel.elf ")
    return serial, data[at:at + CMDLINE_SPACE].rstrip(b" ").decode(), image


def suite(image, project):
    """The tests `@project` names: the pretend kernel's table, which
    helpers.fake_iso wrote into the image (none if it wrote none)."""
    try:
        data = open(image, "rb").read()
    except OSError:
        return []
    m = re.search(rb"#fake-suite %d (\S+)\n" % project, data)
    return m.group(1).decode().split(",") if m else []


def run(serial, line, bochs, image="kevlab.iso"):
    """Pretends to boot; returns the exit status."""
    words = dict(w.split("=", 1) for w in line.split() if "=" in w)
    out = open(serial, "wb", buffering=0)

    def say(text):
        out.write(text.encode() + b"\r\n")

    def power_off(ok):
        say("@@ poweroff " + ("ok" if ok else "fail"))
        if bochs:
            if not ok:
                open("bochs.log", "w").write(SHUTDOWN)
            return 0 if ok else 1
        return 33 if ok else 35

    say("@@ boot kevlab cmdline=" + escape(line.encode()))
    say("kevlab: a pretend kernel (tests/grader/fake_emulator.py)")
    failed = 0
    tests = [t for t in words.get("test", "none").split(",") if t != "none"]
    if len(tests) == 1 and re.fullmatch(r"@\d+", tests[0]):  # a whole suite
        tests = suite(image, int(tests[0][1:]))
    for t in tests:
        if "tf" in t:
            out.write(("@@ test begin " + t)[:10].encode())
            if bochs:
                open("bochs.log", "w").write(TRIPLE)
                return 1
            return 0
        say("@@ test begin " + t)
        if "hang" in t:
            time.sleep(3600)
        if "spam" in t:
            while True:
                say("guest| " + "x" * 1000)
        if "crash" in t:
            say("@@ panic at kev/vcpu.c:210 in vcpu_run(): VMRESUME failed")
            say("    backtrace (most recent call first):")
            say("      #0  0000000000103b25 vcpu_run+0x25")
            return power_off(False)
        if "rogue" in t:
            say("@@ test data someone_else cases 1/1")
        say("guest| hello from " + t)
        if "todo" in t:
            say("@@ fault " + TODO)
            say("    backtrace (most recent call first):")
            say("      #0  000000000011301f hypercall_resolve+0x1f")
            for key, value in (("failed_case", "0"), ("inputs", "code=0x0"),
                               ("error", "KEV_ESTUDENT"), ("message", TODO),
                               ("expect.exit_code", "0"), ("exits", "1"), ("cases", "0/3")):
                say("@@ test data %s %s %s" % (t, key, escape(value.encode())))
            say("@@ test end %s fail case 0 (code=0x0): the VM stopped with KEV_ESTUDENT, "
                "expected to exit with code 0" % t)
            failed += 1
        elif "wrong" in t:
            for key, value in (("failed_case", "2"), ("inputs", "code=0x7"),
                               ("exit_code", "8"), ("expect.exit_code", "7"), ("exits", "1"),
                               ("cases", "2/3")):
                say("@@ test data %s %s %s" % (t, key, escape(value.encode())))
            say("@@ test end %s fail case 2 (code=0x7): the VM exited with code 8, expected "
                "to exit with code 7" % t)
            failed += 1
        else:
            say("@@ test data %s cases 3/3" % t)
            say("@@ test end %s pass" % t)
    say("@@ done passed=%d failed=%d skipped=0" % (len(tests) - failed, failed))
    return power_off(failed == 0)


def main(argv):
    with open("fake.pid", "w") as f:
        f.write("%d\n" % os.getpid())
    if argv[:1] == ["--bochs"]:
        serial, line, image = bochs_setup()
        return run(serial, line, bochs=True, image=image)
    return run(argv[0], open("cmdline").read().strip(), bochs=False)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
