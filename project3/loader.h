/*
 * Project 3, part 3: a guest kernel on demand paging, and the two
 * functions you write in loader.c.
 *
 * The VM boots a real kernel: minos (guests/project3/os/), handed to kevlab
 * by GRUB as the multiboot2 module "minos", an ELF file. Nothing of it is
 * in the VM's memory when the VM starts. The kernel enters at the ELF's
 * entry point, and each page of its image that it touches is an EPT
 * violation (Intel SDM Vol. 3C, 29.3.3.2 "EPT Violations"), which you
 * serve as an OS serves a page fault: a fresh page, filled from the file,
 * mapped with the permissions of its segment. This is demand paging, one
 * level down: the guest's "physical" memory is loaded lazily.
 *
 * An ELF executable (the ELF specification, "ELF Header" and "Program
 * Header"; 64-bit: the System V ABI's gABI, Elf64_Ehdr and Elf64_Phdr)
 * starts with a 64-byte header whose fields the loader needs:
 *
 *   offset  size  field        what
 *   0       4     e_ident      0x7f 'E' 'L' 'F'
 *   4       1     EI_CLASS     2: ELFCLASS64 (64-bit)
 *   5       1     EI_DATA      1: ELFDATA2LSB (little-endian)
 *   16      2     e_type       2: ET_EXEC (an executable)
 *   18      2     e_machine    62: EM_X86_64
 *   24      8     e_entry      the entry point (guest address of the first instruction)
 *   32      8     e_phoff      where the program headers are in the file
 *   54      2     e_phentsize  the size of one program header (56)
 *   56      2     e_phnum      how many there are
 *
 * and each 56-byte program header:
 *
 *   0       4     p_type       1: PT_LOAD (a segment to load); others are skipped
 *   4       4     p_flags      PF_X 1, PF_W 2, PF_R 4
 *   8       8     p_offset     where the segment's bytes are in the file
 *   16      8     p_vaddr      its virtual address (not used here)
 *   24      8     p_paddr      its physical address: where it goes in guest-physical memory
 *   32      8     p_filesz     bytes in the file
 *   40      8     p_memsz      bytes in memory; past p_filesz they are zeros (.bss)
 *
 * The VM (project3/loader_ctl.c, given) maps up front what is not the
 * image: a multiboot2 information page and the page tables kev enters the
 * kernel on (an identity map of LOADER_IMAGE_END bytes); the image itself
 * must lie in [LOADER_IMAGE_START, LOADER_IMAGE_END).
 */
#ifndef PROJECT3_LOADER_H
#define PROJECT3_LOADER_H

#include "kernel/types.h"
#include "kev/kev.h"
#include "project3/ept.h"

#define LOADER_IMAGE_START 0x100000UL /* 1 MiB */
#define LOADER_IMAGE_END 0x400000UL   /* 4 MiB */
#define LOADER_SEGMENTS_MAX 8
#define LOADER_WHY_MAX 96

/* ELF constants (the ELF specification; gABI for the 64-bit ones). */
#define ELF_EHDR_SIZE 64
#define ELF_PHDR_SIZE 56
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_X86_64 62
#define PT_LOAD 1
#define PF_X 1
#define PF_W 2
#define PF_R 4

/* One PT_LOAD segment, as loader_parse found it. */
struct loader_segment {
    uint64_t gpa;    /* p_paddr: its first byte's guest-physical address */
    uint64_t offset; /* p_offset */
    uint64_t filesz; /* p_filesz */
    uint64_t memsz;  /* p_memsz */
    uint64_t perm;   /* EPT_R/W/X from p_flags (PF_R -> EPT_R, PF_W -> EPT_W, PF_X -> EPT_X) */
};

/* What the loader knows of the kernel: the entry point and its segments. */
struct loader_image {
    uint64_t entry;
    unsigned nsegments;
    struct loader_segment segment[LOADER_SEGMENTS_MAX]; /* in the file's order */
    char why[LOADER_WHY_MAX]; /* KEV_EELF: what is wrong with the file, in words */
};

/*
 * loader_parse: reads the ELF file (size bytes at file) into *img: e_entry
 * and each PT_LOAD segment with p_memsz > 0, in the order of the program
 * headers (a segment with p_memsz = 0 is skipped like any other type).
 * KEV_OK, or KEV_EELF with a sentence in img->why for the first of these
 * that applies:
 *
 *   the file is shorter than the ELF header, or e_ident is not 0x7f 'E' 'L' 'F'
 *   EI_CLASS is not ELFCLASS64, or EI_DATA not ELFDATA2LSB
 *   e_type is not ET_EXEC, or e_machine not EM_X86_64
 *   e_phentsize is not 56, or the program headers (e_phnum of them at
 *     e_phoff) do not lie inside the file
 *   then, for each PT_LOAD segment with p_memsz > 0, in order:
 *     more than LOADER_SEGMENTS_MAX of them
 *     p_filesz > p_memsz
 *     its file bytes [p_offset, p_offset + p_filesz) do not lie inside the file
 *     its memory [p_paddr, p_paddr + p_memsz) does not lie inside
 *       [LOADER_IMAGE_START, LOADER_IMAGE_END)
 *     it overlaps an earlier segment's memory (sharing a page is fine)
 *     p_flags lacks PF_R (the EPT cannot map a page writable or, on most
 *       CPUs, executable without read)
 *   no PT_LOAD segment at all
 *   e_entry is not inside a segment with PF_X
 *
 * Every sum must be checked for wrapping past 2^64: a file can hold any value.
 */
enum kev_error loader_parse(const uint8_t *file, size_t size, struct loader_image *img);

/*
 * loader_fault: serves an EPT violation: the guest made an access of kind
 * `access` at guest-physical gpa, which the EPT (ept, the VM's) does not
 * allow. img is what your loader_parse made of file (so each segment's
 * file bytes lie inside the file). The page of gpa (gpa rounded down to 4 KiB) belongs to every
 * segment whose memory overlaps it. In this order:
 *
 *   KEV_EUNMAPPED  no segment overlaps the page: not the image's (the
 *                  violation then stops the VM, as kev describes it)
 *   KEV_EREADONLY  a GUEST_WRITE, and no segment of the page has EPT_W
 *   KEV_ENOEXEC    a GUEST_FETCH, and no segment of the page has EPT_X
 *   KEV_OK         the page is mapped already (a second violation for a
 *                  page already served: the guest touched it again before
 *                  the CPU saw the new mapping): nothing more to do
 *   KEV_OK         else: a page from loader_page_alloc(), holding at each
 *                  byte the file's byte for it (the segment's byte at
 *                  p_offset + (address - p_paddr), for an address below
 *                  p_paddr + p_filesz) and 0 at every other byte, mapped
 *                  at the page with your ept_map and the OR of the
 *                  permissions of the page's segments
 *   (an error of loader_page_alloc or ept_map, returned as it is)
 *
 * Map exactly the page of gpa: the tests count the violations.
 */
enum kev_error loader_fault(const struct ept *ept, const struct loader_image *img,
                            const uint8_t *file, gpa_t gpa, enum guest_access access);

/*
 * loader_page_alloc (a syscall): a page of guest memory for the VM, in
 * *page (its host-physical address; write it at phys_to_virt(*page)). It
 * is NOT zeroed: it holds what an earlier user left. KEV_ENOMEM when there
 * is no memory.
 */
enum kev_error loader_page_alloc(paddr_t *page);

#endif
