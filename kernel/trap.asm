; Exception and interrupt entry. One stub per vector 0..31 pushes a zero
; error code where the CPU pushes none (Intel SDM Vol. 3A, 7.3 "Sources of
; Interrupts", Table 7-1 says which push one), then the vector, and jumps to
; the common path, which saves the registers into a struct trap_frame
; (kernel/trap.h; offsets generated from C into asm_offsets.inc) and calls
; trap(). The LAPIC timer, the spurious vector and the syscall gate (int
; 0x80 from ring 3) have stubs of their own; the syscall that ends an
; upcall takes a short path into kernel/user.asm.
;
; Also kjmp_set / kjmp_jump: setjmp and longjmp for ktest_try().

%include "kernel/asm_offsets.inc"

bits 64
section .text

extern trap

%macro STUB 1
trap_stub_%1:
%if %1 = 8 || (%1 >= 10 && %1 <= 14) || %1 = 17 || %1 = 21 || %1 = 29 || %1 = 30
    ; the CPU pushed an error code
%else
    push 0
%endif
    push %1
    jmp trap_common
%endmacro

%assign i 0
%rep 32
STUB i
%assign i i + 1
%endrep

; The interrupts (no error code).
global trap_stub_timer, trap_stub_spurious, trap_stub_syscall, trap_stub_upcall_return
extern user_upcall_returned
trap_stub_timer:
    push 0
    push LAPIC_TIMER_VECTOR
    jmp trap_common
trap_stub_spurious:
    push 0
    push LAPIC_SPURIOUS_VECTOR
    jmp trap_common
trap_stub_syscall:
    push 0
    push USER_SYSCALL_VECTOR
    jmp trap_common
trap_stub_upcall_return:
    ; The student function returned through the trampoline, its rax:rdx
    ; untouched: straight back to the kernel's caller (kernel/user.asm);
    ; the iret frame the CPU pushed is dropped there.
    jmp user_upcall_returned

trap_common:
    ; The CPU pushed rip..ss and the stub pushed error code and vector: make
    ; room for the general-purpose registers below them.
    sub rsp, TF_VECTOR
    mov [rsp + TF_RAX], rax
    mov [rsp + TF_RBX], rbx
    mov [rsp + TF_RCX], rcx
    mov [rsp + TF_RDX], rdx
    mov [rsp + TF_RSI], rsi
    mov [rsp + TF_RDI], rdi
    mov [rsp + TF_RBP], rbp
    mov [rsp + TF_R8], r8
    mov [rsp + TF_R9], r9
    mov [rsp + TF_R10], r10
    mov [rsp + TF_R11], r11
    mov [rsp + TF_R12], r12
    mov [rsp + TF_R13], r13
    mov [rsp + TF_R14], r14
    mov [rsp + TF_R15], r15
    cld
    mov rdi, rsp
    call trap
    ; trap() returned: resume where the exception happened.
    mov rax, [rsp + TF_RAX]
    mov rbx, [rsp + TF_RBX]
    mov rcx, [rsp + TF_RCX]
    mov rdx, [rsp + TF_RDX]
    mov rsi, [rsp + TF_RSI]
    mov rdi, [rsp + TF_RDI]
    mov rbp, [rsp + TF_RBP]
    mov r8, [rsp + TF_R8]
    mov r9, [rsp + TF_R9]
    mov r10, [rsp + TF_R10]
    mov r11, [rsp + TF_R11]
    mov r12, [rsp + TF_R12]
    mov r13, [rsp + TF_R13]
    mov r14, [rsp + TF_R14]
    mov r15, [rsp + TF_R15]
    add rsp, TF_RIP
    iretq

section .rodata
align 8
global trap_stubs
trap_stubs:
%assign i 0
%rep 32
    dq trap_stub_ %+ i
%assign i i + 1
%endrep

section .text
; int kjmp_set(struct kjmp *j): saves the callee-saved registers; returns 0.
global kjmp_set
kjmp_set:
    mov [rdi + KJMP_RBX], rbx
    mov [rdi + KJMP_RBP], rbp
    mov [rdi + KJMP_R12], r12
    mov [rdi + KJMP_R13], r13
    mov [rdi + KJMP_R14], r14
    mov [rdi + KJMP_R15], r15
    lea rax, [rsp + 8]          ; the caller's rsp after our return
    mov [rdi + KJMP_RSP], rax
    mov rax, [rsp]              ; our return address
    mov [rdi + KJMP_RIP], rax
    xor eax, eax
    ret

; void kjmp_jump(struct kjmp *j, int value): returns value from kjmp_set.
global kjmp_jump
kjmp_jump:
    mov rbx, [rdi + KJMP_RBX]
    mov rbp, [rdi + KJMP_RBP]
    mov r12, [rdi + KJMP_R12]
    mov r13, [rdi + KJMP_R13]
    mov r14, [rdi + KJMP_R14]
    mov r15, [rdi + KJMP_R15]
    mov rsp, [rdi + KJMP_RSP]
    mov eax, esi
    jmp [rdi + KJMP_RIP]
