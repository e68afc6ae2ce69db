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


def run(argv, cwd="/tmp", env=None, timeout=120) -> subprocess.CompletedProcess:
    """Runs grade.py with argv from cwd; its output as text."""
    return subprocess.run([sys.executable, PATH] + list(argv), cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


def start(argv, cwd="/tmp", env=None) -> subprocess.Popen:
    """Starts grade.py with argv from cwd, its output piped."""
    return subprocess.Popen([sys.executable, PATH] + list(argv), cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
