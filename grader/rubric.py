"""A project as the grader sees it: its rubric and its tests.

The tests are defined once, in the project's kernel test table
(projectN/tests.c); the grader reads them from the built kernel
(kernelinfo.tests: name, category, weight, hidden, description). The
rubric (projectN/rubric.py) adds only the categories and their points.
The build's facts (its project, the student files) come from the
Makefile's $(BUILD)/build.json.

Points: a test's share of its category is the category's points times its
weight over the weights of the tests being graded. Shares are shown to one
decimal, rounded so that a category's shares add up to its points exactly
(largest remainder).
"""

import importlib.util
import json
import os
from dataclasses import dataclass, field

from grader import kernelinfo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class Category:
    name: str
    points: int
    description: str = ""


@dataclass(frozen=True)
class Test:
    """One graded test, as the kernel's table defines it."""
    name: str
    category: str
    weight: int = 1
    hidden: bool = False
    description: str = ""
    project: int = 0
    file: str = ""
    timeout: float = 20.0  # seconds of wall clock from its begin to its end frame
    budget: int = 400_000_000  # emulated instructions (Bochs) it may take


@dataclass
class Rubric:
    project: int
    categories: list
    tests: list
    editable: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return "project%d" % self.project

    def test(self, name: str) -> Test | None:
        return next((t for t in self.tests if t.name == name), None)

    def category(self, name: str) -> Category:
        return next(c for c in self.categories if c.name == name)

    def max_scores(self, tests) -> dict:
        """Each test's points among `tests`, to one decimal, adding up exactly
        to each category's points."""
        scores = {}
        for cat in self.categories:
            members = [t for t in tests if t.category == cat.name]
            total = sum(t.weight for t in members)
            if not members:
                continue
            tenths = cat.points * 10
            exact = [tenths * t.weight / total for t in members]
            floors = [int(x) for x in exact]
            left = tenths - sum(floors)
            order = sorted(range(len(members)), key=lambda i: (floors[i] - exact[i], i))
            for i in order[:left]:
                floors[i] += 1
            for t, f in zip(members, floors):
                scores[t.name] = f / 10
        return scores


class RubricError(Exception):
    pass


def load_categories(project: int, root: str = ROOT, path: str | None = None) -> list:
    path = path or os.path.join(root, "project%d" % project, "rubric.py")
    if not os.path.exists(path):
        raise RubricError("there is no %s" % os.path.relpath(path, root))
    spec = importlib.util.spec_from_file_location("kevlab_rubric_%d" % project, path)
    mod = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(mod)
    except Exception as e:  # a rubric is data: any error in it is the rubric's
        raise RubricError("%s cannot be loaded: %s: %s" % (path, type(e).__name__, e))
    cats = getattr(mod, "CATEGORIES", None)
    if not isinstance(cats, (list, tuple)) or not all(isinstance(c, Category) for c in cats):
        raise RubricError("%s must define CATEGORIES, a list of Category(name, points)" % path)
    names = [c.name for c in cats]
    if len(set(names)) != len(names):
        raise RubricError("%s names a category twice" % path)
    bad = [c.name for c in cats if not isinstance(c.points, int) or c.points < 0]
    if bad:
        raise RubricError("%s: the points of %s must be whole numbers, 0 or more"
                          % (path, ", ".join(bad)))
    return list(cats)


def build_facts(build: str) -> dict:
    """The Makefile's $(BUILD)/build.json: project, projects, solutions,
    student_files (per project)."""
    path = os.path.join(build, "build.json")
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise RubricError("%s is missing or unreadable (%s): build the kernel with `make` first"
                          % (path, e))


def load(build: str, project: int | None = None, root: str = ROOT,
         rubric_path: str | None = None) -> Rubric:
    """The rubric of `project` (default: the build's) with the tests built
    into build/kernel.elf, checked for consistency. rubric_path replaces
    projectN/rubric.py (project 0: the kernel's own graded self-tests)."""
    facts = build_facts(build)
    project = int(project if project is not None else facts["project"])
    cats = load_categories(project, root, rubric_path)
    infos = kernelinfo.tests(os.path.join(build, "kernel.elf"))
    if infos is None:
        raise RubricError("cannot read the tests of %s/kernel.elf" % build)
    tests = []
    for i in infos:
        try:
            if int(i.get("project", 0)) != project:
                continue
            t = Test(i["test"], i["category"], int(i.get("weight", 1)), i.get("hidden") == "1",
                     i.get("description", ""), project, i.get("file", ""),
                     float(i.get("timeout", Test.timeout)), int(i.get("budget", Test.budget)))
        except (KeyError, ValueError) as e:
            raise RubricError("the kernel's record of test %s is malformed (%s): %r"
                              % (i.get("test", "?"), e, i))
        if t.weight <= 0:
            raise RubricError("test %s (%s) has weight %d: a weight is 1 or more"
                              % (t.name, t.file, t.weight))
        tests.append(t)
    names = [c.name for c in cats]
    for t in tests:
        if t.category not in names:
            raise RubricError("test %s (%s) is in category %r, which %s does not have (it "
                              "has: %s)" % (t.name, t.file, t.category, rubric_path and
                                            os.path.relpath(rubric_path, root) or
                                            "project%d/rubric.py" % project, ", ".join(names)))
    if len({t.name for t in tests}) != len(tests):
        raise RubricError("two tests of project %d have one name" % project)
    editable = list(facts.get("student_files", {}).get(str(project), []))
    return Rubric(project, cats, tests, editable)
