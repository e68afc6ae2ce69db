"""Project 2's mutants and alternatives (tests/mutants/README.md): wrong
hypercall_resolve()/hypercall_handle() implementations a student would
write, each of which must fail a public test under every seed, and correct
ones built another way, each of which must score every public point.

Every entry is a list of exact text replacements in project2/hypercall.c,
made in order on the reference solution (the code under #ifdef SOLUTION);
each text to find must occur exactly once. `python3 tests/mutants/run.py
--project 2` builds and grades them all.
"""

from tests.mutants.mutation import Alternative, Mutant

F = "project2/hypercall.c"

# --- pieces of the reference solution that several entries replace ----------

EXIT_CODE = ".exit_code = (int64_t)regs->rdi"
PRINT_ARGS = ".print = {.buf = GVA(regs->rdi), .size = regs->rsi}"
SWITCH_NR = "switch (regs->rax) {"
DEFAULT_CASE = "    default:\n        return KEV_EHYPERCALL;\n"
RESOLVE_PRINT_CASE = "    case HC_PRINT:\n        *hc = (struct hypercall){.nr = HC_PRINT,"

SIZE_ZERO = "    if (size == 0)\n        return KEV_OK;\n"
LAST = "    uint64_t last = buf.addr + (size - 1);\n"
WRAP = "    if (last < buf.addr)\n        return KEV_EOVERFLOW;\n"
PAGE_LOOP = """\
    for (uint64_t at = buf.addr;;) {
        uint64_t n = min_u64(last - at + 1, PAGE_SIZE - at % PAGE_SIZE); /* up to the page's end */
        void *host;
        enum kev_error e = probe_gva_to_host(s, GVA(at), n, &host);
        if (e != KEV_OK)
            return e;
        if (at + (n - 1) == last)
            break;
        at += n;
    }
"""
ROOM = "    return size > printer_room(out) ? KEV_ENOMEM : KEV_OK;\n"

PRECHECK = "    enum kev_error e = check_print(s, buf, size, out);\n"
COPY_LOOP_HEAD = "    for (uint64_t done = 0; e == KEV_OK && done < size;) {\n"
CHUNK_N = "        uint64_t n = min_u64(size - done, sizeof(chunk));\n"
COPY = "        e = probe_copy_from_guest(s, chunk, GVA(buf.addr + done), n);\n"
WRITE = "        if (e == KEV_OK)\n            e = printer_write(out, chunk, n);\n"
ADVANCE = "        done += n;\n"
STOP = ("    if (e != KEV_OK)\n        return vm_stop(s->vm, e, \"Print(0x%lx, %lu): %s\", "
        "buf.addr, size, kev_strerror(e));\n")
PRINT_END = "    return vmexit_continue();\n}\n#endif\n"

HALT = "        return vm_exit(s->vm, hc->halt_cpu.exit_code);\n"
HANDLE_PRINT = "        return print(s, hc->print.buf, hc->print.size, out);\n"

# The whole copy loop of print(), and the whole of resolve's switch.
COPY_LOOP = COPY_LOOP_HEAD + """\
        uint8_t chunk[PRINT_CHUNK];
""" + CHUNK_N + COPY + WRITE + ADVANCE + "    }\n"
RESOLVE_SWITCH = """\
    switch (regs->rax) {
    case HC_HALT_CPU:
        *hc = (struct hypercall){.nr = HC_HALT_CPU, .halt_cpu = {.exit_code = (int64_t)regs->rdi}};
        return KEV_OK;
    case HC_PRINT:
        *hc = (struct hypercall){.nr = HC_PRINT,
                                 .print = {.buf = GVA(regs->rdi), .size = regs->rsi}};
        return KEV_OK;
    default:
        return KEV_EHYPERCALL;
    }
"""
# check_print() is called by print() only: a mutant that drops the call keeps it, unused.
CHECK_PRINT_DEF = "static enum kev_error check_print("
UNUSED_CHECK_PRINT = (CHECK_PRINT_DEF, "__attribute__((unused)) " + CHECK_PRINT_DEF)


def M(name, bug, *replace):
    return Mutant(name, F, list(replace), bug)


def A(name, how, *replace):
    return Alternative(name, F, list(replace), how)


MUTANTS = [
    # --- widths ----------------------------------------------------------------
    M("exit_code_u32", "HaltCpu's exit code truncated to its low 32 bits.",
      (EXIT_CODE, ".exit_code = (int64_t)(uint32_t)regs->rdi")),
    M("exit_code_u8", "HaltCpu's exit code kept in 8 bits, like a Unix process's exit status.",
      (EXIT_CODE, ".exit_code = (int64_t)(uint8_t)regs->rdi")),
    M("exit_code_int", "HaltCpu's exit code stored in an int: sign-extended from bit 31.",
      (EXIT_CODE, ".exit_code = (int64_t)(int32_t)regs->rdi")),
    M("exit_code_int_in_handle", "hypercall_handle passes the exit code through an int.",
      (HALT, "        return vm_exit(s->vm, (int)hc->halt_cpu.exit_code);\n")),
    M("size_u32", "Print's size truncated to 32 bits when decoded.",
      (PRINT_ARGS, ".print = {.buf = GVA(regs->rdi), .size = (uint32_t)regs->rsi}")),
    M("size_int", "Print's size read through an (int) cast: sign-extended from bit 31.",
      (PRINT_ARGS, ".print = {.buf = GVA(regs->rdi), .size = (int)regs->rsi}")),
    M("size_u32_in_handle", "hypercall_handle hands print() a 32-bit size.",
      (HANDLE_PRINT, "        return print(s, hc->print.buf, (uint32_t)hc->print.size, out);\n")),
    M("nr_u32", "the hypercall number compared in 32 bits: rax = 2^32 + 1 is taken for Print.",
      (SWITCH_NR, "switch ((uint32_t)regs->rax) {")),
    M("last_u32", "the address of the buffer's last byte kept in 32 bits.",
      (LAST, "    uint32_t last = buf.addr + (size - 1);\n")),

    # --- arguments from the wrong registers ------------------------------------------
    M("print_args_swapped", "Print's buffer and size swapped (rsi, rdi instead of rdi, rsi).",
      (PRINT_ARGS, ".print = {.buf = GVA(regs->rsi), .size = regs->rdi}")),
    M("size_from_rdx", "Print's size taken from rdx (the third argument) instead of rsi.",
      (PRINT_ARGS, ".print = {.buf = GVA(regs->rdi), .size = regs->rdx}")),
    M("exit_code_from_rsi", "HaltCpu's exit code taken from rsi instead of rdi.",
      (EXIT_CODE, ".exit_code = (int64_t)regs->rsi")),
    M("args_shifted_rax", "rax counted as the first argument: buffer from rax, size from rdi.",
      (PRINT_ARGS, ".print = {.buf = GVA(regs->rax), .size = regs->rdi}")),

    # --- unknown hypercall numbers ----------------------------------------------------
    M("unknown_ok", "an unknown number is not an error: the default case returns KEV_OK.",
      (DEFAULT_CASE, "    default:\n        return KEV_OK;\n")),
    M("unknown_einval", "an unknown number returns KEV_EINVAL instead of KEV_EHYPERCALL.",
      (DEFAULT_CASE, "    default:\n        return KEV_EINVAL;\n")),
    M("unknown_is_print", "every number but 0 is taken for Print (nr >= 2 too).",
      (DEFAULT_CASE, ""),
      (RESOLVE_PRINT_CASE, "    default:\n        *hc = (struct hypercall){.nr = HC_PRINT,")),
    M("nr_masked", "rax masked to its low byte before the switch.",
      (SWITCH_NR, "switch (regs->rax & 0xff) {")),

    # --- the wrap check -----------------------------------------------------------------
    M("no_wrap_check", "no wrap check: a buffer past 2^64 - 1 is probed page by page instead.",
      (WRAP, "")),
    M("wrap_last_le", "the wrap check refuses last == buf: a 1-byte Print is taken for a wrap.",
      (WRAP, "    if (last <= buf.addr)\n        return KEV_EOVERFLOW;\n")),
    M("wrap_refuses_end_zero",
      "end = buf + size, and end == 0 refused: a buffer ending exactly at 2^64 is taken for a wrap.",
      (WRAP, "    uint64_t end = buf.addr + size;\n"
             "    if (end < buf.addr || end == 0)\n        return KEV_EOVERFLOW;\n")),
    M("last_without_minus_one", "the last byte computed as buf + size, one past the buffer.",
      (LAST, "    uint64_t last = buf.addr + size;\n")),
    M("wrap_after_pages", "the wrap check made after the page checks, which see the wrap first.",
      (WRAP, ""), (ROOM, WRAP + ROOM)),

    # --- the page checks ------------------------------------------------------------------
    M("only_first_page", "only the first page of the buffer checked.",
      ("        if (at + (n - 1) == last)\n            break;\n        at += n;\n",
       "        break;\n")),
    M("first_and_last_pages", "only the first and the last page checked, not those between.",
      (PAGE_LOOP, """\
    void *host;
    uint64_t first = min_u64(size, PAGE_SIZE - buf.addr % PAGE_SIZE);
    enum kev_error e = probe_gva_to_host(s, buf, first, &host);
    if (e == KEV_OK && first < size)
        e = probe_gva_to_host(s, GVA(last - last % PAGE_SIZE), last % PAGE_SIZE + 1, &host);
    if (e != KEV_OK)
        return e;
""")),
    M("page_step_unaligned",
      "one byte probed every PAGE_SIZE from an unaligned start: the last page can be missed.",
      (PAGE_LOOP, """\
    for (uint64_t at = buf.addr; at <= last && at >= buf.addr; at += PAGE_SIZE) {
        void *host;
        enum kev_error e = probe_gva_to_host(s, GVA(at), 1, &host);
        if (e != KEV_OK)
            return e;
    }
""")),
    M("probe_whole_range", "the whole range probed at once: probe_gva_to_host takes one page.",
      (PAGE_LOOP, """\
    void *host;
    enum kev_error e = probe_gva_to_host(s, buf, size, &host);
    if (e != KEV_OK)
        return e;
""")),
    M("probe_page_len_unaligned",
      "each probe a whole page long from an unaligned address, crossing into the next page.",
      ("PAGE_SIZE - at % PAGE_SIZE); /* up to the page's end */", "PAGE_SIZE);")),
    M("page_mask_typo", "the offset in the page taken with & PAGE_SIZE, not & (PAGE_SIZE - 1).",
      ("PAGE_SIZE - at % PAGE_SIZE); /* up to the page's end */",
       "PAGE_SIZE - (at & PAGE_SIZE));")),
    M("aligned_walk_misses_last",
      "pages walked from the aligned start while page < last: a last byte that begins a page is "
      "not checked.",
      (PAGE_LOOP, """\
    for (uint64_t page = buf.addr & ~(uint64_t)(PAGE_SIZE - 1); page < last; page += PAGE_SIZE) {
        void *host;
        enum kev_error e = probe_gva_to_host(s, GVA(page), 1, &host);
        if (e != KEV_OK)
            return e;
    }
""")),

    # --- all or nothing ---------------------------------------------------------------
    M("print_then_check", "the buffer printed chunk by chunk first, checked afterwards.",
      (PRECHECK, "    enum kev_error e = KEV_OK;\n"),
      (STOP, "    if (e == KEV_OK)\n        e = check_print(s, buf, size, out);\n" + STOP)),
    M("no_precheck",
      "no check before printing: the chunked copy prints the earlier chunks, then fails.",
      UNUSED_CHECK_PRINT, (PRECHECK, "    enum kev_error e = KEV_OK;\n")),
    M("no_room_check", "no room check before printing: a Print that does not fit prints the "
      "chunks that still fit, then fails.",
      (ROOM, "    return KEV_OK;\n")),
    M("room_ge", "the room check refuses size == room: a Print that exactly fills the capture.",
      (ROOM, "    return size >= printer_room(out) ? KEV_ENOMEM : KEV_OK;\n")),

    # --- the copy ---------------------------------------------------------------------
    M("drops_last_byte", "the last byte left out, as if it were a C string's terminator.",
      (WRITE, "        if (e == KEV_OK)\n"
              "            e = printer_write(out, chunk, done + n == size ? n - 1 : n);\n")),
    M("drops_last_partial_chunk", "only whole chunks printed: the last partial one is dropped.",
      (COPY_LOOP_HEAD, "    for (uint64_t done = 0; e == KEV_OK && done + PRINT_CHUNK <= size;) {\n")),
    M("repeats_first_chunk", "the source not advanced: every chunk is the buffer's first bytes.",
      (COPY, "        e = probe_copy_from_guest(s, chunk, buf, n);\n")),
    M("done_not_advanced", "the count of bytes done never advanced: the first chunk printed "
      "until the capture is full.",
      (ADVANCE, "")),
    M("min_reads_one_more", "off by one in min(): each chunk one byte longer than what is left.",
      (CHUNK_N, "        uint64_t n = min_u64(size - done + 1, sizeof(chunk));\n")),
    M("min_returns_max", "min_u64 compares the wrong way round and returns the larger.",
      ("    return a < b ? a : b;\n", "    return a > b ? a : b;\n")),
    M("at_most_one_page", "at most one page copied: the rest of a longer buffer is lost.",
      (COPY_LOOP_HEAD,
       "    for (uint64_t done = 0; e == KEV_OK && done < min_u64(size, PAGE_SIZE);) {\n")),
    M("at_most_one_chunk", "one chunk copied and printed, no loop: at most PRINT_CHUNK bytes.",
      (COPY_LOOP_HEAD, "    if (e == KEV_OK && size > 0) {\n        uint64_t done = 0;\n")),

    # --- errors -----------------------------------------------------------------------
    M("stop_einval", "a failed Print stops the VM with KEV_EINVAL, not the probe's error.",
      (STOP, STOP.replace("vm_stop(s->vm, e,", "vm_stop(s->vm, KEV_EINVAL,"))),
    M("stop_eguest_fault", "a failed Print stops the VM with KEV_EGUEST_FAULT, not the probe's "
      "error.",
      (STOP, STOP.replace("vm_stop(s->vm, e,", "vm_stop(s->vm, KEV_EGUEST_FAULT,"))),
    M("wrap_eunmapped", "a wrapping buffer reported as KEV_EUNMAPPED instead of KEV_EOVERFLOW.",
      (WRAP, "    if (last < buf.addr)\n        return KEV_EUNMAPPED;\n")),
    M("ignores_printer_error", "printer_write's error ignored (and no room check before it): a "
      "Print past the capture's end is lost and the guest goes on.",
      (ROOM, "    return KEV_OK;\n"),
      (WRITE, "        if (e == KEV_OK)\n            (void)printer_write(out, chunk, n);\n")),

    # --- control flow -------------------------------------------------------------------
    M("halt_continues", "HaltCpu builds vm_exit()'s result, then returns vmexit_continue().",
      (HALT, "        vm_exit(s->vm, hc->halt_cpu.exit_code);\n        return vmexit_continue();\n")),
    M("halt_break", "HaltCpu's case calls vm_exit() without returning it, and breaks.",
      (HALT, "        vm_exit(s->vm, hc->halt_cpu.exit_code);\n        break;\n")),
    M("halt_exit_zero", "HaltCpu ends the VM with exit code 0 whatever the guest passed.",
      (HALT, "        return vm_exit(s->vm, 0);\n")),
    M("print_returns_exit0", "a good Print ends the VM with vm_exit(0) instead of going on.",
      (PRINT_END, "    return vm_exit(s->vm, 0);\n}\n#endif\n")),
    M("print_nr_halt", "resolve's Print case, copied from HaltCpu's, still sets nr = HC_HALT_CPU.",
      (RESOLVE_PRINT_CASE, "    case HC_PRINT:\n        *hc = (struct hypercall){.nr = HC_HALT_CPU,")),

    # --- the guest's registers ------------------------------------------------------------
    M("handle_clobbers_rbx", "hypercall_handle uses the guest's rbx as scratch for a Print.",
      (HANDLE_PRINT, "        s->regs.rbx = 0;\n" + HANDLE_PRINT)),
    M("handle_clobbers_rsi", "hypercall_handle clears rsi (the size) after a Print.",
      (HANDLE_PRINT, "    {\n        struct vmexit_result r = print(s, hc->print.buf, "
                     "hc->print.size, out);\n        s->regs.rsi = 0;\n        return r;\n    }\n")),
    M("resolve_writes_regs", "hypercall_resolve writes the guest's registers through a cast "
      "(it clears rdi, the argument it consumed).",
      (PRINT_ARGS + "};\n", PRINT_ARGS + "};\n        ((struct guest_regs *)regs)->rdi = 0;\n")),

    # --- size 0 ---------------------------------------------------------------------------
    M("print_zero_fails", "a Print of 0 bytes is refused with KEV_EINVAL.",
      (SIZE_ZERO, "    if (size == 0)\n        return KEV_EINVAL;\n")),
    M("print_zero_checks_address", "a Print of 0 bytes still probes its address.",
      (SIZE_ZERO, """\
    void *first;
    enum kev_error e0 = probe_gva_to_host(s, buf, 1, &first);
    if (e0 != KEV_OK || size == 0)
        return e0;
""")),
    M("print_zero_is_wrap", "no case for size 0: buf + size - 1 is below buf, taken for a wrap.",
      (SIZE_ZERO, "")),
]

# --- alternatives -------------------------------------------------------------------

# print() page by page from the host pointers the probe returns.
PRINT_FROM_HOST = """\
    enum kev_error e = check_print(s, buf, size, out);
    for (uint64_t done = 0; e == KEV_OK && done < size;) {
        uint64_t at = buf.addr + done;
        uint64_t n = min_u64(size - done, PAGE_SIZE - at % PAGE_SIZE);
        void *host;
        e = probe_gva_to_host(s, GVA(at), n, &host);
        if (e == KEV_OK)
            e = printer_write(out, host, n);
        done += n;
    }
"""

# print() through one heap buffer of the whole size.
PRINT_FROM_HEAP = """\
    enum kev_error e = check_print(s, buf, size, out);
    if (e == KEV_OK && size > 0) {
        uint8_t *copy = kmalloc(size);
        if (copy == NULL)
            return vm_stop(s->vm, KEV_ENOMEM, "Print(0x%lx, %lu): no memory for a copy",
                           buf.addr, size);
        e = probe_copy_from_guest(s, copy, buf, size);
        if (e == KEV_OK)
            e = printer_write(out, copy, size);
        kfree(copy);
    }
"""

# check_print()'s loop in the probe's two steps.
PAGE_LOOP_GPA = """\
    for (uint64_t at = buf.addr;;) {
        uint64_t n = min_u64(last - at + 1, PAGE_SIZE - at % PAGE_SIZE);
        gpa_t gpa;
        void *host;
        enum kev_error e = probe_gva_to_gpa(s, GVA(at), &gpa, NULL);
        if (e == KEV_OK)
            e = probe_gpa_to_host(s->vm, gpa, n, &host);
        if (e != KEV_OK)
            return e;
        if (at + (n - 1) == last)
            break;
        at += n;
    }
"""

# check_print()'s loop over the aligned pages, one byte probed in each.
PAGE_LOOP_ALIGNED = """\
    uint64_t last_page = last & ~(uint64_t)(PAGE_SIZE - 1);
    for (uint64_t page = buf.addr & ~(uint64_t)(PAGE_SIZE - 1);; page += PAGE_SIZE) {
        void *host;
        enum kev_error e = probe_gva_to_host(s, GVA(page), 1, &host);
        if (e != KEV_OK)
            return e;
        if (page == last_page)
            break;
    }
"""

RESOLVE_IF_ELSE = """\
    if (regs->rax == HC_HALT_CPU) {
        hc->nr = HC_HALT_CPU;
        hc->halt_cpu.exit_code = (int64_t)regs->rdi;
    } else if (regs->rax == HC_PRINT) {
        hc->nr = HC_PRINT;
        hc->print.buf = GVA(regs->rdi);
        hc->print.size = regs->rsi;
    } else {
        return KEV_EHYPERCALL;
    }
    return KEV_OK;
"""

ALTERNATIVES = [
    # Not a mutant: a VM that vm_stop() stopped stays stopped whatever the
    # handler returns (kev/vm.h), so this is the handout's way in other words.
    A("stop_then_continue", "vm_stop called for a failed Print, then vmexit_continue() returned.",
      (STOP, STOP.replace("        return vm_stop(", "        vm_stop("))),
    A("chunk_1_byte", "Print copies and prints one byte at a time.",
      ("#define PRINT_CHUNK 256\n", "#define PRINT_CHUNK 1\n")),
    A("chunk_page", "Print copies a whole page (4 KiB on the stack) at a time.",
      ("#define PRINT_CHUNK 256\n", "#define PRINT_CHUNK 4096\n")),
    A("print_from_host", "Print page by page straight from the host pointers "
      "probe_gva_to_host returns, with no copy.",
      (PRECHECK + COPY_LOOP, PRINT_FROM_HOST)),
    A("print_from_heap", "Print copies the whole buffer into one kmalloc'd block, prints it "
      "once and kfree's it.",
      ('#include "kernel/panic.h"\n', '#include "kernel/panic.h"\n#include "kernel/mm.h"\n'),
      (PRECHECK + COPY_LOOP, PRINT_FROM_HEAP)),
    A("checks_gva_gpa_host", "the page checks made in the probe's two steps, probe_gva_to_gpa "
      "then probe_gpa_to_host.",
      (PAGE_LOOP, PAGE_LOOP_GPA)),
    A("checks_aligned_pages", "the page checks walk the aligned pages, one byte probed in each.",
      (PAGE_LOOP, PAGE_LOOP_ALIGNED)),
    A("wrap_check_by_end", "the wrap check made on end = buf + size (0 when the buffer ends "
      "exactly at 2^64).",
      (LAST + WRAP, "    uint64_t end = buf.addr + size; /* one past the last byte */\n"
                    "    if (end != 0 && end < buf.addr)\n        return KEV_EOVERFLOW;\n"
                    "    uint64_t last = end - 1;\n")),
    A("resolve_if_else", "hypercall_resolve written with if/else and field by field, no switch.",
      (RESOLVE_SWITCH, RESOLVE_IF_ELSE)),
]


# --- port I/O (project2/pio.c) -----------------------------------------------
# The wrong and right pio_decode()/pio_handle() the part's author checked
# (each mutant fails a public port-I/O test, each alternative scores 100%).
PIO = "project2/pio.c"
MUTANTS += [
    Mutant('size_pow2', PIO, [('(uint8_t)((q & PIO_QUAL_SIZE) + 1)',
                        '(uint8_t)(1u << (q & PIO_QUAL_SIZE))')],
           'bits 2:0 read as log2 of the size: a dword access becomes 8 bytes'),
    Mutant('size_low_bit', PIO, [('(uint8_t)((q & PIO_QUAL_SIZE) + 1)',
                        '(uint8_t)((q & 1) + 1)')],
           'only bit 0 of the size: a dword access is taken for a word'),
    Mutant('port_8bit', PIO, [('.port = (uint16_t)(q >> PIO_QUAL_PORT_SHIFT)',
                        '.port = (uint8_t)(q >> PIO_QUAL_PORT_SHIFT)')],
           'the port cut to 8 bits (0x3f8 becomes 0xf8)'),
    Mutant('port_shift', PIO, [('#define PIO_QUAL_PORT_SHIFT 16 ',
                        '#define PIO_QUAL_PORT_SHIFT 15 ')],
           'the port read from bits 30:15'),
    Mutant('dir_swapped', PIO, [('.in = q & PIO_QUAL_IN,',
                        '.in = !(q & PIO_QUAL_IN),')],
           'bit 3 read the wrong way round (1 taken for OUT)'),
    Mutant('imm_ignored', PIO, [('.imm = q & PIO_QUAL_IMM,',
                        '.imm = false,')],
           'the operand encoding (bit 6) never decoded'),
    Mutant('rep_ignored', PIO, [('.rep = q & PIO_QUAL_REP,',
                        '.rep = false,')],
           'REP never decoded: a REP string instruction moves one element'),
    Mutant('string_is_rep_bit', PIO, [('#define PIO_QUAL_STRING (1u << 4)',
                        '#define PIO_QUAL_STRING (1u << 5)')],
           'the string bit taken from bit 5 (REP)'),
    Mutant('in8_clears_rax', PIO, [('s->regs.rax = req->size == 4 ? v : (s->regs.rax & ~mask_of(req->size)) | v;',
                        's->regs.rax = v;')],
           'an 8- or 16-bit IN clears the rest of RAX'),
    Mutant('in32_keeps_high', PIO, [('s->regs.rax = req->size == 4 ? v : (s->regs.rax & ~mask_of(req->size)) | v;',
                        's->regs.rax = (s->regs.rax & ~mask_of(req->size)) | v;')],
           'a 32-bit IN keeps bits 63:32 of RAX (no zero extension)'),
    Mutant('in_writes_low_byte', PIO, [('s->regs.rax = req->size == 4 ? v : (s->regs.rax & ~mask_of(req->size)) | v;',
                        's->regs.rax = (s->regs.rax & ~0xffULL) | (v & 0xff);')],
           'IN writes AL whatever its size'),
    Mutant('df_ignored', PIO, [('uint64_t step = rflags & RFLAGS_DF ? -(uint64_t)req->size : req->size;',
                        'uint64_t step = req->size;')],
           'RFLAGS.DF ignored: strings always step up'),
    Mutant('step_by_one', PIO, [('uint64_t step = rflags & RFLAGS_DF ? -(uint64_t)req->size : req->size;',
                        'uint64_t step = rflags & RFLAGS_DF ? -(uint64_t)1 : 1;')],
           "RSI/RDI step by 1 whatever the element's size"),
    Mutant('rcx_not_decremented', PIO, [('            s->regs.rcx--;',
                        '            s->regs.rcx = s->regs.rcx;')],
           'REP leaves RCX as it was'),
    Mutant('rcx_decremented_without_rep', PIO, [('        if (req->rep)\n            s->regs.rcx--;',
                        '        s->regs.rcx--;')],
           'a string instruction without REP decrements RCX'),
    Mutant('rep_one_more', PIO, [('for (uint64_t i = 0; i < count; i++) {',
                        'for (uint64_t i = 0; i <= count && i < count + 1; i++) {')],
           'REP does RCX + 1 elements (RCX = 0 moves one)'),
    Mutant('rep_count_32', PIO, [('uint64_t count = req->rep ? s->regs.rcx : 1;',
                        'uint64_t count = req->rep ? (uint32_t)s->regs.rcx : 1;')],
           'the REP count cut to 32 bits'),
    Mutant('outs_sends_bad_element', PIO, [('            if (e == KEV_OK)\n                e = pio_device_out(dev, req, v);',
                        '            if (pio_device_out(dev, req, v) != KEV_OK)\n                e = KEV_EINVAL;')],
           'OUTS sends the element even when it could not be read (a partial or zero element)'),
    Mutant('in_error_ignored', PIO, [('        if (e == KEV_OK) /* a 32-bit register write zero-extends into RAX */',
                        '        e = KEV_OK; /* a 32-bit register write zero-extends into RAX */')],
           "an IN's device error (empty queue) ignored"),
    Mutant('error_einval', PIO, [('        if (e != KEV_OK)\n            return vm_stop(s->vm, e, "%s%s port',
                        '        if (e != KEV_OK)\n            return vm_stop(s->vm, KEV_EINVAL, "%s%s port')],
           "a bad string buffer stops the VM with KEV_EINVAL instead of the probe's error"),
    Mutant('ins_uses_rsi', PIO, [('uint64_t *addr = req->in ? &s->regs.rdi : &s->regs.rsi;',
                        'uint64_t *addr = &s->regs.rsi;')],
           'INS writes at RSI (and steps it) instead of RDI'),
    Mutant('out_sends_rax_high', PIO, [('e = pio_device_out(dev, req, (uint32_t)(s->regs.rax & mask_of(req->size)));',
                        'e = pio_device_out(dev, req, (uint32_t)(s->regs.rax >> 32));')],
           'OUT sends the high half of RAX'),
]
ALTERNATIVES += [
    Alternative('decode_switch', PIO, [('        .size = (uint8_t)((q & PIO_QUAL_SIZE) + 1),',
                             '        .size = (q & PIO_QUAL_SIZE) == 0 ? 1 : (q & PIO_QUAL_SIZE) == 1 ? 2 : (q & PIO_QUAL_SIZE) == 3 ? 4 : 0,')],
                'the size by cases (an encoding the SDM does not use gives 0, which the controller refuses)'),
    Alternative('in_merge_by_shifts', PIO, [('s->regs.rax = req->size == 4 ? v : (s->regs.rax & ~mask_of(req->size)) | v;',
                             's->regs.rax = req->size == 4 ? (uint64_t)v : (s->regs.rax >> (8 * req->size) << (8 * req->size)) | v;')],
                'the IN merge with shifts instead of a mask'),
    Alternative('ins_checks_first', PIO, [('            e = pio_device_in(dev, req, &v);\n            if (e == KEV_OK)\n                e = probe_copy_to_guest(s, GVA(*addr), &v, req->size);',
                             '            e = probe_copy_to_guest(s, GVA(*addr), &v, req->size); /* v is 0: checks the element is writable */\n            if (e == KEV_OK)\n                e = pio_device_in(dev, req, &v);\n            if (e == KEV_OK)\n                e = probe_copy_to_guest(s, GVA(*addr), &v, req->size);')],
                'INS checks its destination before it reads the device'),
    Alternative('signed_step', PIO, [('uint64_t step = rflags & RFLAGS_DF ? -(uint64_t)req->size : req->size;',
                             'int64_t step = rflags & RFLAGS_DF ? -(int64_t)req->size : (int64_t)req->size;')],
                'the step as a signed number'),
]


# --- CPUID (project2/cpuid.c) --------------------------------------------------
# The wrong and right cpuid_emulate() the part's author checked (each mutant
# fails a public CPUID test under seeds 1, 2 and 3, each alternative scores
# 100%). Not a mutant: the vCPU's id or-ed into EBX[31:24] without clearing
# it first, which no test can tell from the right code on a host whose APIC ID
# is 0 (Bochs's and QEMU's one CPU).
CPUID = "project2/cpuid.c"
CPUID_APIC = ("        r.ebx = (r.ebx & ~CPUID_1_EBX_APIC_ID) | (id & 0xffu) << "
              "CPUID_1_EBX_APIC_ID_SHIFT;\n")
CPUID_VMX = "        r.ecx = (r.ecx & ~CPUID_1_ECX_VMX) | CPUID_1_ECX_HYPERVISOR;\n"
CPUID_SIG_ECX = "        memcpy(&r.ecx, KEVLAB_CPUID_SIGNATURE + 4, 4);\n"
CPUID_SIG_EDX = "        memcpy(&r.edx, KEVLAB_CPUID_SIGNATURE + 8, 4);\n"
CPUID_MAX_LEAF = "        r.eax = KEVLAB_CPUID_MAX_LEAF;\n"
CPUID_RANGE = ("    if (leaf > CPUID_HYPERVISOR_FIRST && leaf <= CPUID_HYPERVISOR_LAST)\n"
               "        return r; /* no such kevlab leaf: zeros */\n")
CPUID_NATIVE = "    r = kev_cpuid(leaf, subleaf);\n"
CPUID_LEAVES = "    uint32_t leaf = (uint32_t)s->regs.rax, subleaf = (uint32_t)s->regs.rcx;\n"
CPUID_RBX = "    s->regs.rbx = r.ebx;\n"
CPUID_WRITE4 = ("    s->regs.rax = r.eax;\n    s->regs.rbx = r.ebx;\n    s->regs.rcx = r.ecx;\n"
                "    s->regs.rdx = r.edx;\n")
CPUID_CONTINUE = "    s->regs.rdx = r.edx;\n    return vmexit_continue();\n"


def CM(name, bug, *replace):
    return Mutant(name, CPUID, list(replace), bug)


def CA(name, how, *replace):
    return Alternative(name, CPUID, list(replace), how)


MUTANTS += [
    # --- leaf 1 ---------------------------------------------------------------
    CM("cpuid_apic_id_host", "leaf 1's EBX left as the host's: the guest sees the host CPU's APIC ID.",
      (CPUID_APIC, "")),
    CM("cpuid_apic_id_whole_ebx", "leaf 1's EBX replaced by the id alone (brand index, CLFLUSH size "
      "and logical-processor count lost).",
      (CPUID_APIC, "        r.ebx = (id & 0xffu) << CPUID_1_EBX_APIC_ID_SHIFT;\n")),
    CM("cpuid_apic_id_bits_23_16", "the vCPU's id put in EBX[23:16] (the logical-processor count).",
      (CPUID_APIC, "        r.ebx = (r.ebx & ~0x00ff0000u) | (id & 0xffu) << 16;\n")),
    CM("cpuid_apic_id_7_bits", "the id masked to 7 bits: ids 128 to 255 come out wrong.",
      (CPUID_APIC, "        r.ebx = (r.ebx & ~CPUID_1_EBX_APIC_ID) | (id & 0x7fu) << CPUID_1_EBX_APIC_ID_SHIFT;\n")),
    CM("cpuid_vmx_shown", "leaf 1's VMX bit (ECX bit 5) left as the host's.",
      (CPUID_VMX, "        r.ecx |= CPUID_1_ECX_HYPERVISOR;\n")),
    CM("cpuid_no_hypervisor_bit", "leaf 1's ECX bit 31 (hypervisor present) not set.",
      (CPUID_VMX, "        r.ecx &= ~CPUID_1_ECX_VMX;\n")),
    CM("cpuid_hypervisor_bit_in_edx", "the hypervisor bit set in EDX bit 31 instead of ECX's.",
      (CPUID_VMX, "        r.ecx &= ~CPUID_1_ECX_VMX;\n        r.edx |= CPUID_1_ECX_HYPERVISOR;\n")),
    CM("cpuid_leaf_64_bits", "the leaf compared in 64 bits: with the guest's upper half of rax set, "
      "leaf 1 and 0x40000000 are never recognised.",
      (CPUID_LEAVES, "    uint64_t leaf = s->regs.rax;\n    uint32_t subleaf = (uint32_t)s->regs.rcx;\n"),
      ("static struct cpuid_regs answer(unsigned id, uint32_t leaf, uint32_t subleaf)",
       "static struct cpuid_regs answer(unsigned id, uint64_t leaf, uint32_t subleaf)")),
    # --- the hypervisor leaves -----------------------------------------------------------
    CM("cpuid_signature_vendor_order", "the signature stored in leaf 0's order, EBX, EDX, ECX.",
      (CPUID_SIG_ECX + CPUID_SIG_EDX, "        memcpy(&r.edx, KEVLAB_CPUID_SIGNATURE + 4, 4);\n"
                          "        memcpy(&r.ecx, KEVLAB_CPUID_SIGNATURE + 8, 4);\n")),
    CM("cpuid_max_leaf_zero", "leaf 0x40000000's EAX left 0 instead of the highest hypervisor leaf.",
      (CPUID_MAX_LEAF, "")),
    CM("cpuid_max_leaf_plus_one", "leaf 0x40000000's EAX says 0x40000001, a leaf kevlab has not.",
      (CPUID_MAX_LEAF, "        r.eax = KEVLAB_CPUID_MAX_LEAF + 1;\n")),
    CM("cpuid_signature_native", "no kevlab leaf at all: 0x40000000 answered by the host.",
      ("    if (leaf == CPUID_HYPERVISOR_FIRST) {", "    if (leaf == 0 && leaf == 1) {")),
    CM("cpuid_hypervisor_range_native", "leaves 0x40000001 to 0x4fffffff answered by the host "
      "(a hypervisor below would show).",
      (CPUID_RANGE, "")),
    CM("cpuid_hypervisor_range_unbounded", "every leaf above 0x40000000 answers zeros, the extended "
      "leaves 0x80000000... included.",
      (CPUID_RANGE, "    if (leaf > CPUID_HYPERVISOR_FIRST)\n        return r;\n")),
    CM("cpuid_hypervisor_range_from_0x3", "the zero range starts below 0x40000000 (0x3fffffff zeroed).",
      (CPUID_RANGE, "    if (leaf >= CPUID_HYPERVISOR_FIRST - 1 && leaf <= CPUID_HYPERVISOR_LAST)\n"
              "        return r;\n")),
    # --- leaf and subleaf -------------------------------------------------------------
    CM("cpuid_subleaf_zero", "the subleaf ignored: every leaf asked with ECX = 0.",
      (CPUID_NATIVE, "    r = kev_cpuid(leaf, 0);\n")),
    CM("cpuid_leaf_subleaf_swapped", "the leaf taken from ECX and the subleaf from EAX.",
      (CPUID_NATIVE, "    r = kev_cpuid(subleaf, leaf);\n")),
    # --- the registers -------------------------------------------------------------------
    CM("cpuid_upper_half_kept", "rbx's upper half kept: only its low 32 bits replaced.",
      (CPUID_RBX, "    s->regs.rbx = (s->regs.rbx & 0xffffffff00000000ULL) | r.ebx;\n")),
    CM("cpuid_upper_halves_kept", "all four registers keep their upper halves.",
      (CPUID_WRITE4, "    s->regs.rax = (s->regs.rax & ~0xffffffffULL) | r.eax;\n"
               "    s->regs.rbx = (s->regs.rbx & ~0xffffffffULL) | r.ebx;\n"
               "    s->regs.rcx = (s->regs.rcx & ~0xffffffffULL) | r.ecx;\n"
               "    s->regs.rdx = (s->regs.rdx & ~0xffffffffULL) | r.edx;\n")),
    CM("cpuid_rdx_not_written", "rdx left as the guest had it.",
      ("    s->regs.rdx = r.edx;\n", "")),
    CM("cpuid_regs_swapped", "ecx's answer written to rdx and edx's to rcx.",
      (CPUID_WRITE4, "    s->regs.rax = r.eax;\n    s->regs.rbx = r.ebx;\n    s->regs.rcx = r.edx;\n"
               "    s->regs.rdx = r.ecx;\n")),
    CM("cpuid_clobbers_rsi", "a scratch value left in rsi (the guest sees it changed).",
      (CPUID_CONTINUE, "    s->regs.rdx = r.edx;\n    s->regs.rsi = leaf;\n    return vmexit_continue();\n")),
    CM("cpuid_clobbers_r11", "r11 zeroed, as if CPUID were a syscall.",
      (CPUID_CONTINUE, "    s->regs.rdx = r.edx;\n    s->regs.r11 = 0;\n    return vmexit_continue();\n")),
    CM("cpuid_returns_pass", "cpuid_emulate returns vmexit_pass(): the exit is left unserved.",
      ("    return vmexit_continue();\n", "    return vmexit_pass();\n")),
    # --- state between exits ---------------------------------------------------------
    CM("cpuid_cached_answer", "the first answer cached and given to every later CPUID.",
      (CPUID_LEAVES, CPUID_LEAVES + "    static struct cpuid_regs cached;\n    static bool have;\n"),
      ("    struct cpuid_regs r = answer(s->id, leaf, subleaf);\n",
       "    struct cpuid_regs r = have ? cached : answer(s->id, leaf, subleaf);\n"
       "    cached = r, have = true;\n")),
    CM("cpuid_leaks_a_page", "a page kmalloc'd on every exit and never freed: the heap runs out.",
      ('#include "kernel/string.h"\n', '#include "kernel/string.h"\n#include "kernel/mm.h"\n'),
      (CPUID_LEAVES, CPUID_LEAVES + "    char *scratch = kmalloc(4096);\n    scratch[0] = 1;\n")),
]

CPUID_SIG_ALL = ("        memcpy(&r.ebx, KEVLAB_CPUID_SIGNATURE, 4);\n"
           "        memcpy(&r.ecx, KEVLAB_CPUID_SIGNATURE + 4, 4);\n"
           "        memcpy(&r.edx, KEVLAB_CPUID_SIGNATURE + 8, 4);\n")

ALTERNATIVES += [
    CA("cpuid_signature_constants", "the signature as three constants, 'kevl', 'abke', 'vlab' read "
      "little-endian, no memcpy.",
      (CPUID_SIG_ALL, "        r.ebx = 0x6c76656b; /* \"kevl\" */\n        r.ecx = 0x656b6261; /* \"abke\" */\n"
                "        r.edx = 0x62616c76; /* \"vlab\" */\n")),
    CA("cpuid_signature_bytes", "the signature packed byte by byte with shifts.",
      (CPUID_SIG_ALL, "        const char *sig = KEVLAB_CPUID_SIGNATURE;\n"
                "        uint32_t w[3] = {0};\n"
                "        for (int i = 0; i < 12; i++)\n"
                "            w[i / 4] |= (uint32_t)(uint8_t)sig[i] << (8 * (i % 4));\n"
                "        r.ebx = w[0], r.ecx = w[1], r.edx = w[2];\n")),
    CA("cpuid_leaf1_bit_ops", "leaf 1 adjusted with literal masks and the id cast to a byte.",
      (CPUID_APIC + CPUID_VMX, "        r.ebx = (r.ebx & 0x00ffffffu) | (uint32_t)(uint8_t)id << 24;\n"
                   "        r.ecx &= ~(1u << 5);\n        r.ecx |= 1u << 31;\n")),
    CA("cpuid_switch_on_range", "one switch-like if chain in cpuid_emulate itself, the registers "
      "written through (uint32_t) casts.",
      (CPUID_WRITE4, "    s->regs.rax = (uint32_t)r.eax;\n    s->regs.rbx = (uint64_t)(uint32_t)r.ebx;\n"
               "    s->regs.rcx = r.ecx & 0xffffffffULL;\n    s->regs.rdx = 0;\n    s->regs.rdx |= r.edx;\n")),
]


# --- MSRs (project2/msr.c) -----------------------------------------------------
# The wrong and right msr_*() the part's author checked (each mutant fails a
# public MSR test, each alternative scores 100%).
MSR = "project2/msr.c"
MUTANTS += [
    Mutant('dup_not_checked', MSR, [('    if (msr_find(r, index) != NULL)\n        return KEV_EEXIST;\n',
                       '')],
           'a second registration of an index succeeds'),
    Mutant('compare_low16', MSR, [('        if (r->entries[i].index == index)\n',
                       '        if ((uint16_t)r->entries[i].index == (uint16_t)index)\n')],
           'the registry compares only the low 16 bits of the index'),
    Mutant('find_first', MSR, [('    for (size_t i = 0; i < r->count; i++)\n        if (r->entries[i].index == index)\n            return &r->entries[i];\n    return NULL;',
                       '    return r->count ? &r->entries[0] : NULL;')],
           'msr_find returns the first entry whatever the index'),
    Mutant('find_skips_last', MSR, [('    for (size_t i = 0; i < r->count; i++)\n        if (r->entries[i].index == index)',
                       '    for (size_t i = 0; i + 1 < r->count; i++)\n        if (r->entries[i].index == index)')],
           'msr_find never looks at the entry registered last'),
    Mutant('bitmap_zero', MSR, [('memset(bitmap, 0xff, MSR_BITMAP_SIZE);',
                       'memset(bitmap, 0, MSR_BITMAP_SIZE);')],
           'the bitmap intercepts nothing: every MSR runs on the CPU'),
    Mutant('bitmap_reads_only', MSR, [('memset(bitmap, 0xff, MSR_BITMAP_SIZE);',
                       'memset(bitmap, 0xff, MSR_BITMAP_SIZE / 2);')],
           'only RDMSR is intercepted: WRMSR runs on the CPU'),
    Mutant('bitmap_emulated_only', MSR, [('memset(bitmap, 0xff, MSR_BITMAP_SIZE); /* every MSR exits... */',
                       'bitmap[0xabc / 8] |= 1u << (0xabc % 8); bitmap[2048 + 0xabc / 8] |= 1u << (0xabc % 8);')],
           'only the emulated MSR 0xabc exits (an MSR nobody emulates reaches the CPU)'),
    Mutant('bitmap_high_base', MSR, [('        k = m - 0xc0000000u, base = 1024;',
                       '        k = m - 0xc0000000u, base = 0;')],
           "the high MSRs' bits are looked for in the low MSRs' bitmaps"),
    Mutant('bitmap_high_skipped', MSR, [('    } else if (m >= 0xc0000000u && m <= 0xc0001fffu) {',
                       '    } else if (0) {')],
           'the high MSRs are taken for MSRs outside the bitmap: their bits stay set'),
    Mutant('bitmap_write_at_1024', MSR, [('        bitmap[byte + 2048] &= (uint8_t)~(1u << bit);',
                       '        bitmap[byte + 1024] &= (uint8_t)~(1u << bit);')],
           'the WRMSR bitmaps taken to start 1 KiB after the RDMSR ones'),
    Mutant('bitmap_clear_byte', MSR, [('        bitmap[byte] &= (uint8_t)~(1u << bit);\n        bitmap[byte + 2048] &= (uint8_t)~(1u << bit);',
                       '        bitmap[byte] = 0;\n        bitmap[byte + 2048] = 0;')],
           "a passthrough MSR's whole byte is cleared: its 7 neighbours pass through too"),
    Mutant('bitmap_bit_reversed', MSR, [('    *bit = k % 8;',
                       '    *bit = 7 - k % 8;')],
           'the bits of a byte are numbered from the top'),
    Mutant('bitmap_write_kept', MSR, [('        bitmap[byte + 2048] &= (uint8_t)~(1u << bit);\n',
                       '')],
           "a passthrough MSR's WRMSR still exits"),
    Mutant('rdmsr_upper_kept', MSR, [('            s->regs.rax = value & 0xffffffffULL; /* the upper halves are cleared */\n            s->regs.rdx = value >> 32;',
                       '            s->regs.rax = (s->regs.rax & ~0xffffffffULL) | (value & 0xffffffffULL);\n            s->regs.rdx = (s->regs.rdx & ~0xffffffffULL) | (value >> 32);')],
           'RDMSR leaves the upper halves of rax and rdx as they were'),
    Mutant('wrmsr_upper_used', MSR, [('        uint64_t value = (s->regs.rdx & 0xffffffffULL) << 32 | (s->regs.rax & 0xffffffffULL);',
                       '        uint64_t value = s->regs.rdx << 32 | s->regs.rax;')],
           'WRMSR takes all of rax, upper half included'),
    Mutant('halves_swapped', MSR, [('            s->regs.rax = value & 0xffffffffULL; /* the upper halves are cleared */\n            s->regs.rdx = value >> 32;',
                       '            s->regs.rdx = value & 0xffffffffULL;\n            s->regs.rax = value >> 32;')],
           'RDMSR puts the high half in eax and the low in edx'),
    Mutant('rip_moved_on_gp', MSR, [('                           kev_strerror(e));\n        return vmexit_continue();\n    }\n    if (write) {',
                       '                           kev_strerror(e));\n        vmcs_forward_rip(&s->vmcs);\n        return vmexit_continue();\n    }\n    if (write) {')],
           'RIP is moved past the instruction that took #GP'),
    Mutant('rip_plus_2', MSR, [('    e = vmcs_forward_rip(&s->vmcs);\n    if (e != KEV_OK)\n        return vm_stop(s->vm, e, "after',
                       '    uint64_t rip;\n    vmcs_readl(&s->vmcs, GUEST_RIP, &rip);\n    e = vmcs_writel(&s->vmcs, GUEST_RIP, rip + 2);\n    if (e != KEV_OK)\n        return vm_stop(s->vm, e, "after')],
           "RIP moves by 2, the length of a bare RDMSR, not by the exit's instruction length"),
    Mutant('rip_not_moved', MSR, [('    e = vmcs_forward_rip(&s->vmcs);\n    if (e != KEV_OK)\n        return vm_stop(s->vm, e, "after',
                       '    e = KEV_OK;\n    if (e != KEV_OK)\n        return vm_stop(s->vm, e, "after')],
           'RIP is never moved: an emulated RDMSR runs again'),
    Mutant('gp_without_code', MSR, [('vmcs_inject_exception(&s->vmcs, EXC_GP, true, 0);',
                       'vmcs_inject_exception(&s->vmcs, EXC_GP, false, 0);')],
           '#GP injected without its error code'),
    Mutant('ud_not_gp', MSR, [('vmcs_inject_exception(&s->vmcs, EXC_GP, true, 0);',
                       'vmcs_inject_exception(&s->vmcs, EXC_UD, false, 0);')],
           '#UD injected instead of #GP'),
    Mutant('gp_code_index', MSR, [('vmcs_inject_exception(&s->vmcs, EXC_GP, true, 0);',
                       'vmcs_inject_exception(&s->vmcs, EXC_GP, true, index);')],
           "the #GP's error code is the MSR index, not 0"),
    Mutant('unknown_stops', MSR, [('        e = vmcs_inject_exception(&s->vmcs, EXC_GP, true, 0);',
                       '        return vm_stop(s->vm, KEV_EINVAL, "no MSR 0x%x", index);\n        e = KEV_OK;')],
           'an MSR nobody emulates stops the VM instead of giving the guest #GP'),
    Mutant('rcx_whole', MSR, [('    uint32_t index = (uint32_t)s->regs.rcx; /* ECX: the upper half of RCX does not count */',
                       '    uint32_t index = s->regs.rcx >> 32 ? 0xffffffffu : (uint32_t)s->regs.rcx;')],
           'an RCX with bits in its upper half names no MSR'),
    Mutant('device_error_ignored', MSR, [('    if (e != KEV_OK)\n        return vm_stop(s->vm, e, "%s of MSR 0x%x (%s): %s"',
                       '    if (0)\n        return vm_stop(s->vm, e, "%s of MSR 0x%x (%s): %s"')],
           "a device's error is ignored (RDMSR of the empty stack goes on)"),
    Mutant('device_error_einval', MSR, [('        return vm_stop(s->vm, e, "%s of MSR 0x%x (%s): %s"',
                       '        return vm_stop(s->vm, KEV_EINVAL, "%s of MSR 0x%x (%s): %s"')],
           "a device's error becomes KEV_EINVAL"),
    Mutant('first_dev', MSR, [('        e = m->ops->read(m->dev, index, &value);',
                       '        e = m->ops->read(r->entries[0].dev, index, &value);')],
           "RDMSR passes the first device's state, not the entry's"),
]
ALTERNATIVES += [
    Alternative('find_backwards', MSR, [('    for (size_t i = 0; i < r->count; i++)\n        if (r->entries[i].index == index)\n            return &r->entries[i];',
                            '    for (size_t i = r->count; i-- > 0;)\n        if (r->entries[i].index == index)\n            return &r->entries[i];')],
                'msr_find searches from the last entry'),
    Alternative('bitmap_by_bytes', MSR, [('    memset(bitmap, 0xff, MSR_BITMAP_SIZE); /* every MSR exits... */\n    for (size_t i = 0; i < n; i++) {       /* ...but these, read or written */\n        size_t byte;\n        unsigned bit;\n        if (!bitmap_bit(passthrough[i], &byte, &bit))\n            continue; /* outside the bitmaps: it exits whatever we do */\n        bitmap[byte] &= (uint8_t)~(1u << bit);\n        bitmap[byte + 2048] &= (uint8_t)~(1u << bit);\n    }',
                            '    for (size_t i = 0; i < MSR_BITMAP_SIZE; i++)\n        bitmap[i] = 0xff;\n    for (size_t i = 0; i < n; i++) {\n        uint32_t m = passthrough[i];\n        uint8_t *read;\n        if (m < 0x2000)\n            read = bitmap;\n        else if (m - 0xc0000000u < 0x2000)\n            read = bitmap + 1024;\n        else\n            continue;\n        uint8_t mask = (uint8_t)(1u << (m & 7));\n        read[(m & 0x1fff) >> 3] &= (uint8_t)~mask;\n        read[2048 + ((m & 0x1fff) >> 3)] &= (uint8_t)~mask;\n    }\n    (void)bitmap_bit;')],
                'the bitmap byte by byte, the quarter found by pointer'),
    Alternative('inject_by_hand', MSR, [('        e = vmcs_inject_exception(&s->vmcs, EXC_GP, true, 0);',
                            '        e = vmcs_write32(&s->vmcs, VM_ENTRY_EXCEPTION_ERROR_CODE, 0);\n        if (e == KEV_OK)\n            e = vmcs_write32(&s->vmcs, VM_ENTRY_INTR_INFO_FIELD, 13u | 3u << 8 | 1u << 11 | 1u << 31);')],
                '#GP(0) injected by writing the two VMCS fields, RIP moved by hand'),
]
