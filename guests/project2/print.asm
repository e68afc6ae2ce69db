; Print(message), then HaltCpu(0). The message is the test's (any bytes).
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

    PRINT MSG_ADDR, PARAM(MSG_LEN)
    HALT 0
