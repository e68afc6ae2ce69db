; The MMIO tests' guest: a chain of steps, each one MOV to or from the
; printer's page (P3_MMIO, guest-physical 0xcafe0000, left out of the EPT)
; with every register but rsp set before it and checked after it
; (project3/guest.h says how the test builds the chain). Exit codes:
;   0                              every step's registers were right
;   P3_MMIO_BAD + r + (s << 24)    register r (x86 numbering) was wrong after step s
;
; The header below is what the test reads to build the chain: the
; addresses of load, verify, done and of each form's MOV, in the order of
; project3/guest.h's MMIO_FORMS.
%include "guests/project3/guest.inc"
%include "guests/gpr.inc"
bits 64
org P3_CODE

    jmp start
align 8
header:
    dq P3_MMIO_MAGIC, load, verify, done, MMIO_NFORMS
%assign i 0
%rep MMIO_NFORMS
    dq form_%[i]
%assign i i + 1
%endrep

start:
    mov rsp, P3_DATA                ; the chain's first link
    ret

load:
    pop rax
    pop rcx
    pop rdx
    pop rbx
    pop rbp
    pop rsi
    pop rdi
    pop r8
    pop r9
    pop r10
    pop r11
    pop r12
    pop r13
    pop r14
    pop r15
    ret                             ; into the form

; The registers after the step, at [rsp], in load's order.
%macro VERIFY 2
    cmp %1, [rsp + %2 * 8]
    jne bad_%1
%endmacro
verify:
    VERIFY rax, 0
    VERIFY rcx, 1
    VERIFY rdx, 2
    VERIFY rbx, 3
    VERIFY rbp, 4
    VERIFY rsi, 5
    VERIFY rdi, 6
    VERIFY r8, 7
    VERIFY r9, 8
    VERIFY r10, 9
    VERIFY r11, 10
    VERIFY r12, 11
    VERIFY r13, 12
    VERIFY r14, 13
    VERIFY r15, 14
    lea rsp, [rsp + 15 * 8]
    ret                             ; into the next link's load, or done

done:
    TEST_EXIT 0

; bad_<reg>: rdi = P3_MMIO_BAD + its number, then the step from rsp (which
; points at the step's values after, 18 words into its link).
%macro BAD 2
bad_%1:
    mov edi, P3_MMIO_BAD + %2
    jmp fail
%endmacro
    EACH_GPR BAD, 0xffef
fail:
    lea rax, [rsp - P3_DATA - 18 * 8]
    xor edx, edx
    mov ecx, P3_MMIO_LINK_SIZE
    div rcx                         ; rax = the step
    shl rax, 24
    add rdi, rax
    mov rax, TEST_HC_EXIT
    vmcall
    ud2

; NASM makes no RIP-relative operand of an absolute address (P3_MMIO is
; one): RIPREL opcode bytes, target, immediate bytes after the disp32.
%macro RIPREL 3-4
    db %1
    dd (%2) - (P3_CODE + ($ - $$) + 4 + (%3))
%if %0 == 4
    dd %4
%endif
%endmacro

; The forms: one MOV each, then back into verify.
%macro FORM 2+
form_%1:
    %2
    ret
%endmacro
    FORM 0, mov [rsi], rax
    FORM 1, mov [rdi], ecx
    FORM 2, mov [rbx], dx
    FORM 3, mov [rsi], bl
    FORM 4, mov [rdi], ah
    FORM 5, mov [rbx], sil
    FORM 6, mov [r12], r9
    FORM 7, mov [r13], r10d
    FORM 8, mov [rbx + r11*4 + 0x12345], r8w
    FORM 9, mov [rax + rcx*8 - 8], r15
    FORM 10, mov [rbp + rdx + 0x7f], r14b
    FORM 11, mov [r8 + r12*2], eax
    FORM 12, mov [r9*8 + 0x100], rbx
    FORM 13, mov qword [rsi], -2
    FORM 14, mov dword [rdi + 4], 0x89abcdef
    FORM 15, mov word [rsi], 0x1234
    FORM 16, mov byte [rdi], 1
    FORM 17, mov qword [r12], 0x7fffffff
    FORM 18, mov [abs P3_MMIO + 0x10], al
    FORM 19, RIPREL {0x89, 0x15}, P3_MMIO + 8, 0           ; mov [rel P3_MMIO + 8], edx
    FORM 20, mov [qword P3_MMIO], rax
    FORM 21, mov [qword P3_MMIO + 0x10], al
    FORM 22, mov [abs P3_MMIO], rcx
    FORM 23, RIPREL {0xc7, 0x05}, P3_MMIO + 8, 4, 12      ; mov dword [rel P3_MMIO + 8], 12
    FORM 24, mov rax, [rsi]
    FORM 25, mov ecx, [rdi]
    FORM 26, mov dx, [rbx]
    FORM 27, mov bl, [rsi]
    FORM 28, mov ch, [rdi]
    FORM 29, mov dil, [rbx]
    FORM 30, mov r9, [r12]
    FORM 31, mov r10d, [r13]
    FORM 32, mov r8w, [rbx + r11*4 + 0x12345]
    FORM 33, mov r15, [rax + rcx*8 - 8]
    FORM 34, mov r14b, [rbp + rdx + 0x7f]
    FORM 35, mov eax, [r8 + r12*2]
    FORM 36, mov r11, [r9*8 + 0x100]
    FORM 37, mov ah, [rsi]
    FORM 38, mov eax, [abs P3_MMIO + 8]
    FORM 39, RIPREL {0x48, 0x8b, 0x15}, P3_MMIO, 0      ; mov rdx, [rel P3_MMIO]
    FORM 40, mov rax, [qword P3_MMIO]
    FORM 41, mov al, [qword P3_MMIO + 0x10]
    FORM 42, mov eax, [qword P3_MMIO + 8]
    FORM 43, mov ax, [qword P3_MMIO + 8]
    FORM 44, RIPREL {0x8a, 0x3d}, P3_MMIO + 0x10, 0      ; mov bh, [rel P3_MMIO + 0x10]
    FORM 45, db 0x66, 0x48, 0x89, 0x06                   ; 66 REX.W mov [rsi], rax
    FORM 46, db 0x66, 0x66, 0x89, 0x0f                   ; 66 66 mov [rdi], cx
    FORM 47, db 0x40, 0x8b, 0x13                         ; REX mov edx, [rbx]

; Never run: encodings the decoder must refuse, for its check against
; objdump (tests/host/mmio_insn_check.py).
refused:
    db 0x3e, 0x89, 0x06                                  ; ds mov [rsi], eax
    db 0x64, 0x89, 0x06                                  ; fs mov [rsi], eax
    db 0x67, 0x89, 0x06                                  ; mov [esi], eax
    db 0xf0, 0x89, 0x06                                  ; lock mov
    db 0xf3, 0x89, 0x06                                  ; rep mov
    db 0x40, 0x66, 0x89, 0x06                            ; REX before 66
    db 0x8c, 0x06                                        ; mov [rsi], es
    db 0x89, 0xc0                                        ; mov eax, eax
    db 0xc7, 0x0e, 0x01, 0x00, 0x00, 0x00                ; C7 /1
    db 0x48, 0x01, 0x06                                  ; add [rsi], rax
    db 0x0f, 0xb6, 0x06                                  ; movzx eax, byte [rsi]
    db 0xa4                                              ; movsb
