/*
 * A function that does nothing, for kev's benchmark of an upcall round trip
 * (kev_bench_upcall in kev/tests.c): what entering ring 3 and coming back
 * costs, with no student code in the way.
 */
#include "kernel/types.h"

uint64_t ulib_bench_null(uint64_t x);

uint64_t ulib_bench_null(uint64_t x)
{
    return x + 1;
}
