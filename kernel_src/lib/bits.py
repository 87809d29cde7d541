"""Bit-index helpers for the kernel's bitmaps (the ready-priority mask, free-stack masks), in O(log 64) steps."""

from kcc.lang import *


def highest(x: u64) -> u32:
    """The index (0..63) of the highest set bit of ``x``, which must not be 0: six halving steps.

    A binary search rather than a loop over the bits, so the scheduler's pick
    costs the same whatever the priority (bits counted from 0, least significant).
    """
    v = x
    n: u32 = 0
    if v >> 32 != 0:
        n += 32
        v >>= 32
    if v >> 16 != 0:
        n += 16
        v >>= 16
    if v >> 8 != 0:
        n += 8
        v >>= 8
    if v >> 4 != 0:
        n += 4
        v >>= 4
    if v >> 2 != 0:
        n += 2
        v >>= 2
    if v >> 1 != 0:
        n += 1
    return n


def lowest(x: u64) -> u32:
    """The index (0..63) of the lowest set bit of ``x``, which must not be 0: six halving steps."""
    v = x
    n: u32 = 0
    if v & 0xFFFF_FFFF == 0:
        n += 32
        v >>= 32
    if v & 0xFFFF == 0:
        n += 16
        v >>= 16
    if v & 0xFF == 0:
        n += 8
        v >>= 8
    if v & 0xF == 0:
        n += 4
        v >>= 4
    if v & 0x3 == 0:
        n += 2
        v >>= 2
    if v & 0x1 == 0:
        n += 1
    return n
