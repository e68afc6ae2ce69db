; Copies the message so that it straddles the boundary between GUEST_BUF's
; two pages (adjacent for the guest, apart in host memory: a hypervisor
; that reads the buffer as one host range prints the wrong bytes), prints
; it from there, then HaltCpu(0).
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

    mov rcx, PARAM(MSG_LEN)
    mov rdi, GUEST_BUF + PAGE_SIZE
    mov rax, rcx
    shr rax, 1
    sub rdi, rax                ; half on each page
    mov rdx, rdi                ; the copy's address, for PRINT
    mov rsi, MSG_ADDR
    cld
    rep movsb
    PRINT rdx, PARAM(MSG_LEN)
    HALT 0
