; The user runtime's assembly: the trampoline a student function returns
; into, and the syscall instruction (kernel/user.h, user/syscalls.tbl).
; Linked into the user image (.text here becomes .user.text).

bits 64
section .text

global user_upcall_return, ulib_syscall

; The kernel puts this address where a student function returns to: it
; hands the function's rax:rdx back through the upcall-return gate (int
; 0x81, kernel/user.h USER_RETURN_VECTOR). The kernel never comes back here.
user_upcall_return:
    int 0x81
    ud2

; uint64_t ulib_syscall(nr, a0, a1, a2, a3, a4, a5): the number in rax, the
; arguments in rdi, rsi, rdx, r10, r8, r9 (Linux's order), int 0x80.
ulib_syscall:
    mov rax, rdi
    mov rdi, rsi
    mov rsi, rdx
    mov rdx, rcx
    mov r10, r8
    mov r8, r9
    mov r9, [rsp + 8]
    int 0x80
    ret
