; A hypercall number the table does not have (the case's), with a good
; Print in rdi and rsi: the VM must stop. Coming back here is wrong.
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

    mov rdi, PRINT_ADDR(0)
    mov rsi, PRINT_LEN(0)
    mov rax, PARAM(NR)
    vmcall
    HALT 0xBAD
