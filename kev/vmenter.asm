; Entering a guest and coming back: kev's only assembly. Linux's vmenter.S
; (__vmx_vcpu_run) has the same shape.
;
; kev_vmenter(struct vcpu *v, bool launched) saves the host's callee-saved
; registers, leaves the vcpu pointer on top of the stack, writes HOST_RSP
; (only when it changed), loads the guest's general-purpose registers from
; v->state.regs and executes VMLAUNCH (first entry) or VMRESUME.
;
; A VM exit lands at kev_vmexit_entry (HOST_RIP) with RSP = HOST_RSP, i.e.
; the vcpu pointer on top. It saves the guest registers and calls
; kev_vcpu_exit(v), the fast half of the dispatch (the first controller).
; On VMEXIT_CONTINUE it reloads them and VMRESUMEs -- without returning to
; kev_vmenter's caller, so a handled exit costs no more than it must -- unless
; the VM was stopped meanwhile (struct vcpu's stopped: a handler called
; vm_stop and then returned VMEXIT_CONTINUE): then it stops.
; Otherwise it passes that result to kev_vcpu_exit_slow(v, result) (the
; rest of the chain, the VM's end), which returns 0 to resume the guest or
; 1 to stop: then kev_vmenter returns VMENTER_STOPPED.
;
; When VMLAUNCH or VMRESUME itself fails it falls through (Intel SDM
; Vol. 3C, 31.2 "Conventions": CF = 1 VMfailInvalid, ZF = 1 VMfailValid)
; and kev_vmenter returns VMENTER_FAIL_INVALID or VMENTER_FAIL_VALID.
; A VM entry that fails on the guest state does not fall through: it exits
; to kev_vmexit_entry with bit 31 of the exit reason set (kev_vcpu_exit
; checks that first).
;
; Offsets and constants come from kev/asm_offsets.c.

%include "kev/asm_offsets.inc"

bits 64
section .text

global kev_vmenter
global kev_vmexit_entry
extern kev_vcpu_exit
extern kev_vcpu_exit_slow

; Guest registers: from v (in rdi) into the CPU, rdi last.
%macro LOAD_GUEST 0
    mov rax, [rdi + VCPU_RAX]
    mov rbx, [rdi + VCPU_RBX]
    mov rcx, [rdi + VCPU_RCX]
    mov rdx, [rdi + VCPU_RDX]
    mov rsi, [rdi + VCPU_RSI]
    mov rbp, [rdi + VCPU_RBP]
    mov r8, [rdi + VCPU_R8]
    mov r9, [rdi + VCPU_R9]
    mov r10, [rdi + VCPU_R10]
    mov r11, [rdi + VCPU_R11]
    mov r12, [rdi + VCPU_R12]
    mov r13, [rdi + VCPU_R13]
    mov r14, [rdi + VCPU_R14]
    mov r15, [rdi + VCPU_R15]
    mov rdi, [rdi + VCPU_RDI]
%endmacro

kev_vmenter:
    push rbp
    mov rbp, rsp
    push rbx
    push r12
    push r13
    push r14
    push r15
    push rdi                        ; [rsp] = v, for the exit path; rsp is 16-byte aligned
    cmp rsp, [rdi + VCPU_HOST_RSP]
    je .rsp_written
    mov rax, VMCS_HOST_RSP
    vmwrite rax, rsp
    jbe vmenter_failed              ; CF or ZF: VMfail
    mov [rdi + VCPU_HOST_RSP], rsp
.rsp_written:
    test sil, sil                   ; launched? (MOVs keep the flags)
    LOAD_GUEST
    jnz .resume
    vmlaunch
    jmp vmenter_failed
.resume:
    vmresume
    ; fall through: VMRESUME failed

vmenter_failed:
    ; CF = 1: VMfailInvalid; else ZF = 1: VMfailValid. The guest's registers
    ; are in the scratch registers; the callee-saved ones are restored below.
    mov eax, VMENTER_FAIL_VALID
    mov ecx, VMENTER_FAIL_INVALID
    cmovc eax, ecx
    jmp vmenter_return

kev_vmexit_entry:
    ; RSP = HOST_RSP: [rsp] = v. RFLAGS = 0x2 (Vol. 3C, 28.5.3 "Loading
    ; Host RIP, RSP, SSP, and RFLAGS"): no need for cld.
    push rax
    mov rax, [rsp + 8]
    mov [rax + VCPU_RBX], rbx
    mov [rax + VCPU_RCX], rcx
    mov [rax + VCPU_RDX], rdx
    mov [rax + VCPU_RSI], rsi
    mov [rax + VCPU_RDI], rdi
    mov [rax + VCPU_RBP], rbp
    mov [rax + VCPU_R8], r8
    mov [rax + VCPU_R9], r9
    mov [rax + VCPU_R10], r10
    mov [rax + VCPU_R11], r11
    mov [rax + VCPU_R12], r12
    mov [rax + VCPU_R13], r13
    mov [rax + VCPU_R14], r14
    mov [rax + VCPU_R15], r15
    pop qword [rax + VCPU_RAX]
    lea rbp, [rsp + 6 * 8]          ; kev_vmenter's frame: backtraces work in handlers
    mov rdi, rax
    call kev_vcpu_exit              ; -> struct vmexit_result in rdx:rax, action in eax
%if VMEXIT_CONTINUE != 0
%error "the test below assumes VMEXIT_CONTINUE == 0"
%endif
    test eax, eax
    jnz .slow
.resume:
    mov rdi, [rsp]
    cmp byte [rdi + VCPU_STOPPED], 0 ; stopped (vm_stop), whatever the handler returned
    jne .stopped
    LOAD_GUEST
    vmresume
    jmp vmenter_failed
.slow:
    mov rdi, [rsp]
    mov rsi, rax                    ; the result, by value: rsi:rdx
    call kev_vcpu_exit_slow
    test eax, eax
    jz .resume
.stopped:
    mov eax, VMENTER_STOPPED

vmenter_return:
    add rsp, 8                      ; v
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret
