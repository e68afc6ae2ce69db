/*
 * The lookups made from the hypercall table (project2/hypercall.h): given
 * code that student code may call too, so it is compiled into the kernel
 * and the user image both (project2/project.mk).
 */
#include "project2/hypercall.h"

static const struct {
    const char *name;
    int nargs;
} hypercalls[] = {
#define HC_ENTRY(nr, id, name, nargs) [nr] = {name, nargs},
    HYPERCALL_TABLE(HC_ENTRY)
#undef HC_ENTRY
};

const char *hypercall_name(uint64_t nr)
{
    return nr < ARRAY_SIZE(hypercalls) ? hypercalls[nr].name : NULL;
}

int hypercall_nargs(uint64_t nr)
{
    return hypercall_name(nr) ? hypercalls[nr].nargs : -1;
}
