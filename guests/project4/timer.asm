; The timer tests' guest: runs the case's operations (project4/guest.h,
; enum p4_op) one after another, then exits with code 0. It sets up its own
; GDT and IDT first (256 64-bit interrupt gates: kev's flat guest has
; neither) and runs with interrupts on. Every interrupt that arrives is
; logged by its handler as one line,
;
;     interrupt 3: vector 0x41, right after wrmsr(IA32_TSC_DEADLINE)
;
; (its number, its vector, where it came: P4_SPOTS, or its RIP; before the
; spot, by how many ticks it came early if the TSC had not reached the
; deadline), and its handler writes EOI unless no_eoi says not to. A #GP
; (vector 13, with an error code: only the hypervisor injects one here) is
; noted and the RDMSR or WRMSR that took it skipped; the operation logs it.
; The log is printed (TEST_PRINT) after each operation that added to it.
; A wait that sees no interrupt logs so and exits with code 1; a #GP that
; is not at a RDMSR or WRMSR exits with code 2. The benchmarks' operations
; exit with what they measured.
%include "guests/project4/guest.inc"
bits 64
org P4_CODE

; The data pages: the IDT (page 0), the GDT, the variables, the log.
%define IDT P4_DATA
%define GDT (P4_DATA + 0x1000)
%define GDTR (P4_DATA + 0x1040)
%define IDTR (P4_DATA + 0x1050)
%define COUNT (P4_DATA + 0x1100)       ; interrupts so far
%define DEADLINE (P4_DATA + 0x1108)    ; what the guest last wrote to IA32_TSC_DEADLINE
%define GP (P4_DATA + 0x1110)          ; 1: a #GP skipped the last RDMSR or WRMSR
%define LOGLEN (P4_DATA + 0x1118)
%define LOG (P4_DATA + 0x2000)
%define LOG_MAX 4096
%define OP_A (P4_DATA + 0x1120)        ; the operation's word, for its log line
%define MARK (P4_DATA + 0x1128)        ; P4_OP_MARK's TSC
%define LATE (P4_DATA + 0x1130)        ; ticks past their deadlines, summed

start:
    FLAT_GDT GDT, GDTR
    ; The IDT: gate v -> stub v, 64-bit interrupt gates (type 14, P, DPL 0,
    ; selector 0x08), Vol. 3A, 7.14.1 "64-Bit Mode IDT".
    xor ecx, ecx
    mov rdi, IDT
.gate:
    mov rax, rcx
    shl rax, 4
    add rax, stubs
    IDT_GATE
    add rdi, 16
    inc ecx
    cmp ecx, 256
    jb .gate
    LOAD_IDT IDT, IDTR
    sti
    nop
    xor ebx, ebx                      ; rbx: the operation's index
next_op:
    cmp rbx, [abs P4_PARAMS + P4_PARAM_NOPS]
    jae all_done
    mov r12, rbx
    shl r12, 4
    add r12, P4_PARAMS + P4_PARAM_OPS ; r12: the operation
    mov rax, [r12]
    mov r13, [r12 + 8]                ; r13: its word
    mov [abs OP_A], r13
    mov qword [abs GP], 0
    cmp rax, P4_OP_COUNT
    jae bad_op
    jmp [op_table + rax * 8]
op_done:
    call flush
    inc rbx
    jmp next_op
all_done:
    call flush
    TEST_EXIT 0
bad_op:
    TEST_EXIT 3

op_table:
    dq op_lvt, op_arm_in, op_arm_ago, op_arm_at, op_wait, op_idle, op_cli, op_sti
    dq op_eoi, op_sti_eoi, op_movss_eoi, op_read, op_mark, op_exit_ticks, op_exit_late
%if ($ - op_table) / 8 != P4_OP_COUNT
%error "op_table must have one entry per enum p4_op"
%endif

op_lvt:
    mov ecx, MSR_X2APIC_LVT_TIMER
    mov eax, r13d
    mov rdx, r13
    shr rdx, 32
    wrmsr
at_lvt:
    mov rsi, name_lvt
    call log_write_gp
    jmp op_done

op_arm_in:
    TSC
    add rax, r13
    mov r8, rax
    jmp arm
op_arm_ago:
    TSC
    sub rax, r13
    mov r8, rax
    jmp arm
op_arm_at:
    mov r8, r13
arm:
    mov [abs DEADLINE], r8            ; before the WRMSR: the interrupt may come right after it
    mov [abs OP_A], r8
    mov ecx, MSR_IA32_TSC_DEADLINE
    mov eax, r8d
    mov rdx, r8
    shr rdx, 32
    wrmsr
at_arm:
    mov rsi, name_deadline
    call log_write_gp
    jmp op_done

op_wait:
    mov r14, [abs COUNT]
    inc r14                           ; the count waited for
    TSC
    mov r15, rax                      ; the start
wait_begin:
    cmp [abs COUNT], r14
    jae wait_end
    pause
    TSC
    sub rax, r15
    cmp rax, r13
    jb wait_begin
wait_end:
    cmp [abs COUNT], r14
    jae op_done
    pushfq
    cli
    mov rsi, msg_no_interrupt
    call log_str
    mov rax, r13
    call log_hex16
    mov rsi, msg_ticks_nl
    call log_str
    popfq
    call flush
    TEST_EXIT 1

op_idle:
    TSC
    mov r15, rax
idle_begin:
    pause
    TSC
    sub rax, r15
    cmp rax, r13
    jb idle_begin
idle_end:
    jmp op_done

op_cli:
    cli
    jmp op_done

op_sti:
    sti
    nop
at_sti:
    jmp op_done

op_eoi:
    mov ecx, MSR_X2APIC_EOI
    mov eax, r13d
    mov rdx, r13
    shr rdx, 32
    wrmsr
at_eoi:
    mov rsi, name_eoi
    call log_write_gp
    jmp op_done

op_sti_eoi:
    mov ecx, MSR_X2APIC_EOI
    xor eax, eax
    xor edx, edx
    sti
    wrmsr                             ; in the shadow of STI
    nop
at_sti_eoi:
    mov rsi, name_eoi
    call log_write_gp
    jmp op_done

op_movss_eoi:
    mov ecx, MSR_X2APIC_EOI
    xor eax, eax
    xor edx, edx
    mov r11d, 0x10
    mov ss, r11w
    wrmsr                             ; in the shadow of MOV SS
    nop
at_movss_eoi:
    mov rsi, name_eoi
    call log_write_gp
    jmp op_done

; "rdmsr(LVT timer) = 0x0000000000010000", "rdmsr(IA32_TSC_DEADLINE) = the
; deadline" (or "= 0", or "= 0x..., not the deadline"), "rdmsr(EOI): #GP".
op_read:
    mov ecx, r13d
    rdmsr
at_read:
    shl rdx, 32
    mov r14d, eax
    or r14, rdx                       ; r14: the value read
    pushfq
    cli
    mov rsi, msg_rdmsr
    call log_str
    mov rax, r13
    call log_msr_name
    cmp qword [abs GP], 0
    je .value
    mov rsi, msg_gp_nl
    call log_str
    jmp .done
.value:
    mov rsi, msg_equals
    call log_str
    cmp r13, MSR_IA32_TSC_DEADLINE
    jne .hex
    test r14, r14
    jnz .nonzero
    mov rsi, msg_zero
    call log_str
    jmp .done
.nonzero:
    cmp r14, [abs DEADLINE]
    jne .hex_not
    mov rsi, msg_the_deadline
    call log_str
    jmp .done
.hex_not:
    mov rsi, msg_0x
    call log_str
    mov rax, r14
    call log_hex16
    mov rsi, msg_not_deadline
    call log_str
    jmp .done
.hex:
    mov rsi, msg_0x
    call log_str
    mov rax, r14
    call log_hex16
    mov rsi, msg_nl
    call log_str
.done:
    popfq
    jmp op_done

op_mark:
    TSC
    mov [abs MARK], rax
    jmp op_done

op_exit_ticks:
    TSC
    sub rax, [abs MARK]
    TEST_EXIT rax

op_exit_late:
    TEST_EXIT [abs LATE]

; After a WRMSR of the MSR named at rsi with the value at OP_A: logs
; "wrmsr(<name>, 0x<value>): #GP" if it took a #GP.
log_write_gp:
    cmp qword [abs GP], 0
    je .ok
    pushfq
    cli
    push rsi
    mov rsi, msg_wrmsr
    call log_str
    pop rsi
    call log_str
    mov rsi, msg_comma_0x
    call log_str
    mov rax, [abs OP_A]
    call log_hex16
    mov rsi, msg_paren_gp_nl
    call log_str
    popfq
.ok:
    ret

; The MSR's name for MSR rax (logged).
log_msr_name:
    mov rsi, name_lvt
    cmp rax, MSR_X2APIC_LVT_TIMER
    je log_str
    mov rsi, name_deadline
    cmp rax, MSR_IA32_TSC_DEADLINE
    je log_str
    mov rsi, name_eoi
    cmp rax, MSR_X2APIC_EOI
    je log_str
    push rax
    mov rsi, msg_0x
    call log_str
    pop rax
    jmp log_hex16

; Prints the log and empties it (with interrupts held off meanwhile).
flush:
    cmp qword [abs LOGLEN], 0
    je .empty
    pushfq
    cli
    TEST_PRINT LOG, [abs LOGLEN]
    mov qword [abs LOGLEN], 0
    popfq
.empty:
    ret

; --- the log: each routine changes rax, rcx, rdx, rsi, rdi only ---------------------

; Appends the byte in al (dropped when the log is full).
log_char:
    mov rdi, [abs LOGLEN]
    cmp rdi, LOG_MAX
    jae .full
    mov [LOG + rdi], al
    inc qword [abs LOGLEN]
.full:
    ret

; Appends the NUL-terminated string at rsi.
log_str:
    mov al, [rsi]
    test al, al
    jz .end
    call log_char
    inc rsi
    jmp log_str
.end:
    ret

; Appends rax as 16 hexadecimal digits; log_hex2: its low byte as 2.
log_hex16:
    mov ecx, 16
    jmp log_hex
log_hex2:
    shl rax, 56
    mov ecx, 2
log_hex:
    rol rax, 4
    mov rdx, rax
    and edx, 0xf
    push rax
    mov al, [hexdigits + rdx]
    call log_char
    pop rax
    dec ecx
    jnz log_hex
    ret

; Appends rax in decimal.
log_dec:
    xor ecx, ecx
    mov rsi, 10
.div:
    xor edx, edx
    div rsi
    push rdx
    inc ecx
    test rax, rax
    jnz .div
.out:
    pop rax
    add al, '0'
    push rcx
    call log_char
    pop rcx
    dec ecx
    jnz .out
    ret

; --- the interrupt handlers ------------------------------------------------------------

; Vector v's stub at stubs + 16 * v: pushes v (but #GP's, which has an
; error code on the stack already).
align 16
stubs:
%assign v 0
%rep 256
%if v == 13
    jmp near gp_entry
%else
    push qword v
    jmp near interrupt
%endif
align 16
%assign v v + 1
%endrep

; An interrupt: [rsp] = the vector, then RIP, CS, RFLAGS, RSP, SS.
%define SAVED (9 * 8)
interrupt:
    push rax
    push rcx
    push rdx
    push rsi
    push rdi
    push r8
    push r9
    push r10
    push r11
    TSC
    mov r8, rax                       ; the TSC on arrival
    inc qword [abs COUNT]
    mov r9, [abs COUNT]
    sub rax, [abs DEADLINE]
    jb .early
    add [abs LATE], rax
.early:
    cmp qword [abs P4_PARAMS + P4_PARAM_QUIET], 0
    jne .eoi_or_not
    mov rsi, msg_interrupt
    call log_str
    mov rax, r9
    call log_dec
    mov rsi, msg_vector
    call log_str
    mov rax, [rsp + SAVED]
    call log_hex2
    mov rsi, msg_comma
    call log_str
    mov rax, [abs DEADLINE]
    cmp r8, rax
    jae .on_time
    sub rax, r8
    push rax
    mov rsi, msg_0x
    call log_str
    pop rax
    call log_hex16
    mov rsi, msg_early
    call log_str
.on_time:
    mov rax, [rsp + SAVED + 8]        ; where it came: the spot, or its RIP
    call log_spot
    mov al, 10
    call log_char
.eoi_or_not:
    ; EOI, unless no_eoi's bit (count - 1) says not to.
    lea rcx, [r9 - 1]
    cmp rcx, 64
    jae .eoi
    mov rax, [abs P4_PARAMS + P4_PARAM_NO_EOI]
    bt rax, rcx
    jc .no_eoi
.eoi:
    mov qword [abs GP], 0
    mov ecx, MSR_X2APIC_EOI
    xor eax, eax
    xor edx, edx
    wrmsr
    cmp qword [abs GP], 0
    je .no_eoi
    mov qword [abs GP], 0
    mov rsi, msg_handler_eoi_gp
    call log_str
.no_eoi:
    pop r11
    pop r10
    pop r9
    pop r8
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rax
    add rsp, 8
    iretq

; Logs the spot whose address is rax (a label of spot_table, or inside a
; range of the two loops), or "at 0x<rax>".
log_spot:
    mov rdx, P4_AT_WAIT
    cmp rax, wait_begin
    jb .labels
    cmp rax, wait_end
    jbe .words
    mov rdx, P4_AT_IDLE
    cmp rax, idle_begin
    jb .labels
    cmp rax, idle_end
    jbe .words
.labels:
    xor edx, edx
.find:
    cmp rax, [spot_table + rdx * 8]
    je .words
    inc edx
    cmp edx, P4_SPOT_COUNT
    jb .find
    push rax
    mov rsi, msg_at
    call log_str
    pop rax
    jmp log_hex16
.words:
    imul rsi, rdx, P4_SPOT_WORDS_MAX
    add rsi, P4_PARAMS + P4_PARAM_SPOTS
    jmp log_str

; Each spot's label, in the order of P4_SPOTS (the loops' entries unused).
spot_table:
    dq at_arm, wait_begin, idle_begin, at_sti, at_eoi, at_sti_eoi, at_movss_eoi, at_lvt, at_read
%if ($ - spot_table) / 8 != P4_SPOT_COUNT
%error "spot_table must have one entry per spot of P4_SPOTS"
%endif

; #GP: [rsp] = the error code, then RIP, CS. Injected by the hypervisor for
; a RDMSR or WRMSR it refused: noted, and the 2-byte instruction skipped.
gp_entry:
    cmp qword [rsp + 8], 0x08         ; no error code: CS where RIP should be
    jne .has_code
    push qword 13                     ; an interrupt with vector 13, then
    jmp interrupt
.has_code:
    push rax
    mov rax, [rsp + 16]               ; the RIP
    cmp byte [rax], 0x0f
    jne .astray
    cmp byte [rax + 1], 0x30          ; wrmsr
    je .skip
    cmp byte [rax + 1], 0x32          ; rdmsr
    jne .astray
.skip:
    add qword [rsp + 16], 2
    mov qword [abs GP], 1
    pop rax
    add rsp, 8
    iretq
.astray:
    mov rsi, msg_gp_astray
    call log_str
    mov rax, [rsp + 16]
    call log_hex16
    mov al, 10
    call log_char
    call flush
    TEST_EXIT 2

hexdigits: db "0123456789abcdef"
name_lvt: db "LVT timer", 0
name_deadline: db "IA32_TSC_DEADLINE", 0
name_eoi: db "EOI", 0
msg_interrupt: db "interrupt ", 0
msg_vector: db ": vector 0x", 0
msg_comma: db ", ", 0
msg_0x: db "0x", 0
msg_early: db " ticks before its deadline, ", 0
msg_at: db "at 0x", 0
msg_nl: db 10, 0
msg_rdmsr: db "rdmsr(", 0
msg_wrmsr: db "wrmsr(", 0
msg_equals: db ") = ", 0
msg_gp_nl: db "): #GP", 10, 0
msg_comma_0x: db ", 0x", 0
msg_paren_gp_nl: db "): #GP", 10, 0
msg_zero: db "0", 10, 0
msg_the_deadline: db "the deadline", 10, 0
msg_not_deadline: db ", not the deadline", 10, 0
msg_no_interrupt: db "no interrupt came within 0x", 0
msg_ticks_nl: db " ticks", 10, 0
msg_handler_eoi_gp: db "wrmsr(EOI, 0x0000000000000000) in the handler: #GP", 10, 0
msg_gp_astray: db "#GP at 0x", 0
