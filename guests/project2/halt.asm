; HaltCpu(code): the VM must end with the case's exit code, all 64 bits.
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

    HALT PARAM(CODE)
