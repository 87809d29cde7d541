"""NUL-terminated string and byte-buffer helpers for kernel code."""

from kcc.lang import *


def strlen(s: Ptr[u8]) -> usize:
    """Return the number of bytes before the NUL terminator of ``s``."""
    n: usize = 0
    while s[n] != 0:
        n += 1
    return n


def strcmp(a: Ptr[u8], b: Ptr[u8]) -> i32:
    """Compare two strings bytewise as unsigned: <0, 0 or >0 as ``a`` sorts before, equal to or after ``b``."""
    i: usize = 0
    while a[i] != 0 and a[i] == b[i]:
        i += 1
    return i32(a[i]) - i32(b[i])


def streq(a: Ptr[u8], b: Ptr[u8]) -> bool:
    """Return True when the two strings are equal."""
    return strcmp(a, b) == 0


def starts_with(s: Ptr[u8], prefix: Ptr[u8]) -> bool:
    """Return True when ``s`` begins with ``prefix`` (every string begins with "")."""
    i: usize = 0
    while prefix[i] != 0:
        if s[i] != prefix[i]:
            return False
        i += 1
    return True


# The compiler copies and clears aggregates with llvm.memcpy/llvm.memset (kcc/lower.py), which LLVM
# turns into calls to these C library functions when it does not expand them inline, as clang does
# in a freestanding program; so the kernel defines them (ISO C 7.24.2.1, 7.24.2.2, 7.24.6.1).
# Every kernel function carries "no-builtins", so LLVM never turns these loops back into calls.

@export("memcpy")
def memcpy(dst: Ptr[u8], src: Ptr[u8], n: usize) -> Ptr[u8]:
    """Copy ``n`` bytes from ``src`` to ``dst`` (the ranges must not overlap); return ``dst``.

    A word at a time when ``dst`` and ``src`` are equally aligned to a word,
    else four bytes at a time when they are to four (an ELF segment in an
    initrd member, which cpio aligns to four only), with bytes for the head
    up to that alignment and for the tail. Copying forward unit by unit,
    each unit read before it is written, it is also right when ``dst`` is
    below an overlapping ``src`` (memmove relies on it).
    """
    d = usize(dst)
    s = usize(src)
    i: usize = 0
    if (d ^ s) & (sizeof(usize) - 1) == 0:
        while i < n and (d + i) & (sizeof(usize) - 1) != 0:
            dst[i] = src[i]
            i += 1
        while n - i >= sizeof(usize):
            cast(Ptr[usize], d + i)[0] = cast(Ptr[usize], s + i)[0]
            i += sizeof(usize)
    elif (d ^ s) & 3 == 0:
        while i < n and (d + i) & 3 != 0:
            dst[i] = src[i]
            i += 1
        while n - i >= 4:
            cast(Ptr[u32], d + i)[0] = cast(Ptr[u32], s + i)[0]
            i += 4
    while i < n:
        dst[i] = src[i]
        i += 1
    return dst


@export("memmove")
def memmove(dst: Ptr[u8], src: Ptr[u8], n: usize) -> Ptr[u8]:
    """Copy ``n`` bytes from ``src`` to ``dst``, correct when the ranges overlap; return ``dst``."""
    if usize(dst) <= usize(src):
        return memcpy(dst, src, n)
    i = n
    while i > 0:
        i -= 1
        dst[i] = src[i]
    return dst


@export("memset")
def memset(dst: Ptr[u8], c: i32, n: usize) -> Ptr[u8]:
    """Set ``n`` bytes at ``dst`` to ``c`` converted to a byte; return ``dst``.

    A word at a time once ``dst + i`` is word-aligned (a zeroed page or page
    table costs 512 stores on riscv64, not 4,096), with bytes for the head up
    to that alignment and for the tail.
    """
    byte = u8(c)
    d = usize(dst)
    i: usize = 0
    while i < n and (d + i) & (sizeof(usize) - 1) != 0:
        dst[i] = byte
        i += 1
    word = usize(byte) * (~usize(0) // 0xFF)    # the byte in every byte of a word
    while n - i >= sizeof(usize):
        cast(Ptr[usize], d + i)[0] = word
        i += sizeof(usize)
    while i < n:
        dst[i] = byte
        i += 1
    return dst
