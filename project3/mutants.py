"""Project 3's mutants and alternatives (tests/mutants/README.md): wrong
mmio_handle() implementations a student would write, each of which must
fail a public test under every seed, and correct ones built another way,
each of which must score every public point.

Every entry is a list of exact text replacements in project3/mmio.c, made
in order on the reference solution (the code under #ifdef SOLUTION); each
text to find must occur exactly once. `python3 tests/mutants/run.py
--project 3` builds and grades them all.
"""

from tests.mutants.mutation import Alternative, Mutant

MMIO = "project3/mmio.c"

MUTANTS = [
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

ALTERNATIVES = [
    Alternative('mmio_alt_stack_buffer', MMIO,
                [('    static uint8_t buf[MMIO_PRINTER_MAX];',
                  '    uint8_t buf[MMIO_PRINTER_MAX];')],
                "The doorbell's buffer on the stack."),
    Alternative('mmio_alt_length_sign_extended', MMIO,
                [('r == REG_LENGTH ? dev->length : 0;',
                  'r == REG_LENGTH ? (uint64_t)(int64_t)(int32_t)dev->length : 0xabcdef00;')],
                "Loads leave garbage above the register's size (ignored)."),
]
