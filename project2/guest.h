/*
 * What project 2's test guests (guests/project2/) know of their VM: the
 * memory layout below, which project2/vm.c builds, and the parameter page
 * the tests fill. guests/project2/asm_offsets.c hands both (and the
 * hypercall table of project2/hypercall.h) to the guests' assembly, so the
 * numbers are written only here.
 *
 * Guest virtual memory (4 KiB pages):
 *
 *   GUEST_CODE     the guest's binary (read-only), entry at its first byte
 *   GUEST_PARAMS   one writable page the test fills before the guest runs:
 *                  the exit code, a count, a hypercall number, a message
 *   GUEST_BUF      writable pages, adjacent for the guest but NOT in
 *                  host-physical memory, followed by an unmapped page
 *   GUEST_UNMAPPED never mapped
 *   the stack      one writable page below GUEST_STACK_TOP (the initial rsp)
 */
#ifndef PROJECT2_GUEST_H
#define PROJECT2_GUEST_H

#include "kernel/types.h"

#define GUEST_CODE 0x400000UL
#define GUEST_CODE_MAX (4 * PAGE_SIZE) /* the largest binary a VM loads */
#define GUEST_PARAMS 0x600000UL
#define GUEST_BUF 0x610000UL
#define GUEST_BUF_PAGES 2
#define GUEST_UNMAPPED 0x700000UL
#define GUEST_STACK_TOP 0x800000UL

/*
 * The parameter page at GUEST_PARAMS. The test fills one in and the VM copies
 * it into the guest before the guest runs; guests read the fields at the
 * offsets guests/asm_offsets.c derives from this struct (PARAM_CODE, ...).
 */
struct guest_params {
    uint64_t code;    /* the exit code to pass to HaltCpu */
    uint64_t count;   /* how many times to repeat something */
    uint64_t nr;      /* a hypercall number to try */
    uint64_t msg_len; /* the length of msg */
    uint64_t scratch; /* the guest's own */
    uint8_t reserved[256 - 5 * 8];
    uint8_t msg[PAGE_SIZE - 256]; /* the message's bytes */
};
_Static_assert(sizeof(struct guest_params) == PAGE_SIZE, "the parameters fill one page");

#endif
