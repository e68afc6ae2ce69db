; The CPUID benchmark (p2_bench_cpuid): PARAM(CPUID_COUNT) CPUIDs of step 0
; in a row, timed with RDTSC (under Bochs a tick is one emulated
; instruction); it ends through the tests' own exit with the ticks they took.
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

%define STEPS (GUEST_PARAMS + PARAM_CPUID_STEPS)

    mov r9, PARAM(CPUID_COUNT)
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov r8, rax
.again:
    mov rax, [abs STEPS]
    mov rcx, [abs STEPS + 8]
    cpuid
    dec r9
    jnz .again
    rdtsc
    shl rdx, 32
    or rax, rdx
    sub rax, r8
    TEST_EXIT rax
