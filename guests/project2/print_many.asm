; Print(message) `count` times, one hypercall each, then HaltCpu(0).
; rbx counts: the hypervisor must leave it alone.
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

    mov rbx, PARAM(COUNT)
    test rbx, rbx
    jz .done
.again:
    PRINT MSG_ADDR, PARAM(MSG_LEN)
    dec rbx
    jnz .again
.done:
    HALT 0
