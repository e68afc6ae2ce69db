"""Project 2 (hypercalls): the tests the grader runs and what each must print.

Each test is a kernel test of project2/ with the same name. The grader
draws its parameters (passed as `<test>.<param>=<value>` on the command
line) and expects, byte for byte, the `@@ test data` values below:
`capture` is what the guest printed through the PrinterProxy, `exit_code`
the code it passed to HaltCpu, `vm_error` the text of the error that
stopped the VM instead.
"""

from grader.rubric import ANY, Category, IntRange, Present, Printable, Test, Utf8

PROJECT = "project2"

# The files a student may edit; the release manifest covers every other one.
EDITABLE = ["project2/hypercall.c"]

# How a guest run ends: one of these, never both.
OUTCOME_KEYS = ("exit_code", "vm_error")

CATEGORIES = [
    Category("HaltCpu", 20, "hypercall 0 stops the vCPU with the guest's exit code"),
    Category("Print", 50, "hypercall 1 prints the guest's buffer through the PrinterProxy"),
    Category("Robustness", 30, "a bad hypercall stops the VM with an error, not the host"),
]

MSG = Printable(8, 60)
CODE = IntRange(1, 255)

TESTS = [
    Test("p2_halt_code", "HaltCpu", weight=2, params={"code": CODE},
         expect=lambda p: {"exit_code": p["code"], "capture": ""},
         description="HaltCpu(code): the VM exits with the guest's code"),
    Test("p2_regs_preserved", "HaltCpu", weight=1, params={"code": CODE},
         expect=lambda p: {"exit_code": p["code"], "capture": ""},
         description="hypercalls leave the guest's other registers as they were"),

    Test("p2_print_hello", "Print", weight=2, params={"msg": MSG},
         expect=lambda p: {"capture": p["msg"], "exit_code": 0},
         description="Print(msg) then HaltCpu(0)"),
    Test("p2_print_empty", "Print", weight=1,
         expect=lambda p: {"capture": "", "exit_code": 0},
         description="Print of a zero-length buffer prints nothing"),
    Test("p2_print_exit_code", "Print", weight=2, params={"msg": MSG, "code": CODE},
         expect=lambda p: {"capture": p["msg"], "exit_code": p["code"]},
         description="Print(msg) then HaltCpu(code)"),
    Test("p2_print_many", "Print", weight=2,
         params={"msg": Printable(4, 16), "count": IntRange(20, 40)},
         expect=lambda p: {"capture": p["msg"] * p["count"], "exit_code": 0},
         description="count Print hypercalls in a row, in order"),
    Test("p2_print_utf8", "Print", weight=1, hidden=True, params={"msg": Utf8(4, 20)},
         expect=lambda p: {"capture": p["msg"], "exit_code": 0},
         description="Print passes any bytes through unchanged (UTF-8 text)"),
    Test("p2_print_cross_page", "Print", weight=2, params={"msg": Printable(100, 400)},
         expect=lambda p: {"capture": p["msg"], "exit_code": 0},
         description="a buffer that crosses a page boundary"),

    Test("p2_unknown_hypercall", "Robustness", weight=1, params={"nr": IntRange(2, 100000)},
         expect=lambda p: {"vm_error": Present((str(p["nr"]), hex(p["nr"])),
                                               "the error must name the hypercall number"),
                           "capture": ""},
         description="an unknown hypercall number stops the VM with an error naming it"),
    Test("p2_print_unmapped", "Robustness", weight=1,
         expect=lambda p: {"vm_error": ANY, "capture": ""},
         description="Print of an unmapped guest address stops the VM with an error"),
    Test("p2_print_past_end", "Robustness", weight=1,
         expect=lambda p: {"vm_error": ANY, "capture": ""},
         description="Print of a buffer that runs from mapped into unmapped memory stops the "
                     "VM with an error and prints none of it"),
    Test("p2_print_wrap", "Robustness", weight=1, hidden=True,
         expect=lambda p: {"vm_error": ANY, "capture": ""},
         description="Print of a buffer whose end wraps past 2^64 stops the VM with an error"),
]

