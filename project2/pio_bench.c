/*
 * Port I/O's cost under Bochs (make bench-pio): a guest makes N `out dx,
 * al` to the printer, or N `rep outsb` of 4 KiB, between two RDTSCs, with
 * the student's pio_decode() and pio_handle() (the reference solution for
 * the figures). Under Bochs an RDTSC tick is one emulated instruction, so
 * ticks per OUT is the whole round trip (the exit, two upcalls into ring 3,
 * the device call, moving RIP, the entry); ticks per REP OUTSB of 4 KiB is
 * the same for 4096 elements, each one a probe copy and a device call.
 * Figures are printed, never asserted.
 */
#include "kernel/ktest.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "project2/vm.h"

#define BENCH_OUTS 2000
#define BENCH_REPS 8
#define BENCH_REP_BYTES 4096

/* Runs the bench guest in mode `rep` count times; ticks per iteration in 1/100. */
static enum ktest_result run(bool rep, uint64_t count, const char *what, const char *key)
{
    static struct p2_vm_config c;
    static uint8_t buf[BENCH_REP_BYTES];
    memset(&c, 0, sizeof(c));
    memset(buf, 'o', sizeof(buf));
    c.guest = "pio_bench";
    c.parts = P2_PIO;
    c.hole = -1;
    c.params.code = count;
    c.params.nr = rep;
    c.params.prints[0].addr = GUEST_BUF;
    c.params.prints[0].len = BENCH_REP_BYTES;
    c.buf = buf;
    c.buf_len = rep ? BENCH_REP_BYTES : 0;
    struct printer out;
    if (printer_start(&out, 0) != KEV_OK)
        return ktest_fail("no memory for the printer");
    struct vm_outcome o;
    p2_vm_run(&c, &out, &o);
    p2_vm_release();
    size_t n;
    printer_finish(&out, &n);
    printer_free(&out);
    if (o.kind != VM_EXITED)
        return ktest_fail("the benchmark's VM stopped: %s: %s", kev_error_name(o.error), o.message);
    uint64_t want = count * (rep ? BENCH_REP_BYTES : 1);
    if (n != want)
        return ktest_fail("the printer got %zu bytes, expected %lu", n, want);
    int64_t per100 = (o.exit_code * 100 + (int64_t)count / 2) / (int64_t)count;
    char fig[32];
    snprintf(fig, sizeof(fig), "%ld.%02ld", per100 / 100, per100 % 100);
    printk("%s: %lu %s in %ld ticks: %s emulated instructions each (RDTSC in the guest)\n",
           ktest_current(), count, what, o.exit_code, fig);
    ktest_data(key, fig, strlen(fig));
    return KTEST_PASS;
}

KTEST(p2_bench_pio_out, KTEST_BENCH)
{
    return run(false, BENCH_OUTS, "`out dx, al` exits", "instructions_per_out");
}

KTEST(p2_bench_pio_outsb, KTEST_BENCH)
{
    return run(true, BENCH_REPS, "`rep outsb` of 4 KiB", "instructions_per_rep_outsb_4k");
}
