; Guests for kev's tests of the deadline and the interrupt window
; (kev/timer_tests.c). Each is position-independent 64-bit code between
; kev_tt_<name> and kev_tt_<name>_end, copied to guest address 0x400000.
; They ask the tests' controller with vmcall, rax = request:
;   0  end the VM, exit code in rdi
;   1  vcpu_set_deadline(rdi)                 (rax = the kev_error)
;   2  vcpu_interrupt_window(rdi), rsi = where the window exit must come
;   3  inject rdi (an interruption information's bits 30:0) at the next entry,
;      as it is: the VM-entry checks decide
;   4  nothing

bits 64
section .rodata

%macro GUEST 1
global kev_tt_%1
global kev_tt_%1_end
kev_tt_%1:
%endmacro
%macro GUEST_END 1
kev_tt_%1_end:
%endmacro

; rax = the TSC
%macro TSC 0
    rdtsc
    shl rdx, 32
    or rax, rdx
%endmacro

; A GDT at 0x600000 (the data page): null, 64-bit code (0x08), data (0x10),
; the selectors kev's flat guest runs with; loaded with lgdt. dx = 0x10;
; rax and rdi are changed.
%macro GDT 0
    mov rdi, 0x600000
    mov qword [rdi], 0
    mov rax, 0x00209b0000000000
    mov [rdi + 8], rax
    mov rax, 0x00cf93000000ffff
    mov [rdi + 16], rax
    mov word [rdi + 32], 23
    mov [rdi + 34], rdi
    lgdt [rdi + 32]
    mov edx, 0x10
%endmacro

%macro REQ 1
    mov eax, %1
    vmcall
%endmacro

; Arms a deadline rdi ticks ahead and spins: the host ends the VM at the
; deadline's exit.
GUEST deadline_spin
    mov rbx, rdi
    TSC
    lea rdi, [rax + rbx]
    REQ 1
.spin:
    inc rcx
    jmp .spin
GUEST_END deadline_spin

; Arms deadline rdi (one in the past): the exit must come before the ud2.
GUEST deadline_past
    REQ 1
    ud2
GUEST_END deadline_past

; Arms a deadline 20000 ticks ahead, disarms it, waits 60000 ticks, exits 0x600d.
GUEST deadline_disarm
    TSC
    lea rbx, [rax + 20000]
    mov rdi, rbx
    REQ 1
    xor edi, edi
    REQ 1
.wait:
    TSC
    sub rax, rbx
    cmp rax, 40000
    jb .wait
    xor eax, eax
    mov edi, 0x600d
    vmcall
GUEST_END deadline_disarm

; Arms deadline rdi, then spins forever making a null request (3 with
; vector 0: nothing) now and then: only the budget can stop it.
GUEST deadline_far
    REQ 1
.spin:
    mov ecx, 1000
.inner:
    dec ecx
    jnz .inner
    mov eax, 4
    vmcall
    jmp .spin
GUEST_END deadline_far

; Arms a deadline 1,000,000 ahead, re-arms it 30000 ahead: the host ends
; the VM at the deadline's exit with the tick count past the second one.
GUEST deadline_rearm
    TSC
    lea rdi, [rax + 1000000]
    REQ 1
    TSC
    lea rdi, [rax + 30000]
    mov r12, rdi
    REQ 1
.spin:
    inc rcx
    jmp .spin
GUEST_END deadline_rearm

; Interrupts off, the window opened, then sti; nop: the window exit must
; come at .here (after the instruction that follows sti).
GUEST window_sti
    cli
    xor edi, edi
    inc edi
    lea rsi, [rel .here]
    REQ 2
    nop
    nop
    sti
    nop
.here:
    ud2
GUEST_END window_sti

; Interrupts on, the window opened: the exit comes right after the vmcall.
GUEST window_open
    sti
    mov edi, 1
    lea rsi, [rel .here]
    REQ 2
.here:
    ud2
GUEST_END window_open

; Injection of an external interrupt while RFLAGS.IF = 0: VM entry fails
; (Vol. 3C, 27.3.1.4), and the two after it on blocking by MOV SS and by
; STI (27.3.1.5): the vmcall's exit saved the blocking, which kev keeps.
GUEST inject_if0
    cli
    mov edi, 0x30
    REQ 3
    ud2
GUEST_END inject_if0

GUEST inject_movss
    GDT
    sti
    mov edi, 0x30
    mov eax, 3
    mov ss, dx
    vmcall
    ud2
GUEST_END inject_movss

GUEST inject_sti
    cli
    mov edi, 0x30
    mov eax, 3
    sti
    vmcall
    ud2
GUEST_END inject_sti

; The window opened at a vmcall that follows MOV SS (blocking by MOV SS at
; its exit): kev leaves that blocking in the guest's interruptibility state,
; so it covers the instruction after the vmcall too: the exit comes at .here.
GUEST window_movss
    GDT
    sti
    mov eax, 2
    mov edi, 1
    lea rsi, [rel .here]
    mov ss, dx
    vmcall
    nop
.here:
    ud2
GUEST_END window_movss

; Asks for a deadline (rdi = 1) and exits with what kev answered.
GUEST ask_deadline
    mov edi, 1
    REQ 1
    mov rdi, rax
    REQ 0
GUEST_END ask_deadline


; Injects rdi's interruption information with interrupts on.
GUEST inject_on
    mov rbx, rdi
    GDT
    mov rdi, rbx
    sti
    REQ 3
    ud2
GUEST_END inject_on
