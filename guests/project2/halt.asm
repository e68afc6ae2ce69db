; HaltCpu(code): the VM exits with the code the test wrote. Nothing printed.
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

    HALT PARAM(CODE)
