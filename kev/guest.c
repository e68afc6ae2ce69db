/*
 * The guest builder: guest memory, the guest page table and the guest
 * state of a flat 64-bit guest without EPT. Guest-physical addresses are
 * host-physical ones, so mapping a host page at a guest-virtual address is
 * one pt_map into the VM's own page table (kernel/paging.h) plus a line in
 * the VM's memory map for the page and for every table page on its path.
 */
#include "kernel/mm.h"
#include "kernel/string.h"
#include "kernel/x86.h"
#include "kev/internal.h"

#define PTE_ALLOWED_FLAGS (PTE_W | PTE_U | PTE_NX | PTE_G)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)
#define CPUID_80000001_EDX_NX (1u << 20)

static bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* NX in a guest entry needs EFER.NXE in the guest, which kev can set only
 * with the "load IA32_EFER" entry control. */
bool kev_guest_nx(void)
{
    return (cpuid(0x80000001, 0).edx & CPUID_80000001_EDX_NX) &&
           vmx_control_allowed(VMX_ENTRY, VM_ENTRY_LOAD_IA32_EFER);
}

static enum kev_error from_paging(int err)
{
    switch (err) {
    case 0:
        return KEV_OK;
    case PAGING_ENOMEM:
        return KEV_ENOMEM;
    case PAGING_EEXIST:
        return KEV_EEXIST;
    case PAGING_ENOENT:
        return KEV_EUNMAPPED;
    }
    return KEV_EINVAL;
}

/* Adds the table pages on gva's path to the memory map (the probe walks
 * them). A VM maps its pages mostly in runs that share their tables: the
 * last path's pages are known to be there, which spares three lookups. */
static enum kev_error add_tables(struct vm *vm, uint64_t gva)
{
    const uint64_t *t = (const uint64_t *)(uintptr_t)vm->pml4;
    for (int level = 4; level > 1; level--) {
        uint64_t e = t[(gva >> (12 + 9 * (level - 1))) & 511];
        if (!(e & PTE_P) || (e & PTE_PS))
            break;
        paddr_t next = e & PTE_ADDR_MASK;
        paddr_t *known = &vm->tables_recorded[4 - level];
        if (*known != next) {
            enum kev_error err = mem_add(vm, next, PAGE_SIZE, next, MEM_TABLE);
            if (err != KEV_OK) {
                vm->tables_lost = true;
                return err;
            }
            *known = next;
        }
        t = (const uint64_t *)(uintptr_t)next;
    }
    return KEV_OK;
}

static enum kev_error map_one(struct vm *vm, uint64_t gva, paddr_t page, uint64_t flags,
                              enum mem_kind kind)
{
    if ((gva | page) & (PAGE_SIZE - 1) || (flags & ~PTE_ALLOWED_FLAGS) || page == 0)
        return KEV_EINVAL;
    if (!canonical(gva))
        return KEV_ENONCANONICAL;
    if (vm->pml4 == 0)
        return KEV_ESTOPPED;
    if (!kev_guest_nx())
        flags &= ~PTE_NX;
    /* No EPT: the page's guest-physical address is its host address. */
    enum kev_error e = mem_add(vm, page, PAGE_SIZE, page, kind);
    if (e == KEV_OK)
        e = from_paging(pt_map(vm->pml4, gva, page, flags));
    if (e == KEV_OK)
        e = add_tables(vm, gva);
    return e;
}

enum kev_error kev_guest_map(struct vm *vm, gva_t gva, paddr_t page, uint64_t flags)
{
    return map_one(vm, gva.addr, page, flags, MEM_BORROWED);
}

enum kev_error kev_guest_unmap(struct vm *vm, gva_t gva)
{
    if (vm->pml4 == 0)
        return KEV_ESTOPPED;
    mem_forget_hints(vm); /* the probe's walks */
    return from_paging(pt_unmap(vm->pml4, gva.addr));
}

enum kev_error kev_guest_clear_accessed(struct vm *vm, gva_t gva, bool *dirty)
{
    if (vm->pml4 == 0)
        return KEV_ESTOPPED;
    int r = pt_clear_accessed(vm->pml4, gva.addr);
    if (r < 0)
        return from_paging(r);
    if (dirty)
        *dirty = r == 1;
    return KEV_OK;
}

paddr_t kev_guest_pml4(struct vm *vm)
{
    return vm->pml4;
}

#define MOVE_SKIP_MAX 64

enum kev_error kev_guest_move_pml4(struct vm *vm, unsigned skip)
{
    if (vm->pml4 == 0)
        return KEV_ESTOPPED;
    paddr_t skipped[MOVE_SKIP_MAX];
    unsigned n = 0;
    while (n < skip && n < MOVE_SKIP_MAX && (skipped[n] = page_alloc()) != 0)
        n++;
    paddr_t page = page_alloc();
    while (n > 0)
        page_free(skipped[--n]);
    if (page == 0)
        return KEV_ENOMEM;
    enum kev_error e = mem_add(vm, page, PAGE_SIZE, page, MEM_TABLE);
    if (e != KEV_OK) {
        page_free(page);
        return e;
    }
    /* The old page stays recorded as a table page: it is freed with the VM. */
    memcpy((void *)(uintptr_t)page, (const void *)(uintptr_t)vm->pml4, PAGE_SIZE);
    vm->pml4 = page;
    return KEV_OK;
}

/* One fresh page mapped at gva, owned by the VM once mapped or recorded. */
static enum kev_error alloc_one(struct vm *vm, uint64_t gva, uint64_t flags, paddr_t *out)
{
    paddr_t page = page_alloc();
    if (page == 0)
        return KEV_ENOMEM;
    enum kev_error e = map_one(vm, gva, page, flags, MEM_OWNED);
    if (e != KEV_OK && !mem_find(vm, page))
        page_free(page); /* not recorded: nobody else would free it */
    *out = page;
    return e;
}

enum kev_error kev_guest_alloc(struct vm *vm, gva_t gva, size_t npages, uint64_t flags, void **host)
{
    if (npages == 0 || gva.addr + npages * PAGE_SIZE < gva.addr)
        return KEV_EINVAL;
    for (size_t i = 0; i < npages; i++) {
        paddr_t page;
        KEV_TRY(alloc_one(vm, gva.addr + i * PAGE_SIZE, flags, &page));
        if (i == 0 && host)
            *host = (void *)(uintptr_t)page;
    }
    return KEV_OK;
}

enum kev_error kev_guest_load(struct vm *vm, gva_t gva, const void *bytes, size_t n, uint64_t flags)
{
    const uint8_t *src = bytes;
    if (n == 0 || gva.addr + n < gva.addr)
        return KEV_EINVAL;
    for (size_t off = 0; off < n; off += PAGE_SIZE) {
        paddr_t page;
        KEV_TRY(alloc_one(vm, gva.addr + off, flags, &page));
        size_t chunk = n - off < PAGE_SIZE ? n - off : PAGE_SIZE;
        memcpy((void *)(uintptr_t)page, src + off, chunk);
    }
    return KEV_OK;
}

/* Segment access rights (Vol. 3C, 25.4.1 "Guest Register State"). */
#define AR_CODE64 0xa09b   /* G, L, P, S, type 11: execute/read, accessed */
#define AR_DATA 0xc093     /* G, D/B, P, S, type 3: read/write, accessed */
#define AR_TSS_BUSY 0x008b /* P, type 11: busy 64-bit TSS */
#define AR_UNUSABLE 0x10000

enum kev_error kev_guest_setup_flat64(struct vcpu_state *s, gva_t rip, gva_t rsp)
{
    struct active_vmcs *vmcs = &s->vmcs;
    const struct vmx_caps *caps = kev_vmx_caps();
    uint64_t cr0 = vmx_fixed_cr0(CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG);
    uint64_t cr4 = vmx_fixed_cr4(CR4_PAE);
    /* The host owns the bits VMX fixes: a guest write that would change one
     * exits (CR_ACCESS) instead of breaking the next VM entry; the guest
     * reads the shadows, in which VMXE is clear (Vol. 3C, 26.3 "Changes to
     * Instruction Behavior in VMX Non-Root Operation", MOV from CR0/CR4). */
    VMCS_SETL(vmcs, GUEST_CR0, cr0);
    VMCS_SETL(vmcs, CR0_GUEST_HOST_MASK, (caps->cr0_fixed0 | ~caps->cr0_fixed1) & 0xffffffffULL);
    VMCS_SETL(vmcs, CR0_READ_SHADOW, cr0);
    VMCS_SETL(vmcs, GUEST_CR4, cr4);
    VMCS_SETL(vmcs, CR4_GUEST_HOST_MASK,
              ((caps->cr4_fixed0 | ~caps->cr4_fixed1) & 0xffffffffULL) | CR4_PAE | CR4_LA57);
    VMCS_SETL(vmcs, CR4_READ_SHADOW, cr4 & ~CR4_VMXE);
    VMCS_SETL(vmcs, GUEST_CR3, s->vm->pml4);
    VMCS_SETL(vmcs, GUEST_DR7, 0x400);
    VMCS_SET64(vmcs, GUEST_IA32_DEBUGCTL, 0);
    if (vmx_control_allowed(VMX_ENTRY, VM_ENTRY_LOAD_IA32_EFER))
        VMCS_SET64(vmcs, GUEST_IA32_EFER, EFER_LME | EFER_LMA | (kev_guest_nx() ? EFER_NXE : 0));

    VMCS_SET16(vmcs, GUEST_CS_SELECTOR, 0x08);
    VMCS_SETL(vmcs, GUEST_CS_BASE, 0);
    VMCS_SET32(vmcs, GUEST_CS_LIMIT, 0xffffffff);
    VMCS_SET32(vmcs, GUEST_CS_AR_BYTES, AR_CODE64);
    /* The data segments, all alike (fields named so each write is width-checked). */
#define DATA_SEGMENT(seg)                                                                   \
    do {                                                                                    \
        VMCS_SET16(vmcs, GUEST_##seg##_SELECTOR, 0x10);                                      \
        VMCS_SETL(vmcs, GUEST_##seg##_BASE, 0);                                              \
        VMCS_SET32(vmcs, GUEST_##seg##_LIMIT, 0xffffffff);                                   \
        VMCS_SET32(vmcs, GUEST_##seg##_AR_BYTES, AR_DATA);                                   \
    } while (0)
    DATA_SEGMENT(SS);
    DATA_SEGMENT(DS);
    DATA_SEGMENT(ES);
    DATA_SEGMENT(FS);
    DATA_SEGMENT(GS);
#undef DATA_SEGMENT
    /* VM entry wants a usable TR even though the guest never uses it. */
    VMCS_SET16(vmcs, GUEST_TR_SELECTOR, 0x18);
    VMCS_SETL(vmcs, GUEST_TR_BASE, 0);
    VMCS_SET32(vmcs, GUEST_TR_LIMIT, 0x67);
    VMCS_SET32(vmcs, GUEST_TR_AR_BYTES, AR_TSS_BUSY);
    VMCS_SET16(vmcs, GUEST_LDTR_SELECTOR, 0);
    VMCS_SETL(vmcs, GUEST_LDTR_BASE, 0);
    VMCS_SET32(vmcs, GUEST_LDTR_LIMIT, 0);
    VMCS_SET32(vmcs, GUEST_LDTR_AR_BYTES, AR_UNUSABLE);
    /* No GDT or IDT: the guest runs on what VM entry loaded. */
    VMCS_SETL(vmcs, GUEST_GDTR_BASE, 0);
    VMCS_SET32(vmcs, GUEST_GDTR_LIMIT, 0);
    VMCS_SETL(vmcs, GUEST_IDTR_BASE, 0);
    VMCS_SET32(vmcs, GUEST_IDTR_LIMIT, 0);

    VMCS_SET32(vmcs, GUEST_SYSENTER_CS, 0);
    VMCS_SETL(vmcs, GUEST_SYSENTER_ESP, 0);
    VMCS_SETL(vmcs, GUEST_SYSENTER_EIP, 0);
    VMCS_SETL(vmcs, GUEST_RFLAGS, 0x2); /* bit 1 is always 1; interrupts off */
    VMCS_SETL(vmcs, GUEST_RIP, rip.addr);
    VMCS_SETL(vmcs, GUEST_RSP, rsp.addr);
    VMCS_SET32(vmcs, GUEST_ACTIVITY_STATE, 0);
    VMCS_SET32(vmcs, GUEST_INTERRUPTIBILITY_INFO, 0);
    VMCS_SETL(vmcs, GUEST_PENDING_DBG_EXCEPTIONS, 0);
    return KEV_OK;
}

enum kev_error kev_guest_build(struct vcpu_state *s, const struct kev_guest_image *img)
{
    struct vm *vm = s->vm;
    uint64_t code = img->code_gva ? img->code_gva : KEV_GUEST_CODE_GVA;
    uint64_t data = img->data_gva ? img->data_gva : KEV_GUEST_DATA_GVA;
    uint64_t top = img->stack_top ? img->stack_top : KEV_GUEST_STACK_TOP;
    size_t ndata = img->data_pages ? img->data_pages : 1;
    size_t nstack = img->stack_pages ? img->stack_pages : 1;
    if (img->code == NULL || img->code_size == 0 || nstack * PAGE_SIZE > top)
        return KEV_EINVAL;
    enum kev_error e = kev_guest_load(vm, GVA(code), img->code, img->code_size, 0);
    if (e == KEV_OK)
        e = kev_guest_alloc(vm, GVA(data), ndata, PTE_W | PTE_NX, NULL);
    if (e == KEV_OK)
        e = kev_guest_alloc(vm, GVA(top - nstack * PAGE_SIZE), nstack, PTE_W | PTE_NX, NULL);
    if (e == KEV_OK)
        e = kev_guest_setup_flat64(s, GVA(img->entry ? img->entry : code), GVA(top));
    return e;
}
