; Print of zero bytes prints nothing and returns; then HaltCpu(0).
%include "guests/project2/hypercall.inc"
bits 64
org GUEST_CODE

    PRINT MSG_ADDR, 0
    HALT 0
