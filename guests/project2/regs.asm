; A hypercall must leave the guest as it found it: execution continues at
; the instruction right after `vmcall`, and every register but rax keeps its
; value. This guest loads the case's random values into every register (rdi
; and rsi: Print's buffer and size), makes one Print, and checks. Exit codes:
;   0xBAD00 + i  register number i changed (x86 numbering: 1 rcx, 2 rdx,
;                3 rbx, 4 rsp, 5 rbp, 6 rsi, 7 rdi, 8..15 r8..r15)
;   0xBAD10      execution did not continue right after vmcall
;   the case's code when everything was preserved.
%include "guests/project2/hypercall.inc"
%include "guests/gpr.inc"
bits 64
org GUEST_CODE

%define REG(i) [abs GUEST_PARAMS + PARAM_REGS + (i) * 8]

    mov rcx, REG(1)
    mov rdx, REG(2)
    mov rbx, REG(3)
    mov rsp, REG(4)             ; no stack is used from here on
    mov rbp, REG(5)
    mov rsi, PRINT_LEN(0)
    mov rdi, PRINT_ADDR(0)
    mov r8, REG(8)
    mov r9, REG(9)
    mov r10, REG(10)
    mov r11, REG(11)
    mov r12, REG(12)
    mov r13, REG(13)
    mov r14, REG(14)
    mov r15, REG(15)
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
    cmp %1, %2
    jne bad_ %+ %1
%endmacro
    CHECK rcx, REG(1)
    CHECK rdx, REG(2)
    CHECK rbx, REG(3)
    CHECK rsp, REG(4)
    CHECK rbp, REG(5)
    CHECK rsi, PRINT_LEN(0)
    CHECK rdi, PRINT_ADDR(0)
    CHECK r8, REG(8)
    CHECK r9, REG(9)
    CHECK r10, REG(10)
    CHECK r11, REG(11)
    CHECK r12, REG(12)
    CHECK r13, REG(13)
    CHECK r14, REG(14)
    CHECK r15, REG(15)
    HALT PARAM(CODE)

bad_rip:
    HALT 0xBAD10
%macro BAD 2
bad_ %+ %1:
    HALT 0xBAD00 + %2
%endmacro
    EACH_GPR BAD, 0xfffe
