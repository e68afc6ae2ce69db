; The port-I/O tests' guest. It runs the case's steps, one I/O instruction
; each (PARAM(STEPS): a form of project2/guest.h's PIO_FORMS with the
; values of rax, rcx, rdx, rsi and rdi it runs with), with RFLAGS.DF set
; when PARAM(DF) is, and every other register loaded from PARAM(REGS).
; Then it checks every register against PARAM(EXPECT), prints the case's
; report buffers (PARAM(PRINTS): what INS wrote, say) through the tests'
; own print and ends with PARAM(CODE). Exit codes:
;   0xBAD20 + i   register number i is wrong after the last step (x86
;                 numbering: 0 rax, 1 rcx, 2 rdx, 3 rbx, 4 rsp, 5 rbp,
;                 6 rsi, 7 rdi, 8..15 r8..r15)
;   the case's code when every register was right.
;
; The steps run with no register of the guest's own: they are copied onto
; the stack page as a chain of return addresses and values, and each
; instruction is entered by `ret` and left by `ret` (pop and ret change
; neither RFLAGS nor a register but rsp, whose end value is known).
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

%define REG(i) [abs GUEST_PARAMS + PARAM_REGS + (i) * 8]
%define EXPECT(i) [abs GUEST_PARAMS + PARAM_EXPECT + (i) * 8]
%define LINK_SIZE 56                ; a step on the chain: load, 5 values, the form

    ; rsp = GUEST_STACK_TOP - 8 - nsteps * LINK_SIZE: the chain ends at the top.
    mov rcx, PARAM(NSTEPS)
    imul rax, rcx, LINK_SIZE
    mov rsp, GUEST_STACK_TOP - 8
    sub rsp, rax
    mov rdi, rsp
    mov rsi, GUEST_PARAMS + PARAM_STEPS
.link:
    test rcx, rcx
    jz .linked
    mov qword [rdi], load
    mov rax, [rsi + PIO_STEP_RAX]
    mov [rdi + 8], rax
    mov rax, [rsi + PIO_STEP_RCX]
    mov [rdi + 16], rax
    mov rax, [rsi + PIO_STEP_RDX]
    mov [rdi + 24], rax
    mov rax, [rsi + PIO_STEP_RSI]
    mov [rdi + 32], rax
    mov rax, [rsi + PIO_STEP_RDI]
    mov [rdi + 40], rax
    mov rax, [rsi + PIO_STEP_FORM]
    mov rax, [forms + rax * 8]
    mov [rdi + 48], rax
    add rdi, LINK_SIZE
    add rsi, PIO_STEP_SIZE
    dec rcx
    jmp .link
.linked:
    mov qword [rdi], check
    cmp qword PARAM(DF), 0
    je .up
    std
.up:
    mov rbx, REG(3)
    mov rbp, REG(5)
    mov r8, REG(8)
    mov r9, REG(9)
    mov r10, REG(10)
    mov r11, REG(11)
    mov r12, REG(12)
    mov r13, REG(13)
    mov r14, REG(14)
    mov r15, REG(15)
    ret                             ; into the first step's load

load:
    pop rax
    pop rcx
    pop rdx
    pop rsi
    pop rdi
    ret                             ; into the form

; One form's instruction, assembled from its code (PIO_FORM_CODE).
%macro PIO_INSN 1
%assign %%size (%1) & 7
%assign %%in ((%1) >> 3) & 1
%assign %%string ((%1) >> 4) & 1
%assign %%rep ((%1) >> 5) & 1
%assign %%imm ((%1) >> 6) & 1
%assign %%port ((%1) >> 8) & 0xff
%if %%size == 1
  %define %%acc al
  %define %%sfx b
%elif %%size == 2
  %define %%acc ax
  %define %%sfx w
%else
  %define %%acc eax
  %define %%sfx d
%endif
%if %%rep
    db 0xf3                         ; rep
%endif
%if %%string && %%in
    ins%[%%sfx]
%elif %%string
    outs%[%%sfx]
%elif %%in && %%imm
    in %%acc, %%port
%elif %%in
    in %%acc, dx
%elif %%imm
    out %%port, %%acc
%else
    out dx, %%acc
%endif
%endmacro

%assign i 0
%rep PIO_NFORMS
form_%[i]:
    PIO_INSN PIO_FORM_%[i]
    ret                             ; into the next step's load, or check
%assign i i + 1
%endrep

check:
%macro CHECK 2
    cmp %1, EXPECT(%2)
    jne bad_%1
%endmacro
    CHECK rax, 0
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
    cld
    xor ebx, ebx                    ; the reports, as print.asm makes its Prints
.next:
    cmp rbx, PARAM(NPRINTS)
    jae .done
    mov rdi, rbx
    shl rdi, 4
    mov rsi, [abs GUEST_PARAMS + PARAM_PRINTS + rdi + 8]
    mov rdi, [abs GUEST_PARAMS + PARAM_PRINTS + rdi]
    mov rax, TEST_HC_PRINT
    vmcall
    inc rbx
    jmp .next
.done:
    TEST_EXIT PARAM(CODE)

%macro BAD 2
bad_%1:
    TEST_EXIT 0xBAD20 + %2
%endmacro
    BAD rax, 0
    BAD rcx, 1
    BAD rdx, 2
    BAD rbx, 3
    BAD rsp, 4
    BAD rbp, 5
    BAD rsi, 6
    BAD rdi, 7
    BAD r8, 8
    BAD r9, 9
    BAD r10, 10
    BAD r11, 11
    BAD r12, 12
    BAD r13, 13
    BAD r14, 14
    BAD r15, 15

align 8
forms:
%assign i 0
%rep PIO_NFORMS
    dq form_%[i]
%assign i i + 1
%endrep
