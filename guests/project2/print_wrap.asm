; kevlab-hidden-file: the guest of a hidden test (docs/instructors.md)
; Print of a buffer whose end wraps around 2^64: it starts on a mapped page,
; but address + size overflows. The VM must stop with an error before
; printing anything. Coming back is a bug: exit 0xBAD.
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

    PRINT MSG_ADDR, -256        ; size 2^64 - 256
    HALT 0xBAD
