#!/usr/bin/env python3
"""The autograder's second wall: what a submission may hold, and how its code is compiled.

The first wall is the kernel's (student code runs at CPL 3 and reaches the
kernel only through syscalls). This one stands before the build, for the
autograder (run_autograder) and for batch grading (grader/batch.py):

  collect()        the editable files, taken from the submission folder as
                   regular files only (lstat, then O_NOFOLLOW), at most
                   size_cap bytes each: a symlink (to /dev/zero, to a file
                   outside) or a huge file is named in the output and not used.
  check_source()   the rules a student file must keep, each violation named
                   with its line: no inline assembly, no .incbin, no
                   #include but the project's allowed headers (and what
                   they include), no section or constructor attribute, no
                   #line. It reads the text as the compiler does (trigraphs,
                   backslash-newlines, comments, digraphs).
  cc (command)     what make runs instead of the compiler for the student
                   objects (sandbox.mk): in a fresh folder holding only the
                   student's file and the public headers it may include, as
                   the unprivileged build user (kevlab-build, made by
                   setup.sh), with CPU-time, memory, file-size and process
                   limits and a wall-clock timeout that kills the whole
                   process group; then every process left to the build user
                   is killed. The preprocessed text is checked against the
                   same rules first (a macro that pastes `__asm__` together
                   is caught there). Only the object comes back (no .d file:
                   make would read it as root).
  write_results()  results.json, always valid JSON (UTF-8, no lone
                   surrogates from file names that are not UTF-8), scores
                   clamped to [0, max], the work folder removed first so a
                   full disk still has room for it.

  wall.py cc <compiler> <flags...> -c SRC -o OUT     (make, through sandbox.mk)
  wall.py check FILE [--allowed H ...]               the rules on one file

The environment carries the cc command's settings (KEVLAB_WALL_*: see
CcConfig). KEVLAB_WALL_RULES=off turns the source rules off: for the
framework's own tests of the sandbox behind them, never on Gradescope.
"""

import errno
import fcntl
import json
import os
import posixpath
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile

SIZE_CAP = 256 * 1024          # bytes: an editable file larger than this is not graded
OBJECT_CAP = 16 * 1024 * 1024  # bytes: the object the sandbox may hand back
MANIFEST_FILE_CAP = 16 * 1024 * 1024  # a protected file larger than this counts as changed
WALK_CAP = 20000               # entries of a submission folder looked at
WALK_DEPTH = 24                # folders deep
OUTPUT_CAP = 64 * 1024         # bytes of a compiler's output kept
TEXT_CAP = 200 * 1024          # characters of one string in results.json
COMPILE_TIMEOUT = 60.0         # seconds of wall clock for one compiler run
LIMITS = {                     # the build user's resource limits (setrlimit)
    "RLIMIT_CPU": 30,                      # seconds of CPU time
    "RLIMIT_AS": 1024 * 1024 * 1024,       # bytes of address space
    "RLIMIT_FSIZE": 16 * 1024 * 1024,      # bytes a file may grow to
    "RLIMIT_NPROC": 64,                    # processes of the build user
    "RLIMIT_NOFILE": 256,
    "RLIMIT_CORE": 0,
}
BUILD_USER = "kevlab-build"
SKIP_DIRS = {b"__MACOSX", b".git", b"build", b".kevlab", b"__pycache__"}


# --- text that is safe in results.json ---------------------------------------------

def shown(name):
    """A file name (bytes or str, maybe not UTF-8) as readable text."""
    if isinstance(name, str):
        name = name.encode("utf-8", "surrogateescape")
    return name.decode("utf-8", "backslashreplace")


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(s, cap=TEXT_CAP):
    """s as valid Unicode (lone surrogates, from names that are not UTF-8,
    become escapes), control characters but tab and newline escaped, at
    most cap characters."""
    if isinstance(s, bytes):
        s = s.decode("utf-8", "backslashreplace")
    s = s.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    s = s.encode("utf-8", "backslashreplace").decode("utf-8")  # any surrogate left
    s = _CONTROL.sub(lambda m: "\\x%02x" % ord(m.group()), s)
    if len(s) > cap:
        s = s[:cap] + "\n[... %d more characters cut]" % (len(s) - cap)
    return s


def clean(obj):
    """A results structure with every string clean_text()ed."""
    if isinstance(obj, str):
        return clean_text(obj)
    if isinstance(obj, bytes):
        return clean_text(obj)
    if isinstance(obj, dict):
        return {clean_text(str(k), 200): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, float) and obj != obj:  # NaN is not JSON
        return 0.0
    return obj


def _number(v, default=0.0):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return default
    return default if f != f or f in (float("inf"), float("-inf")) else f


def bound_scores(res):
    """Every test's score in [0, its max_score], the total in [0, max_score]
    (the sum of the tests' scores when there are tests). A result without
    a score (a grader error) stays without one."""
    tests = res.get("tests")
    if isinstance(tests, list):
        for t in tests:
            if isinstance(t, dict) and "score" in t:
                top = max(0.0, _number(t.get("max_score")))
                t["max_score"] = round(top, 4)
                t["score"] = round(min(max(_number(t.get("score")), 0.0), top), 4)
    if "score" in res or "max_score" in res:
        if isinstance(tests, list) and tests:
            top = sum(_number(t.get("max_score")) for t in tests if isinstance(t, dict))
            got = sum(_number(t.get("score")) for t in tests if isinstance(t, dict))
        else:
            top, got = max(0.0, _number(res.get("max_score"))), _number(res.get("score"))
        res["max_score"] = round(top, 4)
        if "score" in res:
            res["score"] = round(min(max(got, 0.0), top), 4)
    return res


def encode_results(res):
    return (json.dumps(bound_scores(clean(res)), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_results(path, res, free_first=()):
    """Writes res to path as valid JSON, whatever happens. free_first:
    folders removed before writing (the run's work folder: on a full disk
    that makes the room). On a write error the smallest honest result is
    tried, then the same without the temporary file. Returns the error
    text if even that failed, else ''."""
    for folder in free_first:
        shutil.rmtree(folder, ignore_errors=True)
    data = encode_results(res)
    problem = ""
    for attempt in (data, _minimal(res)):
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(attempt)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            return ""
        except OSError as e:
            problem = "cannot write %s: %s" % (path, e)
            try:
                os.unlink(path + ".tmp")
            except OSError:
                pass
    try:  # no room for a second copy: write in place
        with open(path, "wb") as f:
            f.write(_minimal(res))
        return ""
    except OSError as e:
        return problem + "; " + str(e)


def _minimal(res):
    """The smallest results.json that still says what happened."""
    out = {"output": clean_text(str(res.get("output", "")), 2000),
           "extra_data": {"kevlab_status": clean_text(
               str((res.get("extra_data") or {}).get("kevlab_status", "")), 100)}}
    if "score" in res:
        out["score"] = bound_scores(clean(dict(res))).get("score", 0)
        out["max_score"] = bound_scores(clean(dict(res))).get("max_score", 0)
    return (json.dumps(out, ensure_ascii=True) + "\n").encode("ascii")


# --- the submission's files ------------------------------------------------------------

def _walk(top):
    """Every entry under top (bytes, relative; files, links, special
    files), without following symlinks; at most WALK_CAP entries and
    WALK_DEPTH folders deep. Returns (entries, cut)."""
    top = os.fsencode(top)
    entries, cut = [], False
    for folder, dirs, names in os.walk(top, followlinks=False):
        links = [d for d in dirs if os.path.islink(os.path.join(folder, d))]
        deep = os.path.relpath(folder, top).count(b"/") >= WALK_DEPTH
        dirs[:] = [] if deep else sorted(d for d in dirs if d not in SKIP_DIRS
                                         and not d.startswith(b".") and d not in links)
        for n in sorted(names + links):
            entries.append(os.path.relpath(os.path.join(folder, n), top))
            if len(entries) >= WALK_CAP:
                return entries, True
    return entries, cut


def read_regular(path, cap):
    """(bytes, '') of a regular file of at most cap bytes, opened without
    following a symlink; or (None, why not)."""
    try:
        st = os.lstat(path)
    except OSError as e:
        return None, "cannot be read (%s)" % e.strerror
    if stat.S_ISLNK(st.st_mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = b"?"
        return None, "is a symbolic link (to %s): only regular files are graded" % shown(target)
    if not stat.S_ISREG(st.st_mode):
        return None, "is not a regular file: only regular files are graded"
    if st.st_size > cap:
        return None, ("is %d bytes, over the %d-byte limit for one file: it was not graded"
                      % (st.st_size, cap))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as e:
        return None, "cannot be opened (%s)" % e.strerror
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, "is not a regular file: only regular files are graded"
        chunks, total = [], 0
        while total <= cap:
            b = os.read(fd, min(1 << 16, cap + 1 - total))
            if not b:
                break
            chunks.append(b)
            total += len(b)
        if total > cap:
            return None, "grew past the %d-byte limit while it was read: not graded" % cap
        return b"".join(chunks), ""
    finally:
        os.close(fd)


def collect(submission, editable, cap=SIZE_CAP):
    """The editable files a submission holds, anywhere in it.

    Returns (found, paths, notes): found maps each editable name (e.g.
    project2/hypercall.c) to its bytes, paths to the file used (relative,
    bytes), notes says what a person should know (nothing found, several
    candidates, a candidate refused). A file whose path ends with the
    editable's whole name wins over one that only has its base name; then
    the shallowest, then the first by name. Only regular files of at most
    cap bytes are taken."""
    entries, cut = _walk(submission)
    top = os.fsencode(submission)
    found, paths, notes = {}, {}, []
    if cut:
        notes.append("Your submission holds more than %d files; only the first %d were looked at."
                     % (WALK_CAP, WALK_CAP))
    for name in editable:
        bname = name.encode()
        base = os.path.basename(bname)
        full = [f for f in entries if f == bname or f.endswith(b"/" + bname)]
        loose = [f for f in entries if os.path.basename(f) == base]
        order = lambda f: (f.count(b"/"), f)  # noqa: E731
        pool = sorted(full, key=order) + sorted((f for f in loose if f not in full), key=order)
        usable = []
        for f in pool:
            data, why = read_regular(os.path.join(top, f), cap)
            if data is None:
                notes.append("%s %s." % (shown(f), why))
            else:
                usable.append((f, data))
        if not usable:
            if not pool:
                listing = ", ".join(shown(f) for f in entries[:20]) + (" ..." if len(entries) > 20 else "")
                notes.append("Your submission has no %s (looked for %s at any depth; it holds: %s)."
                             % (base.decode(), name, listing or "no files at all"))
            continue
        f, data = usable[0]
        found[name], paths[name] = data, f
        others = [u for u, _ in usable[1:] if (u in full) == (f in full)]
        if others:
            notes.append("Your submission has %d files named %s; graded: %s (not %s)."
                         % (len(others) + 1, base.decode(), shown(f),
                            ", ".join(shown(u) for u in others)))
    return found, paths, notes


def protected_changes(submission, paths, editable, manifest):
    """The framework files the submission holds changed, relative names.

    The submission's tree is located from where its first editable file
    sits (…/project2/hypercall.c puts it two folders up); each file there
    that the manifest lists is compared with its hash (a symlink, a special
    file or one over MANIFEST_FILE_CAP counts as changed, unread)."""
    import hashlib
    if not manifest or not paths:
        return []
    name, rel = next(iter(paths.items()))
    bname = name.encode()
    if not (rel == bname or rel.endswith(b"/" + bname)):
        return []  # a bare file: no tree to compare
    top = os.path.join(os.fsencode(submission), rel[:len(rel) - len(bname)])
    changed = []
    for listed, digest in sorted(manifest.items()):
        if listed in editable:
            continue
        p = os.path.join(top, listed.encode())
        try:
            st = os.lstat(p)
        except OSError:
            continue  # not in the submission: the original is used anyway
        if not stat.S_ISREG(st.st_mode) or st.st_size > MANIFEST_FILE_CAP:
            changed.append(listed)
            continue
        data, _ = read_regular(p, MANIFEST_FILE_CAP)
        if data is None or hashlib.sha256(data).hexdigest() != digest:
            changed.append(listed)
    return changed


# --- the source rules -------------------------------------------------------------------

RULES = {
    "asm": "inline assembly is not allowed in student code (found `{what}`): write C",
    "incbin": "`.incbin` is not allowed in student code: it pulls a file's bytes into the object",
    "include": ("#include {what} is not allowed: a student file may include only the "
                "project's headers and the API its handout names ({allowed}) and what they "
                "include"),
    "include-form": ("#{what} must name its header directly, in quotes (a macro or a "
                     "computed name is not allowed)"),
    "section": ("a section attribute (`{what}`) is not allowed: student code lives in the "
                "user image's own sections"),
    "constructor": ("a `{what}` attribute is not allowed: no student code runs before or "
                    "after the framework calls it"),
    "line": ("`#{what}` is not allowed: it changes the file and line numbers the kernel and "
             "the grader report"),
    "embed": "#embed is not allowed: it pulls a file's bytes into the object",
}
ASM_WORDS = {"asm", "__asm", "__asm__"}
ATTRIBUTE_WORDS = {"__attribute__", "__attribute"}
SECTION_WORDS = {"section", "__section__"}
CTOR_WORDS = {"constructor", "__constructor__", "destructor", "__destructor__"}
ALWAYS_WORDS = {"__section__": "section", "__constructor__": "constructor",
                "__destructor__": "constructor"}
INCLUDE_DIRECTIVES = {"include", "include_next", "import"}
TRIGRAPHS = {"=": "#", "/": "\\", "'": "^", "(": "[", ")": "]", "!": "|", "<": "{",
             ">": "}", "-": "~"}


class Violation:
    def __init__(self, line, rule, what="", allowed=""):
        self.line, self.rule, self.what, self.allowed = line, rule, what, allowed

    def text(self, name):
        return "%s:%d: %s" % (name, self.line, RULES[self.rule].format(what=self.what,
                                                                       allowed=self.allowed))


def _phases(text):
    """The characters of text after trigraphs and line splicing (C's
    translation phases 1 and 2), each with its line number in text."""
    chars, lines = [], []
    line, i, n = 1, 0, len(text)
    while i < n:
        c = text[i]
        if c == "?" and text.startswith("??", i) and i + 2 < n and text[i + 2] in TRIGRAPHS:
            chars.append(TRIGRAPHS[text[i + 2]])
            lines.append(line)
            i += 3
            continue
        chars.append(c)
        lines.append(line)
        if c == "\n":
            line += 1
        i += 1
    out_c, out_l = [], []
    i = 0
    while i < len(chars):
        if chars[i] == "\\":
            j = i + 1
            while j < len(chars) and chars[j] in " \t\r":  # gcc splices these too
                j += 1
            if j < len(chars) and chars[j] == "\n":
                i = j + 1
                continue
        out_c.append(chars[i])
        out_l.append(lines[i])
        i += 1
    return "".join(out_c), out_l


_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_NUMBER = re.compile(r"\.?[0-9](?:[eEpP][+-]|[A-Za-z0-9_.])*")
_PUNCT = ["%:%:", "...", "<<=", ">>=", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=",
          "&&", "||", "*=", "/=", "%=", "+=", "-=", "&=", "^=", "|=", "##", "<:", ":>", "<%",
          "%>", "%:", "::"]
_DIGRAPHS = {"<:": "[", ":>": "]", "<%": "{", "%>": "}", "%:": "#", "%:%:": "##"}


def tokens(text, lines):
    """C preprocessing tokens of text (after _phases): (kind, value, line,
    first) with kind in ident, number, string, char, punct, header,
    newline; first says the token begins a line. Comments are dropped (a
    newline inside one does not end a directive line, as in C)."""
    out = []
    i, n = 0, len(text)
    first = True
    directive = None  # tokens of the directive being read, to lex header names
    while i < n:
        c = text[i]
        if c == "\n":
            out.append(("newline", "\n", lines[i], False))
            first, directive = True, None
            i += 1
            continue
        if c in " \t\r\f\v":
            i += 1
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        line = lines[i]
        if directive is not None and len(directive) == 1 and directive[0] in INCLUDE_DIRECTIVES | {"embed"} \
                and c in "<\"":
            close = ">" if c == "<" else "\""
            end = text.find(close, i + 1)
            nl = text.find("\n", i + 1)
            if end < 0 or (0 <= nl < end):
                end = (nl if nl >= 0 else n) - 1
            out.append(("header", text[i:end + 1], line, first))
            directive.append(text[i:end + 1])
            i = end + 1
            first = False
            continue
        m = _IDENT.match(text, i)
        if m:
            word = m.group()
            j = m.end()
            if word in ("L", "u", "U", "u8") and j < n and text[j] in "\"'":
                i = j
                c = text[i]
            else:
                out.append(("ident", word, line, first))
                if directive is not None:
                    directive.append(word)
                first = False
                i = j
                continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(("string" if c == "\"" else "char", text[i:j + 1], line, first))
            if directive is not None:
                directive.append(text[i:j + 1])
            i = j + 1
            first = False
            continue
        m = _NUMBER.match(text, i)
        if m:
            out.append(("number", m.group(), line, first))
            if directive is not None:
                directive.append(m.group())
            i = m.end()
            first = False
            continue
        p = next((p for p in _PUNCT if text.startswith(p, i)), c)
        value = _DIGRAPHS.get(p, p)
        out.append(("punct", value, line, first))
        if first and value == "#":
            directive = []
        elif directive is not None:
            directive.append(value)
        first = False
        i += len(p)
    return out


def _include_allowed(header, name, allowed):
    """Whether `#include header` (with its quotes or <>) in student file
    name names an allowed header: quoted names resolve next to the file
    first, then from the tree's top."""
    if header.startswith("<"):
        return header in allowed
    inner = header[1:-1]
    if inner.startswith("/") or "\\" in inner:
        return False
    for cand in (posixpath.normpath(posixpath.join(posixpath.dirname(name), inner)),
                 posixpath.normpath(inner)):
        if not cand.startswith("../") and cand in allowed:
            return True
    return False


def token_rules(toks, in_directives=True):
    """The violations among C tokens (asm, .incbin, section and
    constructor attributes). A word like `section` counts inside an
    __attribute__((...)), after `::` ([[gnu::section]]) or in a #define
    (where a macro could carry it into an attribute)."""
    found = []
    depth_at = []  # paren depths at which attribute spans began
    depth = 0
    in_define = False
    prev = None
    for idx, (kind, value, line, first) in enumerate(toks):
        if kind == "newline":
            in_define = False
            prev = None
            continue
        if first and kind == "punct" and value == "#":
            nxt = toks[idx + 1] if idx + 1 < len(toks) else None
            in_define = bool(nxt and nxt[0] == "ident" and nxt[1] == "define")
        if kind == "ident":
            if value in ASM_WORDS:
                found.append(Violation(line, "asm", value))
            elif value in ALWAYS_WORDS:
                found.append(Violation(line, ALWAYS_WORDS[value], value))
            elif value in SECTION_WORDS | CTOR_WORDS and (depth_at or in_define or prev == "::"):
                found.append(Violation(line, "section" if value in SECTION_WORDS else "constructor",
                                       value))
            elif value == "incbin" and prev == ".":
                found.append(Violation(line, "incbin"))
            if value in ATTRIBUTE_WORDS:
                depth_at.append(depth)
        elif kind in ("string", "header") and ".incbin" in value.lower():
            found.append(Violation(line, "incbin"))
        elif kind == "punct":
            if value == "(":
                depth += 1
            elif value == ")":
                depth = max(0, depth - 1)
                while depth_at and depth <= depth_at[-1]:
                    depth_at.pop()
        prev = value if kind in ("punct", "ident") else None
    return found


def check_source(name, data, allowed, named=None):
    """The rule violations of student file `name` (its bytes), in line
    order. allowed: the headers it may include, as written in an
    #include: "kev/kev.h" for a tree header, "<stdint.h>" for a system one;
    named: the headers the project names (shown in the message)."""
    text, lines = _phases(data.decode("latin-1"))
    toks = tokens(text, lines)
    found = token_rules(toks)
    allowed = set(allowed)
    shown_allowed = ", ".join(named if named else sorted(a for a in allowed if not a.startswith("<")))
    for idx, (kind, value, line, first) in enumerate(toks):
        if not (first and kind == "punct" and value == "#"):
            continue
        rest = []
        for t in toks[idx + 1:]:
            if t[0] == "newline":
                break
            rest.append(t)
        if not rest:
            continue
        head = rest[0]
        if head[0] == "number":
            found.append(Violation(line, "line", head[1] + " ...` (a line marker) or `#line"))
        elif head[0] == "ident" and head[1] == "line":
            found.append(Violation(line, "line", "line"))
        elif head[0] == "ident" and head[1] == "embed":
            found.append(Violation(line, "embed"))
        elif head[0] == "ident" and head[1] in INCLUDE_DIRECTIVES:
            if len(rest) < 2 or rest[1][0] != "header":
                found.append(Violation(line, "include-form", head[1]))
            elif not _include_allowed(rest[1][1], name, allowed):
                found.append(Violation(line, "include", rest[1][1], shown_allowed))
    found.sort(key=lambda v: v.line)
    return found


LINEMARKER = re.compile(r'^#\s*(\d+)\s+"((?:[^"\\]|\\.)*)"')


def check_preprocessed(name, text):
    """The violations (asm, .incbin, attributes) in gcc -E's output, on the
    lines it attributes to student file name: what macros expanded to."""
    current, line = None, 0
    mine, mine_lines = [], []
    for raw in text.split("\n"):
        m = LINEMARKER.match(raw)
        if m:
            current, line = m.group(2), int(m.group(1))
            continue
        if raw.startswith("#"):  # #pragma and the like
            line += 1
            continue
        if current == name:
            mine.append(raw)
            mine_lines.append(line)
        line += 1
    joined, lines = [], []
    for l, raw in zip(mine_lines, mine):
        joined.append(raw + "\n")
        lines += [l] * (len(raw) + 1)
    toks = tokens("".join(joined), lines)
    # gcc -E puts tokens on lines of their own at will: no line begins a directive here.
    toks = [(k, v, l, False) for k, v, l, _ in toks]
    return sorted(token_rules(toks), key=lambda v: v.line)


# --- the sandboxed compiler --------------------------------------------------------------

class CcConfig:
    """The cc command's settings, from the environment that
    autograder.py's build gives make (each KEVLAB_WALL_<NAME>)."""

    def __init__(self, env=os.environ):
        self.user = env.get("KEVLAB_WALL_USER", "")          # the build user ('' = no switch)
        self.headers = env.get("KEVLAB_WALL_HEADERS", "")    # the public headers' folder
        self.tmp = env.get("KEVLAB_WALL_TMP") or tempfile.gettempdir()  # where sandboxes go
        self.report = env.get("KEVLAB_WALL_REPORT", "")      # rule violations, one JSON a line
        self.timeout = float(env.get("KEVLAB_WALL_TIMEOUT") or COMPILE_TIMEOUT)
        self.rules = env.get("KEVLAB_WALL_RULES", "on") != "off"
        # Held while the build user runs: kill_user() must not reach another
        # submission's compile (batch grades several at once).
        self.lock = env.get("KEVLAB_WALL_LOCK") or os.path.join(self.tmp, "wall.lock")


def build_user(name):
    """(uid, gid) of the build user, or None (not root, no such user)."""
    if not name or os.geteuid() != 0:
        return None
    import pwd
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        return None
    if pw.pw_uid == 0:
        return None
    return pw.pw_uid, pw.pw_gid


def _limits(own_user):
    """setrlimit() of LIMITS in the child (after it became the build user).
    RLIMIT_NPROC counts every process of the user: only for a user of its own.
    It runs after the switch of user: nothing here may need to read a file
    (resource is imported by the parent)."""
    for name, value in LIMITS.items():
        if name == "RLIMIT_NPROC" and not own_user:
            continue
        which = getattr(resource, name, None)
        if which is None:
            continue
        try:
            soft, hard = resource.getrlimit(which)
            v = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (v, v))
        except (ValueError, OSError):
            pass


def kill_user(ids):
    """Kills every process of the build user (what a timeout or a stray
    child left behind): a process running as that user sends SIGKILL to
    -1, which reaches exactly that user's processes. Only ever for a
    dedicated user that is not root and not us."""
    if not ids or ids[0] in (0, os.getuid()):
        return
    # The shell's own kill: nothing to read but /bin/sh. Linux spares the
    # caller of kill(-1) itself.
    subprocess.run(["/bin/sh", "-c", "kill -KILL -1 2>/dev/null; true"],
                   user=ids[0], group=ids[1], extra_groups=[], env={"PATH": "/usr/bin:/bin"},
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   cwd="/", timeout=30)


def run_limited(argv, cwd, output_path, timeout, ids=None, env=None):
    """Runs argv with LIMITS in a new session (its own process group), as
    the build user when ids is given, its output (stdout and stderr) in
    output_path. On the timeout the whole process group is killed.
    Returns (status or None on timeout, output text)."""
    with open(output_path, "wb") as out:
        kw = dict(user=ids[0], group=ids[1], extra_groups=[]) if ids else {}
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=lambda: _limits(bool(ids)), **kw)
        try:
            status = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            status = None
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
        finally:
            kill_user(ids)
    data, _ = read_regular(output_path, 1 << 40)
    data = data or b""
    if len(data) > OUTPUT_CAP:
        data = data[:OUTPUT_CAP] + b"\n[... output cut]\n"
    return status, data.decode("utf-8", "replace")


def _parse_cc(args):
    """(compiler, flags, source, output) of `compiler flags... -c SRC -o OUT`."""
    if not args:
        raise ValueError("no compiler given")
    compiler, rest = args[0], args[1:]
    flags, src, out = [], None, None
    i = 0
    while i < len(rest):
        a = rest[i]
        if a == "-o" and i + 1 < len(rest):
            out = rest[i + 1]
            i += 2
            continue
        if a in ("-MF", "-MT", "-MQ") and i + 1 < len(rest):
            i += 2
            continue
        if a in ("-MMD", "-MD", "-MP", "-DKEVLAB_HIDDEN", "-c") or a.startswith("-fmacro-prefix-map="):
            i += 1
            continue
        if not a.startswith("-") and a.endswith(".c"):
            src = a
            i += 1
            continue
        flags.append(a)
        i += 1
    if src is None or out is None:
        raise ValueError("expected `-c SOURCE.c -o OUTPUT.o` in: %s" % " ".join(args))
    return compiler, flags, src, out


def _report(cfg, name, violations):
    for v in violations:
        print(v.text(name), file=sys.stderr)
    if cfg.report:
        with open(cfg.report, "a") as f:
            for v in violations:
                f.write(json.dumps({"file": name, "line": v.line, "rule": v.rule,
                                    "text": v.text(name)}) + "\n")


def cc(args, cfg=None):
    """make's compiler for a student object (sandbox.mk). Returns the
    exit status make sees."""
    cfg = cfg or CcConfig()
    try:
        compiler, flags, src, out = _parse_cc(args)
    except ValueError as e:
        print("wall.py cc: %s" % e, file=sys.stderr)
        return 2
    if os.path.isabs(src) or src.startswith(".."):
        print("wall.py cc: %s: the student file must be named from the tree's top" % src,
              file=sys.stderr)
        return 2
    ids = build_user(cfg.user)
    if cfg.user and ids is None and os.geteuid() == 0:
        print("wall.py cc: the build user %s does not exist (setup.sh creates it)" % cfg.user,
              file=sys.stderr)
        return 2

    lock = open(cfg.lock, "a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    sandbox = tempfile.mkdtemp(prefix="kevlab-sandbox-", dir=cfg.tmp)
    try:
        if cfg.headers:
            shutil.copytree(cfg.headers, sandbox, dirs_exist_ok=True, symlinks=False)
        dst = os.path.join(sandbox, src)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        data, why = read_regular(src, SIZE_CAP)
        if data is None:
            print("wall.py cc: %s %s" % (src, why), file=sys.stderr)
            return 1
        with open(dst, "wb") as f:
            f.write(data)
        os.makedirs(os.path.join(sandbox, "out"))
        if ids:
            for folder, dirs, files in os.walk(sandbox):
                for n in [folder] + [os.path.join(folder, x) for x in dirs + files]:
                    os.lchown(n, ids[0], ids[1])
        os.chmod(sandbox, 0o700)
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C", "LANG": "C",
               "HOME": sandbox, "TMPDIR": os.path.join(sandbox, "out")}
        log = os.path.join(cfg.tmp, os.path.basename(sandbox) + ".log")
        try:
            if cfg.rules:
                pre = os.path.join("out", "pre.i")
                status, said = run_limited([compiler] + flags + ["-E", src, "-o", pre], sandbox,
                                           log, cfg.timeout, ids, env)
                if status is None:
                    return _timed_out(src, cfg.timeout)
                if status == 0:
                    text, _ = read_regular(os.path.join(sandbox, pre), LIMITS["RLIMIT_FSIZE"])
                    found = check_preprocessed(src, (text or b"").decode("latin-1"))
                    if found:
                        _report(cfg, src, found)
                        return 1
            obj = os.path.join("out", "student.o")
            status, said = run_limited([compiler] + flags + ["-c", src, "-o", obj], sandbox,
                                       log, cfg.timeout, ids, env)
        finally:
            try:
                os.unlink(log)
            except OSError:
                pass
        if status is None:
            return _timed_out(src, cfg.timeout)
        sys.stderr.write(said)
        _write_warnings(out, said)
        if status != 0:
            if status < 0 or LIMIT_HIT.search(said):
                print("%s: the compiler was stopped%s: your code made it reach one of its "
                      "limits (CPU time %d s, memory %d MiB, file size %d MiB): a huge "
                      "initialized array, or macros that expand without end?"
                      % (src, " by %s" % _signame(-status) if status < 0 else "",
                         LIMITS["RLIMIT_CPU"], LIMITS["RLIMIT_AS"] >> 20,
                         LIMITS["RLIMIT_FSIZE"] >> 20), file=sys.stderr)
            return 1
        data, why = read_regular(os.path.join(sandbox, obj), OBJECT_CAP)
        if data is None:
            print("wall.py cc: the object %s" % why, file=sys.stderr)
            return 1
        os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
        with open(out, "wb") as f:
            f.write(data)
        return 0
    finally:
        kill_user(ids)
        shutil.rmtree(sandbox, ignore_errors=True)
        lock.close()


LIMIT_HIT = re.compile(r"signal terminated program|limit exceeded|Killed signal|out of memory|"
                       r"virtual memory exhausted|cannot allocate memory", re.I)


def _signame(sig):
    try:
        return signal.Signals(sig).name
    except ValueError:
        return "?"


def _timed_out(src, timeout):
    print("%s: the compiler did not finish within %.0f s and was stopped (with every process "
          "it started): an #include of a device or of a file that never ends, or a "
          "preprocessor loop?" % (src, timeout), file=sys.stderr)
    return 1


def _write_warnings(out, said):
    """The compiler's warnings beside the object (grade.py shows them)."""
    if not out.endswith(".o"):
        return
    try:
        with open(out[:-2] + ".warnings", "w") as f:
            f.write(said)
    except OSError:
        pass


# --- processes left behind ----------------------------------------------------------------

def kill_under(folder):
    """SIGKILLs every process whose working folder is inside folder (an
    emulator a killed grader left running in one of its run folders)."""
    folder = os.path.realpath(folder)
    killed = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cwd = os.readlink("/proc/%s/cwd" % pid)
        except OSError:
            continue
        if cwd == folder or cwd.startswith(folder + "/"):
            try:
                os.kill(int(pid), signal.SIGKILL)
                killed += 1
            except OSError:
                pass
    return killed


def main(argv):
    if argv[:1] == ["cc"]:
        return cc(argv[1:])
    if argv[:1] == ["check"] and len(argv) >= 2:
        allowed = argv[argv.index("--allowed") + 1:] if "--allowed" in argv else []
        with open(argv[1], "rb") as f:
            found = check_source(argv[1], f.read(), allowed)
        for v in found:
            print(v.text(argv[1]))
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except OSError as e:
        if e.errno == errno.ENOSPC:
            print("wall.py: no space left on the disk: %s" % e, file=sys.stderr)
        else:
            print("wall.py: %s" % e, file=sys.stderr)
        sys.exit(3)
