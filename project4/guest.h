/*
 * What project 4's test guests (guests/project4/) know of their VM: the
 * memory layout below, which project4/vm.c builds without EPT (kev's guest
 * builder, kev/guest.h), and the parameter page each case fills.
 * guests/project4/asm_offsets.c hands both to the guests' assembly. The
 * guests end and print through the tests' own hypercalls of project 2
 * (TEST_HC_EXIT, TEST_HC_PRINT), served by given code, so a project-4 test
 * never depends on your Print.
 *
 * Guest virtual memory (4 KiB pages):
 *
 *   P4_CODE     the guest's binary (read-only, executable)
 *   P4_PARAMS   the parameter page (read-only)
 *   P4_DATA     P4_DATA_PAGES writable pages: the guest's IDT (256
 *               interrupt gates, the first page), its GDT and its log
 *   the stack   P4_STACK_PAGES writable pages below P4_STACK_TOP
 *
 * The guest sets up its own GDT and IDT there (kev's flat guest has
 * neither), so an interrupt injected into it reaches its handler.
 */
#ifndef PROJECT4_GUEST_H
#define PROJECT4_GUEST_H

#include "kernel/types.h"
#include "project2/guest.h"

#define P4_CODE 0x400000UL
#define P4_CODE_MAX (4 * PAGE_SIZE)
#define P4_PARAMS 0x500000UL
#define P4_DATA 0x600000UL
#define P4_DATA_PAGES 3
#define P4_STACK_TOP 0x800000UL
#define P4_STACK_PAGES 2
#define P4_OPS_MAX 128

/*
 * What timer.asm does, one operation after another (a: the operation's
 * word). "The deadline" is the value the guest last wrote to
 * IA32_TSC_DEADLINE. Every interrupt that arrives is logged by its handler
 * as one line: its number, its vector, where it came (P4_SPOTS) and, if
 * the TSC had not reached the deadline yet, by how much it came early. A
 * #GP is logged by the operation that took it, a RDMSR's value by its
 * operation; the guest starts with interrupts on.
 */
enum p4_op {
    P4_OP_LVT = 0,       /* WRMSR(LVT timer, a) */
    P4_OP_ARM_IN = 1,    /* WRMSR(IA32_TSC_DEADLINE, TSC + a): a deadline ahead */
    P4_OP_ARM_AGO = 2,   /* WRMSR(IA32_TSC_DEADLINE, TSC - a): a deadline passed (a < 2^24) */
    P4_OP_ARM_AT = 3,    /* WRMSR(IA32_TSC_DEADLINE, a): 0 disarms */
    P4_OP_WAIT = 4,      /* spins until one more interrupt came, at most a ticks */
    P4_OP_IDLE = 5,      /* spins for a ticks, interrupts as they are */
    P4_OP_CLI = 6,       /* cli */
    P4_OP_STI = 7,       /* sti; nop */
    P4_OP_EOI = 8,       /* WRMSR(EOI, a) */
    P4_OP_STI_EOI = 9,   /* sti; WRMSR(EOI, 0); nop: the WRMSR in the shadow of STI */
    P4_OP_MOVSS_EOI = 10, /* mov ss; WRMSR(EOI, 0); nop: the WRMSR in the shadow of MOV SS */
    P4_OP_READ = 11,     /* RDMSR(a), logged */
    /* The benchmarks' (project4/tests.c): */
    P4_OP_MARK = 12,     /* notes the TSC */
    P4_OP_EXIT_TICKS = 13, /* exits with the TSC ticks since P4_OP_MARK */
    P4_OP_EXIT_LATE = 14, /* exits with the sum, over the interrupts so far, of the ticks each
                           * came after its deadline */
    P4_OP_COUNT
};

/*
 * Where an interrupt can arrive (its handler's return RIP), in the words
 * its log line says: X(name, words). The guest has a label at each.
 */
#define P4_SPOTS(X)                                                                  \
    X(P4_AT_ARM, "right after wrmsr(IA32_TSC_DEADLINE)")                             \
    X(P4_AT_WAIT, "while waiting")                                                   \
    X(P4_AT_IDLE, "while idle")                                                      \
    X(P4_AT_STI, "right after sti; nop")                                             \
    X(P4_AT_EOI, "right after wrmsr(EOI)")                                           \
    X(P4_AT_STI_EOI, "right after sti; wrmsr(EOI); nop")                             \
    X(P4_AT_MOVSS_EOI, "right after mov ss; wrmsr(EOI); nop")                        \
    X(P4_AT_LVT, "right after wrmsr(LVT timer)")                                     \
    X(P4_AT_READ, "right after rdmsr")

enum p4_spot {
#define P4_SPOT_ENUM(name, words) name,
    P4_SPOTS(P4_SPOT_ENUM)
#undef P4_SPOT_ENUM
    P4_SPOT_COUNT
};
#define P4_SPOT_WORDS_MAX 48

struct p4_params {
    uint64_t nops;
    struct {
        uint64_t op, a;
    } ops[P4_OPS_MAX];
    /* Bit k-1 set: the handler of the k-th interrupt does not write EOI
     * (the interrupt stays in service until a P4_OP_EOI). */
    uint64_t no_eoi;
    uint64_t quiet;  /* not 0: the handler logs nothing (the benchmarks) */
    /* Each spot's words, NUL-terminated (project4/vm.c copies them from
     * P4_SPOTS): the guest logs them. */
    char spots[P4_SPOT_COUNT][P4_SPOT_WORDS_MAX];
    uint8_t reserved[PAGE_SIZE - 24 - P4_OPS_MAX * 16 - P4_SPOT_COUNT * P4_SPOT_WORDS_MAX];
};
_Static_assert(sizeof(struct p4_params) == PAGE_SIZE, "the parameters fill one page");

/*
 * The virtio tests' guest (guests/project4/virtio.asm) runs on EPT
 * (project4/vm.c, kev/ept.h), with the layout above and two more ranges:
 *
 *   P4_VIRTIO   one page, mapped in the guest's table to guest-physical
 *               VBLK_MMIO_BASE, which the EPT leaves out: the device's
 *               registers
 *   P4_RAM      P4_RAM_PAGES writable pages at guest-physical == guest-
 *               virtual P4_RAM: the virtqueue, the requests, their data,
 *               filled by the test before the guest starts
 *
 * Every other guest page is at the guest-physical address equal to its
 * guest-virtual one; the guest's page tables are guest pages from
 * P4_TABLES up. The guest runs the case's script (struct p4v_params):
 * register reads and writes, stores to its memory, notifications, dumps of
 * its memory (printed), with a handler for VBLK_VECTOR that logs the
 * interrupt, acknowledges it and writes EOI.
 */
#define P4_VIRTIO 0x900000UL
#define P4_RAM 0x1000000UL
#define P4_RAM_PAGES 12
#define P4_TABLES 0x100000UL
#define P4V_OPS_MAX 120
/* Ticks a notification waits for its interrupt: far more than serving a
 * batch of requests takes. */
#define P4V_WAIT 3000000

enum p4v_op {
    P4V_OP_WRITE = 0,   /* a 4-byte store of b at register offset a */
    P4V_OP_READ = 1,    /* a 4-byte load at register offset a, logged "read 0x070: 0x0000000f" */
    P4V_OP_STORE16 = 2, /* a 2-byte store of b at guest address a (the avail ring's idx) */
    P4V_OP_NOTIFY = 3,  /* QueueNotify = a, then a wait for the next interrupt (logged
                         * "no interrupt came" and exit code 1 after P4V_WAIT ticks) */
    P4V_OP_KICK = 4,    /* QueueNotify = a, no wait */
    P4V_OP_DUMP = 5,    /* prints b bytes of guest memory at a */
    P4V_OP_READ8 = 6,   /* a 1-byte load at register offset a (logged as READ) */
    P4V_OP_MARK = 7,    /* notes the TSC (the benchmarks) */
    P4V_OP_EXIT_TICKS = 8, /* exits with the TSC ticks since P4V_OP_MARK */
    P4V_OP_COPY = 9,    /* copies c bytes of guest memory from b to a (a new round's
                         * descriptors and avail ring entries, staged by the test) */
    P4V_OP_COUNT
};

struct p4v_params {
    uint64_t nops;
    struct {
        uint64_t op, a, b, c;
    } ops[P4V_OPS_MAX];
    uint8_t reserved[PAGE_SIZE - 8 - P4V_OPS_MAX * 32];
};
_Static_assert(sizeof(struct p4v_params) == PAGE_SIZE, "the parameters fill one page");

#endif
