; Boot: from GRUB's 32-bit protected mode to 64-bit C.
;
; GRUB (multiboot2) enters _start in 32-bit protected mode with paging off,
; EAX = the multiboot2 magic and EBX = the boot information's address.
; We build an identity map of the first 4 GiB with 2 MiB pages, enable PAE,
; long mode (EFER.LME) and paging, load a 64-bit GDT and jump to kmain.
; Intel SDM Vol. 3A, 10.8.5 "Initializing IA-32e Mode".
;
; CR0.NE is set on purpose: GRUB leaves it clear, and VMXON requires it
; (Vol. 3C, 24.8 "Restrictions on VMX Operation": the IA32_VMX_CR0_FIXED0
; MSR reports NE as fixed to 1).

MB2_MAGIC    equ 0xe85250d6
MB2_ARCH_I386 equ 0

CR0_PE equ 1 << 0
CR0_MP equ 1 << 1
CR0_NE equ 1 << 5
CR0_WP equ 1 << 16
CR0_PG equ 1 << 31
CR4_PAE equ 1 << 5
EFER_MSR equ 0xc0000080
EFER_LME equ 1 << 8
EFER_NXE equ 1 << 11

PTE_P  equ 1 << 0
PTE_W  equ 1 << 1
PTE_PS equ 1 << 7

BOOT_STACK_SIZE equ 16384

section .multiboot2
align 8
mb2_header:
    dd MB2_MAGIC
    dd MB2_ARCH_I386
    dd mb2_header_end - mb2_header
    dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    ; end tag
    dw 0
    dw 0
    dd 8
mb2_header_end:

section .text.boot
bits 32
global _start
_start:
    cli
    mov esp, boot_stack_top
    mov [boot_magic], eax
    mov [boot_info], ebx

    ; Long mode needs CPUID leaf 0x80000001 EDX bit 29.
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .no_long_mode
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 29
    jz .no_long_mode

    ; PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages.
    mov eax, boot_pdpt
    or eax, PTE_P | PTE_W
    mov [boot_pml4], eax
    mov ecx, 0
.fill_pdpt:
    mov eax, ecx
    shl eax, 12
    add eax, boot_pd
    or eax, PTE_P | PTE_W
    mov [boot_pdpt + ecx * 8], eax
    inc ecx
    cmp ecx, 4
    jb .fill_pdpt

    mov ecx, 0                  ; 2048 entries: 4 GiB
.fill_pd:
    mov eax, ecx
    shl eax, 21                 ; low 32 bits of the address
    or eax, PTE_P | PTE_W | PTE_PS
    mov [boot_pd + ecx * 8], eax
    mov eax, ecx
    shr eax, 11                 ; bits 32 and up
    mov [boot_pd + ecx * 8 + 4], eax
    inc ecx
    cmp ecx, 2048
    jb .fill_pd

    mov eax, boot_pml4
    mov cr3, eax
    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov ecx, EFER_MSR
    rdmsr
    or eax, EFER_LME | EFER_NXE
    wrmsr
    mov eax, cr0
    or eax, CR0_PE | CR0_MP | CR0_NE | CR0_WP | CR0_PG
    mov cr0, eax

    lgdt [boot_gdt_ptr]
    jmp 0x08:long_mode

.no_long_mode:
    ; Say so on COM1 (unconfigured, which QEMU and Bochs accept) and stop.
    mov esi, no_long_mode_msg
.putc:
    lodsb
    test al, al
    jz .halt
    mov dx, 0x3f8
    out dx, al
    jmp .putc
.halt:
    hlt
    jmp .halt

bits 64
long_mode:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor ax, ax
    mov fs, ax
    mov gs, ax
    mov rsp, boot_stack_top
    xor ebp, ebp                ; the backtrace stops at a zero frame pointer
    mov edi, [boot_magic]
    mov esi, [boot_info]
    extern kmain
    call kmain
.hang:
    cli
    hlt
    jmp .hang

section .rodata
no_long_mode_msg: db "kevlab: this CPU has no 64-bit long mode; kevlab needs an x86-64 CPU.", 13, 10, 0

align 8
boot_gdt:
    dq 0
    dq 0x00af9a000000ffff       ; 0x08: 64-bit code, DPL 0
    dq 0x00cf92000000ffff       ; 0x10: data
boot_gdt_end:
boot_gdt_ptr:
    dw boot_gdt_end - boot_gdt - 1
    dq boot_gdt

section .data
boot_magic: dd 0
boot_info: dd 0

section .bss
align 4096
global boot_pml4
boot_pml4: resb 4096
boot_pdpt: resb 4096
boot_pd: resb 4096 * 4
; A page paging_init leaves unmapped: a kernel stack overflow faults (a
; double fault on the IST stack, reported) instead of overwriting boot_pd.
global boot_stack_guard, boot_stack_bottom, boot_stack_top
boot_stack_guard: resb 4096
boot_stack_bottom: resb BOOT_STACK_SIZE
boot_stack_top:
