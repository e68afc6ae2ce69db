"""What a rubric file (grader/rubrics/<project>.py) is made of.

A rubric file is data: CATEGORIES (points each), TESTS (one Test each),
EDITABLE (the files a student may change) and OUTCOME_KEYS (data keys that
tell how a test ended; one that is present but not expected fails the
test). load() turns it into a Rubric. Randomized parameters come from
Param objects; expectations are functions of the drawn parameters.
"""

import importlib
import importlib.util
import os
import random
from dataclasses import dataclass, field


# --- parameters ------------------------------------------------------------

class Param:
    """How to draw one test parameter."""

    def draw(self, rng: random.Random):
        raise NotImplementedError


@dataclass(frozen=True)
class Printable(Param):
    """Random printable ASCII (space to ~), length in [min_len, max_len]."""
    min_len: int
    max_len: int

    def draw(self, rng):
        n = rng.randint(self.min_len, self.max_len)
        return "".join(chr(rng.randint(0x20, 0x7E)) for _ in range(n))


# Printable code points by UTF-8 length: 2, 3 and 4 bytes.
_UTF8_RANGES = [
    [(0xC0, 0xFF), (0x391, 0x3A1), (0x3A3, 0x3A9), (0x3B1, 0x3C9), (0x410, 0x44F)],
    [(0x4E00, 0x4FFF), (0x3041, 0x3096), (0x20AC, 0x20AC), (0x2190, 0x21FF)],
    [(0x1F600, 0x1F64F), (0x1F300, 0x1F5FF)],
]


@dataclass(frozen=True)
class Utf8(Param):
    """Random UTF-8 text of min_len..max_len code points, always holding
    2-, 3- and 4-byte characters (and some ASCII)."""
    min_len: int
    max_len: int

    def draw(self, rng):
        n = rng.randint(self.min_len, self.max_len)
        chars = [self._pick(rng, i % 4) for i in range(n)]
        rng.shuffle(chars)
        return "".join(chars)

    @staticmethod
    def _pick(rng, kind):
        if kind == 3:
            return chr(rng.randint(0x21, 0x7E))
        lo, hi = rng.choice(_UTF8_RANGES[kind])
        return chr(rng.randint(lo, hi))


@dataclass(frozen=True)
class IntRange(Param):
    """A random integer in [lo, hi]."""
    lo: int
    hi: int

    def draw(self, rng):
        return rng.randint(self.lo, self.hi)


@dataclass(frozen=True)
class Fixed(Param):
    """Always the same value."""
    value: object

    def draw(self, rng):
        return self.value


# --- expectations ----------------------------------------------------------

@dataclass(frozen=True)
class Present:
    """The key must be reported, with any value that holds one of
    `containing` (case-insensitive) when that is given."""
    containing: tuple = ()
    why: str = ""

    def matches(self, value: bytes) -> bool:
        if not self.containing:
            return True
        text = value.decode("utf-8", "replace").lower()
        return any(str(c).lower() in text for c in self.containing)

    def describe(self) -> str:
        if not self.containing:
            return "any value"
        return "a value that contains " + " or ".join(repr(str(c)) for c in self.containing)


ANY = Present()


def expected_bytes(value) -> bytes:
    """An exact expectation as the bytes the kernel must report."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError("cannot expect %r" % (value,))


# --- the rubric ------------------------------------------------------------

@dataclass(frozen=True)
class Category:
    name: str
    points: float
    description: str = ""


@dataclass(frozen=True)
class Test:
    """One kernel test the grader runs and checks.

    weight: its share of its category's points. timeout: seconds of wall
    clock from its `test begin` to its `test end`. budget: emulated
    instructions it may use (Bochs). hidden: an instructors' test, left
    out of the student release.
    """
    name: str
    category: str
    expect: object  # params dict -> {key: bytes | str | int | Present}
    params: dict = field(default_factory=dict)  # name -> Param
    weight: float = 1
    timeout: float = 5
    budget: int = 500_000_000
    hidden: bool = False
    description: str = ""

    def draw(self, seed) -> dict:
        """This test's parameters for a seed (independent of other tests)."""
        rng = random.Random("%s:%s" % (seed, self.name))
        return {name: p.draw(rng) for name, p in self.params.items()}


@dataclass
class Rubric:
    project: str
    categories: list
    tests: list
    editable: list
    outcome_keys: tuple

    def test(self, name: str) -> Test | None:
        return next((t for t in self.tests if t.name == name), None)

    def category(self, name: str) -> Category:
        return next(c for c in self.categories if c.name == name)

    def max_scores(self, tests) -> dict:
        """Each test's points: its category's points shared by weight among
        the tests being graded."""
        scores = {}
        for cat in self.categories:
            members = [t for t in tests if t.category == cat.name]
            total = sum(t.weight for t in members)
            for t in members:
                scores[t.name] = cat.points * t.weight / total
        return scores


def load(project: str) -> Rubric:
    """Loads grader/rubrics/<project>.py (or a rubric file given by its path,
    ending in .py) and checks that it is consistent."""
    if project.endswith(".py"):
        spec = importlib.util.spec_from_file_location("kevlab_rubric", project)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        project = getattr(mod, "PROJECT", os.path.basename(project)[:-3])
    else:
        mod = importlib.import_module("grader.rubrics." + project)
    r = Rubric(project, list(mod.CATEGORIES), list(mod.TESTS), list(mod.EDITABLE),
               tuple(getattr(mod, "OUTCOME_KEYS", ())))
    names = [c.name for c in r.categories]
    seen = set()
    for t in r.tests:
        if t.category not in names:
            raise ValueError("rubric %s: test %s has unknown category %s"
                             % (project, t.name, t.category))
        if t.name in seen:
            raise ValueError("rubric %s: test %s is listed twice" % (project, t.name))
        seen.add(t.name)
    return r
