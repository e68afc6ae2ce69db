; Prints more than the PrinterProxy keeps (64 KiB): fills GUEST_BUF's two
; pages with lines of text and prints all 8 KiB of them nine times. The VM
; must stop with an error that names the limit. Coming back from the last
; Print is a bug: exit 0xBAD.
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

%define SIZE (GUEST_BUF_PAGES * PAGE_SIZE)

    mov rdi, GUEST_BUF          ; 63 letters and a newline, 128 times
    xor ecx, ecx
.fill:
    mov eax, ecx
    and eax, 63
    cmp eax, 63
    mov al, `\n`
    je .store
    mov eax, ecx
    and eax, 15
    add al, 'a'
.store:
    mov [rdi + rcx], al
    inc ecx
    cmp ecx, SIZE
    jb .fill

    mov rbx, 9
.again:
    PRINT GUEST_BUF, SIZE
    dec rbx
    jnz .again
    HALT 0xBAD
