# project2/: "VMCS and VM exits". Its student files are compiled for ring 3
# into the user image (user/user.mk), -DSOLUTION when SOLUTION names 2;
# every other .c file here is given kernel code.
STUDENT_FILES_2 := project2/hypercall.c project2/entry.c project2/pio.c
# The student functions the framework calls (upcalls).
ENTRIES_2 := hypercall_resolve hypercall_handle entry_setup pio_decode pio_handle
# Given pure code student code may call too (compiled into both images).
ULIB_SHARED += project2/hypercall_table.c
KERNEL_C += $(filter-out $(STUDENT_FILES_2),$(wildcard project2/*.c))
