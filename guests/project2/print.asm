; The case's Prints, in order (PARAM(NPRINTS) of them, each a buffer and a
; size from the parameter page), then HaltCpu(code).
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

    xor ebx, ebx                ; i (rbx: a hypercall must not change it)
.next:
    cmp rbx, PARAM(NPRINTS)
    jae .done
    mov rdi, rbx
    shl rdi, 4
    mov rsi, [abs GUEST_PARAMS + PARAM_PRINTS + rdi + 8]
    mov rdi, [abs GUEST_PARAMS + PARAM_PRINTS + rdi]
    mov eax, HC_PRINT
    vmcall
    inc rbx
    jmp .next
.done:
    HALT PARAM(CODE)
