; The entry-state tests' guest. The builder loads it anywhere (a page drawn
; at random, after a sled of ud2 of random length) and moves the guest's
; page table too: it runs only if entry_setup() set GUEST_RIP to its first
; instruction and GUEST_CR3 to its PML4. It reads the case's code through
; those page tables and ends with it. Position-independent: no org, only
; absolute addresses of the parameter page.
%include "guests/project2/hypercall.inc"
bits 64

    TEST_EXIT PARAM(CODE)
