"""Which tests a kernel image holds, read from its ELF symbol table.

KTEST(name, ...) (kernel/ktest.h) defines a static `ktest_entry_<name>`;
its symbol stays in kernel.elf's .symtab. The grader uses this to grade the
hidden tests only when the kernel was built with them.
"""

import struct

PREFIX = "ktest_entry_"
SHT_SYMTAB = 2
SHF_ALLOC = 2


def _read_sections(path: str):
    """(data, [(name, type, flags, addr, offset, size, link, entsize)]) of an
    ELF64 little-endian file."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("%s is not a 64-bit little-endian ELF file" % path)
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    raw = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names_off = raw[shstrndx][4] if shstrndx < len(raw) else 0
    out = []
    for (name, sh_type, flags, addr, offset, size, link, _, _, entsize) in raw:
        end = data.index(b"\0", names_off + name)
        out.append((data[names_off + name:end].decode("ascii", "replace"), sh_type, flags,
                    addr, offset, size, link, entsize))
    return data, out


def sections(path: str) -> list:
    """(name, flags) of every section of an ELF64 file."""
    return [(s[0], s[2]) for s in _read_sections(path)[1]]


def section_bytes(path: str, name: str) -> bytes | None:
    """The contents of the section called name, or None."""
    data, secs = _read_sections(path)
    for s in secs:
        if s[0] == name:
            return data[s[4]:s[4] + s[5]]
    return None


def symbols(path: str) -> list:
    """Names of all symbols in an ELF64 little-endian file's .symtab."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("%s is not a 64-bit little-endian ELF file" % path)
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = []
    for i in range(shnum):
        fields = struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
        sections.append(fields)
    names = []
    for (_, sh_type, _, _, offset, size, link, _, _, entsize) in sections:
        if sh_type != SHT_SYMTAB or not entsize:
            continue
        str_off = sections[link][4]
        for at in range(offset, offset + size, entsize):
            st_name, = struct.unpack_from("<I", data, at)
            end = data.index(b"\0", str_off + st_name)
            names.append(data[str_off + st_name:end].decode("ascii", "replace"))
    return names


def kernel_tests(elf_path: str) -> set | None:
    """The names of the tests built into the kernel, or None if unknown."""
    try:
        return {n[len(PREFIX):] for n in symbols(elf_path) if n.startswith(PREFIX)}
    except (OSError, ValueError, struct.error):
        return None


INFO_SECTION = "ktest_info"


def tests(elf_path: str) -> list | None:
    """The graded tests' records from kernel.elf's section ktest_info
    (KTEST_INFO in kernel/ktest.h): one dict of its key=value lines per
    test, in the order they were linked; None when unreadable."""
    try:
        data = section_bytes(elf_path, INFO_SECTION)
    except (OSError, ValueError, struct.error):
        return None
    if data is None:
        return []
    out, limits = [], {}
    for record in data.split(b"\0"):
        if not record.strip():
            continue
        fields = {}
        for line in record.decode("utf-8", "replace").split("\n"):
            key, eq, value = line.partition("=")
            if eq:
                fields[key] = value
        name = fields.get("test")
        if name is None:
            continue
        if "category" not in fields:  # KTEST_LIMITS: adds to its test's record
            limits.setdefault(name, {}).update(fields)
            continue
        out.append(fields)  # two records of one name stay two (rubric.load refuses them)
    for rec in out:
        rec.update({k: v for k, v in limits.get(rec["test"], {}).items() if k != "test"})
    return out
