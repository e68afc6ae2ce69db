/*
 * The numbers project 4's guests take from C (project4/guest.h, and the
 * timer's MSRs of project4/timer.h): compiled to assembly only; each
 * "@@asmoff NAME VALUE" becomes a %define of
 * $(OBJ)/guests/project4/asm_offsets.inc, which guests/project4/guest.inc
 * includes.
 */
#include "project4/guest.h"
#include "project4/timer.h"
#include "project4/virtio_blk.h"

#define CONST(name, value) __asm__ volatile("\n@@asmoff " #name " %c0" ::"i"(value))
#define OFFSET(name, type, member) CONST(name, offsetof(type, member))

void asm_offsets(void)
{
    CONST(TEST_HC_EXIT, TEST_HC_EXIT);
    CONST(TEST_HC_PRINT, TEST_HC_PRINT);
    CONST(P4_CODE, P4_CODE);
    CONST(P4_PARAMS, P4_PARAMS);
    CONST(P4_DATA, P4_DATA);
    CONST(P4_STACK_TOP, P4_STACK_TOP);
    CONST(MSR_X2APIC_EOI, MSR_X2APIC_EOI);
    CONST(MSR_X2APIC_LVT_TIMER, MSR_X2APIC_LVT_TIMER);
    CONST(MSR_IA32_TSC_DEADLINE, MSR_IA32_TSC_DEADLINE);
#define OP(name) CONST(name, name)
    OP(P4_OP_LVT);
    OP(P4_OP_ARM_IN);
    OP(P4_OP_ARM_AGO);
    OP(P4_OP_ARM_AT);
    OP(P4_OP_WAIT);
    OP(P4_OP_IDLE);
    OP(P4_OP_CLI);
    OP(P4_OP_STI);
    OP(P4_OP_EOI);
    OP(P4_OP_STI_EOI);
    OP(P4_OP_MOVSS_EOI);
    OP(P4_OP_READ);
    OP(P4_OP_MARK);
    OP(P4_OP_EXIT_TICKS);
    OP(P4_OP_EXIT_LATE);
    OP(P4_OP_COUNT);
#define SPOT(name, words) CONST(name, name);
    P4_SPOTS(SPOT)
    CONST(P4_SPOT_COUNT, P4_SPOT_COUNT);
    CONST(P4_SPOT_WORDS_MAX, P4_SPOT_WORDS_MAX);
    OFFSET(P4_PARAM_NOPS, struct p4_params, nops);
    OFFSET(P4_PARAM_OPS, struct p4_params, ops);
    OFFSET(P4_PARAM_NO_EOI, struct p4_params, no_eoi);
    OFFSET(P4_PARAM_QUIET, struct p4_params, quiet);
    OFFSET(P4_PARAM_SPOTS, struct p4_params, spots);
    /* The virtio guest's. */
    CONST(P4_VIRTIO, P4_VIRTIO);
    CONST(P4V_WAIT, P4V_WAIT);
    CONST(VBLK_VECTOR, VBLK_VECTOR);
    CONST(VIRTIO_MMIO_INTERRUPT_STATUS, VIRTIO_MMIO_INTERRUPT_STATUS);
    CONST(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INTERRUPT_ACK);
    CONST(VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_MMIO_QUEUE_NOTIFY);
    OP(P4V_OP_WRITE);
    OP(P4V_OP_READ);
    OP(P4V_OP_STORE16);
    OP(P4V_OP_NOTIFY);
    OP(P4V_OP_KICK);
    OP(P4V_OP_DUMP);
    OP(P4V_OP_READ8);
    OP(P4V_OP_MARK);
    OP(P4V_OP_EXIT_TICKS);
    OP(P4V_OP_COPY);
    OP(P4V_OP_COUNT);
    OFFSET(P4V_PARAM_NOPS, struct p4v_params, nops);
    OFFSET(P4V_PARAM_OPS, struct p4v_params, ops);
}
