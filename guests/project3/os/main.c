/*
 * minos: the course's own small guest OS, the kernel project 3's loader
 * boots. It is ours, not Linux or xv6, so that it fits a test: a few pages
 * that boot natively under GRUB and in a kev VM alike, that run in a few
 * hundred thousand emulated instructions, and whose every line of output
 * is known. Booted natively (make minos-native PROJECT=3) it prints what
 * guests/project3/os/native.txt holds; booted by your loader it must
 * print the same, byte for byte.
 *
 * It checks itself the way a loader can go wrong: its code runs (text), its
 * constants are the file's bytes (rodata, over three pages), its
 * initialized data is the file's and writable (data), its bss reads as
 * zeros (bss: no file bytes behind it), and memory keeps what is written.
 *
 * Output and the end go one of two ways, told apart by the multiboot2
 * boot loader name (tag 2): "kev" means a hypervisor: Print and HaltCpu
 * hypercalls (rax = 1 and 0, as project 2); anything else means the bare
 * machine: COM1 at 0x3f8 and Bochs's power-off port.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MB2_BOOT_MAGIC 0x36d76289
#define MB2_TAG_END 0
#define MB2_TAG_LOADER_NAME 2
#define COM1 0x3f8
#define BOCHS_PORT 0x8900
#define HC_HALT_CPU 0
#define HC_PRINT 1

static bool under_kev; /* bss: must read false until set */

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static size_t str_len(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

static void write(const char *s, size_t n)
{
    if (under_kev) {
        uint64_t rax = HC_PRINT;
        __asm__ volatile("vmcall" : "+a"(rax) : "D"(s), "S"(n) : "memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        while (!(inb(COM1 + 5) & 0x20)) /* transmitter holding register empty */
            ;
        outb(COM1, (uint8_t)s[i]);
    }
}

static void puts(const char *s)
{
    write(s, str_len(s));
}

static void put_hex(uint64_t v)
{
    char b[19] = "0x";
    for (int i = 0; i < 16; i++)
        b[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 0xf];
    write(b, 18);
}

static void put_dec(uint64_t v)
{
    char b[21];
    int i = 20;
    b[i] = 0;
    do {
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    puts(b + i);
}

static __attribute__((noreturn)) void power_off(unsigned failed)
{
    if (under_kev) {
        uint64_t rax = HC_HALT_CPU;
        __asm__ volatile("vmcall" : "+a"(rax) : "D"((uint64_t)failed) : "memory");
    } else {
        while (!(inb(COM1 + 5) & 0x40)) /* every byte out of the UART */
            ;
        if (failed == 0) {
            outb(BOCHS_PORT, 'D'); /* break into the debugger: its rc file quits with 0 */
        } else {
            for (const char *s = "Shutdown"; *s; s++)
                outb(BOCHS_PORT, (uint8_t)*s);
        }
    }
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* --- the self-tests ------------------------------------------------------- */

/* FNV-1a, 64-bit. */
static uint64_t fnv(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* rodata: 3 pages and a bit of values the file holds, so over four pages. */
#define V(i) ((uint32_t)((i) * 2654435761u) ^ 0x5a5a0000u)
#define R4(i) V(i), V(i + 1), V(i + 2), V(i + 3)
#define R16(i) R4(i), R4(i + 4), R4(i + 8), R4(i + 12)
#define R64(i) R16(i), R16(i + 16), R16(i + 32), R16(i + 48)
#define R256(i) R64(i), R64(i + 64), R64(i + 128), R64(i + 192)
#define R1024(i) R256(i), R256(i + 256), R256(i + 512), R256(i + 768)
#define RODATA_WORDS (3 * 1024 + 64)
static const uint32_t table[RODATA_WORDS] = {R1024(0), R1024(1024), R1024(2048), R64(3072)};
/* data: two pages and a bit of initialized, writable words. */
#define DATA_WORDS (2 * 1024 + 16)
static uint32_t counters[DATA_WORDS] = {R1024(7), R1024(1031), R16(2055)};
/* bss: four pages of nothing the file holds. */
#define BSS_WORDS (4 * 1024)
static uint32_t scratch[BSS_WORDS];

static const char *const names[] = {"text", "rodata", "data", "bss", "memory"};

static bool test_text(void)
{
    /* Code runs: some arithmetic a wrong byte of text would spoil. */
    uint64_t a = 0, b = 1;
    for (int i = 0; i < 90; i++) {
        uint64_t t = a + b;
        a = b;
        b = t;
    }
    unsigned primes = 0;
    for (unsigned n = 2; n < 2000; n++) {
        bool p = true;
        for (unsigned d = 2; d * d <= n; d++)
            if (n % d == 0) {
                p = false;
                break;
            }
        primes += p;
    }
    return a == 2880067194370816120ULL && primes == 303;
}

static bool test_rodata(void)
{
    for (unsigned i = 0; i < RODATA_WORDS; i++)
        if (table[i] != V(i))
            return false;
    return true;
}

static bool test_data(void)
{
    for (unsigned i = 0; i < DATA_WORDS; i++)
        if (counters[i] != V(i + 7))
            return false;
    for (unsigned i = 0; i < DATA_WORDS; i++)
        counters[i] += i;
    for (unsigned i = 0; i < DATA_WORDS; i++)
        if (counters[i] != V(i + 7) + i)
            return false;
    return true;
}

static bool test_bss(void)
{
    for (unsigned i = 0; i < BSS_WORDS; i++)
        if (scratch[i] != 0)
            return false;
    return true;
}

extern const uint8_t __image_start[], __image_end[];

static bool test_memory(void)
{
    /* Every page of the image can be read: under kev, each page is
     * touched, so the loader serves one EPT violation for each. */
    volatile uint8_t sink = 0;
    for (const uint8_t *p = __image_start; p < __image_end; p += 4096)
        sink ^= *p;
    (void)sink;
    for (unsigned i = 0; i < BSS_WORDS; i++)
        scratch[i] = V(i) ^ 0xffffffffu;
    for (unsigned i = 0; i < BSS_WORDS; i++)
        if (scratch[i] != (V(i) ^ 0xffffffffu))
            return false;
    return true;
}

static bool (*const tests[])(void) = {test_text, test_rodata, test_data, test_bss, test_memory};
#define NTESTS (sizeof(tests) / sizeof(tests[0]))

/* The boot loader's name in the multiboot2 information, or "". */
static const char *loader_name(uint32_t magic, uint64_t info)
{
    if (magic != MB2_BOOT_MAGIC || info == 0)
        return "";
    uint32_t total = *(const uint32_t *)info;
    for (uint64_t at = info + 8; at + 8 <= info + total;) {
        uint32_t type = *(const uint32_t *)at, size = *(const uint32_t *)(at + 4);
        if (type == MB2_TAG_END || size < 8)
            break;
        if (type == MB2_TAG_LOADER_NAME)
            return (const char *)(at + 8);
        at += (size + 7) & ~7u;
    }
    return "";
}

static bool same(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

void kmain(uint32_t magic, uint32_t info)
{
    under_kev = same(loader_name(magic, info), "kev");
    if (!under_kev) { /* COM1: 115200 8N1, FIFO on */
        outb(COM1 + 1, 0x00);
        outb(COM1 + 3, 0x80);
        outb(COM1 + 0, 0x01);
        outb(COM1 + 1, 0x00);
        outb(COM1 + 3, 0x03);
        outb(COM1 + 2, 0xc7);
    }
    puts("minos: booted, multiboot2 magic ");
    put_hex(magic);
    puts("\n");
    unsigned failed = 0;
    for (unsigned i = 0; i < NTESTS; i++) {
        bool ok = tests[i]();
        puts("minos: test ");
        puts(names[i]);
        puts(ok ? " ok\n" : " FAILED\n");
        failed += !ok;
    }
    puts("minos: rodata checksum ");
    put_hex(fnv(table, sizeof(table)));
    puts("\nminos: ");
    put_dec(NTESTS - failed);
    puts(" of ");
    put_dec(NTESTS);
    puts(" tests passed\n");
    power_off(failed);
}
