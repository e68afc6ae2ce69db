/*
 * Every VMCS field kev knows, in one table: the name (Linux's, from the
 * SDM's), the encoding, the width and the SDM's own words. The enum
 * vmcs_field, vmcs_field_name() and the guest-state dump are generated from
 * it. Intel SDM Vol. 3D, Appendix B "Field Encoding in VMCS" (Vol. 3C in
 * older editions).
 *
 * An encoding carries its width in bits 14:13 (0 = 16-bit, 1 = 64-bit,
 * 2 = 32-bit, 3 = natural width) and its type in bits 11:10 (0 control,
 * 1 VM-exit information (read-only), 2 guest state, 3 host state): Vol. 3C,
 * 25.11.2 "VMREAD, VMWRITE, and Encodings of VMCS Fields". vmcs.c checks at
 * compile time that each row's width column agrees with its encoding. Only
 * the "full" encodings of 64-bit fields are listed (kev runs in 64-bit mode
 * and never needs the "high" halves).
 */
#ifndef KEV_VMCS_FIELDS_H
#define KEV_VMCS_FIELDS_H

/* X(name, encoding, width in bits (0 = natural), SDM name) */
#define VMCS_FIELDS(X)                                                                         \
    /* B.1.1 16-bit control fields */                                                          \
    X(VIRTUAL_PROCESSOR_ID, 0x0000, 16, "Virtual-processor identifier (VPID)")                 \
    X(POSTED_INTR_NV, 0x0002, 16, "Posted-interrupt notification vector")                      \
    X(EPTP_INDEX, 0x0004, 16, "EPTP index")                                                    \
    /* B.1.2 16-bit guest-state fields */                                                      \
    X(GUEST_ES_SELECTOR, 0x0800, 16, "Guest ES selector")                                      \
    X(GUEST_CS_SELECTOR, 0x0802, 16, "Guest CS selector")                                      \
    X(GUEST_SS_SELECTOR, 0x0804, 16, "Guest SS selector")                                      \
    X(GUEST_DS_SELECTOR, 0x0806, 16, "Guest DS selector")                                      \
    X(GUEST_FS_SELECTOR, 0x0808, 16, "Guest FS selector")                                      \
    X(GUEST_GS_SELECTOR, 0x080a, 16, "Guest GS selector")                                      \
    X(GUEST_LDTR_SELECTOR, 0x080c, 16, "Guest LDTR selector")                                  \
    X(GUEST_TR_SELECTOR, 0x080e, 16, "Guest TR selector")                                      \
    X(GUEST_INTR_STATUS, 0x0810, 16, "Guest interrupt status")                                 \
    X(GUEST_PML_INDEX, 0x0812, 16, "PML index")                                                \
    /* B.1.3 16-bit host-state fields */                                                       \
    X(HOST_ES_SELECTOR, 0x0c00, 16, "Host ES selector")                                        \
    X(HOST_CS_SELECTOR, 0x0c02, 16, "Host CS selector")                                        \
    X(HOST_SS_SELECTOR, 0x0c04, 16, "Host SS selector")                                        \
    X(HOST_DS_SELECTOR, 0x0c06, 16, "Host DS selector")                                        \
    X(HOST_FS_SELECTOR, 0x0c08, 16, "Host FS selector")                                        \
    X(HOST_GS_SELECTOR, 0x0c0a, 16, "Host GS selector")                                        \
    X(HOST_TR_SELECTOR, 0x0c0c, 16, "Host TR selector")                                        \
    /* B.2.1 64-bit control fields */                                                          \
    X(IO_BITMAP_A, 0x2000, 64, "Address of I/O bitmap A")                                      \
    X(IO_BITMAP_B, 0x2002, 64, "Address of I/O bitmap B")                                      \
    X(MSR_BITMAP, 0x2004, 64, "Address of MSR bitmaps")                                        \
    X(VM_EXIT_MSR_STORE_ADDR, 0x2006, 64, "VM-exit MSR-store address")                         \
    X(VM_EXIT_MSR_LOAD_ADDR, 0x2008, 64, "VM-exit MSR-load address")                           \
    X(VM_ENTRY_MSR_LOAD_ADDR, 0x200a, 64, "VM-entry MSR-load address")                         \
    X(EXECUTIVE_VMCS_POINTER, 0x200c, 64, "Executive-VMCS pointer")                            \
    X(PML_ADDRESS, 0x200e, 64, "PML address")                                                  \
    X(TSC_OFFSET, 0x2010, 64, "TSC offset")                                                    \
    X(VIRTUAL_APIC_PAGE_ADDR, 0x2012, 64, "Virtual-APIC address")                              \
    X(APIC_ACCESS_ADDR, 0x2014, 64, "APIC-access address")                                     \
    X(POSTED_INTR_DESC_ADDR, 0x2016, 64, "Posted-interrupt descriptor address")                \
    X(VM_FUNCTION_CONTROL, 0x2018, 64, "VM-function controls")                                 \
    X(EPT_POINTER, 0x201a, 64, "EPT pointer (EPTP)")                                           \
    X(EOI_EXIT_BITMAP0, 0x201c, 64, "EOI-exit bitmap 0")                                       \
    X(EOI_EXIT_BITMAP1, 0x201e, 64, "EOI-exit bitmap 1")                                       \
    X(EOI_EXIT_BITMAP2, 0x2020, 64, "EOI-exit bitmap 2")                                       \
    X(EOI_EXIT_BITMAP3, 0x2022, 64, "EOI-exit bitmap 3")                                       \
    X(EPTP_LIST_ADDRESS, 0x2024, 64, "EPTP-list address")                                      \
    X(VMREAD_BITMAP, 0x2026, 64, "VMREAD-bitmap address")                                      \
    X(VMWRITE_BITMAP, 0x2028, 64, "VMWRITE-bitmap address")                                    \
    X(VE_INFORMATION_ADDRESS, 0x202a, 64, "Virtualization-exception information address")     \
    X(XSS_EXIT_BITMAP, 0x202c, 64, "XSS-exiting bitmap")                                       \
    X(ENCLS_EXITING_BITMAP, 0x202e, 64, "ENCLS-exiting bitmap")                                \
    X(SPP_TABLE_POINTER, 0x2030, 64, "Sub-page-permission-table pointer")                      \
    X(TSC_MULTIPLIER, 0x2032, 64, "TSC multiplier")                                            \
    X(TERTIARY_VM_EXEC_CONTROL, 0x2034, 64, "Tertiary processor-based VM-execution controls")  \
    /* B.2.2 64-bit read-only data field */                                                    \
    X(GUEST_PHYSICAL_ADDRESS, 0x2400, 64, "Guest-physical address")                            \
    /* B.2.3 64-bit guest-state fields */                                                      \
    X(VMCS_LINK_POINTER, 0x2800, 64, "VMCS link pointer")                                      \
    X(GUEST_IA32_DEBUGCTL, 0x2802, 64, "Guest IA32_DEBUGCTL")                                  \
    X(GUEST_IA32_PAT, 0x2804, 64, "Guest IA32_PAT")                                            \
    X(GUEST_IA32_EFER, 0x2806, 64, "Guest IA32_EFER")                                          \
    X(GUEST_IA32_PERF_GLOBAL_CTRL, 0x2808, 64, "Guest IA32_PERF_GLOBAL_CTRL")                  \
    X(GUEST_PDPTR0, 0x280a, 64, "Guest PDPTE0")                                                \
    X(GUEST_PDPTR1, 0x280c, 64, "Guest PDPTE1")                                                \
    X(GUEST_PDPTR2, 0x280e, 64, "Guest PDPTE2")                                                \
    X(GUEST_PDPTR3, 0x2810, 64, "Guest PDPTE3")                                                \
    X(GUEST_BNDCFGS, 0x2812, 64, "Guest IA32_BNDCFGS")                                         \
    X(GUEST_IA32_RTIT_CTL, 0x2814, 64, "Guest IA32_RTIT_CTL")                                  \
    X(GUEST_IA32_PKRS, 0x2818, 64, "Guest IA32_PKRS")                                          \
    /* B.2.4 64-bit host-state fields */                                                       \
    X(HOST_IA32_PAT, 0x2c00, 64, "Host IA32_PAT")                                              \
    X(HOST_IA32_EFER, 0x2c02, 64, "Host IA32_EFER")                                            \
    X(HOST_IA32_PERF_GLOBAL_CTRL, 0x2c04, 64, "Host IA32_PERF_GLOBAL_CTRL")                    \
    X(HOST_IA32_PKRS, 0x2c06, 64, "Host IA32_PKRS")                                            \
    /* B.3.1 32-bit control fields */                                                          \
    X(PIN_BASED_VM_EXEC_CONTROL, 0x4000, 32, "Pin-based VM-execution controls")                \
    X(CPU_BASED_VM_EXEC_CONTROL, 0x4002, 32, "Primary processor-based VM-execution controls")  \
    X(EXCEPTION_BITMAP, 0x4004, 32, "Exception bitmap")                                        \
    X(PAGE_FAULT_ERROR_CODE_MASK, 0x4006, 32, "Page-fault error-code mask")                    \
    X(PAGE_FAULT_ERROR_CODE_MATCH, 0x4008, 32, "Page-fault error-code match")                  \
    X(CR3_TARGET_COUNT, 0x400a, 32, "CR3-target count")                                       \
    X(VM_EXIT_CONTROLS, 0x400c, 32, "Primary VM-exit controls")                                \
    X(VM_EXIT_MSR_STORE_COUNT, 0x400e, 32, "VM-exit MSR-store count")                          \
    X(VM_EXIT_MSR_LOAD_COUNT, 0x4010, 32, "VM-exit MSR-load count")                            \
    X(VM_ENTRY_CONTROLS, 0x4012, 32, "VM-entry controls")                                      \
    X(VM_ENTRY_MSR_LOAD_COUNT, 0x4014, 32, "VM-entry MSR-load count")                          \
    X(VM_ENTRY_INTR_INFO_FIELD, 0x4016, 32, "VM-entry interruption-information field")         \
    X(VM_ENTRY_EXCEPTION_ERROR_CODE, 0x4018, 32, "VM-entry exception error code")              \
    X(VM_ENTRY_INSTRUCTION_LEN, 0x401a, 32, "VM-entry instruction length")                     \
    X(TPR_THRESHOLD, 0x401c, 32, "TPR threshold")                                              \
    X(SECONDARY_VM_EXEC_CONTROL, 0x401e, 32, "Secondary processor-based VM-execution controls") \
    X(PLE_GAP, 0x4020, 32, "PLE_Gap")                                                          \
    X(PLE_WINDOW, 0x4022, 32, "PLE_Window")                                                    \
    /* B.3.2 32-bit read-only data fields */                                                   \
    X(VM_INSTRUCTION_ERROR, 0x4400, 32, "VM-instruction error")                                \
    X(VM_EXIT_REASON, 0x4402, 32, "Exit reason")                                               \
    X(VM_EXIT_INTR_INFO, 0x4404, 32, "VM-exit interruption information")                       \
    X(VM_EXIT_INTR_ERROR_CODE, 0x4406, 32, "VM-exit interruption error code")                  \
    X(IDT_VECTORING_INFO_FIELD, 0x4408, 32, "IDT-vectoring information field")                 \
    X(IDT_VECTORING_ERROR_CODE, 0x440a, 32, "IDT-vectoring error code")                        \
    X(VM_EXIT_INSTRUCTION_LEN, 0x440c, 32, "VM-exit instruction length")                       \
    X(VMX_INSTRUCTION_INFO, 0x440e, 32, "VM-exit instruction information")                     \
    /* B.3.3 32-bit guest-state fields */                                                      \
    X(GUEST_ES_LIMIT, 0x4800, 32, "Guest ES limit")                                            \
    X(GUEST_CS_LIMIT, 0x4802, 32, "Guest CS limit")                                            \
    X(GUEST_SS_LIMIT, 0x4804, 32, "Guest SS limit")                                            \
    X(GUEST_DS_LIMIT, 0x4806, 32, "Guest DS limit")                                            \
    X(GUEST_FS_LIMIT, 0x4808, 32, "Guest FS limit")                                            \
    X(GUEST_GS_LIMIT, 0x480a, 32, "Guest GS limit")                                            \
    X(GUEST_LDTR_LIMIT, 0x480c, 32, "Guest LDTR limit")                                        \
    X(GUEST_TR_LIMIT, 0x480e, 32, "Guest TR limit")                                            \
    X(GUEST_GDTR_LIMIT, 0x4810, 32, "Guest GDTR limit")                                        \
    X(GUEST_IDTR_LIMIT, 0x4812, 32, "Guest IDTR limit")                                        \
    X(GUEST_ES_AR_BYTES, 0x4814, 32, "Guest ES access rights")                                 \
    X(GUEST_CS_AR_BYTES, 0x4816, 32, "Guest CS access rights")                                 \
    X(GUEST_SS_AR_BYTES, 0x4818, 32, "Guest SS access rights")                                 \
    X(GUEST_DS_AR_BYTES, 0x481a, 32, "Guest DS access rights")                                 \
    X(GUEST_FS_AR_BYTES, 0x481c, 32, "Guest FS access rights")                                 \
    X(GUEST_GS_AR_BYTES, 0x481e, 32, "Guest GS access rights")                                 \
    X(GUEST_LDTR_AR_BYTES, 0x4820, 32, "Guest LDTR access rights")                             \
    X(GUEST_TR_AR_BYTES, 0x4822, 32, "Guest TR access rights")                                 \
    X(GUEST_INTERRUPTIBILITY_INFO, 0x4824, 32, "Guest interruptibility state")                 \
    X(GUEST_ACTIVITY_STATE, 0x4826, 32, "Guest activity state")                                \
    X(GUEST_SMBASE, 0x4828, 32, "Guest SMBASE")                                                \
    X(GUEST_SYSENTER_CS, 0x482a, 32, "Guest IA32_SYSENTER_CS")                                 \
    X(VMX_PREEMPTION_TIMER_VALUE, 0x482e, 32, "VMX-preemption timer value")                    \
    /* B.3.4 32-bit host-state field */                                                        \
    X(HOST_IA32_SYSENTER_CS, 0x4c00, 32, "Host IA32_SYSENTER_CS")                              \
    /* B.4.1 natural-width control fields */                                                   \
    X(CR0_GUEST_HOST_MASK, 0x6000, 0, "CR0 guest/host mask")                                   \
    X(CR4_GUEST_HOST_MASK, 0x6002, 0, "CR4 guest/host mask")                                   \
    X(CR0_READ_SHADOW, 0x6004, 0, "CR0 read shadow")                                           \
    X(CR4_READ_SHADOW, 0x6006, 0, "CR4 read shadow")                                           \
    X(CR3_TARGET_VALUE0, 0x6008, 0, "CR3-target value 0")                                     \
    X(CR3_TARGET_VALUE1, 0x600a, 0, "CR3-target value 1")                                     \
    X(CR3_TARGET_VALUE2, 0x600c, 0, "CR3-target value 2")                                     \
    X(CR3_TARGET_VALUE3, 0x600e, 0, "CR3-target value 3")                                     \
    /* B.4.2 natural-width read-only data fields */                                            \
    X(EXIT_QUALIFICATION, 0x6400, 0, "Exit qualification")                                    \
    X(IO_RCX, 0x6402, 0, "I/O RCX")                                                            \
    X(IO_RSI, 0x6404, 0, "I/O RSI")                                                            \
    X(IO_RDI, 0x6406, 0, "I/O RDI")                                                            \
    X(IO_RIP, 0x6408, 0, "I/O RIP")                                                            \
    X(GUEST_LINEAR_ADDRESS, 0x640a, 0, "Guest-linear address")                                 \
    /* B.4.3 natural-width guest-state fields */                                               \
    X(GUEST_CR0, 0x6800, 0, "Guest CR0")                                                       \
    X(GUEST_CR3, 0x6802, 0, "Guest CR3")                                                       \
    X(GUEST_CR4, 0x6804, 0, "Guest CR4")                                                       \
    X(GUEST_ES_BASE, 0x6806, 0, "Guest ES base")                                               \
    X(GUEST_CS_BASE, 0x6808, 0, "Guest CS base")                                               \
    X(GUEST_SS_BASE, 0x680a, 0, "Guest SS base")                                               \
    X(GUEST_DS_BASE, 0x680c, 0, "Guest DS base")                                               \
    X(GUEST_FS_BASE, 0x680e, 0, "Guest FS base")                                               \
    X(GUEST_GS_BASE, 0x6810, 0, "Guest GS base")                                               \
    X(GUEST_LDTR_BASE, 0x6812, 0, "Guest LDTR base")                                           \
    X(GUEST_TR_BASE, 0x6814, 0, "Guest TR base")                                               \
    X(GUEST_GDTR_BASE, 0x6816, 0, "Guest GDTR base")                                           \
    X(GUEST_IDTR_BASE, 0x6818, 0, "Guest IDTR base")                                           \
    X(GUEST_DR7, 0x681a, 0, "Guest DR7")                                                       \
    X(GUEST_RSP, 0x681c, 0, "Guest RSP")                                                       \
    X(GUEST_RIP, 0x681e, 0, "Guest RIP")                                                       \
    X(GUEST_RFLAGS, 0x6820, 0, "Guest RFLAGS")                                                 \
    X(GUEST_PENDING_DBG_EXCEPTIONS, 0x6822, 0, "Guest pending debug exceptions")               \
    X(GUEST_SYSENTER_ESP, 0x6824, 0, "Guest IA32_SYSENTER_ESP")                                \
    X(GUEST_SYSENTER_EIP, 0x6826, 0, "Guest IA32_SYSENTER_EIP")                                \
    X(GUEST_S_CET, 0x6828, 0, "Guest IA32_S_CET")                                              \
    X(GUEST_SSP, 0x682a, 0, "Guest SSP")                                                       \
    X(GUEST_INTR_SSP_TABLE, 0x682c, 0, "Guest IA32_INTERRUPT_SSP_TABLE_ADDR")                  \
    /* B.4.4 natural-width host-state fields */                                                \
    X(HOST_CR0, 0x6c00, 0, "Host CR0")                                                         \
    X(HOST_CR3, 0x6c02, 0, "Host CR3")                                                         \
    X(HOST_CR4, 0x6c04, 0, "Host CR4")                                                         \
    X(HOST_FS_BASE, 0x6c06, 0, "Host FS base")                                                 \
    X(HOST_GS_BASE, 0x6c08, 0, "Host GS base")                                                 \
    X(HOST_TR_BASE, 0x6c0a, 0, "Host TR base")                                                 \
    X(HOST_GDTR_BASE, 0x6c0c, 0, "Host GDTR base")                                             \
    X(HOST_IDTR_BASE, 0x6c0e, 0, "Host IDTR base")                                             \
    X(HOST_IA32_SYSENTER_ESP, 0x6c10, 0, "Host IA32_SYSENTER_ESP")                             \
    X(HOST_IA32_SYSENTER_EIP, 0x6c12, 0, "Host IA32_SYSENTER_EIP")                             \
    X(HOST_RSP, 0x6c14, 0, "Host RSP")                                                         \
    X(HOST_RIP, 0x6c16, 0, "Host RIP")                                                         \
    X(HOST_S_CET, 0x6c18, 0, "Host IA32_S_CET")                                                \
    X(HOST_SSP, 0x6c1a, 0, "Host SSP")                                                         \
    X(HOST_INTR_SSP_TABLE, 0x6c1c, 0, "Host IA32_INTERRUPT_SSP_TABLE_ADDR")

#endif
