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
 *
 * Two drivers run only when the boot command line (tag 1) asks, as project
 * 4's hypervisor does; natively GRUB's is empty and minos prints what
 * native.txt holds. After the self-tests:
 *
 *   timer=N,T         N interrupts of its x2APIC timer in TSC-deadline mode,
 *                     each T ticks after the last (Intel SDM Vol. 3A,
 *                     12.5.4.1 "TSC-Deadline Mode"; 12.12.1.2 the x2APIC MSRs)
 *   vblk=BASE,IRQ     a virtio-blk device over MMIO at guest-physical BASE,
 *                     its interrupt on vector IRQ (virtio 1.x, 4.2 "Virtio
 *                     Over MMIO", 5.2 "Block Device")
 *   file=S,L          with vblk: the "file" of L bytes from sector S of the
 *                     disk, read and printed as it is, then its FNV-1a
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MB2_BOOT_MAGIC 0x36d76289
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
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

/* The string of multiboot2 tag `want` (the boot loader's name, the
 * command line), or "". */
static const char *mb2_string(uint32_t magic, uint64_t info, uint32_t want)
{
    if (magic != MB2_BOOT_MAGIC || info == 0)
        return "";
    uint32_t total = *(const uint32_t *)info;
    for (uint64_t at = info + 8; at + 8 <= info + total;) {
        uint32_t type = *(const uint32_t *)at, size = *(const uint32_t *)(at + 4);
        if (type == MB2_TAG_END || size < 8)
            break;
        if (type == want)
            return (const char *)(at + 8);
        at += (size + 7) & ~7u;
    }
    return "";
}

/* --- the optional drivers ------------------------------------------------------- */

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* Each number of the command line's "key=a,b": decimal or 0x hex. */
static bool option(const char *cmdline, const char *key, uint64_t *a, uint64_t *b)
{
    for (const char *p = cmdline; *p;) {
        const char *k = key;
        while (*k && *p == *k)
            p++, k++;
        if (*k == 0 && *p == '=') {
            uint64_t *out[2] = {a, b};
            p++;
            for (int i = 0; i < 2; i++) {
                uint64_t v = 0;
                unsigned base = 10;
                if (p[0] == '0' && p[1] == 'x')
                    base = 16, p += 2;
                const char *first = p;
                for (;; p++) {
                    unsigned d = *p >= '0' && *p <= '9' ? (unsigned)(*p - '0')
                                 : base == 16 && *p >= 'a' && *p <= 'f' ? (unsigned)(*p - 'a' + 10) : 99;
                    if (d >= base)
                        break;
                    v = v * base + d;
                }
                if (p == first)
                    return false;
                *out[i] = v;
                if (i == 0 && *p++ != ',')
                    return false;
            }
            return *p == 0 || *p == ' ';
        }
        while (*p && *p != ' ')
            p++;
        while (*p == ' ')
            p++;
    }
    return false;
}

/* The IDT (Vol. 3A, 7.14.1 "64-Bit Mode IDT"): interrupt gates only for
 * the two vectors minos takes; any other interrupt is a fault (under a
 * hypervisor every exception exits anyway). */
struct gate {
    uint16_t off0, sel;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, zero;
};
static struct gate idt[256] __attribute__((aligned(16)));

struct interrupt_frame;
static void set_gate(unsigned vector, void (*handler)(struct interrupt_frame *))
{
    uint64_t a = (uint64_t)(uintptr_t)handler;
    idt[vector] = (struct gate){.off0 = (uint16_t)a, .sel = 0x08, .type = 0x8e, /* present, DPL 0 */
                                .off1 = (uint16_t)(a >> 16), .off2 = (uint32_t)(a >> 32)};
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } idtr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
    __asm__ volatile("lidt %0" ::"m"(idtr));
}

#define MSR_X2APIC_EOI 0x80b
#define MSR_X2APIC_LVT_TIMER 0x832
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define LVT_MASKED (1u << 16)
#define LVT_TSC_DEADLINE (2u << 17)
#define TIMER_VECTOR 0x40
#define WAIT_TICKS 4000000 /* far more than any interrupt takes to come */

static volatile uint64_t ticks, early, tick_every, next_deadline, ticks_wanted;

__attribute__((interrupt)) static void timer_interrupt(struct interrupt_frame *f)
{
    (void)f;
    if (rdtsc() < next_deadline)
        early++;
    if (++ticks < ticks_wanted) {
        next_deadline = rdtsc() + tick_every;
        wrmsr(MSR_IA32_TSC_DEADLINE, next_deadline);
    }
    wrmsr(MSR_X2APIC_EOI, 0);
}

static unsigned timer_run(uint64_t n, uint64_t every)
{
    puts("minos: timer: ");
    if (n == 0 || every == 0) {
        puts("timer=N,T wants N and T above 0\n");
        return 1;
    }
    ticks_wanted = n;
    tick_every = every;
    set_gate(TIMER_VECTOR, timer_interrupt);
    wrmsr(MSR_X2APIC_LVT_TIMER, LVT_TSC_DEADLINE | TIMER_VECTOR);
    next_deadline = rdtsc() + every;
    wrmsr(MSR_IA32_TSC_DEADLINE, next_deadline);
    uint64_t t0 = rdtsc();
    __asm__ volatile("sti");
    while (ticks < n && rdtsc() - t0 < n * (every + WAIT_TICKS))
        __asm__ volatile("pause");
    __asm__ volatile("cli");
    wrmsr(MSR_X2APIC_LVT_TIMER, LVT_MASKED | LVT_TSC_DEADLINE | TIMER_VECTOR);
    put_dec(ticks);
    puts(" ticks of vector 0x40 every ");
    put_dec(every);
    puts(" TSC ticks, ");
    put_dec(early);
    puts(" early\n");
    return ticks != n || early != 0;
}

/* virtio-mmio registers (4.2.2 "MMIO Device Register Layout"), every one 32 bits. */
enum {
    VIO_MAGIC = 0x000, VIO_VERSION = 0x004, VIO_DEVICE_ID = 0x008, VIO_DEVICE_FEATURES = 0x010,
    VIO_DEVICE_FEATURES_SEL = 0x014, VIO_DRIVER_FEATURES = 0x020, VIO_DRIVER_FEATURES_SEL = 0x024,
    VIO_QUEUE_SEL = 0x030, VIO_QUEUE_NUM_MAX = 0x034, VIO_QUEUE_NUM = 0x038, VIO_QUEUE_READY = 0x044,
    VIO_QUEUE_NOTIFY = 0x050, VIO_INTERRUPT_STATUS = 0x060, VIO_INTERRUPT_ACK = 0x064,
    VIO_STATUS = 0x070, VIO_QUEUE_DESC = 0x080, VIO_QUEUE_DRIVER = 0x090, VIO_QUEUE_DEVICE = 0x0a0,
    VIO_CAPACITY = 0x100,
};
/* 2.1 "Device Status Field". */
#define ST_ACKNOWLEDGE 1u
#define ST_DRIVER 2u
#define ST_DRIVER_OK 4u
#define ST_FEATURES_OK 8u
#define VIRTIO_F_VERSION_1_HI 1u /* feature bit 32: bit 0 of DeviceFeatures with sel 1 */
#define QNUM 4                   /* the queue's size: one request at a time */
#define REQ_SECTORS 4            /* sectors a request reads */
#define FILE_MAX 4096

static volatile uint8_t *vio;

/* Register accesses as plain MOVs between a register and memory: what a
 * hypervisor's MMIO decoder reads. */
static uint32_t vio_read(unsigned reg)
{
    uint32_t v;
    __asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(vio + reg) : "memory");
    return v;
}

static void vio_write(unsigned reg, uint32_t v)
{
    __asm__ volatile("movl %0, (%1)" ::"r"(v), "r"(vio + reg) : "memory");
}

/* A split virtqueue (2.6 "Split Virtqueues") and one request's parts
 * (5.2.6 "Device Operation"), in one page. */
static struct {
    struct {
        uint64_t addr;
        uint32_t len;
        uint16_t flags, next;
    } desc[QNUM];
    struct {
        uint16_t flags, idx, ring[QNUM], used_event;
    } avail __attribute__((aligned(2)));
    struct {
        uint16_t flags, idx;
        struct {
            uint32_t id, len;
        } ring[QNUM];
    } used __attribute__((aligned(4)));
    struct {
        uint32_t type, reserved;
        uint64_t sector;
    } header;
    volatile uint8_t status;
} vq __attribute__((aligned(4096)));
static uint8_t file[FILE_MAX] __attribute__((aligned(4096)));
static volatile uint64_t vio_interrupts;

__attribute__((interrupt)) static void vio_interrupt(struct interrupt_frame *f)
{
    (void)f;
    vio_write(VIO_INTERRUPT_ACK, vio_read(VIO_INTERRUPT_STATUS));
    vio_interrupts++;
    wrmsr(MSR_X2APIC_EOI, 0);
}

/* Maps the device's page (2 MiB around it, uncached) in minos's tables:
 * PML4[0]'s PDPT entry for its GiB -> a PD of its own. */
extern uint64_t os_pdpt[512];
static uint64_t mmio_pd[512] __attribute__((aligned(4096)));

static bool map_device(uint64_t base)
{
    if (base % 4096 || base < (1ULL << 30) || base >= (1ULL << 39))
        return false;
    mmio_pd[(base >> 21) & 511] = (base & ~0x1fffffULL) | 0x9b; /* P, W, PWT, PCD, PS */
    os_pdpt[base >> 30] = (uint64_t)(uintptr_t)mmio_pd | 3;
    __asm__ volatile("invlpg (%0)" ::"r"(base) : "memory");
    vio = (volatile uint8_t *)(uintptr_t)base;
    return true;
}

static void vio_write64(unsigned reg, const void *p)
{
    vio_write(reg, (uint32_t)(uintptr_t)p);
    vio_write(reg + 4, (uint32_t)((uint64_t)(uintptr_t)p >> 32));
}

/* 3.1.1 "Driver Requirements: Device Initialization", queue 0 of QNUM. */
static const char *vio_setup(void)
{
    if (vio_read(VIO_MAGIC) != 0x74726976 || vio_read(VIO_VERSION) != 2 || vio_read(VIO_DEVICE_ID) != 2)
        return "no virtio 1.x block device there (magic, version, device id)";
    vio_write(VIO_STATUS, 0);
    vio_write(VIO_STATUS, ST_ACKNOWLEDGE);
    vio_write(VIO_STATUS, ST_ACKNOWLEDGE | ST_DRIVER);
    vio_write(VIO_DEVICE_FEATURES_SEL, 1);
    if (!(vio_read(VIO_DEVICE_FEATURES) & VIRTIO_F_VERSION_1_HI))
        return "the device does not offer VIRTIO_F_VERSION_1";
    vio_write(VIO_DRIVER_FEATURES_SEL, 0);
    vio_write(VIO_DRIVER_FEATURES, 0);
    vio_write(VIO_DRIVER_FEATURES_SEL, 1);
    vio_write(VIO_DRIVER_FEATURES, VIRTIO_F_VERSION_1_HI);
    vio_write(VIO_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK);
    if (!(vio_read(VIO_STATUS) & ST_FEATURES_OK))
        return "the device refused VIRTIO_F_VERSION_1 (FEATURES_OK)";
    vio_write(VIO_QUEUE_SEL, 0);
    if (vio_read(VIO_QUEUE_NUM_MAX) < QNUM)
        return "queue 0 is smaller than 4 entries";
    vio_write(VIO_QUEUE_NUM, QNUM);
    vio_write64(VIO_QUEUE_DESC, vq.desc);
    vio_write64(VIO_QUEUE_DRIVER, &vq.avail);
    vio_write64(VIO_QUEUE_DEVICE, &vq.used);
    vio_write(VIO_QUEUE_READY, 1);
    vio_write(VIO_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
    return NULL;
}

/* One IN of n sectors from `sector` into buf (5.2.6): header, data,
 * status; the device's answer comes with its interrupt. */
static const char *vio_read_sectors(uint64_t sector, uint8_t *buf, unsigned n)
{
    unsigned head = vq.avail.idx % QNUM ? 0 : 1; /* not always the same descriptors */
    unsigned d[3] = {head, (head + 1) % QNUM, (head + 2) % QNUM};
    vq.header.type = 0; /* VIRTIO_BLK_T_IN */
    vq.header.reserved = 0;
    vq.header.sector = sector;
    vq.status = 0xff;
    vq.desc[d[0]].addr = (uint64_t)(uintptr_t)&vq.header;
    vq.desc[d[0]].len = 16;
    vq.desc[d[0]].flags = 1; /* NEXT */
    vq.desc[d[0]].next = (uint16_t)d[1];
    vq.desc[d[1]].addr = (uint64_t)(uintptr_t)buf;
    vq.desc[d[1]].len = n * 512;
    vq.desc[d[1]].flags = 1 | 2; /* NEXT, WRITE */
    vq.desc[d[1]].next = (uint16_t)d[2];
    vq.desc[d[2]].addr = (uint64_t)(uintptr_t)&vq.status;
    vq.desc[d[2]].len = 1;
    vq.desc[d[2]].flags = 2; /* WRITE */
    vq.avail.ring[vq.avail.idx % QNUM] = (uint16_t)head;
    uint16_t want = (uint16_t)(vq.avail.idx + 1);
    uint64_t irqs = vio_interrupts;
    __asm__ volatile("" ::: "memory"); /* the ring entry before idx (2.6.13) */
    vq.avail.idx = want;
    __asm__ volatile("" ::: "memory");
    vio_write(VIO_QUEUE_NOTIFY, 0);
    uint64_t t0 = rdtsc();
    __asm__ volatile("sti");
    while ((vio_interrupts == irqs || *(volatile uint16_t *)&vq.used.idx != want) && rdtsc() - t0 < WAIT_TICKS)
        __asm__ volatile("pause");
    __asm__ volatile("cli");
    if (vio_interrupts == irqs)
        return "no interrupt came after the notification";
    if (vq.used.idx != want || vq.used.ring[(uint16_t)(want - 1) % QNUM].id != head)
        return "the used ring does not hold the request";
    if (vq.used.ring[(uint16_t)(want - 1) % QNUM].len != n * 512 + 1)
        return "the used length is not the bytes written";
    if (vq.status != 0)
        return "the request's status is not OK";
    return NULL;
}

static unsigned vblk_run(const char *cmdline, uint64_t base, uint64_t irq)
{
    puts("minos: vblk: ");
    uint64_t sector = 0, len = 0;
    const char *why = NULL;
    if (!option(cmdline, "file", &sector, &len) || len == 0 || len > FILE_MAX)
        why = "no file=S,L of 1 to 4096 bytes on the command line";
    else if (irq < 32 || irq > 255 || irq == TIMER_VECTOR)
        why = "its interrupt vector must be 32 to 255, not the timer's";
    else if (!map_device(base))
        why = "its page must be at 1 GiB to 512 GiB";
    else
        why = vio_setup();
    uint64_t cap = why ? 0 : (uint64_t)vio_read(VIO_CAPACITY + 4) << 32 | vio_read(VIO_CAPACITY);
    unsigned sectors = (unsigned)((len + 511) / 512), requests = 0;
    if (!why && (sector > cap || sectors > cap - sector))
        why = "the file runs past the disk's end";
    if (!why) {
        set_gate((unsigned)irq, vio_interrupt);
        for (unsigned done = 0; done < sectors && !why; done += REQ_SECTORS, requests++) {
            unsigned n = sectors - done < REQ_SECTORS ? sectors - done : REQ_SECTORS;
            why = vio_read_sectors(sector + done, file + done * 512, n);
        }
    }
    if (why) {
        puts(why);
        puts("\n");
        return 1;
    }
    put_dec(cap);
    puts(" sectors, ");
    put_dec(requests);
    puts(" requests, ");
    put_dec(vio_interrupts);
    puts(" interrupts\nminos: file: ");
    put_dec(len);
    puts(" bytes from sector ");
    put_dec(sector);
    puts(":\n");
    write((const char *)file, len);
    puts("\nminos: file: fnv ");
    put_hex(fnv(file, len));
    puts("\n");
    return 0;
}

static bool same(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

void kmain(uint32_t magic, uint32_t info)
{
    under_kev = same(mb2_string(magic, info, MB2_TAG_LOADER_NAME), "kev");
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
    const char *cmdline = mb2_string(magic, info, MB2_TAG_CMDLINE);
    uint64_t a, b;
    if (option(cmdline, "timer", &a, &b))
        failed += timer_run(a, b);
    if (option(cmdline, "vblk", &a, &b))
        failed += vblk_run(cmdline, a, b);
    power_off(failed);
}
