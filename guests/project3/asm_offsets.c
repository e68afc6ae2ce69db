/*
 * The numbers project 3's guests take from C (project3/guest.h): compiled
 * to assembly only; each "@@asmoff NAME VALUE" becomes a %define of
 * $(OBJ)/guests/project3/asm_offsets.inc, which guests/project3/guest.inc
 * includes.
 */
#include "project3/guest.h"

#define CONST(name, value) __asm__ volatile("\n@@asmoff " #name " %c0" ::"i"(value))
#define OFFSET(name, type, member) CONST(name, offsetof(type, member))

void asm_offsets(void)
{
    CONST(TEST_HC_EXIT, TEST_HC_EXIT);
    CONST(TEST_HC_PRINT, TEST_HC_PRINT);
    CONST(P3_CODE, P3_CODE);
    CONST(P3_PARAMS, P3_PARAMS);
    CONST(P3_STACK_TOP, P3_STACK_TOP);
    CONST(P3_OP_PRINT, P3_OP_PRINT);
    CONST(P3_OP_COPY, P3_OP_COPY);
    OFFSET(P3_PARAM_NOPS, struct p3_params, nops);
    OFFSET(P3_PARAM_OPS, struct p3_params, ops);
}
