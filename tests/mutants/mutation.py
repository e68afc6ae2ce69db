"""The mutation suite's data and its replacement engine (tests/mutants/README.md).

A project ships projectN/mutants.py with two lists built from the types
below:

  MUTANTS       wrong implementations a student would write; each must fail
                at least one public test under every seed
  ALTERNATIVES  correct implementations built another way; each must score
                every point of the public tests under every seed

An entry names one student file and a list of exact text replacements,
applied to that file in order: each `find` must occur exactly once in the
text as the replacements before it left it (apply() raises PatchError,
naming the entry, otherwise), so an entry whose anchor has moved or become
ambiguous fails loudly instead of testing nothing.
"""

import importlib.util
import os
import re
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# An entry's name is a folder name under build/mutants/p<N>/.
NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")
# The name of the entry that is the solution itself, unchanged.
SOLUTION = "solution"


class PatchError(Exception):
    """An entry that does not fit its file (or is malformed), with its name in the message."""


@dataclass(frozen=True)
class Mutant:
    """A wrong implementation: `bug` is one sentence saying what mistake it models."""
    name: str
    file: str
    replace: list
    bug: str
    kind: str = field(default="mutant", init=False)


@dataclass(frozen=True)
class Alternative:
    """A correct implementation built differently: `how` says in what way."""
    name: str
    file: str
    replace: list
    how: str
    kind: str = field(default="alternative", init=False)


@dataclass(frozen=True)
class Solution:
    """The reference solution as it is (the suite's sanity entry)."""
    file: str
    name: str = SOLUTION
    replace: list = field(default_factory=list)
    kind: str = field(default="solution", init=False)


def apply(text: str, entry) -> str:
    """text with entry's replacements made, in order; PatchError when a
    `find` occurs zero times or more than once in the text at that point."""
    for i, pair in enumerate(entry.replace):
        if not (isinstance(pair, tuple) and len(pair) == 2
                and isinstance(pair[0], str) and isinstance(pair[1], str)):
            raise PatchError("%s: replacement %d is not a (find, replace) pair of strings"
                             % (entry.name, i + 1))
        find, repl = pair
        if not find:
            raise PatchError("%s: replacement %d has an empty find" % (entry.name, i + 1))
        count = text.count(find)
        if count != 1:
            raise PatchError("%s: replacement %d: %s in %s: %s" % (
                entry.name, i + 1,
                "the text to find occurs %d times (it must occur exactly once)" % count
                if count else "the text to find is not there (the file changed?)",
                entry.file, _show(find)))
        text = text.replace(find, repl, 1)
    return text


def _show(find: str) -> str:
    first = find.strip().splitlines()[0] if find.strip() else find
    return repr(first[:80] + (" ..." if len(first) > 80 or "\n" in find.strip() else ""))


def check_entries(entries) -> None:
    """PatchError for a malformed list: a bad or repeated name, no
    replacement, a mutant without its sentence."""
    seen = set()
    for e in entries:
        if not isinstance(e, (Mutant, Alternative)):
            raise PatchError("%r is neither a Mutant nor an Alternative" % (e,))
        if not NAME.match(e.name) or e.name == SOLUTION:
            raise PatchError("%s: an entry's name is lower case letters, digits and _ "
                             "(and not %r)" % (e.name, SOLUTION))
        if e.name in seen:
            raise PatchError("%s: two entries have this name" % e.name)
        seen.add(e.name)
        if not e.replace:
            raise PatchError("%s: no replacement (it would be the solution itself)" % e.name)
        what = e.bug if isinstance(e, Mutant) else e.how
        if not what.strip():
            raise PatchError("%s: say in one sentence %s" % (
                e.name, "what bug it models" if isinstance(e, Mutant) else "how it differs"))


def mutants_file(project: int, root: str = ROOT) -> str:
    return os.path.join(root, "project%d" % project, "mutants.py")


def projects_with_mutants(root: str = ROOT) -> list:
    """The projects that ship a mutants.py, in order."""
    found = []
    for d in os.listdir(root):
        m = re.match(r"^project(\d+)$", d)
        if m and os.path.isfile(mutants_file(int(m.group(1)), root)):
            found.append(int(m.group(1)))
    return sorted(found)


def load(project: int, root: str = ROOT) -> tuple:
    """(MUTANTS, ALTERNATIVES) of projectN/mutants.py, checked."""
    path = mutants_file(project, root)
    spec = importlib.util.spec_from_file_location("project%d_mutants" % project, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    mutants = list(getattr(module, "MUTANTS", []))
    alternatives = list(getattr(module, "ALTERNATIVES", []))
    check_entries(mutants + alternatives)
    for e in mutants:
        if not isinstance(e, Mutant):
            raise PatchError("%s: in MUTANTS but not a Mutant" % e.name)
    for e in alternatives:
        if not isinstance(e, Alternative):
            raise PatchError("%s: in ALTERNATIVES but not an Alternative" % e.name)
    return mutants, alternatives
