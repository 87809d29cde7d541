"""A sibling module imported by the differential cases (imports across the source root)."""

from kcc.lang import *

SCALE: Final = 3
calls: u32 = 0


def scale(x: i32) -> i32:
    """x * SCALE, counting calls in a module global."""
    global calls
    calls += 1
    return x * SCALE


def gcd(a: u64, b: u64) -> u64:
    """Euclid's algorithm, iterative."""
    while b != 0:
        a, b = b, a % b
    return a
