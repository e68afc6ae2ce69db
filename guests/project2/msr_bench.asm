; The MSR benchmark (p2_bench_msr): PARAM(CODE) RDMSRs of the MSR in the
; first step's rcx between two RDTSCs (under Bochs a tick is an emulated
; instruction), then the tests' exit with the ticks they took.
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

    mov r12, PARAM(CODE)
    mov rcx, [abs GUEST_PARAMS + PARAM_MSR_STEPS + MSR_STEP_RCX]
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov r13, rax
.loop:
    rdmsr
    dec r12
    jnz .loop
    rdtsc
    shl rdx, 32
    or rax, rdx
    sub rax, r13
    TEST_EXIT rax
