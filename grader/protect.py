"""Checks that a student tree's framework files are as released.

A release (`make release PROJECT=N`) writes MANIFEST.sha256 at the
repository root, in sha256sum's format (`<hex>  <path>` a line), listing
every framework file (earlier projects' prebuilt objects and their stubs
too), and keeps a copy of each in .kevlab/originals/<path>. Before grading,
check() compares each listed file's sha256 and reports those changed or
missing; restore() copies the originals back. The files project N lets
students edit (its student files, `make info`) are never checked, and the
manifest does not list them. A listed path that is now a symlink or not a
regular file counts as changed (its target is not read), and restore()
replaces the link itself, never what it points to. No manifest (an
instructor's tree) means nothing to check.
"""

import os
import shutil
import stat

MANIFEST = "MANIFEST.sha256"
ORIGINALS = os.path.join(".kevlab", "originals")


def read_manifest(root: str) -> dict | None:
    """{path: sha256 hex}, or None when there is no manifest."""
    path = os.path.join(root, MANIFEST)
    if not os.path.exists(path):
        return None
    entries = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            digest, _, name = line.partition(" ")
            name = name.lstrip(" ").lstrip("*")  # sha256sum's text/binary marks
            entries[name] = digest.lower()
    return entries


def sha256(path: str) -> str:
    import hashlib  # here, not at the top: it loads OpenSSL (5 ms a start); only check() needs it

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def check(root: str, editable=()) -> dict | None:
    """{"changed": [...], "missing": [...]}, or None without a manifest."""
    entries = read_manifest(root)
    if entries is None:
        return None
    changed, missing = [], []
    for name, digest in sorted(entries.items()):
        if name in editable:
            continue
        path = os.path.join(root, name)
        try:
            st = os.lstat(path)
        except OSError:
            missing.append(name)
            continue
        if not stat.S_ISREG(st.st_mode) or sha256(path) != digest:
            changed.append(name)
    return {"changed": changed, "missing": missing}


def restore(root: str, names) -> list:
    """Copies the originals of names back; returns those it could not."""
    failed = []
    for name in names:
        src = os.path.join(root, ORIGINALS, name)
        if not os.path.isfile(src):
            failed.append(name)
            continue
        dst = os.path.join(root, name)
        os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
        if os.path.lexists(dst) and not (os.path.isfile(dst) and not os.path.islink(dst)):
            if os.path.isdir(dst) and not os.path.islink(dst):
                shutil.rmtree(dst)
            else:
                os.unlink(dst)  # a symlink or a special file: replaced, not written through
        shutil.copy2(src, dst)
    return failed


def message(found: dict) -> str:
    """What to tell the student about check()'s findings ('' when clean)."""
    if not found or not (found["changed"] or found["missing"]):
        return ""
    lines = ["Warning: these framework files are not as released (only the files your "
             "project lists may be edited; the official grading uses the originals):"]
    lines += ["  changed: " + n for n in found["changed"]]
    lines += ["  missing: " + n for n in found["missing"]]
    lines.append("  `python3 grader/grade.py --restore` puts the originals back "
                 "(from %s/)." % ORIGINALS)
    return "\n".join(lines)
