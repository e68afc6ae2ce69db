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

; Runs forever without an exit: kev's VMX-preemption timer stops it.
GUEST spin
.forever:
    jmp .forever
GUEST_END spin

; Exits forever (null vmcalls the controller serves): kev stops it after
; KEV_GUEST_MAX_EXITS.
GUEST vmcall_loop
.again:
    mov eax, 1
    vmcall
    jmp .again
GUEST_END vmcall_loop

; Reloads its own page table (allowed), then exits with 42.
GUEST cr3_reload
    mov rax, cr3
    mov cr3, rax
    xor eax, eax
    mov edi, 42
    vmcall
GUEST_END cr3_reload

; The attack: builds a page table in its own data page (0x600000) that maps
; the first 512 GiB of host-physical memory with 1 GiB pages, and loads it.
; Without the CR3-load exit it could then overwrite the host kernel.
GUEST cr3_attack
    mov rdi, 0x600000           ; the PML4, and (entry 0) the PDPT too
    mov rax, rdi
    or rax, 3                   ; PML4[0] -> this page as a PDPT too
    mov [rdi], rax
    mov ecx, 1
    mov rax, (1 << 30) | 0x83   ; PDPT[i] = i GiB, present, writable, 1 GiB page
.fill:
    mov [rdi + rcx * 8], rax
    add rax, 1 << 30
    inc ecx
    cmp ecx, 512
    jb .fill
    ; The PML4's physical address: the guest does not know it without EPT,
    ; so it tries the host-physical address the data page's virtual one
    ; would have under an identity map, as an attacker would guess.
    mov rax, rdi
    mov cr3, rax
    mov eax, 0
    mov edi, 0xbad
    vmcall                      ; reached only if the load was allowed
GUEST_END cr3_attack

; Clears CR0.PG: paging off would make guest addresses host-physical.
GUEST cr0_paging_off
    mov rax, cr0
    btr rax, 31
    mov cr0, rax
    xor eax, eax
    mov edi, 0xbad
    vmcall
GUEST_END cr0_paging_off

; The same with interrupts on: where the CPU has no VMX-preemption timer,
; kev's fallback (the host's LAPIC timer, external-interrupt exiting) stops
; it. (Bochs delivers that exit only while the guest's RFLAGS.IF is set,
; unlike the SDM; docs/setup.md.)
GUEST spin_sti
    sti
.forever:
    jmp .forever
GUEST_END spin_sti

; On EPT (kev/ept_tests.c): the word at 0x600000 is the exit code.
GUEST ept_read
    mov rdi, [0x600000]
    xor eax, eax
    vmcall
    ud2
GUEST_END ept_read

; On EPT: a read of 0x700000, whose guest-physical page the EPT leaves out.
GUEST ept_unmapped
    mov rax, [0x700000]
    xor eax, eax
    xor edi, edi
    vmcall
GUEST_END ept_unmapped

; On EPT: request 5 (the host lets ring 3 rewrite an EPT entry), then the
; read of 0x600000 as above, which must never happen.
GUEST ept_poke
    mov eax, 5
    vmcall
    mov rdi, [0x600000]
    xor eax, eax
    vmcall
    ud2
GUEST_END ept_poke

; On EPT: a write to 0x600000, which the EPT maps read-only.
GUEST ept_write
    mov qword [0x600000], 1
    xor eax, eax
    xor edi, edi
    vmcall
GUEST_END ept_write
