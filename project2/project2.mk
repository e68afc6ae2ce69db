# project2/: hypercalls. Every .c file here is part of the kernel;
# hypercall.c is the student's (SOLUTION=1 builds its reference solution).
KERNEL_C += $(wildcard project2/*.c)
