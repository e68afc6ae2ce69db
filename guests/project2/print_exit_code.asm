; Print(message), then HaltCpu(code): output and a non-zero exit together.
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

    PRINT MSG_ADDR, PARAM(MSG_LEN)
    HALT PARAM(CODE)
