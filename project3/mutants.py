"""Project 3's mutants and alternatives (tests/mutants/README.md): wrong
EPT and MMIO functions a student would write, each of which must fail a public test
under every seed, and correct ones built another way, each of which must
score every public point. Each entry is a list of exact text replacements
in a student file, made in order on the reference solution; each text to
find must occur exactly once. `python3 tests/mutants/run.py --project 3`
builds and grades them all.
"""

from tests.mutants.mutation import Alternative, Mutant

EPT = "project3/ept.c"


def M(name, bug, *replace):
    return Mutant(name, EPT, list(replace), bug)


def A(name, how, *replace):
    return Alternative(name, EPT, list(replace), how)


MAP_LIMITS = "    if (gpa.addr >= EPT_GPA_LIMIT || hpa >= (1ULL << 52))\n"
PRECHECK = ("    uint64_t *leaf = leaf_entry(ept, gpa.addr, false, &err);\n"
            "    if (leaf && (*leaf & EPT_RWX))\n        return KEV_EEXIST;\n"
            "    leaf = leaf_entry(ept, gpa.addr, true, &err);\n"
            "    if (leaf == NULL)\n        return err;\n")

MUTANTS = [
    # --- the tables' format ---------------------------------------------------------
    M("table_entries_read_only", "the entries above a leaf allow R only: the walk's AND takes "
      "W and X from every page.",
      ("            *e = next | EPT_RWX;\n", "            *e = next | EPT_R;\n")),
    M("table_entries_rw", "the entries above a leaf allow R and W, not X: no page is executable.",
      ("            *e = next | EPT_RWX;\n", "            *e = next | EPT_R | EPT_W;\n")),
    M("no_memory_type", "a leaf without its memory type (bits 5:3 left 0, uncacheable).",
      ("    *leaf = hpa | perm | EPT_MT_WB;\n", "    *leaf = hpa | perm;\n")),
    M("index_shift_level", "the index of level L taken from bits 12 + 9L: one level too high.",
      ("    return (gpa >> (12 + 9 * (level - 1))) & (EPT_ENTRIES - 1);\n",
       "    return (gpa >> (12 + 9 * level)) & (EPT_ENTRIES - 1);\n")),
    M("index_8_bits", "an index of 8 bits, not 9: pages 256 entries apart share an entry.",
      ("    return (gpa >> (12 + 9 * (level - 1))) & (EPT_ENTRIES - 1);\n",
       "    return (gpa >> (12 + 9 * (level - 1))) & 0xff;\n")),
    M("table_address_unmasked", "a table entry followed with its permission bits in the address.",
      ("        t = table_of(*e & ADDR_MASK);\n    }\n    return &t[ept_index(gpa, 1)];\n",
       "        t = table_of(*e);\n    }\n    return &t[ept_index(gpa, 1)];\n")),

    # --- ept_map's errors -------------------------------------------------------------
    M("no_eexist", "a mapped page is mapped again, over the old mapping.",
      ("    if (leaf && (*leaf & EPT_RWX))\n        return KEV_EEXIST;\n", "")),
    M("align_gpa_only", "only the gpa's alignment checked: an unaligned hpa is mapped.",
      ("    if ((gpa.addr | hpa) & (PAGE_SIZE - 1))\n", "    if (gpa.addr & (PAGE_SIZE - 1))\n")),
    M("gpa_limit_off_by_one", "gpa = 2^48 accepted (> where >= was needed).",
      (MAP_LIMITS, "    if (gpa.addr > EPT_GPA_LIMIT || hpa >= (1ULL << 52))\n")),
    M("no_hpa_limit", "an hpa of 2^52 or more accepted (it does not fit bits 51:12).",
      (MAP_LIMITS, "    if (gpa.addr >= EPT_GPA_LIMIT)\n")),
    M("write_without_read", "write without read accepted (an EPT misconfiguration).",
      ("((perm & EPT_W) && !(perm & EPT_R)) ||\n        ", "")),
    M("execute_only_never", "execute alone refused even where the CPU has execute-only pages.",
      ("(perm == EPT_X && !ept->execute_only)", "(perm == EPT_X)")),
    M("perm_high_bits", "bits other than R/W/X in perm accepted (and written into the leaf).",
      ("perm == 0 || (perm & ~EPT_RWX) || ", "perm == 0 || ")),
    M("eexist_before_eperm", "KEV_EEXIST checked before the permissions: a mapped page with a "
      "bad perm gets KEV_EEXIST, not KEV_EPERM.",
      ("    if (perm == 0 || (perm & ~EPT_RWX) || ((perm & EPT_W) && !(perm & EPT_R)) ||\n"
       "        (perm == EPT_X && !ept->execute_only))\n        return KEV_EPERM;\n", ""),
      (PRECHECK, PRECHECK.replace(
          "    leaf = leaf_entry(",
          "    if (perm == 0 || (perm & ~EPT_RWX) || ((perm & EPT_W) && !(perm & EPT_R)) ||\n"
          "        (perm == EPT_X && !ept->execute_only))\n        return KEV_EPERM;\n"
          "    leaf = leaf_entry(", 1))),
    M("enomem_as_einval", "a failed ept_table_alloc() reported as KEV_EINVAL.",
      ("                *err = r;\n", "                *err = KEV_EINVAL;\n")),

    # --- ept_unmap ---------------------------------------------------------------------
    M("unmap_no_align", "ept_unmap of an unaligned address clears its page.",
      ("    if (gpa.addr & (PAGE_SIZE - 1))\n        return KEV_EALIGN;\n    if (gpa.addr >= EPT_GPA_LIMIT)",
       "    if (gpa.addr >= EPT_GPA_LIMIT)")),
    M("unmap_not_mapped_ok", "ept_unmap of a page never mapped succeeds.",
      ("    if (leaf == NULL || (*leaf & EPT_RWX) == 0)\n        return KEV_EUNMAPPED;\n    *leaf = 0;\n",
       "    if (leaf == NULL)\n        return KEV_OK;\n    *leaf = 0;\n")),
    M("unmap_clears_write_only", "ept_unmap takes W away and leaves the page readable.",
      ("    *leaf = 0;\n", "    *leaf &= ~EPT_W;\n")),

    # --- ept_translate -----------------------------------------------------------------
    M("translate_no_offset", "ept_translate drops the offset: the page's address for any byte.",
      ("            *hpa = (e & ADDR_MASK) | (gpa.addr & (PAGE_SIZE - 1));\n",
       "            *hpa = e & ADDR_MASK;\n")),
    M("translate_leaf_perm_only", "ept_translate reports the leaf's permissions, not the AND.",
      ("        allowed &= e;\n", "        allowed = e;\n")),
    M("translate_no_limit", "ept_translate of 2^48 and up walks the low 48 bits instead of "
      "KEV_EINVAL.",
      ("    if (gpa.addr >= EPT_GPA_LIMIT)\n        return KEV_EINVAL;\n    uint64_t *t = table_of(ept->root);\n"
       "    uint64_t allowed", "    uint64_t *t = table_of(ept->root);\n    uint64_t allowed")),

    # --- ept_gva_to_hpa ----------------------------------------------------------------
    M("gva_no_large_pages", "PS never looked at: a 2 MiB or 1 GiB page walked as a table.",
      ("        bool leaf = level == 1 || ((level == 2 || level == 3) && (e & PT_PS));\n",
       "        bool leaf = level == 1;\n")),
    M("gva_large_pat_as_address", "a large page's address taken from bits 51:12: PAT (bit 12) "
      "and the reserved bits join the address.",
      ("        uint64_t gpa = (e & ADDR_MASK & ~offset_mask) | (gva.addr & offset_mask);\n",
       "        uint64_t gpa = (e & ADDR_MASK) | (gva.addr & offset_mask);\n")),
    M("gva_write_ignored", "a write to a read-only guest page allowed.",
      ("if (access == GUEST_WRITE && !writable)", "if (access == GUEST_WRITE && !writable && 0)")),
    M("gva_rw_leaf_only", "R/W looked at in the last entry only.",
      ("        writable &= e;\n", "        writable = e & PT_RW;\n")),
    M("gva_xd_ignored", "XD never looked at: a fetch of a no-execute page allowed.",
      ("        xd |= e & PT_XD;\n", "")),
    M("gva_no_canonical_check", "a non-canonical gva walked like any other.",
      ("    if ((uint64_t)((int64_t)(gva.addr << 16) >> 16) != gva.addr)\n        return KEV_ENONCANONICAL;\n",
       "")),
    M("gva_table_read_perm_ignored", "a guest table on an execute-only EPT page read anyway.",
      ("    if (ept_translate(ept, GPA(at), &hpa, &perm) != KEV_OK || !(perm & EPT_R))\n",
       "    if (ept_translate(ept, GPA(at), &hpa, &perm) != KEV_OK)\n")),
    M("gva_table_error_unmapped", "a guest table the EPT does not map reported as KEV_EUNMAPPED.",
      ("        return KEV_ENOTGUESTMEM;\n    *entry =", "        return KEV_EUNMAPPED;\n    *entry =")),
    M("gva_cr3_low_bits", "the guest's CR3 used with its low bits (PCID, PWT, PCD) as the PML4's address.",
      ("    uint64_t table = cr3 & ADDR_MASK,", "    uint64_t table = cr3,")),
]

ALTERNATIVES = [
    A("unmap_clears_permissions", "ept_unmap clears the leaf's R/W/X only (not present is "
      "bits 2:0 = 0; the address may stay).",
      ("    *leaf = 0;\n", "    *leaf &= ~EPT_RWX;\n")),
    A("map_looks_after_allocating", "ept_map allocates the walk first and refuses a mapped leaf "
      "after: a mapped page has all its tables, so nothing is allocated for it.",
      (PRECHECK, "    uint64_t *leaf = leaf_entry(ept, gpa.addr, true, &err);\n"
                 "    if (leaf == NULL)\n        return err;\n"
                 "    if (*leaf & EPT_RWX)\n        return KEV_EEXIST;\n")),
    A("table_entries_with_accessed", "the entries above a leaf also carry bit 8 (accessed), "
      "which the CPU ignores without A/D and sets itself with it.",
      ("            *e = next | EPT_RWX;\n", "            *e = next | EPT_RWX | EPT_ACCESSED;\n")),
    A("translate_mask_perm_first", "ept_translate ANDs only the permission bits as it goes.",
      ("        allowed &= e;\n", "        allowed &= e & EPT_RWX;\n")),
]


# --- MMIO (project3/mmio.c): mmio_handle() ------------------------------------

MMIO = "project3/mmio.c"

MUTANTS += [
    Mutant("mmio_any_size", MMIO,
           [('if (req->size != regs[r].size)',
             'if (false && req->size != regs[r].size)')],
           'Any size accepted at a register.'),
    Mutant("mmio_smaller_size", MMIO,
           [('if (req->size != regs[r].size)',
             'if (req->size > regs[r].size)')],
           'A smaller access accepted (a 1-byte read of the length).'),
    Mutant("mmio_doorbell_reads_length", MMIO,
           [('r == REG_LENGTH ? dev->length : 0;',
             'dev->length;')],
           'The doorbell reads back the length instead of 0.'),
    Mutant("mmio_buffer_32bit", MMIO,
           [('dev->buffer = req->value;',
             'dev->buffer = (uint32_t)req->value;')],
           'The buffer register keeps 32 bits.'),
    Mutant("mmio_no_register_einval", MMIO,
           [('KEV_EMMIO, "a %u-byte %s at guest-physical 0x%lx: the printer has no',
             'KEV_EINVAL, "a %u-byte %s at guest-physical 0x%lx: the printer has no')],
           'KEV_EINVAL instead of KEV_EMMIO off a register.'),
    Mutant("mmio_bad_size_einval", MMIO,
           [('KEV_EMMIO, "a %u-byte %s at guest-physical 0x%lx: the printer\'s %s',
             'KEV_EINVAL, "a %u-byte %s at guest-physical 0x%lx: the printer\'s %s')],
           'KEV_EINVAL instead of KEV_EMMIO for a bad size.'),
    Mutant("mmio_no_max_length", MMIO,
           [('if (dev->length > MMIO_PRINTER_MAX)',
             'if (dev->length > 0xfffffffeu)')],
           'No check of the length against MMIO_PRINTER_MAX.'),
    Mutant("mmio_copy_one_page", MMIO,
           [('probe_copy_from_gpa(s->vm, buf, GPA(dev->buffer), dev->length)',
             'probe_copy_from_gpa(s->vm, buf, GPA(dev->buffer), dev->length > PAGE_SIZE - (dev->buffer & (PAGE_SIZE - 1)) ? PAGE_SIZE - (dev->buffer & (PAGE_SIZE - 1)) : dev->length)')],
           "Copies only up to the end of the buffer's first page."),
    Mutant("mmio_buffer_as_gva", MMIO,
           [('probe_copy_from_gpa(s->vm, buf, GPA(dev->buffer), dev->length)',
             'probe_copy_from_guest(s, buf, GVA(dev->buffer), dev->length)')],
           'The buffer taken as guest-virtual.'),
    Mutant("mmio_errors_ignored", MMIO,
           [('        e = printer_write(out, buf, dev->length);\n    if (e != KEV_OK)',
             '        e = printer_write(out, buf, dev->length);\n    if (false)')],
           "A doorbell's error does not stop the VM."),
    Mutant("mmio_one_doorbell_error", MMIO,
           [('return vm_stop(s->vm, e, "printer doorbell: %u bytes',
             'return vm_stop(s->vm, KEV_ENOTGUESTMEM, "printer doorbell: %u bytes')],
           'Every doorbell error reported as KEV_ENOTGUESTMEM.'),
    Mutant("mmio_match_in_register", MMIO,
           [('regs[r].gpa != req->gpa.addr',
             'regs[r].gpa != (req->gpa.addr & ~7UL)')],
           'An access inside a register (0x04, 0x0c) taken as the register.'),
    Mutant("mmio_doorbell_value", MMIO,
           [('        return ring(s, dev, out);',
             '        return req->value ? ring(s, dev, out) : vmexit_continue();')],
           'A doorbell write of 0 prints nothing.'),
    Mutant("mmio_print_before_check", MMIO,
           [('    enum kev_error e = probe_copy_from_gpa(s->vm, buf, GPA(dev->buffer), dev->length);\n    if (e == KEV_OK)\n        e = printer_write(out, buf, dev->length);',
             '    enum kev_error e = probe_copy_from_gpa(s->vm, buf, GPA(dev->buffer), dev->length > 16 ? 16 : dev->length);\n    printer_write(out, buf, dev->length > 16 ? 16 : dev->length);\n    if (e == KEV_OK)\n        e = probe_copy_from_gpa(s->vm, buf, GPA(dev->buffer), dev->length);\n    if (e == KEV_OK && dev->length > 16)\n        e = printer_write(out, buf + 16, dev->length - 16);')],
           'Prints the first 16 bytes before the whole buffer is checked.'),
]

ALTERNATIVES += [
    Alternative('mmio_alt_stack_buffer', MMIO,
                [('    static uint8_t buf[MMIO_PRINTER_MAX];',
                  '    uint8_t buf[MMIO_PRINTER_MAX];')],
                "The doorbell's buffer on the stack."),
    Alternative('mmio_alt_length_sign_extended', MMIO,
                [('r == REG_LENGTH ? dev->length : 0;',
                  'r == REG_LENGTH ? (uint64_t)(int64_t)(int32_t)dev->length : 0xabcdef00;')],
                "Loads leave garbage above the register's size (ignored)."),
]


# --- the loader (project3/loader.c): loader_parse() and loader_fault() ------------

LOADER = "project3/loader.c"


def LM(name, bug, *replace):
    return Mutant(name, LOADER, list(replace), bug)


MUTANTS += [
    LM("loader_no_magic", "any first four bytes taken for an ELF file.",
       (" || file[0] != 0x7f || file[1] != 'E' || file[2] != 'L' || file[3] != 'F')",
        ")")),
    LM("loader_no_class", "a 32-bit (ELFCLASS32) file read as a 64-bit one.",
       ("    if (file[4] != ELFCLASS64 || file[5] != ELFDATA2LSB)\n",
        "    if (file[5] != ELFDATA2LSB)\n")),
    LM("loader_no_machine", "an executable of another machine accepted.",
       ("get16(file + 16) != ET_EXEC || get16(file + 18) != EM_X86_64)",
        "get16(file + 16) != ET_EXEC)")),
    LM("loader_phdrs_wrap", "the program headers' end computed with a sum that wraps past 2^64.",
       ("!inside(phoff, (uint64_t)phnum * ELF_PHDR_SIZE, size)",
        "phoff + (uint64_t)phnum * ELF_PHDR_SIZE > size")),
    LM("loader_vaddr", "p_vaddr (offset 16) taken for the guest-physical address.",
       ("        .gpa = get64(ph + 24),\n", "        .gpa = get64(ph + 16),\n")),
    LM("loader_filesz_unchecked", "p_filesz > p_memsz accepted.",
       ("    if (s.filesz > s.memsz)\n", "    if (false)\n")),
    LM("loader_file_bytes_wrap", "a segment's file bytes checked with a sum that wraps.",
       ("!inside(s.offset, s.filesz, size)", "s.offset + s.filesz > size")),
    LM("loader_window_low", "memory below LOADER_IMAGE_START accepted.",
       ("    if (s.gpa < LOADER_IMAGE_START || !inside", "    if (!inside")),
    LM("loader_window_end", "a segment ending at LOADER_IMAGE_END exactly refused (>= for >), "
       "and its end computed with a sum that wraps.",
       ("!inside(s.gpa, s.memsz, LOADER_IMAGE_END)", "s.gpa + s.memsz >= LOADER_IMAGE_END")),
    LM("loader_overlap_by_page", "segments that share a page refused as overlapping.",
       ("        if (s.gpa < o->gpa + o->memsz && o->gpa < s.gpa + s.memsz)\n",
        "        if (ALIGN_DOWN(s.gpa, PAGE_SIZE) < ALIGN_UP(o->gpa + o->memsz, PAGE_SIZE) &&\n"
        "            ALIGN_DOWN(o->gpa, PAGE_SIZE) < ALIGN_UP(s.gpa + s.memsz, PAGE_SIZE))\n")),
    LM("loader_no_overlap_check", "overlapping segments accepted.",
       ("        if (s.gpa < o->gpa + o->memsz && o->gpa < s.gpa + s.memsz)\n", "        if (o == NULL)\n")),
    LM("loader_unreadable", "a segment without PF_R accepted.",
       ("    if (!(flags & PF_R))\n", "    if (false)\n")),
    LM("loader_too_many", "a ninth PT_LOAD segment written past the array.",
       ("    if (img->nsegments == LOADER_SEGMENTS_MAX)\n", "    if (img->nsegments > LOADER_SEGMENTS_MAX)\n")),
    LM("loader_empty_load_kept", "a PT_LOAD with p_memsz 0 kept as a segment.",
       ("    if (type != PT_LOAD || s.memsz == 0)\n", "    if (type != PT_LOAD)\n")),
    LM("loader_entry_any_segment", "an entry point in a segment without PF_X accepted.",
       ("        if ((s->perm & EPT_X) && img->entry >= s->gpa", "        if (img->entry >= s->gpa")),
    LM("loader_no_zeroing", "the page from loader_page_alloc() not cleared: junk past the file's bytes.",
       ("    memset(dst, 0, PAGE_SIZE);\n", "")),
    LM("loader_copies_memsz", "p_memsz bytes copied from the file, not p_filesz: no bss.",
       ("        uint64_t end = s->gpa + s->filesz,", "        uint64_t end = s->gpa + s->memsz,")),
    LM("loader_first_segment_perm", "a page shared by two segments gets the first one's permissions.",
       ("            perm |= s->perm;\n", "            perm = perm ? perm : s->perm;\n")),
    LM("loader_remaps", "a page served already is mapped again (ept_map's KEV_EEXIST reaches the VM).",
       ("    uint64_t now;\n    if (ept_translate(ept, GPA(page), &hpa, &now) == KEV_OK)\n        return KEV_OK; /* served already */\n", "")),
    LM("loader_no_write_check", "a write to a read-only segment's page served.",
       ("    if (access == GUEST_WRITE && !(perm & EPT_W))\n        return KEV_EREADONLY;\n", "")),
    LM("loader_no_fetch_check", "a fetch from a segment without PF_X served.",
       ("    if (access == GUEST_FETCH && !(perm & EPT_X))\n        return KEV_ENOEXEC;\n", "")),
    LM("loader_write_check_first", "the access checked before the page is found in a segment: "
       "a write outside the image is KEV_EREADONLY, not KEV_EUNMAPPED.",
       ("    if (perm == 0)\n        return KEV_EUNMAPPED;\n    if (access == GUEST_WRITE && !(perm & EPT_W))\n"
        "        return KEV_EREADONLY;\n",
        "    if (access == GUEST_WRITE && !(perm & EPT_W))\n        return KEV_EREADONLY;\n"
        "    if (perm == 0)\n        return KEV_EUNMAPPED;\n")),
    LM("loader_never_maps", "the page filled but never mapped: KEV_OK, and the guest faults "
       "on it again and again.",
       ("    return ept_map(ept, GPA(page), hpa, perm);\n", "    return KEV_OK;\n")),
    LM("loader_page_offset", "the file's bytes copied to the page's start, not at their offset in it.",
       ("            memcpy(dst + (lo - page),", "            memcpy(dst,")),
]

ALTERNATIVES += [
    Alternative("loader_alt_memcpy_fields", LOADER,
                [("    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;\n",
                  "    uint64_t v;\n    memcpy(&v, p, sizeof(v)); /* x86 is little-endian */\n    return v;\n")],
                "Fields of 8 bytes read with memcpy (the file's order is the CPU's)."),
    Alternative("loader_alt_overlap_negated", LOADER,
                [("        if (s.gpa < o->gpa + o->memsz && o->gpa < s.gpa + s.memsz)\n",
                  "        if (!(s.gpa >= o->gpa + o->memsz || o->gpa >= s.gpa + s.memsz))\n")],
                "The overlap written as the negation of 'one ends before the other starts'."),
    Alternative("loader_alt_eexist_is_served", LOADER,
                [("    uint64_t now;\n    if (ept_translate(ept, GPA(page), &hpa, &now) == KEV_OK)\n        return KEV_OK; /* served already */\n", ""),
                 ("    return ept_map(ept, GPA(page), hpa, perm);\n",
                  "    enum kev_error e = ept_map(ept, GPA(page), hpa, perm);\n"
                  "    return e == KEV_EEXIST ? KEV_OK : e; /* served already: a page spent for nothing */\n")],
                "A page served already found by ept_map's KEV_EEXIST (a page allocated for nothing)."),
]
