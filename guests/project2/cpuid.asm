; CPUID, emulated. The guest makes PARAM(CPUID_COUNT) CPUIDs, number k
; asking step k % PARAM(CPUID_NSTEPS) of the case: its rax and rcx, all 64
; bits (the leaf and subleaf in the low halves), every other register
; loaded from PARAM(REGS) (rbx and rdx too: CPUID must overwrite them). After
; each CPUID it checks that every register but rax, rbx, rcx, rdx kept its
; value. The answers to the first round (one CPUID per step) are printed,
; one line each, through the tests' own print:
;
;   00000001.00000000: 000506e3 00010800 fffa3203 0fabfbff
;
; the leaf and subleaf it asked (the low halves of rax and rcx), then rax,
; rbx, rcx and rdx after CPUID, each in 8 hex digits, or in 16 when its
; upper half is not zero. Every later CPUID must answer exactly as the
; first round did for its step. Then it ends through the tests' own exit:
;   the case's PARAM(CODE)  everything held
;   0xBAD00 + i             register number i changed across a CPUID (x86
;                           numbering: 4 rsp, 5 rbp, 6 rsi, 7 rdi, 8..15 r8..r15)
;   0xBAD1000 + k           CPUID number k answered otherwise than its step
;                           did in the first round (its line is printed last)
; Whatever it found is printed before it ends, the current CPUID's line last.
; (The controller checks that RIP moved past each cpuid.)
%include "guests/project2/hypercall.inc"
%include "guests/gpr.inc"
bits 64
org GUEST_CODE

%define REG(i) [abs GUEST_PARAMS + PARAM_REGS + (i) * 8]
%define STEPS (GUEST_PARAMS + PARAM_CPUID_STEPS)    ; 16 bytes a step: rax, rcx
; The guest's own variables, at the top of its stack page (rsp holds a
; random value around each CPUID, so nothing lives in registers there).
%define VAR_K [abs GUEST_STACK_TOP - 8]              ; the CPUID's number
%define VAR_OUT [abs GUEST_STACK_TOP - 16]           ; where its line goes
%define VAR_CODE [abs GUEST_STACK_TOP - 24]          ; the exit code
%define ANSWER (GUEST_STACK_TOP - 64)                ; rax, rbx, rcx, rdx after it
%define STACK (GUEST_STACK_TOP - 128)                ; rsp between CPUIDs
%define FIRST (GUEST_BUF + 3 * PAGE_SIZE)            ; round 0's answers, 32 bytes a step
%define LINES GUEST_BUF                              ; the lines printed

    mov qword VAR_K, 0
    mov qword VAR_OUT, LINES
next:
    mov rax, VAR_K
    cmp rax, PARAM(CPUID_COUNT)
    jae done
    xor edx, edx
    div qword PARAM(CPUID_NSTEPS)   ; rdx = k % nsteps: the step
    shl rdx, 4
    mov rcx, [abs STEPS + rdx + 8]
    mov rax, [abs STEPS + rdx]
    mov rdx, REG(2)
    mov rbx, REG(3)
    mov rsp, REG(4)                 ; no stack is used until the checks are done
    mov rbp, REG(5)
    mov rsi, REG(6)
    mov rdi, REG(7)
    mov r8, REG(8)
    mov r9, REG(9)
    mov r10, REG(10)
    mov r11, REG(11)
    mov r12, REG(12)
    mov r13, REG(13)
    mov r14, REG(14)
    mov r15, REG(15)
    cpuid
    mov [abs ANSWER], rax
    mov [abs ANSWER + 8], rbx
    mov [abs ANSWER + 16], rcx
    mov [abs ANSWER + 24], rdx

%macro CHECK 2
    cmp %1, REG(%2)
    jne bad_ %+ %1
%endmacro
    EACH_GPR CHECK, 0xfff0
    mov rsp, STACK

    mov rax, VAR_K
    xor edx, edx
    div qword PARAM(CPUID_NSTEPS)
    shl rdx, 5
    lea rdi, [abs FIRST + rdx]      ; the step's answer in round 0
    mov rsi, ANSWER
    mov ecx, 4
    cmp rax, 0
    jne .again
    rep movsq                       ; round 0: keep the answer, print it
    call line
    inc qword VAR_K
    jmp next
.again:
    repe cmpsq                      ; a later round: it must be the same
    jne .differs
    inc qword VAR_K
    jmp next
.differs:
    mov rax, VAR_K
    add rax, 0xBAD1000
    jmp report

%macro BAD 2
bad_ %+ %1:
    mov rsp, STACK
    mov eax, 0xBAD00 + %2
    jmp report
%endmacro
    EACH_GPR BAD, 0xfff0

report:                             ; rax: the exit code; the current CPUID's line goes last
    mov VAR_CODE, rax
    call line
    jmp finish
done:
    mov rax, PARAM(CODE)
    mov VAR_CODE, rax
finish:
    mov rsi, VAR_OUT
    sub rsi, LINES
    TEST_PRINT LINES, rsi
    TEST_EXIT VAR_CODE

; line: appends the line of CPUID number VAR_K at VAR_OUT: its step's eax
; and ecx, then the four registers at ANSWER.
line:
    mov rdi, VAR_OUT
    mov rax, VAR_K
    xor edx, edx
    div qword PARAM(CPUID_NSTEPS)
    shl rdx, 4
    mov r8, [abs STEPS + rdx + 8]
    mov rax, [abs STEPS + rdx]
    mov ecx, 8
    call hex
    mov byte [rdi], '.'
    inc rdi
    mov rax, r8
    mov ecx, 8
    call hex
    mov byte [rdi], ':'
    inc rdi
    mov rax, [abs ANSWER]
    call register
    mov rax, [abs ANSWER + 8]
    call register
    mov rax, [abs ANSWER + 16]
    call register
    mov rax, [abs ANSWER + 24]
    call register
    mov byte [rdi], 10
    inc rdi
    mov VAR_OUT, rdi
    ret

; register: a space and rax in 8 hex digits, or in 16 when its upper half
; is not zero (so a leftover upper half shows).
register:
    mov byte [rdi], ' '
    inc rdi
    mov ecx, 8
    mov rdx, rax
    shr rdx, 32
    jz hex
    mov ecx, 16                     ; and on into hex

; hex: the low ecx hex digits of rax at rdi, most significant first (rdi
; advances; rax, rcx, rdx and rsi change).
hex:
    add rdi, rcx
    push rdi
    lea rsi, [rel digits]
.digit:
    dec rdi
    mov edx, eax
    and edx, 15
    mov dl, [rsi + rdx]
    mov [rdi], dl
    shr rax, 4
    dec ecx
    jnz .digit
    pop rdi
    ret
digits: db "0123456789abcdef"
