/*
 * Student code at CPL 3: its memory, the upcall into it, the syscall entry
 * from it, and the way out when it goes wrong (kernel/user.h says what
 * each is for). Entering and leaving ring 3 is kernel/user.asm; the
 * syscall table is generated from user/syscalls.tbl (scripts/syscalls.py).
 *
 * The upcall runs on the kernel stack it was called from: the TSS's RSP0
 * points just below the caller's frame, so a trap or syscall from ring 3
 * pushes its frame there, and stopping the upcall is a jump back to the
 * saved stack pointer (a longjmp). Nothing in between holds a resource:
 * the syscalls check their arguments before they allocate anything.
 */
#include "kernel/user.h"
#include "kernel/gdt.h"
#include "kernel/ksyms.h"
#include "kernel/lapic.h"
#include "kernel/mm.h"
#include "kernel/paging.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/syscall.h"
#include "kernel/trap.h"
#include "kernel/x86.h"

/* The user image's sections (kernel/linker.ld). */
extern char __user_text_start[], __user_text_end[], __user_rodata_start[], __user_rodata_end[];
extern char __user_data_start[], __user_data_end[], __user_bss_start[], __user_bss_end[];
/* user/entry.asm: where a student function returns to. */
extern char user_upcall_return[];
/* user/user.ld: the runtime's code follows the student's. */
extern char __ulib_text_start[];

/* kernel/user.asm */
struct user_ret {
    uint64_t rax, rdx;
};
struct user_ret user_enter(uint64_t fn, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4);
__noreturn void user_resume_stopped(void);
uint64_t user_kernel_rsp;  /* the kernel's stack pointer inside user_enter */
uint64_t user_entry_rsp;   /* the user stack pointer user_enter starts fn with */
uint64_t *user_tss_rsp0;   /* the TSS's RSP0 field */

#define CR4_SMEP (1UL << 20)
#define CR4_SMAP (1UL << 21)
#define FRAME_ROOM (16 * 1024) /* of the stack's top, for user_push */
#define HANDLES_MAX 16
#define BACKTRACE_MAX 16

uint64_t user_calls;
static bool smep, smap;
static uint8_t *data_copy;           /* .user.data as the image had it */
static paddr_t stack_pages[USER_STACK_PAGES];
static uint64_t *top_slot; /* the stack's last word, where an upcall without arguments on the stack returns from */
static uint64_t lowest_frame = USER_STACK_TOP; /* the lowest user_push since user_reset */
static paddr_t heap_pages[USER_HEAP_PAGES];
static size_t heap_used;             /* pages mapped from USER_HEAP_BASE */
static size_t window_used;           /* slots mapped from USER_WINDOW_BASE this upcall */
static bool window_writable[USER_WINDOW_PAGES];
struct handle {
    uint64_t key; /* the number, or the bound user address */
    void *object;
    const char *kind;
};
static struct handle handles[HANDLES_MAX], bound[HANDLES_MAX];
static size_t nhandles, nbound;
static uint64_t handles_made; /* this test's: a handle's number is never given twice */
static uint64_t budget_ticks = USER_BUDGET_TICKS, total_ticks = USER_TOTAL_TICKS;
static uint32_t budget_counts; /* budget_ticks in LAPIC timer counts */

static struct trap_frame *syscall_frame; /* of the syscall being served */

/* The upcall being run. */
static struct {
    bool active;
    uint64_t fn;
    uint64_t frame;                  /* user_push's cursor (grows down) */
    const char *syscall;             /* the syscall being served, for messages */
    enum user_status status;
    char message[USER_MESSAGE_MAX];
    uint64_t start;                  /* the TSC at its first syscall (0: none yet) */
    uint64_t progress;               /* the TSC when its last syscall returned */
} cur;

/* With SMAP the kernel touches user pages only between stac and clac
 * (RFLAGS.AC set). Nested uses keep the outer one's AC. */
#define RFLAGS_AC (1UL << 18)
static inline void stac(void)
{
    if (smap)
        __asm__ volatile("stac" ::: "memory", "cc");
}
static inline void clac(void)
{
    if (smap)
        __asm__ volatile("clac" ::: "memory", "cc");
}
static inline bool access_begin(void)
{
    bool was = smap && (read_rflags() & RFLAGS_AC);
    stac();
    return was;
}
static inline void access_end(bool was)
{
    if (!was)
        clac();
}

uint64_t user_budget_ticks(void)
{
    return budget_ticks;
}

const char *user_protection(void)
{
    static const char *const words[2][2] = {
        {"no SMEP, no SMAP (this CPU model has neither; ring 3 is still walled off by the page tables)",
         "SMAP, no SMEP (this CPU model lacks SMEP)"},
        {"SMEP, no SMAP (this CPU model lacks SMAP)", "SMEP and SMAP"},
    };
    return words[smep][smap];
}

bool user_active(void)
{
    return cur.active;
}

/* --- memory -------------------------------------------------------------- */

static bool inside(uint64_t p, size_t n, uint64_t lo, uint64_t hi)
{
    return p >= lo && p <= hi && n <= hi - p;
}

/* [p, p+n) in the physical window, every page lent (and writable). */
static bool phys_lent(uint64_t p, size_t n, bool write)
{
    if (!inside(p, n, USER_PHYS_BASE, USER_PHYS_BASE + USER_PHYS_LIMIT))
        return false;
    for (uint64_t a = ALIGN_DOWN(p, PAGE_SIZE); a < p + n; a += PAGE_SIZE) {
        uint64_t flags;
        if (pt_walk(kernel_pml4(), a, NULL, &flags) != 0 || !(flags & PTE_U) ||
            (write && !(flags & PTE_W)))
            return false;
    }
    return true;
}

bool user_writable(uint64_t p, size_t n)
{
    if (n == 0)
        return true;
    if (p + n < p)
        return false;
    if (inside(p, n, (uint64_t)__user_data_start, (uint64_t)__user_bss_end) ||
        inside(p, n, USER_STACK_TOP - USER_STACK_PAGES * PAGE_SIZE, USER_STACK_TOP) ||
        inside(p, n, USER_HEAP_BASE, USER_HEAP_BASE + heap_used * PAGE_SIZE))
        return true;
    if (phys_lent(p, n, true))
        return true;
    /* A window slot range: every page must be mapped writable. */
    if (!inside(p, n, USER_WINDOW_BASE, USER_WINDOW_BASE + window_used * PAGE_SIZE))
        return false;
    for (uint64_t a = ALIGN_DOWN(p, PAGE_SIZE); a < p + n; a += PAGE_SIZE)
        if (!window_writable[(a - USER_WINDOW_BASE) / PAGE_SIZE])
            return false;
    return true;
}

bool user_readable(uint64_t p, size_t n)
{
    if (n == 0)
        return true;
    if (p + n < p)
        return false;
    return inside(p, n, (uint64_t)__user_text_start, (uint64_t)__user_rodata_end) ||
           inside(p, n, USER_WINDOW_BASE, USER_WINDOW_BASE + window_used * PAGE_SIZE) ||
           phys_lent(p, n, false) || user_writable(p, n);
}

/* The string is checked a page at a time (a check per byte made a 100-byte
 * vm_stop() message cost 8,000 instructions); where a region of the
 * student's ends inside a page, byte by byte. */
long user_string(uint64_t p, size_t max)
{
    for (size_t n = 0; n < max;) {
        uint64_t a = p + n;
        size_t run = PAGE_SIZE - (a & (PAGE_SIZE - 1));
        if (run > max - n)
            run = max - n;
        if (!user_readable(a, run)) {
            if (!user_readable(a, 1))
                return -1;
            run = 1;
        }
        const char *s = (const char *)(uintptr_t)a;
        size_t i = 0;
        bool was = access_begin();
        while (i < run && s[i] != '\0')
            i++;
        access_end(was);
        if (i < run)
            return (long)(n + i);
        n += run;
    }
    return -1;
}

static void map_or_panic(uint64_t va, paddr_t pa, uint64_t flags)
{
    int err = pt_map(kernel_pml4(), va, pa, flags | PTE_U);
    if (err < 0)
        panic("user: mapping 0x%lx: %s", va, paging_strerror(err));
}

uint64_t user_window_map(paddr_t page, bool writable)
{
    if (window_used == USER_WINDOW_PAGES)
        return 0;
    uint64_t va = USER_WINDOW_BASE + window_used * PAGE_SIZE;
    map_or_panic(va, page, PTE_NX | (writable ? PTE_W : 0));
    window_writable[window_used++] = writable;
    return va;
}

static uint64_t window_writes;

static void window_clear(void)
{
    for (size_t i = 0; i < window_used; i++) {
        uint64_t va = USER_WINDOW_BASE + i * PAGE_SIZE;
        if (window_writable[i] && pt_take_dirty(kernel_pml4(), va) == 1)
            window_writes++;
        pt_unmap(kernel_pml4(), va);
    }
    window_used = 0;
}

uint64_t user_window_writes(void)
{
    return window_writes;
}

uint64_t user_phys_map(paddr_t pa, bool writable)
{
    if (pa % PAGE_SIZE || pa >= USER_PHYS_LIMIT)
        return 0;
    uint64_t va = USER_PHYS_BASE + pa;
    if (pt_map(kernel_pml4(), va, pa, PTE_U | PTE_NX | (writable ? PTE_W : 0)) != 0)
        return 0;
    return va;
}

void user_phys_unmap(paddr_t pa)
{
    if (pa % PAGE_SIZE == 0 && pa < USER_PHYS_LIMIT)
        pt_unmap(kernel_pml4(), USER_PHYS_BASE + pa);
}

bool user_phys_written(paddr_t pa)
{
    return pa < USER_PHYS_LIMIT && pt_take_dirty(kernel_pml4(), USER_PHYS_BASE + pa) == 1;
}

/* The user heap grows a page at a time (user/heap.c). Returns the first new
 * page's address, 0 when the arena (or memory) is exhausted. */
uint64_t sys_ulib_heap_grow(size_t npages)
{
    if (npages > USER_HEAP_PAGES - heap_used)
        return 0;
    uint64_t first = USER_HEAP_BASE + heap_used * PAGE_SIZE;
    for (size_t i = 0; i < npages; i++) {
        paddr_t pa = page_alloc();
        if (pa == 0)
            return 0; /* what was mapped stays mapped: the next call may use it */
        heap_pages[heap_used] = pa;
        map_or_panic(USER_HEAP_BASE + heap_used * PAGE_SIZE, pa, PTE_W | PTE_NX);
        heap_used++;
    }
    return first;
}

void user_init(void)
{
    struct cpuid_regs r7 = cpuid(0, 0).eax >= 7 ? cpuid(7, 0) : (struct cpuid_regs){0};
    smep = r7.ebx & (1u << 7);
    smap = r7.ebx & (1u << 20);
    write_cr4(read_cr4() | (smep ? CR4_SMEP : 0) | (smap ? CR4_SMAP : 0));

    user_tss_rsp0 = (uint64_t *)(uintptr_t)(tss_base() + 4);
    cur.frame = USER_STACK_TOP; /* an upcall with nothing pushed needs no user_frame_reset */
    if (cpuid(1, 0).ecx & (1u << 31)) { /* a hypervisor below: see kernel/user.h */
        budget_ticks *= USER_BUDGET_HV_SCALE;
        total_ticks *= USER_BUDGET_HV_SCALE;
    }
    budget_counts = lapic_counts_for_ticks(budget_ticks);
    size_t data_size = (size_t)(__user_data_end - __user_data_start);
    data_copy = kmalloc(data_size ? data_size : 1);
    if (data_copy == NULL)
        panic("user: no memory for the copy of the user image's data");
    memcpy(data_copy, __user_data_start, data_size);
    for (size_t i = 0; i < USER_STACK_PAGES; i++) {
        stack_pages[i] = page_alloc();
        if (stack_pages[i] == 0)
            panic("user: no memory for the user stack");
        map_or_panic(USER_STACK_TOP - (USER_STACK_PAGES - i) * PAGE_SIZE, stack_pages[i],
                     PTE_W | PTE_NX);
    }
    top_slot = (uint64_t *)(uintptr_t)(stack_pages[USER_STACK_PAGES - 1] + PAGE_SIZE - 8);
}

void user_reset(void)
{
    bool was = access_begin();
    memcpy(__user_data_start, data_copy, (size_t)(__user_data_end - __user_data_start));
    memset(__user_bss_start, 0, (size_t)(__user_bss_end - __user_bss_start));
    access_end(was);
    /* The stack pages written since the last reset: through its user
     * mapping (student code, a push, a syscall's out buffer), the dirty flag
     * says; through the kernel's own map, only user_call5's return slot,
     * just below a frame (so at or above lowest_frame - 24). Zeroing the
     * others (the 8 pages cost 4,000 Bochs instructions a test) would change
     * nothing. */
    uint64_t slot_low = lowest_frame - 24;
    for (size_t i = 0; i < USER_STACK_PAGES; i++) {
        uint64_t va = USER_STACK_TOP - (USER_STACK_PAGES - i) * PAGE_SIZE;
        bool dirty = pt_take_dirty(kernel_pml4(), va) == 1;
        if (dirty || va + PAGE_SIZE > slot_low)
            memset((void *)(uintptr_t)stack_pages[i], 0, PAGE_SIZE);
    }
    lowest_frame = USER_STACK_TOP;
    for (size_t i = 0; i < heap_used; i++) {
        pt_unmap(kernel_pml4(), USER_HEAP_BASE + i * PAGE_SIZE);
        page_free(heap_pages[i]);
    }
    heap_used = 0;
    window_clear();
    nhandles = 0;
    handles_made = 0;
    nbound = 0;
}

/* Kinds are string literals, mostly the very same one (the generated
 * syscall table's): the pointers are compared before the strings. */
static bool same_kind(const char *a, const char *b)
{
    return a == b || strcmp(a, b) == 0;
}

uint64_t user_handle(void *object, const char *kind)
{
    for (size_t i = 0; i < nhandles; i++)
        if (handles[i].object == object && same_kind(handles[i].kind, kind))
            return handles[i].key;
    if (nhandles == HANDLES_MAX)
        panic("user: more than %d handles at once", HANDLES_MAX);
    uint64_t key = USER_HANDLE_BASE + ++handles_made * 16;
    handles[nhandles++] = (struct handle){key, object, kind};
    return key;
}

/* Drops t's entries naming object; returns how many are left. */
static size_t drop(struct handle *t, size_t n, const void *object)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (t[i].object != object)
            t[kept++] = t[i];
    return kept;
}

void user_forget(const void *object)
{
    nhandles = drop(handles, nhandles, object);
    nbound = drop(bound, nbound, object);
}

void user_bind(uint64_t uaddr, void *object, const char *kind)
{
    if (nbound == HANDLES_MAX)
        panic("user: more than %d bound addresses in one upcall", HANDLES_MAX);
    bound[nbound++] = (struct handle){uaddr, object, kind};
}

static void *find(const struct handle *t, size_t n, uint64_t key, const char *kind)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].key == key && same_kind(t[i].kind, kind))
            return t[i].object;
    return NULL;
}

void *user_handle_object(uint64_t handle, const char *kind)
{
    void *o = find(bound, nbound, handle, kind);
    return o ? o : find(handles, nhandles, handle, kind);
}

/* --- the upcall frame ------------------------------------------------------ */

void user_frame_reset(void)
{
    cur.frame = USER_STACK_TOP;
}

uint64_t user_push(const void *src, size_t n)
{
    uint64_t at = ALIGN_DOWN(cur.frame - n, 16);
    if (at < USER_STACK_TOP - FRAME_ROOM)
        panic("user_push: %zu bytes do not fit the upcall frame", n);
    cur.frame = at;
    if (at < lowest_frame)
        lowest_frame = at;
    bool was = access_begin();
    if (src)
        memcpy((void *)(uintptr_t)at, src, n);
    else
        memset((void *)(uintptr_t)at, 0, n);
    access_end(was);
    return at;
}

void user_pull(void *dst, uint64_t uaddr, size_t n)
{
    if (!user_readable(uaddr, n))
        panic("user_pull: 0x%lx (%zu bytes) is not user memory", uaddr, n);
    bool was = access_begin();
    memcpy(dst, (const void *)(uintptr_t)uaddr, n);
    access_end(was);
}

/* --- calling ---------------------------------------------------------------- */

struct user_result user_call5(const void *fn, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                              uint64_t a4)
{
    if (cur.active)
        panic("user_call: an upcall while another runs");
    if ((uint64_t)fn < (uint64_t)__user_text_start || (uint64_t)fn >= (uint64_t)__user_text_end)
        panic("user_call: %p is not a function of the user image", fn);
    /* The function returns into the trampoline: its address is the first
     * thing on the stack, which is 16-byte aligned plus 8 (the ABI's
     * state right after a call). Written through the kernel's own map of
     * the stack page (physical memory is identity-mapped), which needs no
     * stac/clac under SMAP. */
    uint64_t rsp = ALIGN_DOWN(cur.frame, 16) - 8;
    uint64_t off = rsp - (USER_STACK_TOP - USER_STACK_PAGES * PAGE_SIZE);
    uint64_t *slot = __builtin_expect(rsp == USER_STACK_TOP - 8, 1)
                         ? top_slot
                         : (uint64_t *)(uintptr_t)(stack_pages[off / PAGE_SIZE] + off % PAGE_SIZE);
    *slot = (uint64_t)user_upcall_return;

    cur.active = true;
    user_calls++;
    cur.fn = (uint64_t)fn;
    cur.status = USER_RETURNED;
    cur.start = 0; /* read at the first syscall: until then the timer alone bounds it */
    /* The timer may be kev's guest budget (where the CPU has no
     * VMX-preemption timer): it pauses while student code runs on its own,
     * and a tick of it that came while the kernel ran (interrupts off) is
     * taken here, in ring 0, where trap() ignores it. */
    bool outer = lapic_timer_armed();
    uint32_t outer_left = 0;
    if (__builtin_expect(outer, 0)) {
        outer_left = lapic_timer_stop();
        __asm__ volatile("sti; nop; cli");
    }
    lapic_timer_start(budget_counts);
    user_entry_rsp = rsp;
    struct user_ret r = user_enter((uint64_t)fn, a0, a1, a2, a3, a4);
    /* Gone off (0 left) without stopping the function: its interrupt came
     * in ring 0 on the way back, and is taken (and ignored) now. */
    if (__builtin_expect(lapic_timer_stop() == 0, 0))
        __asm__ volatile("sti; nop; cli");
    if (__builtin_expect(outer, 0)) /* gone off already: it goes off again at once */
        lapic_timer_start(outer_left ? outer_left : 1);
    cur.active = false;
    syscall_frame = NULL;
    nbound = 0;
    if (window_used)
        window_clear();
    cur.frame = USER_STACK_TOP;
    return (struct user_result){cur.status, {r.rax, r.rdx}, cur.status == USER_STOPPED ? cur.message : ""};
}

/* --- stopping ----------------------------------------------------------------- */

static const char *symbol(uint64_t addr, uint64_t *off)
{
    const char *name;
    if (!ksym_lookup(addr, &name, off)) {
        *off = addr;
        return "?";
    }
    return name;
}

static bool in_runtime(uint64_t rip)
{
    return rip >= (uint64_t)__ulib_text_start && rip < (uint64_t)__user_text_end;
}

/* The student's frames: rbp chains inside the user stack. The runtime's
 * own frames on top (the syscall stub, panic_at) are left out. */
static void user_backtrace(uint64_t rip, uint64_t rbp)
{
    printk("    backtrace (most recent call first):\n");
    int depth = 0;
    for (int n = 0; n < BACKTRACE_MAX; n++) {
        if (!in_runtime(rip) || depth > 0) {
            uint64_t off;
            const char *name = symbol(depth ? rip - 1 : rip, &off);
            printk("      #%-2d %016lx %s+0x%lx\n", depth, rip, name, off + (depth ? 1 : 0));
            depth++;
        }
        if (rbp & 7 || !inside(rbp, 16, USER_STACK_TOP - USER_STACK_PAGES * PAGE_SIZE, USER_STACK_TOP))
            break;
        uint64_t frame[2];
        bool was = access_begin();
        memcpy(frame, (const void *)(uintptr_t)rbp, sizeof(frame));
        access_end(was);
        if (frame[1] == (uint64_t)user_upcall_return)
            break; /* the kernel called this one */
        rip = frame[1];
        if (frame[0] <= rbp)
            break;
        rbp = frame[0];
    }
}

uint64_t user_faults;

static __noreturn void stop(const struct trap_frame *tf, const char *details)
{
    user_faults++;
    printk_frame("fault %s\n", cur.message);
    if (details)
        printk("%s", details);
    user_backtrace(tf->rip, tf->rbp);
    cur.status = USER_STOPPED;
    clac(); /* a syscall stopped midway leaves AC set */
    user_resume_stopped();
}

static void set_message(const char *fmt, va_list ap)
{
    vsnprintf(cur.message, sizeof(cur.message), fmt, ap);
    for (char *p = cur.message; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

__noreturn void user_stop(const char *fmt, ...)
{
    if (!cur.active || syscall_frame == NULL)
        panic("user_stop outside a syscall");
    va_list ap;
    va_start(ap, fmt);
    set_message(fmt, ap);
    va_end(ap);
    stop(syscall_frame, NULL);
}

static void set_messagef(const char *fmt, ...) __printf(1, 2);
static void set_messagef(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_message(fmt, ap);
    va_end(ap);
}

/* Where a page-fault address is, in the student's words. */
static const char *what_is(uint64_t a)
{
    if (a < PAGE_SIZE)
        return "NULL or a small offset from it: a NULL pointer dereferenced";
    if (a >= USER_HANDLE_BASE && a < USER_HANDLE_BASE + (1UL << 32))
        return "a handle (a VM, a printer), not a pointer: pass it to kev's functions, do not dereference it";
    if (a >= USER_STACK_TOP - (USER_STACK_PAGES + 64) * PAGE_SIZE &&
        a < USER_STACK_TOP - USER_STACK_PAGES * PAGE_SIZE)
        return "just below your stack: a stack overflow (a large local array, or endless recursion?)";
    if (a >= USER_STACK_TOP && a < USER_STACK_TOP + 64 * PAGE_SIZE)
        return "just above your stack";
    if (a >= USER_HEAP_BASE && a < USER_HEAP_BASE + USER_HEAP_PAGES * PAGE_SIZE)
        return "past the end of kmalloc'd memory";
    if (a >= USER_WINDOW_BASE && a < USER_WINDOW_BASE + USER_WINDOW_PAGES * PAGE_SIZE)
        return "a guest page that probe_gva_to_host mapped in an earlier call: such pointers are "
               "valid until your function returns";
    if (a >= USER_PHYS_BASE && a < USER_PHYS_BASE + USER_PHYS_LIMIT)
        return "phys_to_virt() of a host address that is not one of this test's table or guest "
               "pages (an entry's address bits read wrong, or a page never allocated?), or a "
               "write to a guest page you may only read";
    if (a < (4UL << 30))
        return "kernel memory (or a guest address used as a host pointer?): your code may touch "
               "only its own variables, its stack, kmalloc'd memory and what probe_gva_to_host returned";
    return "memory nothing maps";
}

__noreturn void user_trap(struct trap_frame *tf)
{
    uint64_t off;
    const char *fn = symbol(tf->rip, &off);
    char details[512] = "";
    if (tf->vector == LAPIC_TIMER_VECTOR) {
        uint64_t fo;
        set_messagef("%s() ran longer than its budget (%lu TSC ticks, under Bochs instructions, "
                     "without calling kev: an endless loop?), stopped at rip 0x%lx in %s+0x%lx",
                     symbol(cur.fn, &fo), budget_ticks, tf->rip, fn, off);
        stop(tf, NULL);
    }
    set_messagef("CPU exception %lu %s (%s) in your code at rip 0x%lx in %s+0x%lx, error code 0x%lx",
                 tf->vector, exception_mnemonic((unsigned)tf->vector),
                 exception_name((unsigned)tf->vector), tf->rip, fn, off, tf->error_code);
    size_t n = 0;
    if (tf->vector == 14) {
        uint64_t cr2 = read_cr2();
        n += (size_t)snprintf(details + n, sizeof(details) - n,
                              "    cr2=0x%lx: %s of this address; it is %s\n", cr2,
                              tf->error_code & 16 ? "an instruction fetch" :
                              tf->error_code & 2 ? "a write" : "a read", what_is(cr2));
    } else if (tf->vector == 13) {
        n += (size_t)snprintf(details + n, sizeof(details) - n,
                              "    a #GP in ring 3: a privileged instruction (in, out, cli, hlt, "
                              "mov to a control register, rdmsr, vmread...) or a non-canonical address\n");
    } else if (tf->vector == 6) {
        n += (size_t)snprintf(details + n, sizeof(details) - n,
                              "    an invalid instruction: jumping into data, or a corrupted return address?\n");
    }
    snprintf(details + n, sizeof(details) - n,
             "    rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx\n"
             "    rsi=%016lx rdi=%016lx rbp=%016lx rsp=%016lx\n",
             tf->rax, tf->rbx, tf->rcx, tf->rdx, tf->rsi, tf->rdi, tf->rbp, tf->rsp);
    stop(tf, details);
}

/* --- syscalls ----------------------------------------------------------------- */

/*
 * The budget: the LAPIC timer, started with the whole of it as student code
 * is entered, runs on across syscalls (reprogramming it twice a syscall
 * cost Bochs more wall time than anything else a syscall does); a syscall
 * only notes when it returned. When the timer goes off in ring 3, the
 * budget has run out if there was no syscall since the upcall began or the
 * last one returned a whole budget ago; otherwise it is started again for
 * what is left. A tick that comes during a syscall waits for the return to
 * ring 3, where the budget is whole again.
 */
bool user_budget_spent(void)
{
    if (cur.start == 0)
        return true;
    uint64_t since = rdtsc() - cur.progress;
    if (since >= budget_ticks)
        return true;
    lapic_timer_start(lapic_counts_for_ticks(budget_ticks - since));
    return false;
}

void user_syscall(struct trap_frame *tf)
{
    if ((tf->cs & 3) != 3 || !cur.active)
        panic("int 0x%x from the kernel", USER_SYSCALL_VECTOR);
    syscall_frame = tf;
    if (cur.start == 0)
        cur.start = rdtsc();
    else if (__builtin_expect(rdtsc() - cur.start > total_ticks, 0)) {
        uint64_t fo;
        cur.syscall = "syscall";
        user_stop("%s() ran longer than its budget (%lu instructions in all, with its calls to "
                  "kev: a loop that never ends?)", symbol(cur.fn, &fo), total_ticks);
    }
    uint64_t nr = tf->rax;
    if (nr >= syscall_count || syscall_table[nr].fn == NULL) {
        cur.syscall = "syscall";
        user_stop("a syscall with number %lu, which this kernel does not have (call the API's "
                  "functions; never make a syscall yourself)", nr);
    }
    cur.syscall = syscall_table[nr].name;
    const uint64_t args[6] = {tf->rdi, tf->rsi, tf->rdx, tf->r10, tf->r8, tf->r9};
    stac(); /* the arguments are checked: the syscall may use the student's memory */
    tf->rax = syscall_table[nr].fn(args);
    clac();
    cur.syscall = NULL;
    syscall_frame = NULL;
    cur.progress = rdtsc(); /* a fresh budget: the call was progress */
}

void sys_ulib_console_write(const char *buf, size_t n)
{
    printk_user(buf, n);
}

/* TODO(), panic() and assert() in student code (user/ulib.c formats msg). */
void sys_ulib_panic(const char *file, int line, const char *func, const char *msg)
{
    if (strcmp(msg, PANIC_TODO_MESSAGE) == 0)
        user_stop("TODO() in %s() at %s:%d: %s", func, file, line, msg);
    user_stop("panic in %s() at %s:%d: %s", func, file, line, msg);
}

/* The argument checks the generated syscall table makes (kernel/syscall.h). */
void *syscall_arg_read(uint64_t p, uint64_t n, const char *arg)
{
    if (!user_readable(p, n))
        user_stop("%s(): argument %s = 0x%lx (%lu bytes) is not memory your code may read "
                  "(your variables, your stack, kmalloc'd memory, string literals, what "
                  "probe_gva_to_host returned)", cur.syscall, arg, p, n);
    return (void *)(uintptr_t)p;
}

void *syscall_arg_write(uint64_t p, uint64_t n, const char *arg)
{
    if (!user_writable(p, n))
        user_stop("%s(): argument %s = 0x%lx (%lu bytes) is not memory your code may write "
                  "(your variables, your stack, kmalloc'd memory)", cur.syscall, arg, p, n);
    return (void *)(uintptr_t)p;
}

const char *syscall_arg_string(uint64_t p, const char *arg)
{
    if (user_string(p, SYSCALL_STRING_MAX) < 0)
        user_stop("%s(): argument %s = 0x%lx is not a string your code may read, or is longer "
                  "than %d bytes", cur.syscall, arg, p, SYSCALL_STRING_MAX);
    return (const char *)(uintptr_t)p;
}

void *syscall_arg_handle(uint64_t h, const char *kind, const char *arg)
{
    void *o = user_handle_object(h, kind);
    if (o == NULL)
        user_stop("%s(): argument %s = 0x%lx is not the struct %s your function was given",
                  cur.syscall, arg, h, kind);
    return o;
}
