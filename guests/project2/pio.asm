; The port-I/O tests' guest. It runs the case's steps, one I/O instruction
; each (PARAM(STEPS): a form of project2/guest.h's PIO_FORMS with the
; values of rax, rcx, rdx, rsi and rdi it runs with), with RFLAGS.DF set
; when PARAM(DF) is, and every other register loaded from PARAM(REGS).
; After each step it checks those five registers against the step's
; `after` values; after the last, every register against PARAM(EXPECT).
; Then it prints the case's report buffers (PARAM(PRINTS): what INS wrote,
; say) through the tests' own print and ends with PARAM(CODE). Exit codes:
;   0xBAD20 + i + (s << 24)   register number i is wrong after step s (x86
;                 numbering: 0 rax, 1 rcx, 2 rdx, 3 rbx, 4 rsp, 5 rbp,
;                 6 rsi, 7 rdi, 8..15 r8..r15); s = PIO_STEPS_MAX: at
;                 the end, after the last step
;   the case's code when every register was right.
;
; The steps run with no register of the guest's own: they are copied onto
; the stack page as a chain of return addresses and values, and each
; instruction is entered by `ret` and left by `ret` (pop, ret, cmp, lea
; and jcc change neither RFLAGS.DF nor a register but rsp, whose value
; at each point is known).
%include "guests/project2/hypercall.inc"
%include "guests/gpr.inc"
bits 64
org GUEST_CODE

%define REG(i) [abs GUEST_PARAMS + PARAM_REGS + (i) * 8]
%define EXPECT(i) [abs GUEST_PARAMS + PARAM_EXPECT + (i) * 8]
; A step on the chain: load, its 5 values, its form, verify, the 5 values after it.
%define LINK_SIZE (13 * 8)
%define CHAIN_TOP (GUEST_STACK_TOP - 8)     ; then the address of check

    ; rsp = CHAIN_TOP - nsteps * LINK_SIZE: the chain ends at the top.
    mov rcx, PARAM(NSTEPS)
    imul rax, rcx, LINK_SIZE
    mov rsp, CHAIN_TOP
    sub rsp, rax
    mov rdi, rsp
    mov rsi, GUEST_PARAMS + PARAM_STEPS
.link:
    test rcx, rcx
    jz .linked
    mov qword [rdi], load
%assign k 0
%rep 5                              ; rax, rcx, rdx, rsi, rdi: 5 qwords from PIO_STEP_RAX
    mov rax, [rsi + PIO_STEP_RAX + k * 8]
    mov [rdi + 8 + k * 8], rax
    mov rax, [rsi + PIO_STEP_AFTER + k * 8]
    mov [rdi + 64 + k * 8], rax
%assign k k + 1
%endrep
    mov rax, [rsi + PIO_STEP_FORM]
    mov rax, [forms + rax * 8]
    mov [rdi + 48], rax
    mov qword [rdi + 56], verify
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

verify:                             ; rsp: the step's rax, rcx, rdx, rsi, rdi after it
    cmp rax, [rsp]
    jne step_rax
    cmp rcx, [rsp + 8]
    jne step_rcx
    cmp rdx, [rsp + 16]
    jne step_rdx
    cmp rsi, [rsp + 24]
    jne step_rsi
    cmp rdi, [rsp + 32]
    jne step_rdi
    lea rsp, [rsp + 40]
    ret                             ; into the next step's load, or check

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
    ret                             ; into verify
%assign i i + 1
%endrep

check:
%macro CHECK 2
    cmp %1, EXPECT(%2)
    jne bad_%1
%endmacro
    EACH_GPR CHECK, 0xffff
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
    TEST_EXIT 0xBAD20 + %2 + (PIO_STEPS_MAX << 24)
%endmacro
    EACH_GPR BAD, 0xffff

; In verify, rsp says which step s failed: rsp = chain start + s * LINK_SIZE
; + 64, the chain starting at CHAIN_TOP - nsteps * LINK_SIZE.
%macro STEP_BAD 2
step_%1:
    mov rax, rsp
    mov rcx, PARAM(NSTEPS)
    imul rcx, rcx, LINK_SIZE
    add rax, rcx
    sub rax, CHAIN_TOP + 64
    xor edx, edx
    mov ecx, LINK_SIZE
    div rcx
    shl rax, 24
    add rax, 0xBAD20 + %2
    TEST_EXIT rax
%endmacro
    STEP_BAD rax, 0
    STEP_BAD rcx, 1
    STEP_BAD rdx, 2
    STEP_BAD rsi, 6
    STEP_BAD rdi, 7

align 8
forms:
%assign i 0
%rep PIO_NFORMS
    dq form_%[i]
%assign i i + 1
%endrep
