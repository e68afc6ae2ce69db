; minos's boot: the two ways in, one 64-bit kernel.
;
; Natively GRUB (multiboot2) enters mb2_entry in 32-bit protected mode with
; paging off, EAX = 0x36d76289 and EBX = the boot information's physical
; address (Multiboot2 spec, 3.3 "I386 machine state"); the header's entry
; address tag names mb2_entry, so GRUB does not use the ELF's e_entry. The
; stub identity-maps the first 1 GiB, enters long mode (Intel SDM Vol. 3A,
; 10.8.5 "Initializing IA-32e Mode") and jumps to _start.
;
; Under kev the VM starts at the ELF's e_entry, _start, already in 64-bit
; mode on an identity map the hypervisor built, with the same EAX and EBX
; (the hypervisor builds a multiboot2 information of its own): a 64-bit
; boot protocol, as Linux's, so kev needs no unrestricted guest. From
; _start on both boots run the same code: minos loads its own GDT, its own
; page tables (in .bss: under kev the first touches are EPT violations of
; the loader), its own stack, and calls kmain(magic, info).

MB2_MAGIC     equ 0xe85250d6
MB2_ARCH_I386 equ 0
MB2_TAG_ENTRY equ 3

CR0_PG   equ 1 << 31
CR4_PAE  equ 1 << 5
EFER_MSR equ 0xc0000080
EFER_LME equ 1 << 8
PTE_P    equ 1 << 0
PTE_W    equ 1 << 1
PTE_PS   equ 1 << 7
STACK_SIZE equ 8192

extern kmain

section .multiboot2 progbits alloc noexec nowrite align=8
mb2_header:
    dd MB2_MAGIC
    dd MB2_ARCH_I386
    dd mb2_header_end - mb2_header
    dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    align 8
    dw MB2_TAG_ENTRY, 0         ; entry address tag: natively, start at mb2_entry
    dd 12
    dd mb2_entry
    align 8
    dw 0, 0                     ; end tag
    dd 8
mb2_header_end:

section .text
bits 32
mb2_entry:
    cli
    mov esi, eax                ; kept for _start
    mov edi, ebx
    ; Boot tables in .bss: PML4[0] -> PDPT[0] -> PD of 512 2 MiB pages.
    mov eax, boot_pdpt
    or eax, PTE_P | PTE_W
    mov [boot_pml4], eax
    mov eax, boot_pd
    or eax, PTE_P | PTE_W
    mov [boot_pdpt], eax
    xor ecx, ecx
.pd:
    mov eax, ecx
    shl eax, 21
    or eax, PTE_P | PTE_W | PTE_PS
    mov [boot_pd + ecx * 8], eax
    inc ecx
    cmp ecx, 512
    jb .pd
    mov eax, boot_pml4
    mov cr3, eax
    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov ecx, EFER_MSR
    rdmsr
    or eax, EFER_LME
    wrmsr
    mov eax, cr0
    or eax, CR0_PG
    mov cr0, eax
    lgdt [gdt_ptr]
    jmp 0x08:.long
bits 64
.long:
    mov eax, esi
    mov ebx, edi
    ; fall into _start with EAX and EBX as GRUB gave them

; The ELF entry point: 64-bit, EAX = the multiboot2 magic, EBX = the info.
global _start
_start:
    cli
    mov rsp, stack_top          ; before anything is pushed: no boot protocol gives a stack
    mov r12d, eax
    mov r13d, ebx
    lgdt [gdt_ptr]
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    lea rax, [rel .cs]
    push 0x08
    push rax
    retfq
.cs:
    ; minos's own tables: the first 4 MiB, identity-mapped in 4 KiB pages.
    lea rdi, [rel os_pml4]
    lea rax, [rel os_pdpt]
    or rax, PTE_P | PTE_W
    mov [rdi], rax
    lea rdi, [rel os_pdpt]
    lea rax, [rel os_pd]
    or rax, PTE_P | PTE_W
    mov [rdi], rax
    lea rdi, [rel os_pd]
    lea rax, [rel os_pt]
    or rax, PTE_P | PTE_W
    mov [rdi], rax
    add rax, 4096
    mov [rdi + 8], rax
    lea rdi, [rel os_pt]
    xor ecx, ecx
.pt:
    mov rax, rcx
    shl rax, 12
    or rax, PTE_P | PTE_W
    mov [rdi + rcx * 8], rax
    inc ecx
    cmp ecx, 1024
    jb .pt
    lea rax, [rel os_pml4]
    mov cr3, rax
    mov edi, r12d
    mov esi, r13d
    call kmain
.halt:
    hlt
    jmp .halt

section .rodata
align 8
gdt:
    dq 0
    dq 0x00af9b000000ffff       ; 0x08: 64-bit code, present, DPL 0
    dq 0x00cf93000000ffff       ; 0x10: data
gdt_end:
gdt_ptr:
    dw gdt_end - gdt - 1
    dq gdt

section .bss
align 4096
boot_pml4: resb 4096
boot_pdpt: resb 4096
boot_pd:   resb 4096
os_pml4:   resb 4096
global os_pdpt
os_pdpt:   resb 4096
os_pd:     resb 4096
os_pt:     resb 8192
stack:     resb STACK_SIZE
stack_top:
