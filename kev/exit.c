/*
 * Exit-reason names, generated from the table in kev/exit.h. Lookups are
 * bounds-checked: a newer CPU may report a reason past the table's end.
 */
#include "kev/exit.h"

struct reason_name {
    const char *name, *sdm;
};

static const struct reason_name reasons[] = {
#define EXIT_REASON_ROW(name, num, sdm) [num] = {#name, sdm},
    EXIT_REASONS(EXIT_REASON_ROW)
#undef EXIT_REASON_ROW
};

const char *exit_reason_name(uint32_t basic)
{
    if (basic < ARRAY_SIZE(reasons) && reasons[basic].name)
        return reasons[basic].name;
    return "unknown";
}

const char *exit_reason_sdm_name(uint32_t basic)
{
    if (basic < ARRAY_SIZE(reasons) && reasons[basic].sdm)
        return reasons[basic].sdm;
    return "unknown exit reason (not in SDM Vol. 3D, Appendix C as kev knows it)";
}

static const char *const intr_types[8] = {
#define INTR_TYPE_ROW(n, name, text) [n] = text,
    INTR_TYPES(INTR_TYPE_ROW)
#undef INTR_TYPE_ROW
};

const char *intr_type_name(unsigned type)
{
    return type < 8 && intr_types[type] ? intr_types[type] : "reserved";
}

const char *vmexit_action_name(enum vmexit_action a)
{
    switch (a) {
    case VMEXIT_CONTINUE:
        return "vmexit_continue()";
    case VMEXIT_PASS:
        return "vmexit_pass()";
    case VMEXIT_EXIT:
        return "vm_exit()";
    case VMEXIT_ERROR:
        return "an error without vm_stop()";
    }
    return "no vmexit_result at all";
}
