/*
 * Functions of the user runtime for kev's own tests: one that does nothing,
 * for the benchmark of an upcall round trip (kev_bench_upcall in
 * kev/tests.c: what entering ring 3 and coming back costs, with no student
 * code in the way), and one that writes a word where it is told, as
 * student code may (kev's EPT tests: a table rewritten between two exits
 * must be noticed).
 */
#include "kernel/types.h"

uint64_t ulib_bench_null(uint64_t x);
uint64_t ulib_test_poke(uint64_t addr, uint64_t value);

uint64_t ulib_bench_null(uint64_t x)
{
    return x + 1;
}

uint64_t ulib_test_poke(uint64_t addr, uint64_t value)
{
    *(volatile uint64_t *)(uintptr_t)addr = value;
    return 0;
}
