; Entering student code at CPL 3 and coming back (kernel/user.h).
;
; user_enter(fn, a0, a1, a2, a3, a4) saves the kernel's callee-saved
; registers and its stack pointer, points the TSS's RSP0 just below (so a
; trap or syscall from ring 3 runs on this same kernel stack, under this
; frame), and IRETQs to fn at CPL 3 with the arguments in rdi, rsi, rdx,
; rcx, r8 and every other register cleared (no kernel value reaches ring 3).
; Its stack pointer is user_entry_rsp (a global: six arguments fit in
; registers, seven would not), where the trampoline's address already is,
; fn's return address.
;
; It returns in two ways, both through user_return, which restores the
; saved stack pointer and registers and returns rax:rdx to user_enter's
; caller:
;   - the trampoline (user/entry.asm) executes `int USER_RETURN_VECTOR`
;     with fn's rax:rdx untouched; kernel/trap.asm's stub for it jumps to
;     user_upcall_returned;
;   - kernel/user.c stops the upcall (a fault, a panic, a bad pointer, the
;     budget) and calls user_resume_stopped.
; Either way the kernel frames above (the trap's, the syscall's) are
; simply dropped: they hold nothing that needs undoing.
; Intel SDM Vol. 3A, 7.14.3 "IRET in IA-32e Mode" and 7.14.4 "Stack Usage
; on Transfers to Interrupt and Exception-Handling Routines".

%include "kernel/asm_offsets.inc"

bits 64
section .text

global user_enter, user_upcall_returned, user_resume_stopped
extern user_kernel_rsp, user_tss_rsp0, user_entry_rsp

user_enter:
    push rbp
    mov rbp, rsp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov [rel user_kernel_rsp], rsp
    mov rax, [rel user_tss_rsp0]
    mov [rax], rsp
    push USER_DS                ; ss
    push qword [rel user_entry_rsp] ; rsp
    push 0x202                  ; rflags: IF (the budget timer), bit 1; IOPL 0
    push USER_CS                ; cs
    push rdi                    ; rip
    mov rdi, rsi
    mov rsi, rdx
    mov rdx, rcx
    mov rcx, r8
    mov r8, r9
    xor eax, eax
    xor ebx, ebx
    xor ebp, ebp                ; the student's backtrace ends here
    xor r9d, r9d
    xor r10d, r10d
    xor r11d, r11d
    xor r12d, r12d
    xor r13d, r13d
    xor r14d, r14d
    xor r15d, r15d
    iretq

user_resume_stopped:
    xor eax, eax
    xor edx, edx

user_upcall_returned:
user_return:
    mov rsp, [rel user_kernel_rsp]
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret
