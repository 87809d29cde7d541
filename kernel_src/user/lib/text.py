"""String helpers for user programs beyond lib/string.py: bounded compare, search, tokens, text to integers.

lib/string.py (strlen, strcmp, streq, starts_with, memcpy, memmove, memset)
is shared with the kernel and not repeated here; integers become text
through lib/kprintf.py's ``ksnprintf`` (%d %u %x). Strings are
NUL-terminated; positions are byte offsets from the start of the string.
"""

from kcc.lang import *

NOT_FOUND: Final[usize] = 0xFFFF_FFFF_FFFF_FFFF     # what find and find_byte return when there is no match

_U64_MAX: Final[u64] = 0xFFFF_FFFF_FFFF_FFFF
_I64_MIN_MAGNITUDE: Final[u64] = 0x8000_0000_0000_0000


def compare(a: Ptr[u8], b: Ptr[u8], n: usize) -> i32:
    """Compare at most ``n`` bytes of two strings as unsigned bytes, stopping at a NUL (C's strncmp).

    Returns <0, 0 or >0 as ``a`` sorts before, equal to or after ``b``
    within those bytes; 0 when ``n`` is 0.
    """
    for i in range(usize(0), n):
        if a[i] != b[i] or a[i] == 0:
            return i32(a[i]) - i32(b[i])
    return 0


def find_byte(s: Ptr[u8], c: u8) -> usize:
    """The position of the first byte ``c`` in ``s`` (c = 0 finds the terminator); NOT_FOUND when absent."""
    i: usize = 0
    while s[i] != c:
        if s[i] == 0:
            return NOT_FOUND
        i += 1
    return i


def find(s: Ptr[u8], needle: Ptr[u8]) -> usize:
    """The position of the first occurrence of ``needle`` in ``s`` (0 for an empty needle); NOT_FOUND when absent.

    Naive search: at most strlen(s) * strlen(needle) byte comparisons.
    """
    i: usize = 0
    while True:
        k: usize = 0
        while needle[k] != 0 and s[i + k] == needle[k]:
            k += 1
        if needle[k] == 0:
            return i
        if s[i] == 0:
            return NOT_FOUND
        i += 1


def is_space(c: u8) -> bool:
    """True for a blank: space, tab, newline, carriage return, vertical tab or form feed."""
    return c == 0x20 or (c >= 0x09 and c <= 0x0D)


def token(s: Ptr[u8], start: usize, separators: Ptr[u8], length: Ptr[usize]) -> usize:
    """Find the token at or after position ``start``: a run of bytes none of which is in ``separators``.

    Returns the token's position and sets ``length[0]`` to its length; at
    the end of the string the position of the NUL and length 0. Leaves
    ``s`` unchanged (unlike C's strtok), so a loop walks every token:
    ``at = token(s, at + n, " ", addr(n))`` until ``n`` is 0.
    """
    i = start
    while s[i] != 0 and find_byte(separators, s[i]) != NOT_FOUND:
        i += 1
    n: usize = 0
    while s[i + n] != 0 and find_byte(separators, s[i + n]) == NOT_FOUND:
        n += 1
    length[0] = n
    return i


def digit_value(c: u8, base: u32) -> u32:
    """The value of digit ``c`` (0-9, a-z, A-Z) in ``base`` (2..36); ``base`` itself when ``c`` is not such a digit."""
    v: u32 = base
    if c >= 0x30 and c <= 0x39:
        v = u32(c - 0x30)
    elif c >= 0x61 and c <= 0x7A:
        v = u32(c - 0x61) + 10
    elif c >= 0x41 and c <= 0x5A:
        v = u32(c - 0x41) + 10
    return min(base, v)


def to_u64(s: Ptr[u8], base: u32, value: Ptr[u64]) -> usize:
    """Read an unsigned integer at the start of ``s`` into ``value[0]``; return how many bytes it took.

    ``base`` is 2..36, or 0 for C's rule: "0x"/"0X" then hexadecimal, a
    leading "0" octal, otherwise decimal; base 16 also accepts the "0x"
    prefix. No blanks or sign are skipped. Returns 0 (``value`` unchanged)
    when no digit follows, or when the number does not fit 64 bits.
    """
    i: usize = 0
    if (base == 0 or base == 16) and s[0] == 0x30 and (s[1] | 0x20) == 0x78 and digit_value(s[2], 16) < 16:
        base = 16
        i = 2
    elif base == 0:
        base = 8 if s[0] == 0x30 else 10
    if base < 2 or base > 36:
        return 0
    v: u64 = 0
    start = i
    while True:
        d = digit_value(s[i], base)
        if d == base:
            break
        if v > (_U64_MAX - u64(d)) // u64(base):
            return 0
        v = v * u64(base) + u64(d)
        i += 1
    if i == start:
        return 0
    value[0] = v
    return i


def to_i64(s: Ptr[u8], base: u32, value: Ptr[i64]) -> usize:
    """Read an optionally signed ("-" or "+") integer at the start of ``s`` into ``value[0]``; the bytes taken.

    ``base`` as for to_u64. Returns 0 (``value`` unchanged) when no digit
    follows the sign or the number is outside the i64 range.
    """
    i: usize = 0
    negative = s[0] == 0x2D
    if negative or s[0] == 0x2B:
        i = 1
    magnitude: u64 = 0
    n = to_u64(s + i, base, addr(magnitude))
    if n == 0:
        return 0
    if negative:
        if magnitude > _I64_MIN_MAGNITUDE:
            return 0
        value[0] = i64(0 - magnitude)   # the two's complement of the magnitude: also right for -2**63
    else:
        if magnitude >= _I64_MIN_MAGNITUDE:
            return 0
        value[0] = i64(magnitude)
    return i + n


def parse_u64(s: Ptr[u8], base: u32, value: Ptr[u64]) -> bool:
    """Read the whole of ``s`` as one unsigned integer (to_u64's rules) into ``value[0]``; False when anything else is there."""
    v: u64 = 0
    n = to_u64(s, base, addr(v))
    if n == 0 or s[n] != 0:
        return False
    value[0] = v
    return True
