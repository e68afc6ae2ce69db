; Tiny guests for kev's own tests (kev/tests.c) and its benchmark. Each is
; position-independent 64-bit code between kev_tg_<name> and
; kev_tg_<name>_end; the tests copy it to guest address 0x400000. The
; guests talk to the tests' controller with vmcall, rax = request:
;   0  end the VM, exit code in rdi      1  nothing (a null vmcall)
;   2  check and change the registers    3  run the probe checks

bits 64
section .rodata

%macro GUEST 1
global kev_tg_%1
global kev_tg_%1_end
kev_tg_%1:
%endmacro
%macro GUEST_END 1
kev_tg_%1_end:
%endmacro

GUEST hlt
    hlt
GUEST_END hlt

GUEST exit42
    xor eax, eax
    mov edi, 42
    vmcall
    ud2                             ; never resumed
GUEST_END exit42

GUEST cpuid
    xor eax, eax
    cpuid
GUEST_END cpuid

GUEST ud2
    nop
    ud2
GUEST_END ud2

GUEST unknown_request
    mov eax, 7
    vmcall
GUEST_END unknown_request

; Ten null vmcalls, then exit with the host's count of them in rdi.
GUEST count
    mov ecx, 10
.again:
    mov eax, 1
    vmcall
    dec ecx
    jnz .again
    xor eax, eax
    mov edi, 0x600d
    vmcall
GUEST_END count

; Every register gets a value, the host checks them all and writes its own
; (request 2), the guest checks what came back: exit 0x600d, or the number
; (1..15) of the first register that was wrong.
%define PAT(i) (0x0101010101010101 * (i))
GUEST regs
    mov rbx, PAT(2)
    mov rcx, PAT(3)
    mov rdx, PAT(4)
    mov rsi, PAT(5)
    mov rdi, PAT(6)
    mov rbp, PAT(7)
    mov r8, PAT(8)
    mov r9, PAT(9)
    mov r10, PAT(10)
    mov r11, PAT(11)
    mov r12, PAT(12)
    mov r13, PAT(13)
    mov r14, PAT(14)
    mov r15, PAT(15)
    mov eax, 2
    vmcall
    ; The host wrote ~PAT(i) into register i (rax = 1). Check in the
    ; layout of struct guest_regs: rax, rbx, rcx, rdx, rsi, rdi, rbp, r8..r15.
    push r15
    push r14
    push r13
    push r12
    push r11
    push r10
    push r9
    push r8
    push rbp
    push rdi
    push rsi
    push rdx
    push rcx
    push rbx
    push rax
%assign i 1
%rep 15
    pop rax
    mov rcx, ~PAT(i)
    cmp rax, rcx
    jne .bad_ %+ i
%assign i i + 1
%endrep
    xor eax, eax
    mov edi, 0x600d
    vmcall
%assign i 1
%rep 15
.bad_ %+ i:
    xor eax, eax
    mov edi, i
    vmcall
%assign i i + 1
%endrep
GUEST_END regs

GUEST probe
    mov eax, 3
    vmcall
GUEST_END probe

; The benchmark: rdi null vmcalls between two RDTSCs (under Bochs a tick is
; an instruction), then exit with the tick count in rdi.
GUEST bench
    mov rcx, rdi
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov r12, rax
    mov eax, 1
.loop:
    vmcall
    dec rcx
    jnz .loop
    rdtsc
    shl rdx, 32
    or rax, rdx
    sub rax, r12
    mov rdi, rax
    xor eax, eax
    vmcall
GUEST_END bench
