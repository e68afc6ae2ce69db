; The MSR tests' guest: runs the case's steps (PARAM(MSR_NSTEPS) of them,
; project2/guest.h), each an RDMSR or a WRMSR, with or without a REX.W
; prefix, with rcx, rax and rdx from the step, and writes one line a step
; (the format is guest.h's), all of which it prints at the end through the
; tests' own print (one print: an exit and the echo are dear):
;
;   rdmsr rcx=0x... rdx=0x... rax=0x...           the registers after it
;   wrmsr rcx=0x... #0x0d error=0x... rip+0x...   it took an exception
;
; To take the #GP an MSR nobody emulates gets, it loads its own GDT (a
; 64-bit code segment at 0x08, the selector it runs with) and an IDT whose
; 32 gates lead to one handler; the handler prints the vector, the error
; code and the RIP the CPU pushed (less the faulting instruction's
; address: 0 when RIP stayed at it), then goes on with the next step.
; After an instruction that succeeded the guest checks it resumed right
; after it (a landing strip, as regs.asm's); if not, it says so and ends
; with MSR_BAD_RIP. At the end: the case's exit code. A VM that stops on
; the way prints nothing.
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

%define STEP(field) [abs GUEST_PARAMS + PARAM_MSR_STEPS + r14 + MSR_STEP_ %+ field]
%define SAVED_RSP GUEST_BUF             ; the stack pointer before the step
%define CURSOR (GUEST_BUF + 8)          ; where the next line goes
%define OUT (GUEST_BUF + PAGE_SIZE)     ; the lines (writable, 3 pages)
%define LANDING 0x9090909090909090

; r15: the step's number, r14: its offset in the steps, rbx: its op. A
; handler that changes them is wrong: the guest then goes astray.
start:
    lgdt [rel gdtr]
    lidt [rel idtr]
    mov qword [abs CURSOR], OUT
    xor r15d, r15d
next:
    cmp r15, PARAM(MSR_NSTEPS)
    jae done
    mov [abs SAVED_RSP], rsp
    mov r14, r15
    imul r14, r14, MSR_STEP_SIZE
    mov rbx, STEP(OP)
    and ebx, 3
    mov rcx, STEP(RCX)
    mov rax, STEP(RAX)
    mov rdx, STEP(RDX)
    jmp [sites + rbx * 8]

; One instruction and its landing strip: resumed exactly after the
; instruction, the mov sets r13; resumed a byte or more further, it is cut
; (or skipped) and r13 stays 0.
%macro SITE 2
%1:
    xor r13d, r13d
%1 %+ _insn:
    %2
    mov r13, LANDING
    times 16 nop
    mov r12, LANDING
    cmp r13, r12
    jne bad_rip
    jmp done_ok
%endmacro
    SITE site_rdmsr, rdmsr
    SITE site_wrmsr, wrmsr
    SITE site_rdmsr_rex, {db 0x48, 0x0f, 0x32}
    SITE site_wrmsr_rex, {db 0x48, 0x0f, 0x30}

; "rdmsr rcx=0x... rdx=0x... rax=0x...\n"
done_ok:
    mov r8, rax
    mov r9, rdx
    mov r10, rcx
    call line_start
    lea rsi, [rel s_rdx]
    call put_str
    mov rax, r9
    call put_hex64
    lea rsi, [rel s_rax]
    call put_str
    mov rax, r8
    call put_hex64
    call line_end
    inc r15
    jmp next

bad_rip:
    mov r10, rcx
    call line_start
    lea rsi, [rel s_bad_rip]
    call put_str
    call line_end
    call flush
    TEST_EXIT MSR_BAD_RIP

done:
    call flush
    TEST_EXIT PARAM(CODE)

; Every exception: [rsp] the vector (the stub's), [rsp + 8] the error code,
; [rsp + 16] the RIP (for an exception with an error code, as #GP).
fault:
    mov r10, rcx
    pop r8                          ; the vector
    mov r9, [rsp]                   ; the error code
    mov r11, [rsp + 8]
    sub r11, [insns + rbx * 8]      ; RIP less the instruction's address
    call line_start
    lea rsi, [rel s_vector]
    call put_str
    mov rax, r8
    mov ecx, 2
    call put_hex
    lea rsi, [rel s_error]
    call put_str
    mov rax, r9
    call put_hex64
    lea rsi, [rel s_rip]
    call put_str
    mov rax, r11
    call put_hex64
    call line_end
    mov rsp, [abs SAVED_RSP]
    inc r15
    jmp next

; --- the line: rdi is where the next character goes ---------------------------------

; "<op> rcx=0x<r10>" at the start of a line.
line_start:
    mov rdi, [abs CURSOR]
    mov rsi, [names + rbx * 8]
    call put_str
    lea rsi, [rel s_rcx]
    call put_str
    mov rax, r10
    ; fall through
put_hex64:                          ; rax as 16 hex digits
    mov ecx, 16
put_hex:                            ; the low ecx digits of rax
    add rdi, rcx
    mov rsi, rdi
.digit:
    dec rsi
    mov edx, eax
    and edx, 15
    mov dl, [hex + rdx]
    mov [rsi], dl
    shr rax, 4
    dec ecx
    jnz .digit
    ret

put_str:                            ; the NUL-terminated string at rsi
    mov al, [rsi]
    test al, al
    jz .end
    mov [rdi], al
    inc rsi
    inc rdi
    jmp put_str
.end:
    ret

line_end:                           ; "\n", and the line is done
    mov byte [rdi], 10
    inc rdi
    mov [abs CURSOR], rdi
    ret

flush:                              ; the tests' print of every line
    mov rsi, [abs CURSOR]
    sub rsi, OUT
    mov edi, OUT
    mov rax, TEST_HC_PRINT
    vmcall
    ret

; --- data (read-only) -------------------------------------------------------------

align 8
sites: dq site_rdmsr, site_wrmsr, site_rdmsr_rex, site_wrmsr_rex
insns: dq site_rdmsr_insn, site_wrmsr_insn, site_rdmsr_rex_insn, site_wrmsr_rex_insn
names: dq s_rdmsr, s_wrmsr, s_rdmsr, s_wrmsr
hex: db "0123456789abcdef"
s_rdmsr: db "rdmsr", 0
s_wrmsr: db "wrmsr", 0
s_rcx: db " rcx=0x", 0
s_rdx: db " rdx=0x", 0
s_rax: db " rax=0x", 0
s_vector: db " #0x", 0
s_error: db " error=0x", 0
s_rip: db " rip+0x", 0
s_bad_rip: db ": resumed at the wrong RIP", 0

; The exception stubs, 8 bytes each: push the vector, go to the handler.
align 8
stubs:
%assign v 0
%rep 32
    push v
    jmp near fault
    align 8, db 0xcc
%assign v v + 1
%endrep

; The IDT: 32 interrupt gates (Vol. 3A, 7.14.1 "64-Bit Mode IDT"), all
; present, DPL 0, selector 0x08.
%define STUB(v) (stubs - $$ + GUEST_CODE + (v) * 8)
align 16
idt:
%assign v 0
%rep 32
    dw STUB(v) & 0xffff
    dw 0x08
    dw 0x8e00
    dw (STUB(v) >> 16) & 0xffff
    dd STUB(v) >> 32
    dd 0
%assign v v + 1
%endrep
idt_end:

; The GDT: a 64-bit code segment at 0x08 and a data segment at 0x10, their
; accessed bits set (the CPU would write them, and this page is read-only).
align 8
gdt:
    dq 0
    dq 0x00af9b000000ffff
    dq 0x00cf93000000ffff
gdt_end:

gdtr:
    dw gdt_end - gdt - 1
    dq gdt
idtr:
    dw idt_end - idt - 1
    dq idt
