/*
 * Project 2: hypercalls. This is the file you edit (the only one).
 *
 * A program asks its OS for a service with a system call: `syscall` enters
 * the kernel, which reads the program's registers by the syscall ABI, does
 * the work and returns to the program. A hypercall is the same idea one
 * level down: a guest asks its hypervisor. The guest executes `vmcall`; the
 * CPU leaves the guest with a VM exit (reason VMCALL) and runs kev, which
 * saves the guest's registers in s->regs and asks the VM's exit controllers
 * to deal with it. Project 2's hypercall controller (controller.c, given)
 *
 *   1. calls hypercall_resolve(): decode the guest's registers into a struct hypercall;
 *   2. calls hypercall_handle(): serve it;
 *   3. moves the guest's RIP past `vmcall` and resumes the guest
 *      (VMRESUME), unless the VM ended.
 *
 * The ABI (the table is in hypercall.h):
 *
 *   rax  name     arguments                         effect
 *   0    HaltCpu  rdi = exit code                   the vCPU halts; the VM exits with that code
 *   1    Print    rdi = buffer (guest-virtual),     the size bytes at buffer are printed
 *                 rsi = size                        through the PrinterProxy
 *
 *   (hypercalls with more arguments would take them from rdx, r10, r9, r8)
 *
 * Rules:
 *   - Guest output MUST go through the PrinterProxy (printer_write): it
 *     echoes to the console and keeps a capture that the tests compare.
 *     Bytes you printk are invisible to the tests and the grader.
 *   - The guest's registers and memory are input you cannot trust. A bad
 *     number, address or size stops the VM with an error value; it must
 *     never crash the host (no panic, no assert on guest input).
 *
 * Run one test: make run TEST=p2_print_hello. The handout is docs/project2.md.
 */
#include "project2/hypercall.h"
#include "kernel/panic.h"
#ifdef SOLUTION

/* Bytes copied out of the guest per step: a handler's stack is small. */
#define PRINT_CHUNK 256

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/*
 * A Print is all or nothing: the whole buffer is checked before any byte is
 * printed, so a bad buffer prints nothing. The checks, in the handout's
 * order: the range must not wrap (its last byte, buf + size - 1, must not
 * pass 2^64 - 1), every page it touches must be readable, and it must fit
 * what the capture has left.
 */
static enum kev_error check_print(struct vcpu_state *s, gva_t buf, uint64_t size,
                                  struct printer *out)
{
    if (size == 0)
        return KEV_OK;
    uint64_t last = buf.addr + (size - 1);
    if (last < buf.addr)
        return KEV_EOVERFLOW;
    for (uint64_t at = buf.addr;;) {
        uint64_t n = min_u64(last - at + 1, PAGE_SIZE - at % PAGE_SIZE); /* up to the page's end */
        void *host;
        enum kev_error e = probe_gva_to_host(s, GVA(at), n, &host);
        if (e != KEV_OK)
            return e;
        if (at + (n - 1) == last)
            break;
        at += n;
    }
    return size > printer_room(out) ? KEV_ENOMEM : KEV_OK;
}

static struct vmexit_result print(struct vcpu_state *s, gva_t buf, uint64_t size,
                                  struct printer *out)
{
    enum kev_error e = check_print(s, buf, size, out);
    for (uint64_t done = 0; e == KEV_OK && done < size;) {
        uint8_t chunk[PRINT_CHUNK];
        uint64_t n = min_u64(size - done, sizeof(chunk));
        e = probe_copy_from_guest(s, chunk, GVA(buf.addr + done), n);
        if (e == KEV_OK)
            e = printer_write(out, chunk, n);
        done += n;
    }
    if (e != KEV_OK)
        return vm_stop(s->vm, e, "Print(0x%lx, %lu): %s", buf.addr, size, kev_strerror(e));
    return vmexit_continue();
}
#endif

enum kev_error hypercall_resolve(const struct guest_regs *regs, struct hypercall *hc)
{
#ifdef SOLUTION
    switch (regs->rax) {
    case HC_HALT_CPU:
        *hc = (struct hypercall){.nr = HC_HALT_CPU, .halt_cpu = {.exit_code = (int64_t)regs->rdi}};
        return KEV_OK;
    case HC_PRINT:
        *hc = (struct hypercall){.nr = HC_PRINT,
                                 .print = {.buf = GVA(regs->rdi), .size = regs->rsi}};
        return KEV_OK;
    default:
        return KEV_EHYPERCALL;
    }
#else
    /*
     * Hints:
     *   - regs->rax is the number; switch on it, with the enum of hypercall.h
     *     (HC_HALT_CPU, HC_PRINT) as case labels.
     *   - Set hc->nr, then the arguments of that hypercall only, from the
     *     registers the ABI names. A guest-virtual address is a gva_t:
     *     GVA(regs->rdi).
     *   - Any other number is the guest's mistake, not yours: return
     *     KEV_EHYPERCALL (the controller reports the number).
     */
    (void)regs;
    (void)hc;
    TODO();
#endif
}

struct vmexit_result hypercall_handle(struct vcpu_state *s, const struct hypercall *hc,
                                      struct printer *out)
{
#ifdef SOLUTION
    switch (hc->nr) {
    case HC_HALT_CPU:
        return vm_exit(s->vm, hc->halt_cpu.exit_code);
    case HC_PRINT:
        return print(s, hc->print.buf, hc->print.size, out);
    }
    /* hypercall_resolve makes no other */
    return vm_stop(s->vm, KEV_EHYPERCALL, "hypercall %d is not in the table", (int)hc->nr);
#else
    /*
     * Hints:
     *   - HaltCpu: end the VM through kev: return vm_exit(s->vm, code).
     *     Never loop or halt the host CPU here: the test waits for the VM.
     *   - Print: the buffer is a guest-virtual address, in the guest's page
     *     tables, not yours; never dereference it. Copy the bytes out with
     *     probe_copy_from_guest() (kev/probe.h) into a small buffer on your
     *     stack, a chunk at a time, and hand each chunk to printer_write().
     *   - Print is all or nothing: if any byte cannot be read, print none.
     *     Check the whole range first: address + size must not wrap around
     *     2^64 (KEV_EOVERFLOW), and each page it touches must pass
     *     probe_gva_to_host(), called once per page. (Guest pages that
     *     follow each other need not be neighbours in host memory.)
     *   - Every kev call returns an enum kev_error, and so does
     *     printer_write() (KEV_ENOMEM once the capture is full): on
     *     anything but KEV_OK, stop the VM with that very error:
     *         return vm_stop(s->vm, e, "Print(0x%lx, %lu): %s", ...);
     *     Success is vmexit_continue().
     */
    (void)s;
    (void)hc;
    (void)out;
    TODO();
#endif
}
