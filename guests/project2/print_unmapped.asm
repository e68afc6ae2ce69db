; Print of a buffer at an address the guest's page table does not map: the
; VM must stop with an error, and nothing may be printed. Coming back is a
; bug: exit 0xBAD.
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

    PRINT GUEST_UNMAPPED, 16
    HALT 0xBAD
