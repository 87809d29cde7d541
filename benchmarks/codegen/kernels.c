/* The code-quality suite's C side: the functions of kernels.py, written as C kernels write them. */
#include <stddef.h>
#include <stdint.h>

#define RING_SLOTS 256
#define PRIORITIES 256
#define KEYS 1024

struct node { struct node *next; uint64_t value; };

static struct { uint32_t head, tail; uint32_t slots[RING_SLOTS]; } ring;
static uint32_t prio_words[8];
static uint32_t prio_summary;
static uint32_t crc_table[256];
static uint32_t keys[KEYS];

void c_memset(uint8_t *dst, uint8_t value, size_t n) {
    for (size_t i = 0; i < n; i++)
        dst[i] = value;
}

void c_memcpy(uint8_t *dst, const uint8_t *src, size_t n) {
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

static uint32_t ffs64(uint64_t x) {
    if (x == 0)
        return 0;
    uint32_t n = 1;
    if ((x & 0xFFFFFFFF) == 0) { n += 32; x >>= 32; }
    if ((x & 0xFFFF) == 0) { n += 16; x >>= 16; }
    if ((x & 0xFF) == 0) { n += 8; x >>= 8; }
    if ((x & 0xF) == 0) { n += 4; x >>= 4; }
    if ((x & 0x3) == 0) { n += 2; x >>= 2; }
    if ((x & 0x1) == 0) n += 1;
    return n;
}

uint32_t c_ffs(const uint64_t *values, size_t n) {
    uint32_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += ffs64(values[i]);
    return total;
}

uint32_t c_ring(uint32_t n) {
    uint32_t total = 0;
    for (uint32_t pushed = 0; pushed < n; pushed += 100) {
        for (uint32_t k = 0; k < 100; k++) {
            if (ring.head - ring.tail < RING_SLOTS) {
                ring.slots[ring.head & (RING_SLOTS - 1)] = pushed + k;
                ring.head += 1;
            }
        }
        while (ring.tail != ring.head) {
            total += ring.slots[ring.tail & (RING_SLOTS - 1)];
            ring.tail += 1;
        }
    }
    return total;
}

uint32_t c_fnv1a(const uint8_t *data, size_t n) {
    uint32_t h = 0x811C9DC5u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ data[i]) * 0x01000193u;
    return h;
}

uint64_t c_list(const struct node *head) {
    uint64_t total = 0;
    for (const struct node *p = head; p != NULL; p = p->next)
        total += p->value;
    return total;
}

static uint32_t bit_reverse(uint32_t x) {
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0F0F0F0Fu) | ((x & 0x0F0F0F0Fu) << 4);
    x = ((x >> 8) & 0x00FF00FFu) | ((x & 0x00FF00FFu) << 8);
    return (x >> 16) | (x << 16);
}

static void prio_set(uint32_t p) {
    prio_words[p >> 5] |= 1u << (p & 31);
    prio_summary |= 1u << (p >> 5);
}

static void prio_clear(uint32_t p) {
    uint32_t word = p >> 5;
    prio_words[word] &= ~(1u << (p & 31));
    if (prio_words[word] == 0)
        prio_summary &= ~(1u << word);
}

static uint32_t prio_highest(void) {
    if (prio_summary == 0)
        return PRIORITIES;
    uint32_t word = 31 - (ffs64(bit_reverse(prio_summary)) - 1);
    uint32_t bits = prio_words[word];
    return (word << 5) + 31 - (ffs64(bit_reverse(bits)) - 1);
}

uint32_t c_prio(uint32_t n) {
    uint32_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t a = (i * 37) & (PRIORITIES - 1);
        uint32_t b = (i * 11 + 5) & (PRIORITIES - 1);
        prio_set(a);
        prio_set(b);
        total += prio_highest();
        prio_clear(a);
        total += prio_highest();
        prio_clear(b);
    }
    return total;
}

static uint32_t isqrt(uint32_t x) {
    uint32_t result = 0;
    uint32_t bit = 1u << 30;
    while (bit > x)
        bit >>= 2;
    while (bit != 0) {
        if (x >= result + bit) {
            x -= result + bit;
            result = (result >> 1) + bit;
        } else {
            result >>= 1;
        }
        bit >>= 2;
    }
    return result;
}

uint32_t c_isqrt(uint32_t n) {
    uint32_t total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += isqrt(i * 2654435761u);
    return total;
}

void c_crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t c_crc32(const uint8_t *data, size_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        crc = crc_table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

void c_keys_init(void) {
    for (uint32_t i = 0; i < KEYS; i++)
        keys[i] = i * 3;
}

uint32_t c_bsearch(uint32_t n) {
    uint32_t found = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t key = (i * 7) % (KEYS * 3);
        uint32_t lo = 0, hi = KEYS;
        while (lo < hi) {
            uint32_t mid = (lo + hi) >> 1;
            if (keys[mid] < key)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < KEYS && keys[lo] == key)
            found += 1;
    }
    return found;
}

uint64_t c_pagewalk(const uint64_t *root, uint32_t n) {
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t va = (uint64_t)i * 0x5000 + 0x123;
        const uint64_t *table = root;
        uint64_t pa = 0;
        for (int level = 2; level > -1; level--) {
            uint64_t pte = table[(va >> (12 + 9 * (uint64_t)level)) & 511];
            if ((pte & 1) == 0) { pa = 0; break; }
            if ((pte & 0xE) != 0) {
                pa = ((pte >> 10) << 12) | (va & ((1ull << (12 + 9 * (uint64_t)level)) - 1));
                break;
            }
            table = (const uint64_t *)(uintptr_t)((pte >> 10) << 12);
        }
        total += pa;
    }
    return total;
}
