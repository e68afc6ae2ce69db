; The case's operations on its pages, in order (project3/guest.h): print
; len bytes at a, or copy len bytes from a to b; then exit with code 0.
; Every access goes through the EPT your ept_map built.
%include "guests/project3/guest.inc"
bits 64
org P3_CODE

    xor ebx, ebx                ; i (rbx: the hypercalls keep it)
.next:
    cmp rbx, [abs P3_PARAMS + P3_PARAM_NOPS]
    jae .done
    mov rdx, rbx
    shl rdx, 5                  ; 32 bytes an operation
    lea rbp, [abs P3_PARAMS + P3_PARAM_OPS]
    add rbp, rdx
    cmp qword [rbp], P3_OP_COPY
    je .copy
    TEST_PRINT [rbp + 8], [rbp + 24]
    jmp .step
.copy:
    mov rsi, [rbp + 8]
    mov rdi, [rbp + 16]
    mov rcx, [rbp + 24]
    rep movsb
.step:
    inc rbx
    jmp .next
.done:
    TEST_EXIT 0
