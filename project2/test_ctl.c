/*
 * The tests' own hypercalls (project2/guest.h: TEST_HC_EXIT, TEST_HC_PRINT),
 * served here by given code: the guests of project 2's other parts end and
 * report through them, so that a CPUID test, say, grades CPUID and not the
 * student's Print. First in the chain of those tests' VMs, never in the
 * hypercall tests' (whose unknown numbers it would otherwise answer).
 */
#include "project2/controller.h"
#include "project2/guest.h"

#define CHUNK 256

static struct vmexit_result test_ctl_handle(struct vmexit_controller *self, struct vcpu_state *s,
                                            union exit_reason reason)
{
    if (reason.basic != EXIT_REASON_VMCALL ||
        (s->regs.rax != TEST_HC_EXIT && s->regs.rax != TEST_HC_PRINT))
        return vmexit_pass();
    if (s->regs.rax == TEST_HC_EXIT)
        return vm_exit(s->vm, (int64_t)s->regs.rdi);
    struct printer *out = self->data;
    uint64_t buf = s->regs.rdi, size = s->regs.rsi;
    for (uint64_t done = 0; done < size;) {
        uint8_t chunk[CHUNK];
        uint64_t n = size - done < CHUNK ? size - done : CHUNK;
        enum kev_error e = probe_copy_from_guest(s, chunk, GVA(buf + done), n);
        if (e == KEV_OK)
            e = printer_write(out, chunk, n);
        if (e != KEV_OK)
            return vm_stop(s->vm, e, "the test's own print (0x%lx, %lu): %s (the test guest is "
                           "wrong, or your code changed its registers or memory)", buf, size,
                           kev_strerror(e));
        done += n;
    }
    enum kev_error e = vmcs_forward_rip(&s->vmcs);
    return e == KEV_OK ? vmexit_continue() : vm_stop(s->vm, e, "moving RIP past vmcall failed");
}

void test_controller_init(struct vmexit_controller *c, struct printer *out)
{
    *c = (struct vmexit_controller){.name = "test", .handle = test_ctl_handle, .data = out};
}
