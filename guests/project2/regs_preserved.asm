; A hypercall must leave the guest as it found it: execution continues at
; the instruction right after `vmcall`, and every register but rax keeps its
; value. This guest loads a known pattern into every register, makes one
; hypercall (Print of zero bytes), and checks. Exit codes:
;   0xBAD00 + i  register number i changed (x86 numbering: 1 rcx, 2 rdx,
;                3 rbx, 4 rsp, 5 rbp, 6 rsi, 7 rdi, 8..15 r8..r15)
;   0xBAD10      execution did not continue right after vmcall
;   the test's code when everything was preserved.
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

%define PATTERN(i) [rel patterns + (i) * 8]

    mov rcx, PATTERN(1)
    mov rdx, PATTERN(2)
    mov rbx, PATTERN(3)
    mov rsp, PATTERN(4)         ; no stack is used from here on
    mov rbp, PATTERN(5)
    mov rsi, PATTERN(6)         ; Print's size: 0
    mov rdi, PATTERN(7)         ; Print's buffer
    mov r8, PATTERN(8)
    mov r9, PATTERN(9)
    mov r10, PATTERN(10)
    mov r11, PATTERN(11)
    mov r12, PATTERN(12)
    mov r13, PATTERN(13)
    mov r14, PATTERN(14)
    mov r15, PATTERN(15)
    mov eax, HC_PRINT
    vmcall
    ; Landing strip. Resumed exactly after vmcall, both movs run and ax is
    ; 0x9090. Resumed a byte or more too far, execution starts inside it
    ; (0x90 is nop) and at least one mov is skipped. rax is the register
    ; the hypercall may change, so it is the one used.
    mov al, 0x90
    mov ah, 0x90
    times 16 nop
    cmp ax, 0x9090
    jne bad_rip

%macro CHECK 2
    cmp %1, PATTERN(%2)
    jne bad_ %+ %2
%endmacro
    CHECK rcx, 1
    CHECK rdx, 2
    CHECK rbx, 3
    CHECK rsp, 4
    CHECK rbp, 5
    CHECK rsi, 6
    CHECK rdi, 7
    CHECK r8, 8
    CHECK r9, 9
    CHECK r10, 10
    CHECK r11, 11
    CHECK r12, 12
    CHECK r13, 13
    CHECK r14, 14
    CHECK r15, 15
    HALT PARAM(CODE)

bad_rip:
    HALT 0xBAD10
%assign i 1
%rep 15
bad_ %+ i:
    HALT 0xBAD00 + i
%assign i i + 1
%endrep

align 8
patterns:
    dq 0                        ; rax: not checked
%assign i 1
%rep 15
%if i == 6
    dq 0                        ; rsi: Print's size
%elif i == 7
    dq MSG_ADDR                 ; rdi: Print's buffer
%else
    dq 0x5a00000000000000 | (i << 48) | (i * 0x01010101)
%endif
%assign i i + 1
%endrep
