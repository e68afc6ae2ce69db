"""How a boot ended: one name per way, and what each means for a student."""

from dataclasses import dataclass

SUCCESS = "success"
KERNEL_FAILURE = "kernel reported failure"
PANIC = "panic"
TRIPLE_FAULT = "triple fault"
BUDGET = "instruction budget exhausted"
TIMEOUT = "wall-clock timeout"
RUNAWAY_OUTPUT = "runaway output"
EMULATOR_ERROR = "emulator error"
NO_END_FRAME = "no end frame"
NOT_RUN = "not run"
PROTOCOL_VIOLATION = "protocol violation"

# What usually causes each ending, in words for a student.
EXPLAIN = {
    SUCCESS: "the kernel powered off reporting success",
    KERNEL_FAILURE: "the kernel powered off reporting that a check failed",
    PANIC: "the kernel panicked (a panic(), assert(), TODO() or a CPU exception "
           "inside the kernel); its message and backtrace say where",
    TRIPLE_FAULT: "the CPU triple-faulted: an exception happened while the kernel "
                  "could not handle exceptions (a broken IDT or GDT, a stack "
                  "overflow, or the kernel's own memory unmapped) and the machine "
                  "stopped without a message",
    BUDGET: "the boot used up its instruction budget: the code under test most "
            "likely loops forever (for instance a hypercall that keeps being "
            "repeated, or a loop waiting for something that never happens)",
    TIMEOUT: "the boot ran past its wall-clock limit and was stopped: the code "
             "under test most likely hangs or loops forever",
    RUNAWAY_OUTPUT: "the boot printed more than the grader keeps and was stopped: "
                    "the code under test most likely prints in a loop that never "
                    "ends (a printk in a retry loop, say)",
    EMULATOR_ERROR: "the emulator stopped with an error of its own: a missing "
                    "file or program, a bad configuration, or something the code "
                    "under test did that the emulator does not support",
    NO_END_FRAME: "the test began but the kernel never reported its end, and "
                  "the boot gave no other reason",
    NOT_RUN: "the kernel did not run this test",
    PROTOCOL_VIOLATION: "the kernel's serial output broke the grader's protocol "
                        "(docs/protocol.md), so this boot's remaining tests could not be "
                        "graded: a bug in the framework, not in your code; tell your "
                        "instructors",
}


@dataclass
class BootOutcome:
    """How one boot ended."""
    kind: str
    detail: str = ""  # e.g. Bochs's panic line, the timed-out test
    exit_status: int | None = None

    @property
    def ok(self) -> bool:
        return self.kind == SUCCESS

    def describe(self) -> str:
        return self.kind + (": " + self.detail if self.detail else "")
