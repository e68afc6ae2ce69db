# project2/: "VMCS and VM exits". Its student files are compiled for ring 3
# into the user image (user/user.mk), -DSOLUTION when SOLUTION names 2;
# every other .c file here is given kernel code, but USER_GIVEN_2's.
STUDENT_FILES_2 := project2/hypercall.c project2/entry.c project2/msr.c
# The functions in the user image the framework calls (upcalls): the
# students', and the given user-side code's that calls theirs (msr_dev.c).
ENTRIES_2 := hypercall_resolve hypercall_handle entry_setup msr_user_setup msr_user_exit
# The headers student files may include (the autograder rejects others).
ALLOWED_HEADERS_2 := project2/hypercall.h project2/entry.h project2/msr.h kev/kev.h \
                     kernel/types.h kernel/printk.h kernel/panic.h kernel/string.h kernel/mm.h
# Given code that runs in ring 3 only, beside the students' (the MSR devices
# and the VM's registry, whose functions call theirs).
USER_GIVEN_2 := project2/msr_dev.c
# Given pure code student code may call too (compiled into both images),
# and the user-only given code.
ULIB_SHARED += project2/hypercall_table.c $(USER_GIVEN_2)
KERNEL_C += $(filter-out $(STUDENT_FILES_2) $(USER_GIVEN_2),$(wildcard project2/*.c))
