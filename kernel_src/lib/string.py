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
