#!/usr/bin/env python3
"""A stand-in emulator for the grader's tests: a pretend kernel.

Run in a boot's run directory (the runner writes `cmdline` there), it
writes frames to the serial file the way the kernel would, for each test
of test=: a name containing `hang` hangs, `spam` prints forever, `crash` panics (exit 35), `tf`
triple-faults (exit 0, begin line cut off), `fail` fails its own check;
any other test passes and reports its `<test>.msg` param as `capture`.
Exit statuses are QEMU's: 33 success, 35 failure, 0 reset.

Usage: fake_emulator.py SERIAL
"""
import sys
import time
import urllib.parse

sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.dirname(
    __import__("os").path.dirname(__import__("os").path.abspath(__file__)))))
from grader.protocol import escape  # noqa: E402


def main(serial):
    line = open("cmdline").read().strip()
    words = dict(w.split("=", 1) for w in line.split())
    out = open(serial, "wb", buffering=0)

    def say(text):
        out.write(text.encode() + b"\r\n")

    say("@@ boot kevlab cmdline=" + escape(line.encode()))
    failed = 0
    tests = [t for t in words.get("test", "none").split(",") if t != "none"]
    for t in tests:
        if "tf" in t:
            out.write(("@@ test begin " + t)[:10].encode())
            return 0
        say("@@ test begin " + t)
        if "hang" in t:
            time.sleep(3600)
        if "spam" in t:
            while True:
                say("guest| " + "x" * 1000)
        if "crash" in t:
            say("@@ panic at project2/hypercall.c:42 in handle(): not yet implemented")
            say("    backtrace (most recent call first):")
            say("      #0  0000000000103b25 handle+0x25")
            say("@@ poweroff fail")
            return 35
        msg = urllib.parse.unquote_to_bytes(words.get(t + ".msg", ""))
        say("guest| " + escape(msg))
        say("@@ test data %s capture %s" % (t, escape(msg)))
        say("@@ test data %s exit_code 0" % t)
        if "fail" in t:
            say("@@ test end %s fail the check went wrong" % t)
            failed += 1
        else:
            say("@@ test end %s pass" % t)
    say("@@ done passed=%d failed=%d" % (len(tests) - failed, failed))
    say("@@ poweroff " + ("fail" if failed else "ok"))
    return 35 if failed else 33


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
