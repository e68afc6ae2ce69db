"""The hints under a failure (grader/hints.py): each fires on the case it is
written for and not on one just beside it; project 2's hints are in its
handout word for word."""
import collections
import os
import re
import string
import textwrap
import unittest

from grader import hints
from grader.hints import Case
from helpers import ROOT, data



def cpuid_line(leaf, subleaf, regs, wide=()):
    """A line of guests/project2/cpuid.asm: registers named in `wide` printed in 16 digits."""
    return ("%08x.%08x:" % (leaf, subleaf) + "".join(
        (" %016x" if i in wide else " %08x") % r for i, r in enumerate(regs)) + "\n").encode()


def cpuid_case(test, asks, want, got, at=0, **more):
    """A CPUID test's failed case: asks [(leaf, subleaf)], the lines expected and printed
    (lists of four registers, or (registers, wide) to print some in 16 digits)."""
    def text(lines):
        return b"".join(cpuid_line(a[0], a[1], *(r if isinstance(r, tuple) else (r,)))
                        for a, r in zip(asks, lines))
    w, g = text(want), text(got)
    return Case(test, data(inputs="vcpu_id=3 cpuids=%d asks=%s" % (
        len(asks), ",".join("%x.%x" % a for a in asks)), exit_code=7, expect_exit_code=7,
        capture=g[at:at + 160], expect_capture=w[at:at + 160], capture_at=at,
        capture_len=len(g), expect_capture_len=len(w), **more))


LEAF1 = [0x506e3, 0x00010800, 0xfffa3203, 0x0fabfbff]
SIG = [0x40000000, 0x6c76656b, 0x656b6261, 0x62616c76]
SIG_SWAPPED = [0x40000000, 0x6c76656b, 0x62616c76, 0x656b6261]
Z = [0, 0, 0, 0]
CACHES = [[0x1c004121, 0x1c0003f, 0x3f, 0], [0x1c004122, 0x1c0003f, 0x3f, 0],
          [0x1c004143, 0x3c0003f, 0x3ff, 0], [0x1c03c163, 0x3c0003f, 0x3fff, 6]]

def MSR_RD(rdx, rax):
    """An MSR test's line for an RDMSR of the stack (project2/guest.h)."""
    return ("rdmsr rcx=0x0000000000000abc rdx=0x%s rax=0x%s\n" % (rdx, rax)).encode()


def MSR_GP(vector, error, rip):
    """An MSR test's line for an exception the guest took."""
    return ("rdmsr rcx=0x0000000000000abd #0x%s error=0x%016x rip+0x%016x\n"
            % (vector, error, rip)).encode()


# name -> (a case it must fire on, a case beside it where it must not)
TABLE = {
    "register_changed": (
        Case("p2_regs_preserved", data(exit_code=0xBAD03, expect_exit_code=0)),
        Case("p2_regs_preserved", data(exit_code=0xBAD00, expect_exit_code=0))),
    "rip_not_moved": (
        Case("p2_regs_preserved", data(exit_code=0xBAD10, expect_exit_code=0)),
        Case("p2_regs_preserved", data(exit_code=0xBAD11, expect_exit_code=0))),
    "halt_returned": (
        Case("p2_halt_code", data(error="KEV_EGUEST_FAULT", expect_exit_code=5,
                                  message="the guest raised #UD (invalid opcode) at rip 0x1008")),
        Case("p2_halt_code", data(error="KEV_EGUEST_FAULT", expect_exit_code=5,
                                  message="the guest raised #GP at rip 0x1008"))),
    "low32_exit_code": (
        Case("p2_halt_code", data(exit_code=7, expect_exit_code=0x100000007)),
        Case("p2_halt_code", data(exit_code=8, expect_exit_code=0x100000007))),
    "unknown_as_known": (
        Case("p2_unknown_hypercall", data(exit_code=0xBAD, expect_error="KEV_EHYPERCALL")),
        Case("p2_unknown_hypercall", data(error="KEV_ESTUDENT", expect_error="KEV_EHYPERCALL",
                                          capture_len=0))),
    "printed_on_error": (
        Case("p2_print_wrap", data(error="KEV_EOVERFLOW", expect_error="KEV_EOVERFLOW",
                                   capture_len=16, expect_capture_len=0)),
        Case("p2_print_wrap", data(error="KEV_EOVERFLOW", expect_error="KEV_EOVERFLOW",
                                   capture_len=0, expect_capture_len=0))),
    "size_cut": (
        Case("p2_print_huge_size", data(exit_code=0, expect_error="KEV_EUNMAPPED",
                                        capture_len=5)),
        Case("p2_print_huge_size", data(error="KEV_ENOMEM", expect_error="KEV_EUNMAPPED",
                                        capture_len=0))),
    "einval_cross_page": (
        Case("p2_print_cross_page", data(error="KEV_EINVAL", expect_exit_code=0)),
        Case("p2_print_cross_page", data(error="KEV_EINVAL", expect_error="KEV_EINVAL"))),
    "wrong_error": (
        Case("p2_print_wrap", data(error="KEV_EUNMAPPED", expect_error="KEV_EOVERFLOW")),
        Case("p2_print_wrap", data(error="KEV_ESTUDENT", expect_error="KEV_EOVERFLOW"))),
    "loops_in_handler": (
        Case("p2_print_hello", data(error="KEV_ESTUDENT", expect_exit_code=0, exits=1,
                                    fault="hypercall_handle() ran longer than its budget of "
                                          "50000000 instructions (an endless loop?)")),
        Case("p2_print_hello", data(error="KEV_ESTUDENT", expect_exit_code=0, exits=3,
                                    fault="hypercall_handle() ran longer than its budget of "
                                          "50000000 instructions (an endless loop?)"))),
    "nul_capture": (
        Case("p2_print_bytes", data(exit_code=0, expect_exit_code=0, capture=b"\0" * 8,
                                    expect_capture=b"\0\1\2\3\4\5\6\7")),
        Case("p2_print_bytes", data(exit_code=0, expect_exit_code=0, capture=b"\0" * 8,
                                    expect_capture=b"\0" * 9))),
    "cut_at_boundary": (
        Case("p2_print_lengths", data(capture_len=512, expect_capture_len=513)),
        Case("p2_print_lengths", data(capture_len=300, expect_capture_len=513))),
    "wrong_from_chunk": (
        Case("p2_print_lengths", data(capture_len=600, expect_capture_len=600, capture_at=224,
                                      capture=b"a" * 32 + b"X" * 8, expect_capture=b"a" * 40)),
        Case("p2_print_lengths", data(capture_len=600, expect_capture_len=600, capture_at=223,
                                      capture=b"a" * 32 + b"X" * 8, expect_capture=b"a" * 40))),
    "cpuid_upper_half": (
        cpuid_case("p2_cpuid_vendor", [(0, 0)], [LEAF1], [(LEAF1, (1,))]),
        cpuid_case("p2_cpuid_vendor", [(0, 0)], [LEAF1], [LEAF1[:1] + [0x1010800] + LEAF1[2:]])),
    "cpuid_apic_id": (
        cpuid_case("p2_cpuid_leaf1", [(1, 0)], [LEAF1], [[0x506e3, 0x7f010800] + LEAF1[2:]]),
        cpuid_case("p2_cpuid_leaf1", [(1, 0)], [LEAF1], [[0x506e3, 0x00010800, 0x7ffa3223,
                                                          0x0fabfbff]])),
    "cpuid_leaf1_ecx": (
        cpuid_case("p2_cpuid_leaf1", [(1, 0)], [LEAF1], [[0x506e3, 0x00010800, 0x7ffa3223,
                                                          0x0fabfbff]]),
        cpuid_case("p2_cpuid_leaf1", [(1, 0)], [LEAF1], [[0x506e3, 0x7f010800] + LEAF1[2:]])),
    "cpuid_signature": (
        cpuid_case("p2_cpuid_hypervisor", [(0x40000000, 0), (0x40000001, 0)], [SIG, Z],
                   [SIG_SWAPPED, Z]),
        cpuid_case("p2_cpuid_hypervisor", [(0x40000000, 0), (0x40000001, 0)], [SIG, Z],
                   [SIG, LEAF1])),
    "cpuid_hypervisor_zeros": (
        cpuid_case("p2_cpuid_hypervisor", [(0x40000000, 0), (0x40000001, 0)], [SIG, Z],
                   [SIG, LEAF1]),
        cpuid_case("p2_cpuid_hypervisor", [(0x40000000, 0), (0x50000000, 0)], [SIG, LEAF1],
                   [SIG, Z])),
    "cpuid_subleaf": (
        cpuid_case("p2_cpuid_subleaf", [(4, i) for i in range(4)] * 2, CACHES * 2,
                   [CACHES[0]] * 8, at=110),
        cpuid_case("p2_cpuid_subleaf", [(4, i) for i in range(4)] * 2, CACHES * 2,
                   [(c, (0,)) for c in CACHES] * 2, at=110)),
    "cpuid_host_answer": (
        cpuid_case("p2_cpuid_hypervisor", [(0x40000000, 0), (0x50000000, 0)], [SIG, LEAF1],
                   [SIG, Z]),
        cpuid_case("p2_cpuid_hypervisor", [(0x40000000, 0), (0x4fffffff, 0)], [SIG, Z],
                   [SIG, LEAF1])),
    "cpuid_register_changed": (
        Case("p2_cpuid_leaf1", data(exit_code=0xBAD0B, expect_exit_code=17)),
        Case("p2_cpuid_leaf1", data(exit_code=0xBAD1000, expect_exit_code=17))),
    "cpuid_answer_changed": (
        Case("p2_cpuid_many", data(exit_code=0xBAD1000 + 200, expect_exit_code=17)),
        Case("p2_cpuid_many", data(exit_code=0xBAD0B, expect_exit_code=17))),
    "msr_passthrough_exits": (
        Case("p2_msr_passthrough", data(error="KEV_EUNHANDLED", expect_exit_code=3, message=(
            "RDMSR of MSR 0x175 (IA32_SYSENTER_ESP) made a VM exit, but it is a passthrough "
            "MSR: the MSR bitmap must let it run on the CPU"))),
        Case("p2_msr_passthrough", data(error="KEV_EUNHANDLED", expect_exit_code=3, message=(
            "unhanded VM exit MSR_READ")))),
    "msr_missing_exit": (
        Case("p2_msr_unknown_gp", data(error="KEV_EUNHANDLED", expect_exit_code=3, message=(
            "the guest's RDMSR and WRMSR made 3 VM exits, 6 expected: an MSR that must exit ran "
            "on the CPU without one"))),
        Case("p2_msr_unknown_gp", data(error="KEV_EUNHANDLED", expect_exit_code=3, message=(
            "the guest's RDMSR and WRMSR made 7 VM exits, 6 expected: was one instruction "
            "repeated")))),
    "msr_upper_kept": (
        Case("p2_msr_upper_halves", data(exit_code=1, expect_exit_code=1, capture=MSR_RD(
            "ffffffff01234567", "ffffffff89abcdef"), expect_capture=MSR_RD(
            "0000000001234567", "0000000089abcdef"))),
        Case("p2_msr_upper_halves", data(exit_code=1, expect_exit_code=1, capture=MSR_RD(
            "0000000001234568", "0000000089abcdef"), expect_capture=MSR_RD(
            "0000000001234567", "0000000089abcdef")))),
    "msr_halves_swapped": (
        Case("p2_msr_random_values", data(exit_code=1, expect_exit_code=1, capture=MSR_RD(
            "0000000089abcdef", "0000000001234567"), expect_capture=MSR_RD(
            "0000000001234567", "0000000089abcdef"))),
        Case("p2_msr_random_values", data(exit_code=1, expect_exit_code=1, capture=MSR_RD(
            "0000000089abcdef", "0000000001234568"), expect_capture=MSR_RD(
            "0000000001234567", "0000000089abcdef")))),
    "msr_rip_moved_on_gp": (
        Case("p2_msr_unknown_gp", data(exit_code=1, expect_exit_code=1, capture=MSR_GP("0d", 0, 2),
                                       expect_capture=MSR_GP("0d", 0, 0))),
        Case("p2_msr_unknown_gp", data(exit_code=1, expect_exit_code=1, capture=MSR_GP("0d", 5, 0),
                                       expect_capture=MSR_GP("0d", 0, 0)))),
    "msr_wrong_exception": (
        Case("p2_msr_unknown_gp", data(exit_code=1, expect_exit_code=1, capture=MSR_GP("06", 0, 0),
                                       expect_capture=MSR_GP("0d", 0, 0))),
        Case("p2_msr_unknown_gp", data(exit_code=1, expect_exit_code=1, capture=MSR_GP("0d", 0, 3),
                                       expect_capture=MSR_GP("0d", 0, 0)))),
    "msr_value_for_unknown": (
        Case("p2_msr_registry", data(exit_code=1, expect_exit_code=1, capture=MSR_RD(
            "0000000000000000", "0000000000000007"), expect_capture=MSR_GP("0d", 0, 0))),
        Case("p2_msr_registry", data(exit_code=1, expect_exit_code=1, capture=MSR_GP("0d", 0, 0),
                                     expect_capture=MSR_RD("0000000000000000", "0000000000000007")))),
    "msr_gp_for_emulated": (
        Case("p2_msr_upper_halves", data(exit_code=1, expect_exit_code=1, capture=MSR_GP("0d", 0, 0),
                                         expect_capture=MSR_RD("0" * 16, "0" * 15 + "1"))),
        Case("p2_msr_upper_halves", data(exit_code=1, expect_exit_code=1, capture=MSR_GP("0d", 0, 0),
                                         expect_capture=MSR_GP("0d", 0, 0)))),
    "msr_bad_rip": (
        Case("p2_msr_stack_order", data(exit_code=0xBAD50, expect_exit_code=12)),
        Case("p2_regs_preserved", data(exit_code=0xBAD50, expect_exit_code=12))),
    "msr_registered_twice": (
        Case("p2_msr_register_twice", data(error="KEV_EINVAL", expect_error="KEV_EEXIST", message=(
            "msr_register() returned KEV_OK for MSR 0xabc (a scratch register), which "
            "registration 1 had registered already"))),
        Case("p2_msr_register_twice", data(error="KEV_EEXIST", expect_error="KEV_EEXIST", message=(
            "msr_register() of MSR 0xabc (a scratch register), registration 2, returned "
            "KEV_EEXIST")))),
    "msr_register_refused": (
        Case("p2_msr_registry", data(error="KEV_EEXIST", expect_exit_code=4, message=(
            "msr_register() returned KEV_EEXIST for MSR 0x80000abc (a scratch register), "
            "registration 2 of 5, but a right registry takes it"))),
        Case("p2_msr_registry", data(error="KEV_ESTUDENT", expect_exit_code=4, message=(
            "TODO() in msr_register() at project2/msr.c:75")))),
    "msr_device_error": (
        Case("p2_msr_empty_stack", data(exit_code=4, expect_error="KEV_EEMPTY")),
        Case("p2_msr_empty_stack", data(error="KEV_EEMPTY", expect_error="KEV_EEMPTY"))),
    "msr_unknown_stops": (
        Case("p2_msr_unknown_gp", data(error="KEV_EINVAL", expect_exit_code=4,
                                       message="no MSR 0xabd")),
        Case("p2_msr_unknown_gp", data(error="KEV_EUNHANDLED", expect_exit_code=4,
                                       message="the guest's RDMSR and WRMSR made 3 VM exits"))),
    "msr_repeated": (
        Case("p2_msr_stack_order", data(error="KEV_ETIMEOUT", expect_exit_code=4, message=(
            "the guest made more than 2000 VM exits (the last one at guest RIP 0x400044)"))),
        Case("p2_msr_stack_order", data(error="KEV_ETIMEOUT", expect_exit_code=4, message=(
            "the guest ran for 20000000 TSC ticks without ending")))),
    "pio_rax_wrong": (
        Case("p2_pio_in_rax", data(exit_code=0x30BAD20, expect_exit_code=77)),
        Case("p2_regs_preserved", data(exit_code=0x30BAD20, expect_exit_code=77))),
    "pio_rcx_wrong": (
        Case("p2_pio_rep", data(exit_code=0x10BAD21, expect_exit_code=77)),
        Case("p2_pio_rep", data(exit_code=0x10BAD20, expect_exit_code=77))),
    "pio_pointer_wrong": (
        Case("p2_pio_df", data(exit_code=0xBAD27, expect_exit_code=77)),
        Case("p2_pio_df", data(exit_code=0x90BAD27, expect_exit_code=77))),
    "pio_register_changed": (
        Case("p2_pio_forms", data(exit_code=0x80BAD2F, expect_exit_code=77)),
        Case("p2_pio_forms", data(exit_code=0x80BAD30, expect_exit_code=77))),
    "pio_operand_bit": (
        Case("p2_pio_forms", data(exit_code=77, expect_exit_code=77,
                                  capture=b"port 3 in byte al dx 0x01\n",
                                  expect_capture=b"port 3 in byte al imm8 0x01\n")),
        Case("p2_pio_forms", data(exit_code=77, expect_exit_code=77,
                                  capture=b"port 3 in word ax dx 0x0001\n",
                                  expect_capture=b"port 3 in byte al imm8 0x01\n"))),
    "pio_unknown_port": (
        Case("p2_pio_forms", data(error="KEV_EIOPORT", expect_exit_code=77)),
        Case("p2_pio_unknown_port", data(error="KEV_EIOPORT", expect_error="KEV_EIOPORT"))),
    "pio_bad_size": (
        Case("p2_pio_forms", data(error="KEV_EINVAL", expect_exit_code=77,
                                  message="pio_decode() read exit qualification 0x3f80003 as a "
                                          "8-byte access: an access is 1, 2 or 4 bytes")),
        Case("p2_pio_forms", data(error="KEV_EINVAL", expect_exit_code=77,
                                  message="pio_handle() returned neither vmexit_continue() nor "
                                          "vm_stop()"))),
    "pio_sent_bad_element": (
        Case("p2_pio_bad_buffer", data(error="KEV_EUNMAPPED", expect_error="KEV_EUNMAPPED",
                                       capture_len=9, expect_capture_len=8)),
        Case("p2_print_past_end", data(error="KEV_EUNMAPPED", expect_error="KEV_EUNMAPPED",
                                       capture_len=9, expect_capture_len=8))),
    "pio_wrong_error": (
        Case("p2_pio_bad_buffer", data(error="KEV_EINVAL", expect_error="KEV_EREADONLY")),
        Case("p2_pio_bad_buffer", data(error="KEV_ESTUDENT", expect_error="KEV_EREADONLY"))),
    "pio_error_lost": (
        Case("p2_pio_queue_empty", data(exit_code=77, expect_error="KEV_EEMPTY")),
        Case("p2_pio_queue_empty", data(exit_code=77, expect_exit_code=78))),
    "mmio_register_wrong": (
        Case("p3_mmio_read", data(exit_code=0x30BAD41, expect_exit_code=0)),
        Case("p3_mmio_read", data(exit_code=0x30BAD44, expect_exit_code=0))),
    "mmio_bad_access_served": (
        Case("p3_mmio_bad_size", data(exit_code=0, expect_error="KEV_EMMIO")),
        Case("p3_mmio_bad_size", data(error="KEV_EMMIO", expect_error="KEV_EMMIO"))),
    "mmio_wrong_error": (
        Case("p3_mmio_bad_address", data(error="KEV_EINVAL", expect_error="KEV_EMMIO")),
        Case("p3_mmio_bad_address", data(error="KEV_ESTUDENT", expect_error="KEV_EMMIO"))),
    "mmio_buffer_not_gpa": (
        Case("p3_mmio_print", data(error="KEV_EUNMAPPED", expect_exit_code=0)),
        Case("p3_mmio_print", data(error="KEV_ENOTGUESTMEM", expect_exit_code=0))),
    "mmio_doorbell_error": (
        Case("p3_mmio_doorbell_errors", data(error="KEV_ENOTGUESTMEM", expect_error="KEV_EOVERFLOW")),
        Case("p3_mmio_doorbell_errors", data(error="KEV_EOVERFLOW", expect_error="KEV_EOVERFLOW"))),
    "mmio_printed_on_error": (
        Case("p3_mmio_doorbell_errors", data(error="KEV_ENOMEM", expect_error="KEV_ENOMEM",
                                             capture_len=30, expect_capture_len=1)),
        Case("p3_mmio_doorbell_errors", data(error="KEV_ENOMEM", expect_error="KEV_ENOMEM",
                                             capture_len=1, expect_capture_len=1))),
    # project 3's loader: one line per call, minos's own lines
    "loader_bad_elf_accepted": (
        Case("p3_loader_bad_elf", data(inputs='fault="p_filesz > p_memsz" file=drawn',
                                       capture=b"loader_parse = KEV_OK\nentry 0x100000\n",
                                       expect_capture=b"loader_parse = KEV_EELF\n")),
        Case("p3_loader_bad_elf", data(capture=b"loader_parse = KEV_EELF\n",
                                       expect_capture=b"loader_parse = KEV_EELF\n"))),
    "loader_bad_elf_wrong_error": (
        Case("p3_loader_bad_elf", data(capture=b"loader_parse = KEV_EINVAL\n",
                                       expect_capture=b"loader_parse = KEV_EELF\n")),
        Case("p3_loader_bad_elf", data(capture=b"loader_parse = KEV_OK\nentry 0x100000\n",
                                       expect_capture=b"loader_parse = KEV_EELF\n"))),
    "loader_no_progress": (
        Case("p3_loader_boot", data(error="KEV_ETIMEOUT", expect_exit_code=0,
                                    message="the guest made more than 1000 VM exits (the last one at "
                                            "guest RIP 0x101234)")),
        Case("p3_loader_boot", data(error="KEV_EUNMAPPED", expect_exit_code=0,
                                    message="an EPT violation at gpa 0x500000"))),
    "loader_valid_elf_refused": (
        Case("p3_loader_parse", data(capture=b"loader_parse = KEV_EELF\n",
                                     expect_capture=b"loader_parse = KEV_OK\nentry 0x1\n")),
        Case("p3_loader_parse", data(capture=b"loader_parse = KEV_OK\nentry 0x2\n",
                                     expect_capture=b"loader_parse = KEV_OK\nentry 0x1\n"))),
    "loader_segment_wrong": (
        Case("p3_loader_parse", data(
            capture=b"loader_parse = KEV_OK\nsegment 0: gpa 0xffff800000100000 offset 0x0\n",
            expect_capture=b"loader_parse = KEV_OK\nsegment 0: gpa 0x100000 offset 0x0\n")),
        Case("p3_loader_parse", data(capture=b"loader_parse = KEV_EELF\n",
                                     expect_capture=b"loader_parse = KEV_OK\nentry 0x1\n"))),
    "loader_fault_wrong_error": (
        Case("p3_loader_fault", data(
            capture=b"loader_fault(gpa 0x101000, read) = KEV_EEXIST; page 0x101000: r-- WB, bytes 0x1\n",
            expect_capture=b"loader_fault(gpa 0x101000, read) = KEV_OK; page 0x101000: r-- WB, bytes 0x1\n")),
        Case("p3_loader_fault", data(
            capture=b"loader_fault(gpa 0x101000, read) = KEV_OK; page 0x101000: r-- WB, bytes 0x2\n",
            expect_capture=b"loader_fault(gpa 0x101000, read) = KEV_OK; page 0x101000: r-- WB, bytes 0x1\n"))),
    "loader_page_bytes_wrong": (
        Case("p3_loader_fault", data(
            capture=b"loader_fault(gpa 0x101000, read) = KEV_OK; page 0x101000: r-- WB, bytes 0x2\n",
            expect_capture=b"loader_fault(gpa 0x101000, read) = KEV_OK; page 0x101000: r-- WB, bytes 0x1\n")),
        Case("p3_loader_fault", data(
            capture=b"loader_fault(gpa 0x101000, read) = KEV_OK; page 0x101000: rw- WB, bytes 0x1\n",
            expect_capture=b"loader_fault(gpa 0x101000, read) = KEV_OK; page 0x101000: r-- WB, bytes 0x1\n"))),
    "loader_page_perm_wrong": (
        Case("p3_loader_fault", data(
            capture=b"loader_fault(gpa 0x101000, read) = KEV_OK; page 0x101000: r-- WB, bytes 0x1\n",
            expect_capture=b"loader_fault(gpa 0x101000, read) = KEV_OK; page 0x101000: rw- WB, bytes 0x1\n")),
        Case("p3_loader_fault", data(
            capture=b"loader_fault(gpa 0x101000, read) = KEV_OK; page 0x101000: not mapped\n",
            expect_capture=b"loader_fault(gpa 0x101000, read) = KEV_OK; page 0x101000: rw- WB, bytes 0x1\n"))),
    "loader_page_count_wrong": (
        Case("p3_loader_fault", data(capture=b"pages mapped: 9\n", expect_capture=b"pages mapped: 3\n")),
        Case("p3_loader_fault", data(capture=b"pages mapped: 3\n", expect_capture=b"pages mapped: 3\n"))),
    "loader_minos_test_failed": (
        Case("p3_loader_boot", data(capture=b"minos: test bss FAILED\n", expect_capture=b"minos: test bss ok\n")),
        Case("p3_loader_boot", data(capture=b"minos: test bss ok\n", expect_capture=b"minos: test bss ok\n"))),
    # project 4: the timer's log, one line per event
    "timer_inject_if_clear": (
        Case("p4_timer_cli", data(error="KEV_EENTRY", expect_exit_code=0,
                                  message="VM entry failed: ... the failed check: VM_ENTRY_INTR_INFO_FIELD "
                                          "0x80000030 injects an external interrupt, but guest RFLAGS 0x2 "
                                          "has IF = 0: the guest cannot take one")),
        Case("p4_timer_cli", data(error="KEV_EENTRY", expect_exit_code=0,
                                  message="VM entry failed: ... VM_ENTRY_INTR_INFO_FIELD 0x80000030 "
                                          "injects an external interrupt, but guest interruptibility "
                                          "state 0x1 has blocking by STI"))),
    "timer_inject_in_shadow": (
        Case("p4_timer_eoi", data(error="KEV_EENTRY", expect_exit_code=0,
                                  message="the failed check: VM_ENTRY_INTR_INFO_FIELD 0x80000030 injects "
                                          "an external interrupt, but guest interruptibility state 0x2 "
                                          "has blocking by MOV SS")),
        Case("p2_pio_forms", data(error="KEV_EENTRY", expect_exit_code=0,
                                  message="the failed check: VM_ENTRY_INTR_INFO_FIELD 0x80000030 injects "
                                          "an external interrupt, but guest interruptibility state 0x2 "
                                          "has blocking by MOV SS"))),
    "timer_inject_malformed": (
        Case("p4_timer_past", data(error="KEV_EENTRY", expect_exit_code=0,
                                   message="VMRESUME failed: VMfailValid, VM-instruction error 7 (...); "
                                           "VM_ENTRY_INTR_INFO_FIELD 0x80000330: a hardware exception "
                                           "(type 3) has a vector below 32")),
        Case("p4_timer_past", data(error="KEV_EENTRY", expect_exit_code=0,
                                   message="VMRESUME failed: VMfailValid, VM-instruction error 7 (VM "
                                           "entry with invalid control field(s))"))),
    "timer_no_interrupt": (
        Case("p4_timer_deadlines", data(exit_code=1, expect_exit_code=0)),
        Case("p4_timer_deadlines", data(exit_code=2, expect_exit_code=0))),
    "timer_early": (
        Case("p4_timer_deadlines", data(
            capture=b"interrupt 1: vector 0x20, 0x000000000000c350 ticks before its deadline, "
                    b"right after wrmsr(IA32_TSC_DEADLINE)\n",
            expect_capture=b"interrupt 1: vector 0x20, while waiting\n")),
        Case("p4_timer_deadlines", data(
            capture=b"interrupt 1: vector 0x20, right after wrmsr(IA32_TSC_DEADLINE)\n",
            expect_capture=b"interrupt 1: vector 0x20, while waiting\n"))),
    "timer_wrong_spot": (
        Case("p4_timer_cli", data(capture=b"interrupt 1: vector 0x20, right after rdmsr\n",
                                  expect_capture=b"interrupt 1: vector 0x20, right after sti; nop\n")),
        Case("p4_timer_cli", data(capture=b"interrupt 1: vector 0x21, right after rdmsr\n",
                                  expect_capture=b"interrupt 1: vector 0x20, right after sti; nop\n"))),
    "timer_missing_interrupt": (
        Case("p4_timer_cli", data(capture=b"rdmsr(IA32_TSC_DEADLINE) = 0\n",
                                  expect_capture=b"interrupt 1: vector 0x10, right after sti; nop\n"
                                                 b"rdmsr(IA32_TSC_DEADLINE) = 0\n")),
        Case("p4_timer_cli", data(capture=b"interrupt 1: vector 0x10, right after rdmsr\n",
                                  expect_capture=b"interrupt 1: vector 0x10, right after sti; nop\n"))),
    "timer_wrong_vector": (
        Case("p4_timer_random", data(capture=b"interrupt 4: vector 0x00, while waiting\n",
                                     expect_capture=b"interrupt 4: vector 0x9a, while waiting\n")),
        Case("p4_timer_random", data(capture=b"interrupt 4: vector 0x9a, while idle\n",
                                     expect_capture=b"interrupt 4: vector 0x9a, while waiting\n"))),
    "timer_unwanted_interrupt": (
        Case("p4_timer_mask", data(capture=b"interrupt 1: vector 0x40, right after wrmsr(IA32_TSC_DEADLINE)\n",
                                   expect_capture=b"rdmsr(IA32_TSC_DEADLINE) = 0\n")),
        Case("p4_timer_mask", data(capture=b"rdmsr(IA32_TSC_DEADLINE) = the deadline\n",
                                   expect_capture=b"rdmsr(IA32_TSC_DEADLINE) = 0\n"))),
    "timer_gp_missing": (
        Case("p4_timer_msr_errors", data(capture=b"rdmsr(LVT timer) = 0x0000000000040020\n",
                                         expect_capture=b"wrmsr(LVT timer, 0x0000000000040120): #GP\n")),
        Case("p4_timer_msr_errors", data(capture=b"wrmsr(LVT timer, 0x0000000000040120): #GP\n",
                                         expect_capture=b"rdmsr(LVT timer) = 0x0000000000040020\n"))),
    "timer_gp_wrong": (
        Case("p4_timer_mask", data(capture=b"wrmsr(LVT timer, 0x0000000000041020): #GP\n",
                                   expect_capture=b"rdmsr(LVT timer) = 0x0000000000040020\n")),
        Case("p4_timer_mask", data(capture=b"rdmsr(LVT timer) = 0x0000000000041020\n",
                                   expect_capture=b"rdmsr(LVT timer) = 0x0000000000040020\n"))),
    "timer_lvt_reads": (
        Case("p4_timer_mask", data(capture=b"rdmsr(LVT timer) = 0x0000000000041020\n",
                                   expect_capture=b"rdmsr(LVT timer) = 0x0000000000040020\n")),
        Case("p4_timer_mask", data(capture=b"rdmsr(EOI): #GP\n",
                                   expect_capture=b"rdmsr(LVT timer) = 0x0000000000040020\n"))),
    "timer_window_left_open": (
        Case("p4_timer_cli", data(error="KEV_EINVAL", expect_exit_code=0,
                                  message="after an interrupt-window exit (guest RIP 0x400123), "
                                          "timer_deliver() left the window open (pending -1, in "
                                          "service -1): ...")),
        Case("p4_timer_cli", data(error="KEV_EINVAL", expect_exit_code=0,
                                  message="timer_deliver() returned vm_exit()"))),
    "timer_deadline_reads": (
        Case("p4_timer_disarm", data(capture=b"rdmsr(IA32_TSC_DEADLINE) = the deadline\n",
                                     expect_capture=b"rdmsr(IA32_TSC_DEADLINE) = 0\n")),
        Case("p4_timer_disarm", data(capture=b"rdmsr(LVT timer) = 0x0000000000040020\n",
                                     expect_capture=b"rdmsr(IA32_TSC_DEADLINE) = 0\n"))),
    "timer_unsupported": (
        Case("p4_timer_unsupported", data(exit_code=0, expect_error="KEV_ENOTSUP")),
        Case("p4_timer_unsupported", data(error="KEV_ENOTSUP", expect_error="KEV_ENOTSUP"))),
    "timer_exits_loop": (
        Case("p4_timer_eoi", data(error="KEV_ETIMEOUT", expect_exit_code=0,
                                  message="the guest made more than 5000 VM exits (the last one at "
                                          "guest RIP 0x400123)")),
        Case("p4_timer_eoi", data(error="KEV_ETIMEOUT", expect_exit_code=0,
                                  message="the guest ran for 20000000 TSC ticks"))),
    # project 4's virtio device: its log lines, then labelled dumps
    "virtio_no_interrupt": (
        Case("p4_virtio_read", data(capture=b"no interrupt came after the notification\n",
                                    expect_capture=b"interrupt: InterruptStatus 0x00000001\n")),
        Case("p4_virtio_read", data(capture=b"interrupt: InterruptStatus 0x00000003\n",
                                    expect_capture=b"interrupt: InterruptStatus 0x00000001\n"))),
    "virtio_register_wrong": (
        Case("p4_virtio_probe", data(capture=b"read 0x070: 0x0000000b\n",
                                     expect_capture=b"read 0x070: 0x00000003\n")),
        Case("p4_virtio_probe", data(capture=b"interrupt: InterruptStatus 0x00000001\n",
                                     expect_capture=b"read 0x070: 0x00000003\n"))),
    "virtio_used_ring": (
        Case("p4_virtio_batch", data(capture=b"used ring (flags, idx, 16 entries):\n\x00\x00\x02\x00",
                                     expect_capture=b"used ring (flags, idx, 16 entries):\n\x00\x00\x03\x00")),
        Case("p4_virtio_batch", data(capture=b"status bytes of requests 0 to 2:\n\x00\x01",
                                     expect_capture=b"status bytes of requests 0 to 2:\n\x00\x00"))),
    "virtio_status_byte": (
        Case("p4_virtio_ioerr", data(capture=b"status bytes of requests 0 to 2:\n\x00\x00",
                                     expect_capture=b"status bytes of requests 0 to 2:\n\x00\x01")),
        Case("p4_virtio_ioerr", data(capture=b"request 0: IN of 1 sectors from 3:\n\x03",
                                     expect_capture=b"request 0: IN of 1 sectors from 3:\n\x04"))),
    "virtio_data": (
        Case("p4_virtio_read", data(capture=b"request 0: IN of 1 sectors from 3:\n\x03",
                                    expect_capture=b"request 0: IN of 1 sectors from 3:\n\x04")),
        Case("p4_virtio_read", data(capture=b"used ring (flags, idx, 4 entries):\n\x00\x00\x02",
                                    expect_capture=b"used ring (flags, idx, 4 entries):\n\x00\x00\x03"))),
    "virtio_give_up": (
        Case("p4_virtio_giveup", data(exit_code=0, expect_error="KEV_EVIRTIO")),
        Case("p4_virtio_giveup", data(error="KEV_EVIRTIO", expect_error="KEV_EVIRTIO"))),
    "virtio_emmio": (
        Case("p4_virtio_mmio_errors", data(exit_code=0, expect_error="KEV_EMMIO")),
        Case("p4_virtio_mmio_errors", data(exit_code=0, expect_error="KEV_EVIRTIO"))),
    "virtio_wrong_vector": (
        Case("p4_virtio_read", data(capture=b"an interrupt or exception came with a vector other than "
                                            b"the device's\n",
                                    expect_capture=b"interrupt: InterruptStatus 0x00000001\n")),
        Case("p4_virtio_read", data(capture=b"no interrupt came after the notification\n",
                                    expect_capture=b"interrupt: InterruptStatus 0x00000001\n"))),
    "minos_driver": (
        Case("p4_minos", data(capture=b"minos: 5 of 5 tests passed\nminos: timer: 2 ticks of vector 0x40 every "
                                      b"20000 TSC ticks, 1 early\n",
                              expect_capture=b"minos: 5 of 5 tests passed\nminos: timer: 2 ticks of vector "
                                             b"0x40 every 20000 TSC ticks, 0 early\n")),
        Case("p4_minos", data(capture=b"minos: test data FAILED\n",
                              expect_capture=b"minos: test data ok\n"))),
    # project 3: the first line of the script that differs
    "ept_fewer_perms": (
        Case("p3_ept_map", data(capture=b"ept_map(gpa 0x000000001000, hpa 0x00000000ab000, rw-) = "
                                        b"KEV_OK; the EPT maps it to 0x00000000ab000 r-- WB\n",
                                expect_capture=b"ept_map(gpa 0x000000001000, hpa 0x00000000ab000, rw-) "
                                               b"= KEV_OK; the EPT maps it to 0x00000000ab000 rw- WB\n")),
        Case("p3_ept_map", data(capture=b"ept_map(gpa 0x000000001000, hpa 0x00000000ab000, rw-) = "
                                        b"KEV_OK; the EPT maps it to 0x00000000ac000 r-- WB\n",
                                expect_capture=b"ept_map(gpa 0x000000001000, hpa 0x00000000ab000, rw-) "
                                               b"= KEV_OK; the EPT maps it to 0x00000000ab000 rw- WB\n"))),
    "ept_memtype": (
        Case("p3_ept_map", data(capture=b"x = KEV_OK; the EPT maps it to 0x00000000ab000 rw- memory "
                                        b"type 0 (not 6, WB)\n",
                                expect_capture=b"x = KEV_OK; the EPT maps it to 0x00000000ab000 rw- WB\n")),
        Case("p3_ept_map", data(capture=b"x = KEV_OK; the EPT maps it to 0x00000000ac000 rw- WB\n",
                                expect_capture=b"x = KEV_OK; the EPT maps it to 0x00000000ab000 rw- WB\n"))),
    "ept_not_table": (
        Case("p3_ept_map", data(capture=b"x = KEV_OK; the EPT maps it to entry 3 of the page directory "
                                        b"at host 0x5000 is 0x1007: it names host 0x1000, which is not "
                                        b"a table page of this EPT\n",
                                expect_capture=b"x = KEV_OK; the EPT maps it to 0x00000000ab000 rw- WB\n")),
        Case("p3_ept_map", data(capture=b"x = KEV_OK; the EPT maps it to not mapped\n",
                                expect_capture=b"x = KEV_OK; the EPT maps it to 0x00000000ab000 rw- WB\n"))),
    "ept_wrong_error": (
        Case("p3_ept_map_errors", data(capture=b"ept_map(gpa 0x000000001001, hpa 0x0, r--) = KEV_EINVAL; "
                                               b"the EPT maps it to not mapped\n",
                                       expect_capture=b"ept_map(gpa 0x000000001001, hpa 0x0, r--) = "
                                                      b"KEV_EALIGN; the EPT maps it to not mapped\n")),
        Case("p3_ept_map_errors", data(capture=b"ept_map(gpa 0x000000001000, hpa 0x0, r--) = KEV_OK; "
                                               b"the EPT maps it to 0x0000000000000 r-x WB\n",
                                       expect_capture=b"ept_map(gpa 0x000000001000, hpa 0x0, r--) = "
                                                      b"KEV_OK; the EPT maps it to 0x0000000000000 r-- WB\n"))),
    "ept_offset_lost": (
        Case("p3_ept_translate", data(capture=b"ept_translate(gpa 0x000000001123) = KEV_OK, hpa "
                                              b"0x00000000ab000, r--\n",
                                      expect_capture=b"ept_translate(gpa 0x000000001123) = KEV_OK, hpa "
                                                     b"0x00000000ab123, r--\n")),
        Case("p3_ept_translate", data(capture=b"ept_translate(gpa 0x000000001123) = KEV_OK, hpa "
                                              b"0x00000000ac123, r--\n",
                                      expect_capture=b"ept_translate(gpa 0x000000001123) = KEV_OK, hpa "
                                                     b"0x00000000ab123, r--\n"))),
    "gva_large_page": (
        Case("p3_ept_gva", data(capture=b"ept_gva_to_hpa(cr3 0x1000, gva 0x0000000000201123, read) = "
                                        b"KEV_OK, hpa 0x0000000cd123\n",
                                expect_capture=b"ept_gva_to_hpa(cr3 0x1000, gva 0x0000000000201123, read) "
                                               b"= KEV_OK, hpa 0x0000000ab123\n")),
        Case("p3_ept_translate", data(capture=b"ept_gva_to_hpa(cr3 0x1000, gva 0x0000000000201123, read) "
                                              b"= KEV_OK, hpa 0x0000000cd123\n",
                                      expect_capture=b"ept_gva_to_hpa(cr3 0x1000, gva 0x0000000000201123, "
                                                     b"read) = KEV_OK, hpa 0x0000000ab123\n"))),
}

NEUTRAL = [
    # the hypercall tests' hints stay off the other parts' tests
    Case("p2_msr_registry", data(error="KEV_EINVAL", expect_exit_code=0,
                                 message="RDMSR of MSR 0xa01 (scratch): invalid argument")),
    Case("p2_msr_empty_stack", data(error="KEV_EEMPTY", expect_error="KEV_EEMPTY", capture_len=16,
                                    expect_capture_len=0)),
    Case("p2_msr_stack_order", data(exit_code=0, expect_exit_code=0, capture_len=256,
                                    expect_capture_len=300)),
    Case("p2_print_hello", data(exit_code=1, expect_exit_code=2)),
    Case("p2_halt_code", data()),
    Case("p2_print_lengths", data(exit_code=0, expect_exit_code=0, capture=b"abc",
                                  expect_capture=b"abd", capture_at=0, capture_len=3,
                                  expect_capture_len=3)),
    Case("p2_print_hello", data(error="KEV_ESTUDENT", expect_exit_code=0, exits=1,
                                fault="TODO() in hypercall_resolve() at project2/hypercall.c:121: "
                                      "not yet implemented")),
]


def hint(name):
    return next(h for h in hints.HINTS if h.name == name)


class Firing(unittest.TestCase):
    def test_every_hint_has_a_row(self):
        self.assertEqual(set(TABLE), {h.name for h in hints.HINTS})
        self.assertEqual(len({h.name for h in hints.HINTS}), len(hints.HINTS))

    def test_each_fires_on_its_case_and_not_beside_it(self):
        for name, (yes, no) in TABLE.items():
            with self.subTest(name):
                h = hint(name)
                self.assertTrue(h.applies(yes))
                self.assertIn(h.render(yes), hints.for_case(h.project, yes))
                self.assertFalse(h.applies(no))
                self.assertNotIn(h.render(yes), hints.for_case(h.project, no))

    def test_none_fires_on_neutral_cases(self):
        for case in NEUTRAL:
            self.assertEqual(hints.for_case(2, case), [], case)

    def test_only_the_projects_own_hints(self):
        for name, (yes, _) in TABLE.items():
            h = hint(name)
            for other in (2, 3, 4):
                if other != h.project:
                    self.assertNotIn(h.render(yes), hints.for_case(other, yes), name)

    def test_the_mmio_register_and_step_are_named(self):
        h = hint("mmio_register_wrong")
        for code, reg in ((0x30BAD41, "rcx (after step #3)"), (0xBAD40, "rax (after step #0)"),
                          (0x1E0BAD4F, "r15 (after step #30)")):
            self.assertIn("found %s wrong" % reg, h.render(Case(
                "p3_mmio_read", data(exit_code=code, expect_exit_code=0))))

    def test_the_register_is_named(self):
        h = hint("register_changed")
        for code, reg in ((0xBAD01, "rcx"), (0xBAD04, "rsp"), (0xBAD07, "rdi"), (0xBAD08, "r8"),
                          (0xBAD0F, "r15")):
            self.assertEqual(h.render(Case("p2_regs_preserved", data(exit_code=code))),
                             "The guest found %s changed across the hypercall: only rax may "
                             "change (does your handler write to s->regs?)." % reg)

    def test_low_32_bits_also_sign_extended(self):
        h = hint("low32_exit_code")
        self.assertTrue(h.applies(Case("t", data(exit_code=-1, expect_exit_code=0xFFFFFFFF))))
        self.assertTrue(h.applies(Case("t", data(exit_code=0xFFFFFFFF, expect_exit_code=-1))))
        self.assertFalse(h.applies(Case("t", data(exit_code=7, expect_exit_code=7))))
        self.assertFalse(h.applies(Case("t", data(exit_code=7))))

    def test_boundaries_of_chunks_and_pages(self):
        h = hint("cut_at_boundary")
        for n, m, fires in ((256, 257, True), (4096, 5000, True), (0, 10, False),
                            (256, 256, False), (255, 256, False), (8192, 8193, True)):
            self.assertEqual(h.applies(Case("p2_print_lengths", data(capture_len=n,
                                                                     expect_capture_len=m))),
                             fires, (n, m))

    def test_cpuid_names_the_register_and_leaf(self):
        # the difference in the third line's rdx, the window starting after its leaf
        asks = [(0, 0), (1, 0), (0x80000000, 0)]
        want = [LEAF1, LEAF1, [0x80000008, 0, 0, 0]]
        c = cpuid_case("p2_cpuid_any_leaf", asks, want, want[:2] + [[0x80000008, 0, 0, 5]], at=130)
        self.assertEqual(hints._cpuid_diff(c), hints.CpuidDiff(0x80000000, 0, "rdx", 5, 0, 8))
        self.assertIn(hint("cpuid_host_answer").text, hints.for_case(2, c))
        up = cpuid_case("p2_cpuid_leaf1", [(1, 0)], [LEAF1], [(LEAF1, (2,))])
        self.assertEqual(hint("cpuid_upper_half").render(up).split(" (")[0],
                         "CPUID must clear the upper half of rcx")
        self.assertEqual(hints.for_case(2, up), [hint("cpuid_upper_half").render(up)])
        for code, reg in ((0xBAD04, "rsp"), (0xBAD0F, "r15")):
            self.assertIn("found %s changed across CPUID" % reg, hint("cpuid_register_changed")
                          .render(Case("p2_cpuid_vendor", data(exit_code=code))))

    def test_cpuid_hints_only_for_cpuid_tests(self):
        c = cpuid_case("p2_print_lengths", [(1, 0)], [LEAF1], [[0x506e3, 0x7f010800] + LEAF1[2:]])
        self.assertEqual(hints.for_case(2, c), [])
        self.assertEqual(hints.for_case(2, Case("p2_regs_preserved", data(exit_code=0xBAD1001))), [])

    def test_print_hints_never_on_cpuid_tests(self):
        """A CPUID test's KEV_EINVAL or a capture differing at byte 256 is no Print mistake."""
        self.assertEqual(hints.for_case(2, Case("p2_cpuid_vendor", data(
            error="KEV_EINVAL", expect_exit_code=3, capture_len=0, expect_capture_len=55))), [])
        self.assertEqual(hints.for_case(2, Case("p2_cpuid_any_leaf", data(
            exit_code=3, expect_exit_code=3, capture_len=440, expect_capture_len=440,
            capture_at=224, capture=b"a" * 32 + b"X" * 8, expect_capture=b"a" * 40))), [])

    def test_msr_lines_cut_by_the_window(self):
        # the windows start inside a line; an exception past the instruction is RIP's fault
        astray = Case("p2_msr_upper_halves", data(
            capture=b"d9\n" + MSR_GP("0d", 0, 2), expect_capture=b"d9\n" + MSR_RD("0" * 16, "0" * 16)))
        self.assertTrue(hint("msr_bad_rip").applies(astray))
        self.assertFalse(hint("msr_gp_for_emulated").applies(astray))
        wr = Case("p2_msr_upper_halves", data(
            capture=MSR_RD("00000000ffffffff", "0000000089abcdef")[20:],
            expect_capture=MSR_RD("0000000001234567", "0000000089abcdef")[20:]))
        self.assertTrue(hint("msr_upper_kept").applies(wr))
        garbage = Case("p2_msr_stack_order", data(error="KEV_EGUEST_FAULT", expect_exit_code=3,
                                                  message="the guest raised #UD at 0x400051"))
        self.assertTrue(hint("msr_bad_rip").applies(garbage))
        self.assertFalse(hint("halt_returned").applies(garbage))  # HaltCpu's hint stays away

    def test_no_pio_register_hint_where_the_vm_had_to_stop(self):
        case = Case("p2_pio_rep_count64", data(exit_code=0xBAD20, expect_error="KEV_EEMPTY"))
        self.assertEqual(hints.for_case(2, case), [hint("pio_error_lost").text])

    def test_the_pio_register_and_step_are_named(self):
        h = hint("pio_pointer_wrong")
        self.assertIn("found rsi (after step #2) wrong",
                      h.render(Case("p2_pio_rep", data(exit_code=0x20BAD26, expect_exit_code=7))))
        h = hint("pio_register_changed")
        for code, reg in ((0xBAD22, "rdx (after step #0)"), (0x80BAD24, "rsp (at the end)"),
                          (0x80BAD28, "r8 (at the end)")):
            self.assertIn("found %s changed" % reg, h.render(Case(
                "p2_pio_forms", data(exit_code=code, expect_exit_code=7))))

    def test_the_print_hints_leave_port_io_alone(self):
        for name, case in (
                ("wrong_error", Case("p2_pio_bad_buffer", data(error="KEV_EINVAL",
                                                               expect_error="KEV_EREADONLY"))),
                ("printed_on_error", Case("p2_pio_bad_buffer", data(
                    error="KEV_EUNMAPPED", expect_error="KEV_EUNMAPPED", capture_len=9,
                    expect_capture_len=8))),
                ("einval_cross_page", Case("p2_pio_forms", data(error="KEV_EINVAL",
                                                                expect_exit_code=7)))):
            self.assertFalse(hint(name).applies(case), name)

    def test_garbage_never_stops_the_grader(self):
        junk = {k: b"\xff not a number" for k in (
            "exit_code", "expect.exit_code", "error", "expect.error", "message", "capture",
            "expect.capture", "capture.at", "capture.len", "expect.capture.len", "exits", "fault")}
        for test in ("p2_regs_preserved", "p2_unknown_hypercall", "p2_print_huge_size",
                     "p2_cpuid_leaf1", "p2_msr_registry", "p2_msr_unknown_gp", "p2_pio_forms"):
            self.assertIsInstance(hints.for_case(2, Case(test, dict(junk))), list)


def common_causes(text: str) -> str | None:
    """The handout's "Common causes" part: from that line to the next heading."""
    m = re.search(r"^.*Common causes.*$", text, re.M)
    if not m:
        return None
    rest = text[m.end():]
    nxt = re.search(r"^#", rest, re.M)
    return rest[:nxt.start()] if nxt else rest


def pattern(h) -> re.Pattern:
    """A hint's text as the handout may write it: any run of white space
    for a space, and anything for a {field}."""
    parts = []
    for literal, fieldname, _, _ in string.Formatter().parse(h.text):
        parts.append(r"\s+".join(re.escape(w) for w in literal.split()))
        if fieldname is not None:
            parts.append(r".+?")
    return re.compile(r"\s*".join(parts), re.S)


def handout(project: int) -> str:
    with open(os.path.join(ROOT, "docs", "project%d.md" % project)) as f:
        # backticks are markdown's, not the hint's
        return f.read().replace("`", "")


def missing_hints(project: int) -> list:
    section = common_causes(handout(project)) or ""
    return [h.name for h in hints.HINTS if h.project == project and not pattern(h).search(section)]


class Handout(unittest.TestCase):
    def test_project2_has_a_common_causes_part(self):
        self.assertIsNotNone(common_causes(handout(2)))

    def test_every_project4_hint_is_in_its_handout(self):
        self.assertEqual(missing_hints(4), [], "docs/project4.md, under \"Common causes\", must "
                         "repeat these hints of grader/hints.py word for word")

    def test_every_project2_hint_is_in_it(self):
        self.assertEqual(missing_hints(2), [], "docs/project2.md, under \"Common causes\", must "
                         "repeat these hints of grader/hints.py word for word")

    def test_the_pattern_matches_a_wrapped_copy(self):
        h = hint("register_changed")
        wrapped = ("- The guest found a register (its name) changed\n  across the hypercall: "
                   "only rax may change (does your\n  handler write to s->regs?).")
        self.assertTrue(pattern(h).search(wrapped))
        self.assertFalse(pattern(h).search(wrapped.replace("only rax", "just rax")))

    def test_every_hint_is_found_in_a_wrapped_bullet(self):
        for h in hints.HINTS:
            text = h.text.format_map(collections.defaultdict(lambda: "rbx"))  # any {field}
            bullet = textwrap.fill(text, 72, initial_indent="- ", subsequent_indent="  ")
            self.assertTrue(pattern(h).search("Common causes:\n\n" + bullet + "\n"), h.name)
            self.assertFalse(pattern(h).search(bullet[:len(bullet) // 2]), h.name)


if __name__ == "__main__":
    unittest.main()
