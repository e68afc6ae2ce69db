; The virtio tests' guest: the driver's side of the device, as a script.
; The test builds the virtqueue and the requests in the guest's memory
; (P4_RAM) before it starts; this guest does what a driver does with the
; device's registers and its rings, one operation after another
; (project4/guest.h, enum p4v_op), then exits with code 0:
;
;   P4V_OP_WRITE / READ / READ8   a register access at P4_VIRTIO + offset
;                                 (a READ logs "read 0x070: 0x0000000f")
;   P4V_OP_STORE16                the avail ring's idx, written by the driver
;   P4V_OP_NOTIFY                 QueueNotify, then a wait for the interrupt
;   P4V_OP_KICK                   QueueNotify, no wait
;   P4V_OP_DUMP                   prints guest memory (the used ring, status
;                                 bytes, data read)
;   P4V_OP_COPY                   a round's descriptors and avail ring
;                                 entries, from where the test staged them
;
; The handler of VBLK_VECTOR reads InterruptStatus, logs
; "interrupt: InterruptStatus 0x00000001", writes the value to InterruptACK
; and EOI to the x2APIC (part 1's timer_wrmsr). Any other vector is a
; mistake: it logs "unexpected interrupt 0x.." and exits with code 2. The
; log is printed after each operation that added to it.
%include "guests/project4/guest.inc"
bits 64
org P4_CODE

%define IDT P4_DATA
%define GDT (P4_DATA + 0x1000)
%define GDTR (P4_DATA + 0x1040)
%define IDTR (P4_DATA + 0x1050)
%define COUNT (P4_DATA + 0x1100)       ; interrupts so far
%define LOGLEN (P4_DATA + 0x1108)
%define MARK (P4_DATA + 0x1110)
%define LOG (P4_DATA + 0x2000)

start:
    FLAT_GDT GDT, GDTR
    ; The IDT: every vector to `unexpected` but VBLK_VECTOR, 64-bit
    ; interrupt gates (Vol. 3A, 7.14.1 "64-Bit Mode IDT").
    xor ecx, ecx
.gate:
    mov rax, unexpected
    cmp ecx, VBLK_VECTOR
    jne .set
    mov rax, irq
.set:
    call set_gate
    inc ecx
    cmp ecx, 256
    jb .gate
    LOAD_IDT IDT, IDTR
    sti
    xor ebx, ebx                      ; rbx: the operation's index
next_op:
    cmp rbx, [abs P4_PARAMS + P4V_PARAM_NOPS]
    jae all_done
    mov r12, rbx
    shl r12, 5
    add r12, P4_PARAMS + P4V_PARAM_OPS ; r12: the operation
    mov rax, [r12]
    mov r13, [r12 + 8]                ; r13: a
    mov r14, [r12 + 16]               ; r14: b
    mov r15, [r12 + 24]               ; r15: c
    cmp rax, P4V_OP_COUNT
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
    dq op_write, op_read, op_store16, op_notify, op_kick, op_dump, op_read8, op_mark
    dq op_exit_ticks, op_copy
%if ($ - op_table) / 8 != P4V_OP_COUNT
%error "op_table must have one entry per enum p4v_op"
%endif

; Gate ecx -> handler rax.
set_gate:
    mov rdi, rcx
    shl rdi, 4
    add rdi, IDT
    IDT_GATE
    ret

op_write:
    mov [P4_VIRTIO + r13], r14d
    jmp op_done

op_read:
    mov r15d, [P4_VIRTIO + r13]
    jmp log_read
op_read8:
    xor r15d, r15d
    mov r15b, [P4_VIRTIO + r13]        ; a MOV: kev's decoder takes no MOVZX
log_read:
    pushfq
    cli
    mov rsi, msg_read
    call log_str
    mov rax, r13
    shl rax, 52
    mov ecx, 3
    call log_hex
    mov rsi, msg_colon
    call log_str
    mov eax, r15d
    call log_hex8
    mov al, 10
    call log_char
    popfq
    jmp op_done

op_store16:
    mov [r13], r14w
    jmp op_done

op_notify:
    mov r15, [abs COUNT]
    inc r15                           ; the count waited for
    mov [P4_VIRTIO + VIRTIO_MMIO_QUEUE_NOTIFY], r13d
    TSC
    mov r8, rax
.wait:
    cmp [abs COUNT], r15
    jae op_done
    pause
    TSC
    sub rax, r8
    cmp rax, P4V_WAIT
    jb .wait
    cli
    mov rsi, msg_no_interrupt
    call log_str
    call flush
    TEST_EXIT 1

op_kick:
    mov [P4_VIRTIO + VIRTIO_MMIO_QUEUE_NOTIFY], r13d
    jmp op_done

op_dump:
    call flush
    TEST_PRINT r13, r14
    jmp op_done

op_copy:
    mov rdi, r13
    mov rsi, r14
    mov rcx, r15
    rep movsb
    jmp op_done

op_mark:
    TSC
    mov [abs MARK], rax
    jmp op_done

op_exit_ticks:
    TSC
    sub rax, [abs MARK]
    TEST_EXIT rax

; --- the log --------------------------------------------------------------------------

; Prints the log and empties it.
flush:
    pushfq
    cli
    mov rcx, [abs LOGLEN]
    test rcx, rcx
    jz .done
    TEST_PRINT LOG, rcx
    mov qword [abs LOGLEN], 0
.done:
    popfq
    ret

; Appends al (interrupts off).
log_char:
    mov rdx, [abs LOGLEN]
    cmp rdx, 4096
    jae .full
    mov [LOG + rdx], al
    inc qword [abs LOGLEN]
.full:
    ret

; Appends the NUL-terminated string at rsi.
log_str:
    lodsb
    test al, al
    jz .done
    call log_char
    jmp log_str
.done:
    ret

; Appends eax as 8 hex digits; log_hex: the top ecx digits of rax.
log_hex8:
    shl rax, 32
    mov ecx, 8
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

; --- the interrupt handlers ------------------------------------------------------------

; The device's: what a driver's interrupt handler does (virtio 1.x, 4.2.3.4
; "Notifications From The Device").
irq:
    push rax
    push rcx
    push rdx
    push rsi
    push rdi
    mov edi, [P4_VIRTIO + VIRTIO_MMIO_INTERRUPT_STATUS]
    mov rsi, msg_interrupt
    call log_str
    mov eax, edi
    call log_hex8
    mov al, 10
    call log_char
    mov [P4_VIRTIO + VIRTIO_MMIO_INTERRUPT_ACK], edi
    inc qword [abs COUNT]
    mov ecx, MSR_X2APIC_EOI
    xor eax, eax
    xor edx, edx
    wrmsr
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rax
    iretq

unexpected:
    mov rsi, msg_unexpected
    call log_str
    call flush
    TEST_EXIT 2

hexdigits: db "0123456789abcdef"
msg_read: db "read 0x", 0
msg_colon: db ": 0x", 0
msg_interrupt: db "interrupt: InterruptStatus 0x", 0
msg_no_interrupt: db "no interrupt came after the notification", 10, 0
msg_unexpected: db "an interrupt or exception came with a vector other than the device's", 10, 0
