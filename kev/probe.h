/*
 * Probing a guest's memory from the host, safely. A hypercall argument is
 * a guest-virtual address the guest chose: it may be unmapped, non-
 * canonical, wrap around the end of the address space, or (with no EPT,
 * where guest-physical == host-physical) point at memory that is not the
 * VM's. The probe translates every page a range touches -- guest-virtual
 * to guest-physical through the guest's own page tables (from GUEST_CR3),
 * then guest-physical to host through the VM's memory map -- and answers
 * with an error value for anything wrong. It never touches memory it has
 * not checked, so no guest input can fault the host.
 *
 *   char buf[64];
 *   enum kev_error e = probe_copy_from_guest(s, buf, GVA(s->regs.rdi), len);
 *   if (e != KEV_OK)
 *       return vm_stop(s->vm, e, "Print: buffer at 0x%lx: %s", s->regs.rdi, kev_strerror(e));
 *
 * Only 4-level paging is understood (the guests kev builds); a guest with
 * paging off or in another mode gets KEV_EPAGINGMODE.
 */
#ifndef KEV_PROBE_H
#define KEV_PROBE_H

#include "kernel/types.h"
#include "kev/addr.h"
#include "kev/error.h"

struct vcpu_state;
struct vm;

/*
 * Walks the guest's page tables for gva: stores the guest-physical address
 * (with gva's page offset) and, if flags is not NULL, the leaf entry's
 * flags with W and U and-ed over the walk and NX or-ed. KEV_ENONCANONICAL,
 * KEV_EUNMAPPED, KEV_ENOTGUESTMEM (a table outside the VM), KEV_EPAGINGMODE.
 */
enum kev_error probe_gva_to_gpa(struct vcpu_state *s, gva_t gva, gpa_t *gpa, uint64_t *flags);

/*
 * Where guest-physical [gpa, gpa+len) is in host memory: *host points to it
 * when the whole range lies in one region of the VM's memory. KEV_EOVERFLOW,
 * KEV_ENOTGUESTMEM.
 */
enum kev_error probe_gpa_to_host(struct vm *vm, gpa_t gpa, size_t len, void **host);

/* Both steps for a range that does not cross a page boundary. */
enum kev_error probe_gva_to_host(struct vcpu_state *s, gva_t gva, size_t len, void **host);

/*
 * Copies n bytes from the guest's virtual address src into dst, page by
 * page (the guest pages need not be contiguous in host memory). On an
 * error nothing is promised about dst. n = 0 is KEV_OK.
 */
enum kev_error probe_copy_from_guest(struct vcpu_state *s, void *dst, gva_t src, size_t n);
/* The other way; every page must be writable in the guest's tables. */
enum kev_error probe_copy_to_guest(struct vcpu_state *s, gva_t dst, const void *src, size_t n);

/*
 * Copies n bytes of guest-physical memory from src into dst, page by page
 * (probe_gpa_to_host for each). KEV_EOVERFLOW when src + n - 1 wraps,
 * KEV_ENOTGUESTMEM when a page is not the VM's memory; n = 0 is KEV_OK.
 */
enum kev_error probe_copy_from_gpa(struct vm *vm, void *dst, gpa_t src, size_t n);
/* The other way: n bytes from src into guest-physical dst. The same errors,
 * and KEV_EREADONLY when the VM's EPT does not allow writes to a page of
 * the range, or (no EPT) the page is one of the guest's page tables, whose
 * entries are host addresses: nothing is written to that page or past it. */
enum kev_error probe_copy_to_gpa(struct vm *vm, gpa_t dst, const void *src, size_t n);

#endif
