/*
 * kev's errors, as values: every kev function that can fail returns an
 * enum kev_error (KEV_OK = 0). The table below is the one place an error is
 * defined; the enum, kev_error_name() ("KEV_ENOVMX") and kev_strerror() (a
 * sentence for the person reading the log) are generated from it.
 */
#ifndef KEV_ERROR_H
#define KEV_ERROR_H

#include "kernel/types.h"

/* X(name, sentence) */
#define KEV_ERRORS(X)                                                                   \
    X(KEV_OK, "success")                                                                \
    X(KEV_ENOVMX, "this CPU has no VMX (QEMU's TCG and AMD CPUs have none): boot with "  \
                  "BACKEND=bochs, or BACKEND=qemu-kvm on an Intel host with nested VMX") \
    X(KEV_EVMXDISABLED, "the firmware locked IA32_FEATURE_CONTROL with VMX outside SMX off") \
    X(KEV_ENOMEM, "out of memory")                                                      \
    X(KEV_EINVAL, "invalid argument")                                                   \
    X(KEV_EVMXON, "VMXON failed")                                                       \
    X(KEV_EVMFAIL, "a VMX instruction failed (VMfailInvalid or VMfailValid)")           \
    X(KEV_ECONTROL, "a VMX control kev needs is not supported by this CPU")             \
    X(KEV_EGUEST_STATE, "the guest state is invalid (kev's check before VM entry)")     \
    X(KEV_EENTRY, "VM entry failed")                                                    \
    X(KEV_EUNHANDLED, "a VM exit no controller handled")                                \
    X(KEV_EGUEST_FAULT, "the guest caused an exception or a triple fault")              \
    X(KEV_EHYPERCALL, "the guest made an invalid hypercall")                            \
    X(KEV_EUNMAPPED, "the guest address is not mapped")                                 \
    X(KEV_ENONCANONICAL, "the guest virtual address is not canonical")                  \
    X(KEV_EOVERFLOW, "the guest address range wraps around")                            \
    X(KEV_ENOTGUESTMEM, "the guest-physical address is not memory of this VM")          \
    X(KEV_EPAGINGMODE, "the guest's paging mode is not supported (only 4-level paging)") \
    X(KEV_EREADONLY, "the guest page is not writable")                                  \
    X(KEV_EEXIST, "it exists already (a guest address mapped, an MSR registered)")        \
    X(KEV_ESTOPPED, "the VM has stopped already")                                      \
    X(KEV_ESTUDENT, "your code stopped: a fault, panic(), TODO(), assert(), a bad pointer " \
                    "or an endless loop (the message says which, and where)")         \
    X(KEV_ETIMEOUT, "the guest ran past its budget (it never stops, or loops on an exit)") \
    X(KEV_EGUEST_PAGING, "the guest tried to change its page tables or paging mode, which kev " \
                         "refuses without EPT")                                         \
    X(KEV_EALIGN, "the address is not page-aligned")                                    \
    X(KEV_EPERM, "the permissions are not a set the CPU supports (a write or an "       \
                 "execute permission needs read, unless the CPU has execute-only pages)") \
    X(KEV_ENOEXEC, "the guest page is not executable")                                  \
    X(KEV_EEPT, "the EPT is malformed, or maps memory that is not the VM's (the "       \
                "message names the entry)")                                             \
    X(KEV_EEPT_VIOLATION, "the guest accessed guest-physical memory its EPT does not "  \
                          "allow, and no controller handled the EPT violation")  \
    X(KEV_EIOPORT, "the guest used an I/O port that no device owns")                    \
    X(KEV_EEMPTY, "the device has nothing to read (an IN from an empty queue, an RDMSR " \
                 "of an empty stack)")                                                  \
    X(KEV_EMMIO, "the guest accessed a device's memory-mapped registers the wrong way " \
                 "(a size other than the register's, or an address with no register)") \
    X(KEV_ENOTSUP, "the guest asked for something this virtual hardware does not emulate " \
                   "(the message says what)")                                        \
    X(KEV_EVIRTIO, "the guest's virtio driver broke a rule the virtio spec lets a device "  \
                   "give up on (a virtqueue that is not one, a chain with no status byte: "  \
                   "the message says which)")                                     \
    X(KEV_EELF, "the file is not an ELF executable that can be loaded (the message says " \
                "what is wrong with it)")

enum kev_error {
#define KEV_ERROR_ENUM(name, text) name,
    KEV_ERRORS(KEV_ERROR_ENUM)
#undef KEV_ERROR_ENUM
    KEV_ERROR_COUNT
};

/* Evaluates expr, an enum kev_error, and returns it from the calling
 * function unless it is KEV_OK. */
#define KEV_TRY(expr)                                                                       \
    do {                                                                                    \
        enum kev_error e_ = (expr);                                                         \
        if (e_ != KEV_OK)                                                                   \
            return e_;                                                                      \
    } while (0)

/* "KEV_ENOVMX"; "KEV_E?" for a value outside the table. */
const char *kev_error_name(enum kev_error e);
/* The sentence of the table above. */
const char *kev_strerror(enum kev_error e);

#endif
