; The MMIO benchmark (make bench-p3): P3_PARAM_NOPS stores of rax to the
; printer's buffer register between two RDTSCs; the exit code is the
; ticks between them (under Bochs, emulated instructions).
%include "guests/project3/guest.inc"
bits 64
org P3_CODE

    mov rsi, P3_MMIO
    mov rcx, [abs P3_PARAMS + P3_PARAM_NOPS]
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov r8, rax
.loop:
    mov [rsi], rax
    dec rcx
    jnz .loop
    rdtsc
    shl rdx, 32
    or rax, rdx
    sub rax, r8
    TEST_EXIT rax
