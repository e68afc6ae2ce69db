; The port-I/O benchmark's guest (project2/pio_bench.c): PARAM(CODE) times
; either `out dx, al` to the printer (PARAM(NR) = 0) or `rep outsb` of the
; PRINT_LEN(0) bytes at PRINT_ADDR(0) to it (PARAM(NR) = 1), between two
; RDTSCs; ends with the ticks between them (under Bochs, emulated
; instructions: the exits' whole cost, the loop's own dec and jnz included).
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

    mov r8, PARAM(CODE)
    mov r9, PARAM(NR)
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov r10, rax
    mov edx, 0x3f8
    mov al, '.'
    test r9, r9
    jnz .rep
.out:
    out dx, al
    dec r8
    jnz .out
    jmp .done
.rep:
    mov rsi, PRINT_ADDR(0)
    mov rcx, PRINT_LEN(0)
    rep outsb
    dec r8
    jnz .rep
.done:
    rdtsc
    shl rdx, 32
    or rax, rdx
    sub rax, r10
    TEST_EXIT rax
