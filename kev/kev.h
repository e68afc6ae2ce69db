/*
 * kev: the layer over Intel VMX that every project of the course programs
 * against. This header brings in all of it; docs/kev.md is the guide.
 *
 *   kev/error.h   errors as values: enum kev_error, kev_strerror
 *   kev/addr.h    gva_t, gpa_t: guest addresses the compiler keeps apart
 *   kev/vmx.h     enabling VMX, capabilities, controls, VMX instructions
 *   kev/vmcs.h    VMCS fields, width-checked access, forward_rip
 *   kev/exit.h    exit reasons, vmexit_result, vmexit_controller
 *   kev/vcpu.h    struct vcpu_state: registers + active VMCS + VM
 *   kev/vm.h      VMs: create, run, join; vm_exit and vm_stop
 *   kev/probe.h   safe access to guest memory
 *   kev/guest.h   the flat 64-bit guest builder (no EPT)
 *   kev/ept.h     EPT: spaces of table and guest pages, the walk, the check
 *   kev/printer.h the PrinterProxy: guest output, echoed and captured
 */
#ifndef KEV_KEV_H
#define KEV_KEV_H

#include "kev/addr.h"
#include "kev/ept.h"
#include "kev/error.h"
#include "kev/exit.h"
#include "kev/guest.h"
#include "kev/printer.h"
#include "kev/probe.h"
#include "kev/vcpu.h"
#include "kev/vm.h"
#include "kev/vmcs.h"
#include "kev/vmx.h"

/* Prints every VM exit when the command line says kev.trace=1. */
extern bool kev_trace;

#endif
