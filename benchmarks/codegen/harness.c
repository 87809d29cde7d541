/* The code-quality suite's bare-metal harness (qemu-system-riscv64 -machine virt -bios none, M-mode).
 *
 * For each function pair it counts the instructions retired (rdinstret; exact under -icount
 * shift=0) by the kcc version and by the C version on the same input, and prints one line
 * "<name> <kcc instructions> <C instructions> <kcc result> <C result>" on the UART. It ends
 * with "done" and powers off through the sifive test device. A kcc panic prints "panic: ..."
 * and powers off with a failure code. */
#include <stddef.h>
#include <stdint.h>

#define UART ((volatile uint8_t *)0x10000000)
#define TEST_DEVICE ((volatile uint32_t *)0x100000)

struct node { struct node *next; uint64_t value; };

void k_memset(uint8_t *, uint8_t, size_t);
void c_memset(uint8_t *, uint8_t, size_t);
void k_memcpy(uint8_t *, const uint8_t *, size_t);
void c_memcpy(uint8_t *, const uint8_t *, size_t);
uint32_t k_ffs(const uint64_t *, size_t);
uint32_t c_ffs(const uint64_t *, size_t);
uint32_t k_ring(uint32_t);
uint32_t c_ring(uint32_t);
uint32_t k_fnv1a(const uint8_t *, size_t);
uint32_t c_fnv1a(const uint8_t *, size_t);
uint64_t k_list(const struct node *);
uint64_t c_list(const struct node *);
uint32_t k_prio(uint32_t);
uint32_t c_prio(uint32_t);
uint32_t k_isqrt(uint32_t);
uint32_t c_isqrt(uint32_t);
void k_crc_init(void);
void c_crc_init(void);
uint32_t k_crc32(const uint8_t *, size_t);
uint32_t c_crc32(const uint8_t *, size_t);
void k_keys_init(void);
void c_keys_init(void);
uint32_t k_bsearch(uint32_t);
uint32_t c_bsearch(uint32_t);
uint64_t k_pagewalk(const uint64_t *, uint32_t);
uint64_t c_pagewalk(const uint64_t *, uint32_t);

#define BYTES 4096
#define COUNT 1024

static uint8_t src[BYTES], dst[BYTES];
static uint64_t values[COUNT];
static struct node nodes[COUNT];
static uint64_t tables[6][512] __attribute__((aligned(4096)));

static void put(const char *s) {
    while (*s)
        *UART = (uint8_t)*s++;
}

static void put_u64(uint64_t v) {
    char text[21];
    int i = 20;
    text[i] = 0;
    do {
        text[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(text + i);
}

static __attribute__((noreturn)) void power_off(uint32_t code) {
    *TEST_DEVICE = code ? (code << 16) | 0x3333 : 0x5555;
    for (;;)
        ;
}

/* Checked kcc code panics through this symbol (kcc.runtime's panic ABI). */
__attribute__((noreturn)) void __kcc_panic(int32_t kind, const char *msg, const char *file, int32_t line,
                                           int32_t col) {
    (void)kind;
    (void)col;
    put("panic: ");
    put(msg);
    put(" at ");
    put(file);
    put(":");
    put_u64((uint64_t)line);
    put("\n");
    power_off(2);
}

/* The compilers may call these for block copies and clears. */
void *memset(void *d, int c, size_t n) {
    volatile uint8_t *p = d;
    while (n--)
        *p++ = (uint8_t)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n) {
    volatile uint8_t *p = d;
    const uint8_t *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

static inline uint64_t instret(void) {
    uint64_t v;
    __asm__ volatile("rdinstret %0" : "=r"(v));
    return v;
}

static void report(const char *name, uint64_t k_count, uint64_t c_count, uint64_t k_result, uint64_t c_result) {
    put(name);
    put(" ");
    put_u64(k_count);
    put(" ");
    put_u64(c_count);
    put(" ");
    put_u64(k_result);
    put(" ");
    put_u64(c_result);
    put("\n");
}

/* Runs K then C on the same input: each expression is a whole workload. */
#define PAIR(name, k_expr, c_expr)                                      \
    do {                                                                \
        uint64_t t0 = instret();                                        \
        uint64_t kr = (uint64_t)(k_expr);                               \
        uint64_t t1 = instret();                                        \
        uint64_t cr = (uint64_t)(c_expr);                               \
        uint64_t t2 = instret();                                        \
        report(name, t1 - t0, t2 - t1, kr, cr);                         \
    } while (0)

static uint64_t checksum(const uint8_t *p, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = s * 31 + p[i];
    return s;
}

static uint64_t pte(const void *table) {
    return (((uint64_t)(uintptr_t)table >> 12) << 10) | 1;
}

int main(void) {
    for (uint32_t i = 0; i < BYTES; i++)
        src[i] = (uint8_t)(i * 7 + (i >> 5));
    for (uint32_t i = 0; i < COUNT; i++)
        values[i] = (uint64_t)(i * 2654435761u) << (i % 40);
    /* The list visits the nodes in a scattered order, as allocations end up. */
    for (uint32_t i = 0; i < COUNT; i++) {
        uint32_t here = (i * 389) % COUNT, next = ((i + 1) * 389) % COUNT;
        nodes[here].value = i * 3 + 1;
        nodes[here].next = i + 1 < COUNT ? &nodes[next] : NULL;
    }
    /* Sv39: root -> one middle table -> four leaf tables of 4 KiB pages (every third page
       unmapped) and one 2 MiB megapage. */
    tables[0][0] = pte(tables[1]);
    for (int k = 0; k < 4; k++) {
        tables[1][k] = pte(tables[2 + k]);
        for (int j = 0; j < 512; j++)
            tables[2 + k][j] = j % 3 == 2 ? 0 : ((uint64_t)(0x80000 + k * 512 + j) << 10) | 0x7;
    }
    tables[1][4] = ((uint64_t)0x90000 << 10) | 0x7;
    c_crc_init();
    k_crc_init();
    c_keys_init();
    k_keys_init();

    PAIR("memset", (k_memset(dst, 0x5A, BYTES), checksum(dst, BYTES)), (c_memset(dst, 0x5A, BYTES), checksum(dst, BYTES)));
    PAIR("memcpy", (k_memcpy(dst, src, BYTES), checksum(dst, BYTES)), (c_memcpy(dst, src, BYTES), checksum(dst, BYTES)));
    PAIR("ffs", k_ffs(values, COUNT), c_ffs(values, COUNT));
    PAIR("ring", k_ring(10000), c_ring(10000));
    PAIR("fnv1a", k_fnv1a(src, BYTES), c_fnv1a(src, BYTES));
    PAIR("list", k_list(&nodes[0]), c_list(&nodes[0]));
    PAIR("prio", k_prio(1000), c_prio(1000));
    PAIR("isqrt", k_isqrt(1000), c_isqrt(1000));
    PAIR("crc32", k_crc32(src, BYTES), c_crc32(src, BYTES));
    PAIR("bsearch", k_bsearch(1000), c_bsearch(1000));
    PAIR("pagewalk", k_pagewalk(tables[0], 1000), c_pagewalk(tables[0], 1000));
    put("done\n");
    power_off(0);
}
