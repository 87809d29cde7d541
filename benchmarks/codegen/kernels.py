"""Kernel-style functions for make benchmark's code-quality suite; kernels.c has the same in C.

Each ``k_<name>`` runs a whole workload (its own loop), so the harness's calls and loops are
negligible next to the work measured. Data lives where a kernel keeps it: buffers passed as
pointers, tables and queues as module globals (whose indexing checked builds bound-check).
"""

from kcc.lang import *

RING_SLOTS: Final = 256
PRIORITIES: Final = 256
KEYS: Final = 1024


@struct
class Node:
    next: Ptr[Node]
    value: u64


@struct
class Ring:
    head: u32
    tail: u32
    slots: Array[u32, 256]


ring: Ring
prio_words: Array[u32, 8]
prio_summary: u32
crc_table: Array[u32, 256]
keys: Array[u32, 1024]


@export("k_memset")
def k_memset(dst: Ptr[u8], value: u8, n: usize) -> None:
    for i in range(n):
        dst[i] = value


@export("k_memcpy")
def k_memcpy(dst: Ptr[u8], src: Ptr[u8], n: usize) -> None:
    for i in range(n):
        dst[i] = src[i]


def ffs(x: u64) -> u32:
    """1 + the index of the lowest set bit of ``x``; 0 when ``x`` is 0."""
    if x == 0:
        return 0
    n: u32 = 1
    if x & 0xFFFFFFFF == 0:
        n += 32
        x >>= 32
    if x & 0xFFFF == 0:
        n += 16
        x >>= 16
    if x & 0xFF == 0:
        n += 8
        x >>= 8
    if x & 0xF == 0:
        n += 4
        x >>= 4
    if x & 0x3 == 0:
        n += 2
        x >>= 2
    if x & 0x1 == 0:
        n += 1
    return n


@export("k_ffs")
def k_ffs(values: Ptr[u64], n: usize) -> u32:
    total: u32 = 0
    for i in range(n):
        total += ffs(values[i])
    return total


@export("k_ring")
def k_ring(n: u32) -> u32:
    """Push and pop ``n`` items through a 256-slot ring, 100 at a time; the sum popped."""
    total: u32 = 0
    pushed: u32 = 0
    while pushed < n:
        for k in range(u32(100)):
            if ring.head - ring.tail < RING_SLOTS:
                ring.slots[ring.head & (RING_SLOTS - 1)] = pushed + k
                ring.head += 1
        while ring.tail != ring.head:
            total += ring.slots[ring.tail & (RING_SLOTS - 1)]
            ring.tail += 1
        pushed += 100
    return total


@export("k_fnv1a")
def k_fnv1a(data: Ptr[u8], n: usize) -> u32:
    h: u32 = 0x811C9DC5
    for i in range(n):
        h = (h ^ u32(data[i])) * 0x01000193
    return h


@export("k_list")
def k_list(head: Ptr[Node]) -> u64:
    total: u64 = 0
    p = head
    while p != NULL:
        total += p.value
        p = p.next
    return total


def prio_set(p: u32) -> None:
    global prio_summary
    prio_words[p >> 5] |= u32(1) << (p & 31)
    prio_summary |= u32(1) << (p >> 5)


def prio_clear(p: u32) -> None:
    global prio_summary
    word = p >> 5
    prio_words[word] &= ~(u32(1) << (p & 31))
    if prio_words[word] == 0:
        prio_summary &= ~(u32(1) << word)


def prio_highest() -> u32:
    """The highest priority set, or PRIORITIES when none is."""
    if prio_summary == 0:
        return PRIORITIES
    word = 31 - (ffs(u64(bit_reverse(prio_summary))) - 1)
    bits = prio_words[word]
    return (word << 5) + 31 - (ffs(u64(bit_reverse(bits))) - 1)


def bit_reverse(x: u32) -> u32:
    x = ((x >> 1) & 0x55555555) | ((x & 0x55555555) << 1)
    x = ((x >> 2) & 0x33333333) | ((x & 0x33333333) << 2)
    x = ((x >> 4) & 0x0F0F0F0F) | ((x & 0x0F0F0F0F) << 4)
    x = ((x >> 8) & 0x00FF00FF) | ((x & 0x00FF00FF) << 8)
    return (x >> 16) | (x << 16)


@export("k_prio")
def k_prio(n: u32) -> u32:
    """Set, find the highest and clear priorities ``n`` times; the sum of the highest found."""
    total: u32 = 0
    for i in range(n):
        a = (i * 37) & (PRIORITIES - 1)
        b = (i * 11 + 5) & (PRIORITIES - 1)
        prio_set(a)
        prio_set(b)
        total += prio_highest()
        prio_clear(a)
        total += prio_highest()
        prio_clear(b)
    return total


def isqrt(x: u32) -> u32:
    """The integer square root of ``x``, bit by bit."""
    result: u32 = 0
    bit: u32 = u32(1) << 30
    while bit > x:
        bit >>= 2
    while bit != 0:
        if x >= result + bit:
            x -= result + bit
            result = (result >> 1) + bit
        else:
            result >>= 1
        bit >>= 2
    return result


@export("k_isqrt")
def k_isqrt(n: u32) -> u32:
    total: u32 = 0
    for i in range(n):
        total += isqrt(i * 2654435761)
    return total


@export("k_crc_init")
def k_crc_init() -> None:
    for i in range(u32(256)):
        c = i
        for _ in range(u32(8)):
            if c & 1:
                c = 0xEDB88320 ^ (c >> 1)
            else:
                c >>= 1
        crc_table[i] = c


@export("k_crc32")
def k_crc32(data: Ptr[u8], n: usize) -> u32:
    crc: u32 = 0xFFFFFFFF
    for i in range(n):
        crc = crc_table[(crc ^ u32(data[i])) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


@export("k_keys_init")
def k_keys_init() -> None:
    for i in range(u32(KEYS)):
        keys[i] = i * 3


@export("k_bsearch")
def k_bsearch(n: u32) -> u32:
    """Look up ``n`` keys (every other one present) by binary search; the number found."""
    found: u32 = 0
    for i in range(n):
        key = (i * 7) % (KEYS * 3)
        lo: u32 = 0
        hi: u32 = KEYS
        while lo < hi:
            mid = (lo + hi) >> 1
            if keys[mid] < key:
                lo = mid + 1
            else:
                hi = mid
        if lo < KEYS and keys[lo] == key:
            found += 1
    return found


@export("k_pagewalk")
def k_pagewalk(root: Ptr[u64], n: u32) -> u64:
    """Translate ``n`` virtual addresses through an Sv39 table at ``root``; the sum of the results."""
    total: u64 = 0
    for i in range(n):
        va = u64(i) * 0x5000 + 0x123
        table = root
        pa: u64 = 0
        top: i32 = 2
        for level in range(top, -1, -1):
            pte = table[(va >> (12 + 9 * u64(level))) & 511]
            if pte & 1 == 0:
                pa = 0
                break
            if pte & 0xE != 0:
                pa = ((pte >> 10) << 12) | (va & ((u64(1) << (12 + 9 * u64(level))) - 1))
                break
            table = cast(Ptr[u64], (pte >> 10) << 12)
        total += pa
    return total
