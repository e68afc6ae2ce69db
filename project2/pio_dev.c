/*
 * Project 2's I/O devices (project2/pio_dev.h): the printer at 0x3f8, the
 * queue at 0xbb and the tracer at port 3, one set for the VM that runs,
 * and the student's way to them, the syscalls pio_device_in() and
 * pio_device_out() (user/syscalls.tbl). A syscall checks that the request
 * fits the call (its direction, its size, the device's port) and stops the
 * student's code with a message naming the mistake when it does not; the
 * device answers with an error value only for what the guest did wrong.
 */
#include "project2/pio_dev.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/user.h"

/* One FIFO of the queue: a ring of PIO_QUEUE_MAX values. */
struct fifo {
    uint32_t v[PIO_QUEUE_MAX];
    size_t head, len;
};

static struct {
    struct printer *out;
    struct fifo fifo[3]; /* by size: bytes, words, dwords */
    uint32_t traced;     /* port 3's accesses */
} state;

static struct fifo *fifo_of(unsigned size)
{
    return &state.fifo[size == 1 ? 0 : size == 2 ? 1 : 2];
}

static bool fifo_push(struct fifo *f, uint32_t v)
{
    if (f->len == PIO_QUEUE_MAX)
        return false;
    f->v[(f->head + f->len++) % PIO_QUEUE_MAX] = v;
    return true;
}

static uint32_t low_bytes(uint32_t v, unsigned size)
{
    return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

/* --- the devices ------------------------------------------------------------ */

static enum kev_error printer_in(const struct pio_request *req, uint32_t *value)
{
    *value = 0;
    return KEV_OK;
}

static enum kev_error printer_out(const struct pio_request *req, uint32_t value)
{
    uint8_t bytes[4] = {value, value >> 8, value >> 16, value >> 24};
    return printer_write(state.out, bytes, req->size);
}

static enum kev_error queue_in(const struct pio_request *req, uint32_t *value)
{
    struct fifo *f = fifo_of(req->size);
    if (f->len == 0)
        return KEV_EEMPTY;
    *value = f->v[f->head];
    f->head = (f->head + 1) % PIO_QUEUE_MAX;
    f->len--;
    return KEV_OK;
}

static enum kev_error queue_out(const struct pio_request *req, uint32_t value)
{
    return fifo_push(fifo_of(req->size), low_bytes(value, req->size)) ? KEV_OK : KEV_ENOMEM;
}

size_t pio_trace_line(const struct pio_request *req, uint32_t value, char *buf)
{
    static const char *const sizes[] = {[1] = "byte", [2] = "word", [4] = "dword"};
    static const char *const regs[] = {[1] = "al", [2] = "ax", [4] = "eax"};
    unsigned size = req->size == 1 || req->size == 2 ? req->size : 4;
    const char *operand = req->string ? (req->in ? "[rdi]" : "[rsi]") : regs[size];
    int n = snprintf(buf, PIO_TRACE_LINE_MAX, "port %u %s%s%s %s %s %s 0x%0*x\n", req->port,
                     req->rep ? "rep " : "", req->in ? "in" : "out", req->string ? "s" : "",
                     sizes[size], operand, req->imm ? "imm8" : "dx", (int)(2 * size),
                     low_bytes(value, size));
    return (size_t)n < PIO_TRACE_LINE_MAX ? (size_t)n : PIO_TRACE_LINE_MAX - 1;
}

static enum kev_error trace(const struct pio_request *req, uint32_t value)
{
    char line[PIO_TRACE_LINE_MAX];
    size_t n = pio_trace_line(req, value, line);
    return printer_write(state.out, line, n);
}

static enum kev_error tracer_in(const struct pio_request *req, uint32_t *value)
{
    *value = low_bytes(++state.traced, req->size);
    return trace(req, *value);
}

static enum kev_error tracer_out(const struct pio_request *req, uint32_t value)
{
    state.traced++;
    return trace(req, value);
}

static struct pio_device devices[] = {
    {PIO_PORT_PRINTER, "printer", printer_in, printer_out},
    {PIO_PORT_QUEUE, "queue", queue_in, queue_out},
    {PIO_PORT_TRACER, "tracer", tracer_in, tracer_out},
};

void pio_devices_reset(struct printer *out, const struct pio_config *c)
{
    memset(&state, 0, sizeof(state));
    state.out = out;
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nbytes && i < PIO_QUEUE_MAX; i++)
        fifo_push(fifo_of(1), c->bytes[i]);
    for (size_t i = 0; i < c->nwords && i < PIO_QUEUE_MAX; i++)
        fifo_push(fifo_of(2), c->words[i]);
    for (size_t i = 0; i < c->ndwords && i < PIO_QUEUE_MAX; i++)
        fifo_push(fifo_of(4), c->dwords[i]);
}

struct pio_device *pio_device_find(uint16_t port)
{
    for (size_t i = 0; i < ARRAY_SIZE(devices); i++)
        if (devices[i].port == port)
            return &devices[i];
    return NULL;
}

void pio_request_describe(const struct pio_request *req, char *buf, size_t size)
{
    static const char *const regs[] = {[1] = "al", [2] = "ax", [4] = "eax"};
    static const char suffix[] = {[1] = 'b', [2] = 'w', [4] = 'd'};
    unsigned sz = req->size;
    if (sz != 1 && sz != 2 && sz != 4) {
        snprintf(buf, size, "a %u-byte %s", sz, req->in ? "IN" : "OUT");
        return;
    }
    const char *dir = req->in ? "in" : "out";
    char port[8];
    snprintf(port, sizeof(port), req->imm ? "0x%x" : "dx", req->port);
    if (req->string)
        snprintf(buf, size, "%s%ss%c", req->rep ? "rep " : "", dir, suffix[sz]);
    else if (req->in)
        snprintf(buf, size, "in %s, %s", regs[sz], port);
    else
        snprintf(buf, size, "out %s, %s", port, regs[sz]);
}

/* --- the student's calls ------------------------------------------------------ */

enum kev_error pio_device_in(struct pio_device *dev, const struct pio_request *req, uint32_t *value)
{
    return dev->in(req, value);
}

enum kev_error pio_device_out(struct pio_device *dev, const struct pio_request *req, uint32_t value)
{
    return dev->out(req, value);
}

/* Stops the student's code when req does not fit the call (never returns then). */
static void check_call(const char *call, struct pio_device *dev, const struct pio_request *req,
                       bool in)
{
    if (req->size != 1 && req->size != 2 && req->size != 4)
        user_stop("%s(): req->size is %u: an access is 1, 2 or 4 bytes", call, req->size);
    if (req->in != in)
        user_stop("%s() with %s request (req->in is %s): IN and INS call pio_device_in(), OUT and "
                  "OUTS pio_device_out()", call, req->in ? "an IN" : "an OUT",
                  req->in ? "true" : "false");
    if (req->port != dev->port)
        user_stop("%s(): the request is for port 0x%x, but the device is the %s at port 0x%x (pass "
                  "the device the controller gave you, with its request)",
                  call, req->port, dev->name, dev->port);
}

enum kev_error sys_pio_device_in(struct pio_device *dev, const struct pio_request *req,
                                 uint32_t *value)
{
    check_call("pio_device_in", dev, req, true);
    return pio_device_in(dev, req, value);
}

enum kev_error sys_pio_device_out(struct pio_device *dev, const struct pio_request *req,
                                  uint32_t value)
{
    check_call("pio_device_out", dev, req, false);
    return pio_device_out(dev, req, value);
}
