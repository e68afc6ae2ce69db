"""Imports grader/grade.py (a script, not a package module) for the tests."""
import importlib.util
import os

PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                    "grader", "grade.py")
_spec = importlib.util.spec_from_file_location("kevlab_grade", PATH)
grade = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(grade)
