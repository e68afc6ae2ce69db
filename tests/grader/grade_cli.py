"""grader/grade.py for the tests: imported as a module (it is a script, not
a package module), and run as a program the way `make grade` runs it."""
import importlib.util
import os
import subprocess
import sys

PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                    "grader", "grade.py")
_spec = importlib.util.spec_from_file_location("kevlab_grade", PATH)
grade = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(grade)


# The tests' builds are made up (helpers.make_build): their tests are in the
# recorded build's categories, whatever project2/rubric.py says today.
RUBRIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "build-p2", "rubric.py")


def with_rubric(argv):
    """argv with --rubric RUBRIC after the command, unless it names one."""
    argv = list(argv)
    if argv and argv[0] in ("grade", "run", "check") and "--rubric" not in argv and \
            "--help" not in argv:
        argv[1:1] = ["--rubric", RUBRIC]
    return argv


def run(argv, cwd="/tmp", env=None, timeout=120) -> subprocess.CompletedProcess:
    """Runs grade.py with argv from cwd; its output as text."""
    return subprocess.run([sys.executable, PATH] + with_rubric(argv), cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


def start(argv, cwd="/tmp", env=None) -> subprocess.Popen:
    """Starts grade.py with argv from cwd, its output piped."""
    return subprocess.Popen([sys.executable, PATH] + with_rubric(argv), cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
