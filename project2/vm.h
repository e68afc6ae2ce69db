/*
 * Project 2's VM: one vCPU, no EPT, running one test guest
 * (guests/project2/) with the memory layout of project2/guest.h, project 2's
 * controllers in its exit chain and a PrinterProxy for its output.
 */
#ifndef PROJECT2_VM_H
#define PROJECT2_VM_H

#include "kev/kev.h"
#include "project2/guest.h"

/*
 * The parts of project 2 a test's VM runs with (its chain's controllers):
 * hypercall tests run the student's hypercalls alone; the other parts' tests
 * run their part's controller after the tests' own hypercalls (test_ctl.c).
 * P2_ENTRY: the student's entry_setup() writes GUEST_CR3 and GUEST_RIP.
 * P2_CPUID: the student's cpuid_emulate() serves CPUID exits.
 * P2_MSR: the student's msr_handle() emulates RDMSR and WRMSR (msr_ctl.c).
 */
enum p2_part {
    P2_HYPERCALLS = 1 << 0,
    P2_ENTRY = 1 << 1,
    P2_CPUID = 1 << 2,
    P2_PIO = 1 << 3,
    P2_MSR = 1 << 4,
};

struct pio_config;
struct msr_config;

/* What one case's VM looks like before its guest runs. */
struct p2_vm_config {
    const char *guest;            /* "print": guests/project2/print.asm */
    unsigned parts;               /* enum p2_part bits; 0: P2_HYPERCALLS */
    unsigned vcpu_id;             /* the bootstrap vCPU's id (s->id) */
    const struct vm_controls *controls; /* more of VMX (bitmaps...); NULL: kev's defaults */
    /* P2_ENTRY: the code at code_gva (0: GUEST_CODE) after entry_offset
     * bytes of ud2, and the PML4 moved past pml4_skip fresh pages. */
    uint64_t code_gva;
    size_t entry_offset;
    unsigned pml4_skip;
    struct guest_params params;   /* copied to GUEST_PARAMS */
    int hole;                     /* a GUEST_BUF page left unmapped; -1: none */
    /* The buffer's image: its bytes [buf_off, buf_off + buf_len) are written to
     * GUEST_BUF + buf_off before the guest runs. */
    const uint8_t *buf;
    size_t buf_off, buf_len;
    /* P2_PIO: the queue's contents and the I/O bitmaps (project2/pio_dev.h); NULL: none. */
    const struct pio_config *pio;
    /* P2_MSR: the devices to register and the exits to expect
     * (project2/msr_dev.h); NULL: none. */
    const struct msr_config *msr;
};

/* Runs the guest of c in a fresh VM with output to `out` (started by the
 * caller); stores how the VM ended in *outcome. */
void p2_vm_run(const struct p2_vm_config *c, struct printer *out, struct vm_outcome *outcome);
/* Frees the VM p2_vm_run keeps for the next case, of this test or the
 * next (a benchmark that must count the building calls it). */
void p2_vm_release(void);

#endif
