/*
 * What project 3's test guests (guests/project3/) know of their VM: the
 * guest-virtual layout below, which project3/vm.c builds on the EPT, and
 * the parameter page each case fills. guests/project3/asm_offsets.c hands
 * both to the guests' assembly. The guests end and print through the
 * tests' own hypercalls of project 2 (TEST_HC_EXIT, TEST_HC_PRINT), served
 * by given code, so a project-3 test never depends on your Print.
 *
 * Guest virtual memory (4 KiB pages), each page at a guest-physical
 * address the case draws, mapped in the EPT by your ept_map:
 *
 *   P3_CODE     the guest's binary (read + execute)
 *   P3_PARAMS   the parameter page (read-only)
 *   P3_DATA     P3_DATA_PAGES pages, each with the permissions the case drew
 *   the stack   one writable page below P3_STACK_TOP
 */
#ifndef PROJECT3_GUEST_H
#define PROJECT3_GUEST_H

#include "kernel/types.h"
#include "project2/guest.h"

#define P3_CODE 0x400000UL
#define P3_PARAMS 0x500000UL
#define P3_DATA 0x600000UL
#define P3_DATA_PAGES 8
#define P3_STACK_TOP 0x800000UL
#define P3_OPS_MAX 64

/* What ept.asm does, in order: prints pages' bytes, copies between pages. */
enum p3_guest_op {
    P3_OP_PRINT = 0, /* TEST_HC_PRINT(a, len) */
    P3_OP_COPY = 1,  /* len bytes from a to b (rep movsb) */
};

struct p3_params {
    uint64_t nops;
    struct {
        uint64_t op, a, b, len;
    } ops[P3_OPS_MAX];
    uint8_t reserved[PAGE_SIZE - 8 - P3_OPS_MAX * 32];
};
_Static_assert(sizeof(struct p3_params) == PAGE_SIZE, "the parameters fill one page");

#endif
