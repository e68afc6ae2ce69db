; A hypercall number the hypervisor does not know (the test's nr): the VM
; must stop with an error naming it. Coming back is a bug: exit 0xBAD.
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

    mov rax, PARAM(NR)
    vmcall
    HALT 0xBAD
