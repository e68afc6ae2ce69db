"""Puts a command line into a copy of the boot ISO, without rebuilding it.

The ISO's /boot/grub/grub.cfg holds MARKER followed by spaces, CMDLINE_SPACE
bytes in all (scripts/grubcfg.py). GRUB reads the file as it is on disk, so
overwriting that region in a copy of the ISO changes the command line of
that copy's boots only.
"""

import os
import shutil

MARKER = b"@KEVLAB-CMDLINE@"
CMDLINE_SPACE = 4096  # scripts/grubcfg.py pads grub.cfg to this


class ImageError(Exception):
    pass


def find_marker(data: bytes) -> int:
    """The offset of the placeholder; it must occur exactly once."""
    count = data.count(MARKER)
    if count != 1:
        raise ImageError(
            "the ISO holds the command-line placeholder %s %d times, not once: "
            "was it built by this tree's Makefile (scripts/grubcfg.py)?"
            % (MARKER.decode(), count))
    at = data.find(MARKER)
    region = data[at + len(MARKER):at + CMDLINE_SPACE]
    if len(region) != CMDLINE_SPACE - len(MARKER) or region.strip(b" "):
        raise ImageError("the placeholder in the ISO is not followed by %d bytes of "
                         "spaces: scripts/grubcfg.py and grader/image.py disagree"
                         % (CMDLINE_SPACE - len(MARKER)))
    return at


def patch(data: bytes, cmdline: str) -> bytes:
    """Returns data with the placeholder region replaced by cmdline."""
    raw = cmdline.encode("ascii")
    if len(raw) > CMDLINE_SPACE:
        raise ImageError("the command line is %d bytes; at most %d fit"
                         % (len(raw), CMDLINE_SPACE))
    if b"\n" in raw or b"\r" in raw:
        raise ImageError("the command line must be one line")
    at = find_marker(data)
    return data[:at] + raw.ljust(CMDLINE_SPACE, b" ") + data[at + CMDLINE_SPACE:]


def make_boot_image(iso: str, cmdline: str, dest: str) -> str:
    """Copies iso to dest with cmdline patched in; returns dest."""
    if not os.path.exists(iso):
        raise ImageError("%s does not exist: build it with `make` first" % iso)
    with open(iso, "rb") as f:
        data = f.read()
    patched = patch(data, cmdline)
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    tmp = dest + ".tmp"
    with open(tmp, "wb") as f:
        f.write(patched)
    shutil.move(tmp, dest)
    return dest
