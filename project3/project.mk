# project3/: "Hardware virtualization". Its student files are compiled for
# ring 3 into the user image (user/user.mk), -DSOLUTION when SOLUTION names
# 3; every other .c file here is given kernel code.
STUDENT_FILES_3 := project3/ept.c
# The student functions the framework calls (upcalls).
ENTRIES_3 := ept_map ept_unmap ept_translate ept_gva_to_hpa
# The headers student files may include (the autograder rejects others).
ALLOWED_HEADERS_3 := project3/ept.h kev/kev.h kernel/types.h kernel/printk.h kernel/panic.h \
                     kernel/string.h kernel/mm.h
KERNEL_C += $(filter-out $(STUDENT_FILES_3),$(wildcard project3/*.c))
