/*
 * Boot modules (kernel/module.h): a copy of what GRUB's module tags say,
 * made before the page allocator starts so that it can keep their pages.
 */
#include "kernel/module.h"
#include "kernel/multiboot.h"
#include "kernel/printk.h"
#include "kernel/string.h"

#define MODULES_END 0x100000000ULL /* the identity map ends at 4 GiB */

static struct boot_module modules[MODULE_MAX];
static size_t nmodules;

static void record(const struct mb_module *m, void *arg)
{
    (void)arg;
    size_t len = strlen(m->string);
    const char *why = NULL;
    if (nmodules == MODULE_MAX)
        why = "more than MODULE_MAX modules";
    else if (len == 0 || len >= MODULE_NAME_MAX)
        why = "its name is empty or MODULE_NAME_MAX bytes or longer";
    else if (m->end > MODULES_END)
        why = "it lies above 4 GiB, outside the identity map";
    if (why != NULL) {
        printk("kevlab: boot module \"%s\" at 0x%lx left out: %s\n", m->string,
               (unsigned long)m->start, why);
        return;
    }
    struct boot_module *b = &modules[nmodules++];
    memcpy(b->name, m->string, len + 1);
    b->start = (paddr_t)m->start;
    b->size = (size_t)(m->end - m->start);
}

void module_init(const struct multiboot_info *mb)
{
    nmodules = 0;
    multiboot_modules(mb, record, NULL);
}

const struct boot_module *module_find(const char *name)
{
    for (size_t i = 0; i < nmodules; i++)
        if (strcmp(modules[i].name, name) == 0)
            return &modules[i];
    return NULL;
}

size_t module_count(void)
{
    return nmodules;
}

const struct boot_module *module_at(size_t i)
{
    return i < nmodules ? &modules[i] : NULL;
}
