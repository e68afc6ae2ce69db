; Print of a buffer that starts in mapped memory (the last 32 bytes of
; GUEST_BUF) and runs on into the unmapped page after it. The VM must stop
; with an error, and nothing may be printed: a Print is all or nothing.
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

    PRINT GUEST_BUF + GUEST_BUF_PAGES * PAGE_SIZE - 32, 64
    HALT 0xBAD
