"""Seeded pseudo-random numbers for user programs (splitmix64): one seed gives one sequence, on every run.

The generator is Steele, Lea and Flood's SplitMix64 ("Fast splittable
pseudorandom number generators", OOPSLA 2014; the constants are those of
Vigna's public-domain splitmix64.c): a 64-bit counter advanced by the golden
ratio and a mixing function. Its whole state is one u64 in an ``Rng`` the
caller owns (on its stack if it likes), so code that may use no globals (a
child process that maps only the program's text and rodata) can use it too.
Unsigned arithmetic wraps in kcc, which the mixing relies on.
"""

from kcc.lang import *

GOLDEN: Final[u64] = 0x9E37_79B9_7F4A_7C15


@struct
class Rng:
    """One generator: the counter, advanced by GOLDEN per number drawn."""

    state: u64


def seed(r: Ptr[Rng], value: u64) -> None:
    """Start generator ``r`` at ``value``: equal seeds draw equal sequences."""
    r.state = value


def next(r: Ptr[Rng]) -> u64:
    """Return the next 64 random bits of ``r`` (every value of the period 2**64 once)."""
    r.state += GOLDEN
    z = r.state
    z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)


def below(r: Ptr[Rng], n: u64) -> u64:
    """Return a number in [0, n) from ``r`` (0 when ``n`` is 0); the modulo bias is below n / 2**64."""
    if n == 0:
        return 0
    return next(r) % n


def percent(r: Ptr[Rng], p: u64) -> bool:
    """Return True with probability ``p`` / 100."""
    return below(r, 100) < p

