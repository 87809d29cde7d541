"""Differential cases for the atomics (language.md, "Atomics"): every built-in with every order it takes.

The accesses go through globals, locals, struct fields, array elements and
pointers passed as parameters (opaque pointers in the IR, where llvmlite knows
no pointee type), at 8, 16, 32 bits and the pointer width, on integers and on
pointers. Atomics are not pure, so kcc.load_python cannot run these: the
expected results are C11's (the model in tests/test_lang_atomics.py).
"""

from kcc.lang import *


@struct
class Slot:
    count: u16
    flags: u8
    owner: Ptr[u8]


counter: u32 = 0
level: i16 = 0
wide: usize = 0
slots: Array[Slot, 2]
tags: Array[u8, 2]


def _store_through(p: Ptr[u16], v: u16) -> None:
    atomic_store(p, v, RELEASE)


def _load_through(p: Ptr[u16]) -> u16:
    return atomic_load(p, ACQUIRE)


def _claim(p: Ptr[Ptr[u8]], me: Ptr[u8]) -> bool:
    return atomic_cas(p, NULL, me, ACQUIRE) == NULL


def store_load_global(v: u32) -> u32:
    atomic_store(addr(counter), v, RELAXED)
    a = atomic_load(addr(counter), RELAXED)
    atomic_store(addr(counter), a ^ 0x5A5A_5A5A, RELEASE)
    b = atomic_load(addr(counter), ACQUIRE)
    atomic_store(addr(counter), b + 7)
    return atomic_load(addr(counter), order=SEQ_CST)


def store_load_through_pointer(v: u16) -> u16:
    x: u16 = 1
    _store_through(addr(x), v)
    return x + _load_through(addr(x))


def store_load_field(v: u8, i: u8) -> u32:
    s = addr(slots[i & 1])
    atomic_store(addr(s.flags), v, SEQ_CST)
    atomic_store(addr(s.count), u16(v) + 300, order=RELEASE)
    return u32(atomic_load(addr(s.flags), RELAXED)) + u32(atomic_load(addr(s.count), ACQUIRE)) * 256


def add_each_order(a: u32, b: u32) -> u32:
    x = a
    o1 = atomic_add(addr(x), b, RELAXED)
    o2 = atomic_add(addr(x), b, ACQUIRE)
    o3 = atomic_add(addr(x), b, RELEASE)
    o4 = atomic_add(addr(x), b, ACQ_REL)
    o5 = atomic_add(addr(x), b)
    return (o1 ^ o2 ^ o3 ^ o4 ^ o5) + x


def add_signed_wraps(a: i16, b: i16) -> i16:
    atomic_store(addr(level), a)
    old = atomic_add(addr(level), b, SEQ_CST)
    assert old == a
    return atomic_load(addr(level))


def add_field_u16(a: u16, b: u16, i: u8) -> u16:
    slots[i & 1].count = a
    old = atomic_add(addr(slots[i & 1].count), b, ACQ_REL)
    return old ^ slots[i & 1].count


def add_pointer_width(a: u32, b: u32) -> u32:
    atomic_store(addr(wide), usize(a), RELEASE)
    atomic_add(addr(wide), usize(b), ACQ_REL)
    atomic_add(addr(wide), usize(0xFFFF_FFFF))
    return u32(atomic_load(addr(wide), ACQUIRE) & 0xFFFF_FFFF)


def swap_each_order(a: u32, b: u32) -> u32:
    x = a
    o1 = atomic_swap(addr(x), b, RELAXED)
    o2 = atomic_swap(addr(x), o1 + 1, ACQUIRE)
    o3 = atomic_swap(addr(x), o2 + 2, RELEASE)
    o4 = atomic_swap(addr(x), o3 + 3, ACQ_REL)
    o5 = atomic_swap(addr(x), o4 + 4)
    return (o1 * 3) ^ (o5 * 5) ^ x


def swap_u8(a: u8, b: u8) -> u32:
    tags[1] = a
    old = atomic_swap(addr(tags[1]), b, SEQ_CST)
    return (u32(old) << 8) | u32(tags[1])


def cas_each_order(start: u32, expected: u32, desired: u32) -> u64:
    x = start
    found = u64(atomic_cas(addr(x), expected, desired, RELAXED))
    found = found * 3 + u64(atomic_cas(addr(x), expected, desired + 1, ACQUIRE))
    found = found * 3 + u64(atomic_cas(addr(x), desired, expected, RELEASE))
    found = found * 3 + u64(atomic_cas(addr(x), start, desired, ACQ_REL))
    found = found * 3 + u64(atomic_cas(addr(x), desired + 1, start))
    return (found << 32) ^ u64(x)


def cas_hits(start: u32, desired: u32) -> u64:
    atomic_store(addr(counter), start)
    first = atomic_cas(addr(counter), start, desired, ACQ_REL)
    second = atomic_cas(addr(counter), start, ~desired, SEQ_CST)
    return (u64(first ^ second) << 32) | u64(atomic_load(addr(counter)))


def cas_i8(start: i8, expected: i8, desired: i8) -> i8:
    x = start
    found = atomic_cas(addr(x), expected, desired, order=ACQUIRE)
    if found != start:
        panic("cas found a value that was never stored")
    return x


def pointer_atomics(i: u8, release: bool) -> u32:
    s = addr(slots[i & 1])
    me = addr(tags[0])
    other = addr(tags[1])
    atomic_store(addr(s.owner), NULL, RELEASE)
    r: u32 = 0
    if _claim(addr(s.owner), me):
        r |= 1
    if release:
        atomic_store(addr(s.owner), NULL, SEQ_CST)
    if _claim(addr(s.owner), other):
        r |= 2
    if atomic_load(addr(s.owner), ACQUIRE) == me:
        r |= 4
    if atomic_swap(addr(s.owner), me, ACQ_REL) == other:
        r |= 8
    if atomic_load(addr(s.owner)) == me:
        r |= 16
    held: Ptr[u8] = NULL
    if atomic_swap(addr(held), other, RELAXED) == NULL and atomic_load(addr(held), RELAXED) == other:
        r |= 32
    return r
