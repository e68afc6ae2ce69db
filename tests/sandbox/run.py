#!/usr/bin/env python3
"""The sandbox, end to end: attacks score 0 and are named; a student fault
costs only its test, in the same boot, exactly as if each test had booted
alone.

Each case builds project 2 with one student file replaced (SRC_OVERRIDE),
grades it under Bochs with a fixed seed, and checks the grade:

  attacks (tests/sandbox/attacks/*.c): what a determined student would try
  to score without implementing anything -- forged frames from printk,
  `out` to COM1 and to the power-off ports, writes to kernel memory, a
  call to a kernel function (a build error), a jump into the kernel, reading
  the command line. Each must score 0, in one boot, with the cause named
  in the grader's output.

  isolation: a correct solution that printk's without a newline scores
  100%; and the reference solution with one fault planted behind a
  trigger only some cases hit (a NULL write, TODO(), a 64 KiB array on the
  stack, an endless loop, a guest made to loop forever). The tests it
  touches fail with the cause named, every other test passes, the whole
  run takes one boot, and the verdicts equal those of one boot per test.

  tests/sandbox/run.py [-j N] [--seed S]     ends with `N passed, N failed`
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from checks import Checks  # noqa: E402

STUDENT = "project2/hypercall.c"
OUT = os.path.join(ROOT, "build", "sandbox")

# attack file -> words the grader's output must hold (None: the build must fail)
ATTACKS = {
    "forge_frames.c": ["the VM stopped with KEV_EINVAL"],
    "com1_asm.c": ["CPU exception 13 #GP (general protection) in your code", "hypercall_resolve"],
    "poweroff_port.c": ["CPU exception 13 #GP (general protection) in your code"],
    "kernel_write.c": ["CPU exception 14 #PF", "a write of this address; it is kernel memory"],
    "kernel_pointer.c": ["CPU exception 14 #PF", "an instruction fetch of this address"],
    "read_cmdline.c": ["CPU exception 14 #PF", "a read of this address; it is kernel memory"],
}
BUILD_FAILS = {
    "kernel_call.c": "project2/hypercall.c calls power_off(), which is not part of the API",
}

# name -> (a replacement in the reference solution, words the output must hold)
PRINT_START = "static struct vmexit_result print(struct vcpu_state *s, gva_t buf, uint64_t size,\n" \
              "                                  struct printer *out)\n{\n"
ISOLATION = {
    "null_write": ("if (size == 4095) *(volatile int *)0 = 1;", "NULL or a small offset from it"),
    "todo": ("if (size == 4096) TODO();", "TODO() in print() at project2/hypercall.c"),
    "stack_64k": ("if (size == 4097) big_array();", "a stack overflow"),
    "endless_loop": ("if (size == 8192) for (;;) {}", "ran longer than its budget"),
    # The budget counts from the last call to kev (kernel/user.c), not from
    # the upcall's start: an endless loop after calls is stopped too ...
    "loop_after_calls": ("if (size == 8192) { (void)printer_room(out); for (;;) {} }",
                         "ran longer than its budget"),
    "guest_loops": ("if (size == 8193) { s->regs.rbx = ~0ULL; return vmexit_continue(); }",
                    "more than 20000 VM exits"),
    # A handle kept from an earlier case names a printer that is gone: a
    # named error for that test, never a write to freed memory.
    "stale_handle": ("static struct printer *saved;\n"
                     "    if (size == 8192 && saved)\n        (void)printer_write(saved, \"x\", 1);\n"
                     "    saved = out;", "is not the struct printer your function was given"),
    "halt_fault": (None, "CPU exception 6 #UD"),
    # Not a fault: a correct solution that printk's without a newline, just
    # before the kernel's frames, loses no point (frames start lines of their own).
    "printk_no_newline": ('printk("debug: no newline");', None),
    # ... and code that runs ten budgets in all, but calls kev within each,
    # is never stopped.
    "slow_but_calling": ("if (size == 8192) slow_calls(out);", None),
}
# A function of its own: a 64 KiB local in print() would take its stack on every call.
BIG_ARRAY = ("__attribute__((noinline, unused)) static void big_array(void)\n{\n"
             "    volatile char big[65536];\n    big[0] = 1;\n    (void)big[0];\n}\n\n"
             # Twenty stretches of about half a budget (USER_BUDGET_TICKS under
             # Bochs), a call to kev after each.
             "__attribute__((noinline, unused)) static void slow_calls(struct printer *out)\n{\n"
             "    for (int i = 0; i < 20; i++) {\n"
             "        for (volatile int k = 0; k < 8000; k++) {\n        }\n"
             "        (void)printer_room(out);\n    }\n}\n\n")
HALT_FIND = "        return vm_exit(s->vm, hc->halt_cpu.exit_code);"
HALT_REPLACE = ("        if ((uint64_t)hc->halt_cpu.exit_code == 0x8000000000000000ULL)\n"
                "            __asm__ volatile(\"ud2\");\n" + HALT_FIND)


def make(build, src=None):
    argv = ["make", "-s", "--no-print-directory", "PROJECT=2", "SOLUTION=2", "BUILD=" + build]
    if src:
        argv.append("SRC_OVERRIDE=" + src)
    p = subprocess.run(argv + ["all"], cwd=ROOT, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def grade(build, out, seed, per_boot=None):
    argv = [sys.executable, os.path.join(ROOT, "grader", "grade.py"), "grade", "--build", build,
            "--backend", "bochs", "--seed", str(seed), "--public-only", "--out", out, "-j", "1"]
    if per_boot:
        argv += ["--per-boot", str(per_boot)]
    p = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True,
                       env=dict(os.environ, NO_COLOR="1"))
    try:
        with open(os.path.join(out, "results.json")) as f:
            res = json.load(f)
    except (OSError, ValueError):
        res = None
    boots = len([d for d in os.listdir(out) if d.startswith("boot-")]) if os.path.isdir(out) else 0
    return p.stdout + p.stderr, res, boots


def prepare(name, text):
    src = os.path.join(OUT, name, "src")
    os.makedirs(os.path.join(src, os.path.dirname(STUDENT)), exist_ok=True)
    with open(os.path.join(src, STUDENT), "w") as f:
        f.write(text)
    return src, os.path.join(OUT, name, "build")


def attack(name, seed):
    with open(os.path.join(HERE, "attacks", name)) as f:
        src, build = prepare(name[:-2], f.read())
    status, log = make(build, src)
    if name in BUILD_FAILS:
        return [("%s: the build fails and names the call" % name,
                 status != 0 and BUILD_FAILS[name] in log, log[-1500:])]
    if status != 0:
        return [("%s: builds" % name, False, log[-1500:])]
    output, res, boots = grade(build, os.path.join(OUT, name[:-2], "grade"), seed)
    # The attack replaces hypercall.c only: the other parts keep their solution.
    hyper = [t for t in (res or {}).get("tests", []) if "Hypercalls" in t.get("tags", [])]
    score = sum(t["score"] for t in hyper) if hyper else None
    checks = [("%s: scores 0 on the hypercalls" % name, score == 0 and hyper,
               "score %r\n%s" % (score, output[-1500:])),
              ("%s: one boot" % name, boots == 1, "%d boots" % boots)]
    for words in ATTACKS[name]:
        checks.append(("%s: the output says %r" % (name, words), words in output, output[-2500:]))
    return checks


def isolation(name, seed, solution):
    code, words = ISOLATION[name]
    if code is None:
        text = solution.replace(HALT_FIND, HALT_REPLACE, 1)
    else:
        text = solution.replace(PRINT_START, BIG_ARRAY + PRINT_START + "    " + code + "\n", 1)
    if text == solution:
        return [("%s: the planted fault fits the solution" % name, False, "the text to replace is gone")]
    src, build = prepare(name, text)
    status, log = make(build, src)
    if status != 0:
        return [("%s: builds" % name, False, log[-1500:])]
    if words is None:  # a correct solution
        batched, res, boots = grade(build, os.path.join(OUT, name, "grade"), seed)
        return [("%s: still scores 100%% in one boot" % name,
                 res is not None and res["score"] == res["max_score"] and boots == 1, batched[-1500:])]
    batched, res, boots = grade(build, os.path.join(OUT, name, "grade"), seed)
    alone, res1, _ = grade(build, os.path.join(OUT, name, "alone"), seed, per_boot=1)
    if res is None or res1 is None:
        return [("%s: both grading runs write results.json" % name, False, batched[-1500:])]
    verdicts = {t["name"]: t["status"] for t in res["tests"]}
    verdicts1 = {t["name"]: t["status"] for t in res1["tests"]}
    failed = sorted(n for n, v in verdicts.items() if v != "passed")
    return [
        ("%s: one boot for the whole suite" % name, boots == 1, "%d boots" % boots),
        ("%s: some test fails, at most three" % name, 1 <= len(failed) <= 3, failed),
        ("%s: the output says %r" % (name, words), words in batched, batched[-2500:]),
        ("%s: verdicts equal one boot per test" % name, verdicts == verdicts1,
         {n: (verdicts.get(n), verdicts1.get(n)) for n in verdicts if verdicts.get(n) != verdicts1.get(n)}),
    ]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    shutil.rmtree(OUT, ignore_errors=True)
    c = Checks()
    with open(os.path.join(ROOT, STUDENT)) as f:
        solution = f.read()
    status, log = make("build/p2-sol2")
    if not c.check("the reference solution builds", status == 0, log[-1500:]):
        return c.summary()
    jobs = [(attack, n) for n in sorted(set(ATTACKS) | set(BUILD_FAILS))]
    jobs += [(lambda n, s: isolation(n, s, solution), n) for n in ISOLATION]
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futures = [pool.submit(fn, name, args.seed) for fn, name in jobs]
        for fut in futures:
            for name, ok, why in fut.result():
                c.check(name, ok, why)
    return c.summary()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
