/*
 * Project 3, part 3: a guest kernel on demand paging. This is a file you edit.
 *
 * The VM boots minos, the course's own small guest OS (guests/project3/os/:
 * ours rather than Linux so that it boots in a few hundred thousand
 * emulated instructions and prints exactly what the test expects). GRUB
 * loaded its ELF file beside kevlab as a multiboot2 module; the VM starts
 * with none of it in memory. You write the loader, in two functions
 * (their contracts are in loader.h):
 *
 *   loader_parse  read the ELF header and program headers: the entry
 *                 point, and each segment's guest-physical place, file
 *                 bytes, size in memory and permissions. The file comes
 *                 from outside: check everything (KEV_EELF, saying what)
 *   loader_fault  serve one EPT violation inside the image: a page from
 *                 loader_page_alloc(), filled from the file (zeros past the
 *                 file's bytes: .bss), mapped with your ept_map (part 1)
 *                 and the segment's permissions
 *
 * The given code (loader_ctl.c) calls loader_parse once, enters the kernel
 * at img->entry, and calls loader_fault for each EPT violation; on KEV_OK
 * the guest runs the instruction again, now on the page you mapped. minos
 * tests itself (its code, its constants, its data, that its bss is zero)
 * and prints its results through the Print hypercall; the test compares
 * them with what minos prints booted natively
 * (guests/project3/os/native.txt), then reads your EPT and counts the
 * violations you served: one for each page of the image.
 *
 * Your code runs in ring 3: `file` is the module's bytes lent read-only
 * for the call, guest pages are yours to write at phys_to_virt(page).
 *
 * Run one test: make run PROJECT=3 TEST=p3_loader_boot. The handout is
 * docs/project3.md.
 */
#include "project3/loader.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#ifdef SOLUTION

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* Whether [start, start + n) lies inside [0, limit), without wrapping. */
static bool inside(uint64_t start, uint64_t n, uint64_t limit)
{
    return start <= limit && n <= limit - start;
}

static enum kev_error bad(struct loader_image *img, const char *fmt, ...) __printf(2, 3);
static enum kev_error bad(struct loader_image *img, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(img->why, sizeof(img->why), fmt, ap);
    va_end(ap);
    return KEV_EELF;
}

static uint64_t perm_of(uint32_t flags)
{
    return (flags & PF_R ? EPT_R : 0) | (flags & PF_W ? EPT_W : 0) | (flags & PF_X ? EPT_X : 0);
}

/* One program header: a segment of img, skipped, or what is wrong. */
static enum kev_error add_segment(struct loader_image *img, const uint8_t *ph, size_t size, unsigned i)
{
    uint32_t type = get32(ph), flags = get32(ph + 4);
    struct loader_segment s = {
        .offset = get64(ph + 8),
        .gpa = get64(ph + 24),
        .filesz = get64(ph + 32),
        .memsz = get64(ph + 40),
        .perm = perm_of(flags),
    };
    if (type != PT_LOAD || s.memsz == 0)
        return KEV_OK;
    if (img->nsegments == LOADER_SEGMENTS_MAX)
        return bad(img, "program header %u: more than %d PT_LOAD segments", i, LOADER_SEGMENTS_MAX);
    if (s.filesz > s.memsz)
        return bad(img, "program header %u: p_filesz 0x%lx > p_memsz 0x%lx", i, s.filesz, s.memsz);
    if (!inside(s.offset, s.filesz, size))
        return bad(img, "program header %u: file bytes 0x%lx + 0x%lx past the file's end", i,
                   s.offset, s.filesz);
    if (s.gpa < LOADER_IMAGE_START || !inside(s.gpa, s.memsz, LOADER_IMAGE_END))
        return bad(img, "program header %u: memory 0x%lx + 0x%lx outside [0x%lx, 0x%lx)", i, s.gpa,
                   s.memsz, LOADER_IMAGE_START, LOADER_IMAGE_END);
    for (unsigned k = 0; k < img->nsegments; k++) {
        const struct loader_segment *o = &img->segment[k];
        if (s.gpa < o->gpa + o->memsz && o->gpa < s.gpa + s.memsz)
            return bad(img, "program header %u: its memory overlaps segment %u's", i, k);
    }
    if (!(flags & PF_R))
        return bad(img, "program header %u: not readable (p_flags 0x%x)", i, flags);
    img->segment[img->nsegments++] = s;
    return KEV_OK;
}

enum kev_error loader_parse(const uint8_t *file, size_t size, struct loader_image *img)
{
    memset(img, 0, sizeof(*img));
    if (size < ELF_EHDR_SIZE || file[0] != 0x7f || file[1] != 'E' || file[2] != 'L' || file[3] != 'F')
        return bad(img, "not an ELF file (no 0x7f 'E' 'L' 'F' header)");
    if (file[4] != ELFCLASS64 || file[5] != ELFDATA2LSB)
        return bad(img, "not 64-bit little-endian (class %u, data %u)", file[4], file[5]);
    if (get16(file + 16) != ET_EXEC || get16(file + 18) != EM_X86_64)
        return bad(img, "not an x86-64 executable (e_type %u, e_machine %u)", get16(file + 16),
                   get16(file + 18));
    uint64_t phoff = get64(file + 32);
    uint16_t phentsize = get16(file + 54), phnum = get16(file + 56);
    if (phentsize != ELF_PHDR_SIZE || !inside(phoff, (uint64_t)phnum * ELF_PHDR_SIZE, size))
        return bad(img, "program headers (%u of %u bytes at 0x%lx) not inside the file", phnum,
                   phentsize, phoff);
    for (unsigned i = 0; i < phnum; i++)
        KEV_TRY(add_segment(img, file + phoff + (uint64_t)i * ELF_PHDR_SIZE, size, i));
    if (img->nsegments == 0)
        return bad(img, "no PT_LOAD segment");
    img->entry = get64(file + 24);
    for (unsigned k = 0; k < img->nsegments; k++) {
        const struct loader_segment *s = &img->segment[k];
        if ((s->perm & EPT_X) && img->entry >= s->gpa && img->entry - s->gpa < s->memsz)
            return KEV_OK;
    }
    return bad(img, "the entry point 0x%lx is not in an executable segment", img->entry);
}

enum kev_error loader_fault(const struct ept *ept, const struct loader_image *img,
                            const uint8_t *file, gpa_t gpa, enum guest_access access)
{
    uint64_t page = ALIGN_DOWN(gpa.addr, PAGE_SIZE), perm = 0;
    for (unsigned k = 0; k < img->nsegments; k++) {
        const struct loader_segment *s = &img->segment[k];
        if (page < s->gpa + s->memsz && s->gpa < page + PAGE_SIZE)
            perm |= s->perm;
    }
    if (perm == 0)
        return KEV_EUNMAPPED;
    if (access == GUEST_WRITE && !(perm & EPT_W))
        return KEV_EREADONLY;
    if (access == GUEST_FETCH && !(perm & EPT_X))
        return KEV_ENOEXEC;
    paddr_t hpa;
    uint64_t now;
    if (ept_translate(ept, GPA(page), &hpa, &now) == KEV_OK)
        return KEV_OK; /* served already */
    KEV_TRY(loader_page_alloc(&hpa));
    uint8_t *dst = phys_to_virt(hpa);
    memset(dst, 0, PAGE_SIZE);
    for (unsigned k = 0; k < img->nsegments; k++) {
        const struct loader_segment *s = &img->segment[k];
        uint64_t lo = page > s->gpa ? page : s->gpa;
        uint64_t end = s->gpa + s->filesz, hi = page + PAGE_SIZE < end ? page + PAGE_SIZE : end;
        if (lo < hi)
            memcpy(dst + (lo - page), file + s->offset + (lo - s->gpa), hi - lo);
    }
    return ept_map(ept, GPA(page), hpa, perm);
}

#else

enum kev_error loader_parse(const uint8_t *file, size_t size, struct loader_image *img)
{
    /*
     * Hints:
     *   - Read fields byte by byte (little-endian: file[0] | file[1] << 8 ...)
     *     or with memcpy into a uint64_t: the file's offsets need not be
     *     aligned for a wider load.
     *   - Check in loader.h's order, and say in img->why what you found
     *     (snprintf(img->why, sizeof(img->why), ...)): the message is for the
     *     person whose file it is.
     *   - "Inside the file" without wrapping: start <= size && n <= size - start.
     *     start + n <= size is wrong when start + n passes 2^64.
     *   - Program header i is at file + e_phoff + i * 56. Keep only PT_LOAD
     *     with p_memsz > 0.
     *   - Two ranges [a, a + n) and [b, b + m) overlap when a < b + m && b < a + n.
     */
    (void)file;
    (void)size;
    (void)img;
    TODO();
}

enum kev_error loader_fault(const struct ept *ept, const struct loader_image *img,
                            const uint8_t *file, gpa_t gpa, enum guest_access access)
{
    /*
     * Hints:
     *   - Work on the page: ALIGN_DOWN(gpa.addr, PAGE_SIZE). Segments need not
     *     start or end on a page: a page may hold the end of one segment and
     *     the start of the next, and then holds both and allows what either
     *     allows.
     *   - ept_translate() (part 1) tells whether the page is mapped already.
     *   - loader_page_alloc()'s page is not zeroed: clear it first, then copy
     *     the file bytes of each segment that falls in the page. Bytes past a
     *     segment's p_filesz stay 0.
     *   - Map with ept_map(ept, GPA(page), hpa, perm) and return its result.
     */
    (void)ept;
    (void)img;
    (void)file;
    (void)gpa;
    (void)access;
    TODO();
}

#endif
