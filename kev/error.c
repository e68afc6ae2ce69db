/*
 * Names and sentences for kev's errors, generated from the one table in
 * kev/error.h.
 */
#include "kev/error.h"

static const char *const names[] = {
#define KEV_ERROR_NAME(name, text) [name] = #name,
    KEV_ERRORS(KEV_ERROR_NAME)
#undef KEV_ERROR_NAME
};

static const char *const texts[] = {
#define KEV_ERROR_TEXT(name, text) [name] = text,
    KEV_ERRORS(KEV_ERROR_TEXT)
#undef KEV_ERROR_TEXT
};

const char *kev_error_name(enum kev_error e)
{
    return (unsigned)e < KEV_ERROR_COUNT ? names[e] : "KEV_E?";
}

const char *kev_strerror(enum kev_error e)
{
    return (unsigned)e < KEV_ERROR_COUNT ? texts[e] : "unknown kev error";
}
