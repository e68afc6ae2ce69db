"""Shared pieces of the grader's tests: fixtures and a fake backend."""
import os
import sys

from grader import backends
from grader import outcome as oc
from grader import protocol, runner

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")


def fixture(name: str) -> bytes:
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


class FakeBackend(backends.Qemu):
    """Runs tests/grader/fake_emulator.py; exit statuses as QEMU's."""
    name = "fake"
    program = sys.executable

    def __init__(self):
        super().__init__()

    def command(self, run_dir, image, serial, budget):
        return [sys.executable, os.path.join(HERE, "fake_emulator.py"), serial], dict(os.environ)


def replayed_boot(serial: bytes, kind: str, detail: str = "") -> runner.BootResult:
    """A BootResult as a real boot with this serial output would give."""
    log = protocol.parse(serial)
    return runner.BootResult(oc.BootOutcome(kind, detail), log, "/nonexistent/boot",
                             "", 0.0, 1.0)
